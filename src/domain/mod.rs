//! Pure domain types: parsing of everything a client or carrier sends us, and the rules that
//! decide what it means. Nothing here does I/O; every type is constructed through a `parse`
//! (or `generate`) that guarantees its invariants, so the layers above never re-validate.

pub mod api_key;
pub mod awb;
pub mod callback_token;
pub mod channels;
pub mod console_session;
pub mod destination;
pub mod diff;
pub mod digest;
pub mod display;
pub mod email;
pub mod flight;
pub mod flight_state;
pub mod headers;
pub mod idempotency;
pub mod ids;
pub mod message;
pub mod netguard;
pub mod normalize;
pub mod preflight;
pub mod retry;
pub mod route;
pub mod schedule;
pub mod signature;
pub mod states;
pub mod subscription;
#[cfg(test)]
pub(crate) mod testing;
pub mod tracking;
pub mod url;

pub use api_key::{ApiKey, ApiKeyHash, KeyName, KeyNameError, TenantId};
pub use awb::{AwbError, AwbNumber};
pub use callback_token::{CallbackToken, CallbackTokenHash};
pub use channels::{ChannelPlan, ChannelsError, DuplicateError, RequestedChannels, TakenChannels};
pub use console_session::ConsoleSessionHash;
pub use destination::Destination;
pub use email::{EmailAddress, EmailError, MAX_EMAILS};
pub use flight::{AirportCode, FlightError, FlightNumber, FlightTarget, parse_flight_date};
pub use flight_state::{
    FlightChange, FlightKey, FlightReport, FlightSnapshot, FlightState, FlightStatus, FlightTimes,
};
pub use headers::{
    CustomHeaders, HeadersError, MAX_HEADER_VALUE_LEN, MAX_HEADERS, RESERVED_HEADERS,
};
pub use idempotency::{IdempotencyKey, IdempotencyKeyError};
pub use netguard::{AllowNetworks, Cidr, CidrError, Forbidden};
pub use preflight::PreflightMode;
pub use route::{Route, RouteLeg, RouteStop, Whereabouts};
pub use states::{KNOWN_STATUS_CODES, StateFilter, StatesError};
pub use subscription::{
    MAX_REFERENCE_LEN, Reference, ReferenceError, SigningSecret, Subscription, SubscriptionId,
    SubscriptionStatus, Target, UrlDisabled,
};
pub use tracking::{EventFlight, ShipmentSummary, SummaryStatus, Tracking, TrackingEvent, Uld};
pub use url::{CallbackUrl, MAX_URL_LEN, UrlError};
