//! What comes in: tracking of shipments from carriers and aggregators, and the status of
//! subscribed flights from flight-status sources.
//!
//! Both pipelines read as the same steps: claim what is due (under a lease) → fetch from the
//! source serving it (within its throttle) → normalise the wire format into the domain model
//! → diff against what is stored → record the outcome and what subscribers are told, in one
//! transaction.
//!
//! Written once here for both: the [`Source`] every adapter is and the [`SourceError`] its
//! answers fail with, the [`SourceHttp`] client every answer is read through (within
//! `carriers.max_response_bytes`), the [`Registry`] that picks a source per key (`*` for the
//! rest) and tracks refused credentials, the [`Throttle`] each source is called under, and the
//! round loop with its leases and poll bounds (`round`). [`shipments`] and [`flights`] keep only
//! what differs: what is claimed, how a source is asked, and how an answer is recorded.

pub mod flights;
mod http;
mod registry;
mod round;
pub mod shipments;
mod source;
mod throttle;

pub use http::SourceHttp;
pub use registry::{Entry, Kind, Registry, RegistryError, SourceSettings, SourceStatus};
pub(crate) use source::retry_after;
pub use source::{Sandbox, Source, SourceError, SourceId};
pub use throttle::Throttle;
