//! What makes the API safe to integrate against: idempotent retries, rate limits per key,
//! the test-message limit, carrier fetches a subscription loop cannot multiply, and the
//! README's first-webhook walkthrough run as written.

mod idempotency;
mod limits;
mod slow_callback;
mod walkthrough;
