//! Outbound delivery: everything Skyhook sends to a subscriber's callback.
//!
//! So far the pieces the dispatcher is built from:
//! - [`guard`]: the SSRF guard (subscribe-time URL check, send-time guarded DNS resolver, and
//!   the HTTP client builder that uses it).
//! - [`mod@preflight`]: the OPTIONS check of a callback URL before a subscription is accepted.
//!
//! Signing lives in `domain::signature`: it is pure.

pub mod guard;
pub mod preflight;

pub use guard::{CallbackGuard, GuardError, GuardedResolver, guarded_client_builder};
pub use preflight::{PreflightError, PreflightMode, preflight};
