//! An event's identity: what makes two reports the same event (see the rule in `diff`).

use super::instant;
use crate::domain::TrackingEvent;
use chrono::SecondsFormat;

/// The identity of an event, pieces kept apart so a missing count can match a known one.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Identity {
    /// `CODE|LOCATION|FLIGHT|SCHEDULED_DEPARTURE`.
    base: String,
    pieces: Option<u32>,
}

impl Identity {
    pub(super) fn of(event: &TrackingEvent) -> Self {
        let flight = event.flight.as_ref();
        let number = flight
            .and_then(|f| f.number.as_deref())
            .map(normalize_flight_number)
            .unwrap_or_default();
        let departure = flight
            .and_then(|f| f.scheduled_departure)
            .map(|d| instant(d).to_rfc3339_opts(SecondsFormat::AutoSi, true))
            .unwrap_or_default();
        let location = event.event_location.as_deref().unwrap_or_default();
        Self {
            base: format!(
                "{}|{}|{number}|{departure}",
                event.code.trim().to_uppercase(),
                location.trim().to_uppercase(),
            ),
            pieces: event.pieces,
        }
    }

    pub(super) fn key(&self) -> String {
        match self.pieces {
            Some(pieces) => format!("{}|{pieces}", self.base),
            None => format!("{}|", self.base),
        }
    }

    /// Same event unless both piece counts are known and differ.
    pub(super) fn matches_loosely(&self, other: &Self) -> bool {
        self.base == other.base
            && (self.pieces == other.pieces || self.pieces.is_none() || other.pieces.is_none())
    }
}

/// `lh 08160` → `LH8160`, `00768` → `768`: the leading zeros of the last digit run go.
pub(super) fn normalize_flight_number(raw: &str) -> String {
    let s: String = raw
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    let Some(end) = s.rfind(|c: char| c.is_ascii_digit()).map(|i| i + 1) else {
        return s;
    };
    let start = s[..end]
        .char_indices()
        .rev()
        .find(|(_, c)| !c.is_ascii_digit())
        .map_or(0, |(i, c)| i + c.len_utf8());
    let digits = match s[start..end].trim_start_matches('0') {
        "" => "0",
        digits => digits,
    };
    format!("{}{digits}{}", &s[..start], &s[end..])
}
