//! Outbound delivery: webhooks and email.

pub mod email;
