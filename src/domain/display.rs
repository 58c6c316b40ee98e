//! How Skyhook writes times for people, alike in emails and in the console: an instant in
//! UTC, and an event's time in its station's own offset, as the source gave it.

use chrono::{DateTime, FixedOffset, Utc};

/// `2026-12-01 17:40 UTC`.
pub fn utc(at: DateTime<Utc>) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

/// `2026-12-01 09:10 +01:00`.
pub fn local(at: DateTime<FixedOffset>) -> String {
    at.format("%Y-%m-%d %H:%M %:z").to_string()
}
