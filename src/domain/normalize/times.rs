//! Times from a source that may write them without an offset, read as UTC and counted for a
//! single note per answer: one note per value would bury everything else when it is every
//! value (TrackingMore writes all its times so; Lufthansa may).

use super::lenient;
use chrono::{DateTime, FixedOffset};
use serde_json::Value;

#[derive(Debug, Default)]
pub struct Times {
    offset_missing: usize,
    example: Option<String>,
}

impl Times {
    /// A date-time with its offset, or read as UTC (and counted) when it has none; an
    /// unreadable one is noted and left out.
    pub fn read(
        &mut self,
        field: &str,
        value: Option<&Value>,
        notes: &mut Vec<String>,
    ) -> Option<DateTime<FixedOffset>> {
        let (time, offset_missing) = lenient::timestamp_parts(field, value, notes)?;
        if offset_missing {
            self.offset_missing += 1;
            self.example.get_or_insert_with(|| {
                format!("{field} `{}`", value.map(lenient::show).unwrap_or_default())
            });
        }
        Some(time)
    }

    /// The one note for every offset-less time read, if there was any.
    pub fn report(self, notes: &mut Vec<String>) {
        if let Some(example) = self.example {
            notes.push(format!(
                "{} time(s) had no UTC offset (e.g. {example}); read as UTC (+00:00)",
                self.offset_missing
            ));
        }
    }
}
