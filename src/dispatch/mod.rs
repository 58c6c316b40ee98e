//! Outbound delivery: everything Skyhook sends to subscribers.
//!
//! - [`worker`]: the dispatcher loop — claims due outbox rows under leases, sends, records.
//! - `in_flight`: what this process is sending (each message's latest lease token, attempts
//!   per destination), so a re-claimed message is not sent twice and no destination takes
//!   more than its share of slots.
//! - [`webhook`]: one signed POST attempt with a bounded read of the answer.
//! - [`email`]: rendering queued messages as email, and the SMTP / `.eml` file mailer.
//! - [`guard`]: the SSRF guard (subscribe-time URL check, send-time guarded DNS resolver, and
//!   the HTTP client builder that uses it).
//! - [`preflight`]: the OPTIONS check of a callback URL before a subscription is accepted.
//!
//! Signing and the retry rule live in `domain::signature` and `domain::retry`: they are pure.

pub mod email;
pub mod guard;
mod housekeeping;
mod in_flight;
pub mod preflight;
pub mod webhook;
pub mod worker;

pub use guard::{
    CallbackGuard, GuardError, Guarded, GuardedClients, GuardedResolver, guarded_client_builder,
};
pub use preflight::{PreflightError, preflight};
pub use worker::Dispatcher;
