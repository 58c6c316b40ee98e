//! Lenient readers for single JSON values, shared by every source format.
//!
//! Each reader takes the field's path (for the note), the raw value if present and the list of
//! anomalies. It returns what it could make of the value; when it had to guess, convert or drop
//! something it says so in one sentence naming the field, the raw value and what was done.
//! Absent values, `null` and empty strings all mean "not given" and are never noted.

use super::NormalizeError;
use crate::domain::{AwbNumber, EventFlight};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime};
use serde_json::Value;

const KG_PER_LB: f64 = 0.453_592_37;

/// Naive forms seen in the wild; `%.f` also matches no fraction at all.
const NAIVE_FORMATS: [&str; 4] = [
    "%Y-%m-%d %H:%M:%S%.f",
    "%Y-%m-%dT%H:%M:%S%.f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M",
];

/// A raw value as it appears in a note: strings unquoted, long values shortened.
pub fn show(value: &Value) -> String {
    let text = match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    match text.char_indices().nth(60) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

fn left_out(notes: &mut Vec<String>, field: &str, raw: &Value, why: &str) {
    notes.push(format!("{field} `{}`: {why}; left out", show(raw)));
}

/// Text, trimmed and without NUL characters (which mean nothing, and which Postgres cannot
/// store); numbers are accepted as written.
pub fn text(field: &str, value: Option<&Value>, notes: &mut Vec<String>) -> Option<String> {
    match value? {
        Value::Null => None,
        Value::String(s) => Some(s.replace('\0', ""))
            .map(|t| t.trim().to_owned())
            .filter(|t| !t.is_empty()),
        Value::Number(n) => Some(n.to_string()),
        other => {
            left_out(notes, field, other, "expected text");
            None
        }
    }
}

/// `Ok(None)` when not given, `Err(())` when given but not a number.
fn read_number(value: &Value) -> Result<Option<f64>, ()> {
    let number = match value {
        Value::Null => return Ok(None),
        Value::Number(n) => n.as_f64(),
        Value::String(s) if s.trim().is_empty() => return Ok(None),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    };
    number.filter(|n| n.is_finite()).map(Some).ok_or(())
}

/// A non-negative quantity given as a number or a string (`"1000.0"`, `9`).
pub fn number(field: &str, value: Option<&Value>, notes: &mut Vec<String>) -> Option<f64> {
    let raw = value?;
    match read_number(raw) {
        Ok(Some(n)) if n >= 0.0 => Some(n),
        Ok(None) => None,
        _ => {
            left_out(notes, field, raw, "not a non-negative number");
            None
        }
    }
}

/// A whole count given as a number or a string (`"34"`, `9`, `9.0`).
pub fn count(field: &str, value: Option<&Value>, notes: &mut Vec<String>) -> Option<u32> {
    let raw = value?;
    match read_number(raw) {
        Ok(None) => None,
        // The range check makes the cast exact.
        Ok(Some(n)) if n >= 0.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => Some(n as u32),
        _ => {
            left_out(notes, field, raw, "not a whole count");
            None
        }
    }
}

/// A weight in kilograms. Strings may carry a unit: `K`/`KG`/`KGS` (Cargo-IMP writes `1981K`)
/// or `L`/`LB`/`LBS`, which is converted and noted.
pub fn weight_kg(field: &str, value: Option<&Value>, notes: &mut Vec<String>) -> Option<f64> {
    let raw = value?;
    let Value::String(s) = raw else {
        return number(field, value, notes);
    };
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (digits, unit) = (&s[..split], s[split..].trim().to_ascii_uppercase());
    if digits.is_empty() && unit.is_empty() {
        return None;
    }
    // Enough digits parse to infinity, which JSON cannot store: not a weight either.
    let Some(amount) = digits.parse::<f64>().ok().filter(|a| a.is_finite()) else {
        left_out(notes, field, raw, "not a weight");
        return None;
    };
    match unit.as_str() {
        "" | "K" | "KG" | "KGS" => Some(amount),
        "L" | "LB" | "LBS" => {
            let kg = (amount * KG_PER_LB * 1000.0).round() / 1000.0;
            if !kg.is_finite() {
                left_out(notes, field, raw, "not a weight");
                return None;
            }
            notes.push(format!("{field} `{s}`: pounds, converted to {kg} kg"));
            Some(kg)
        }
        _ => {
            left_out(notes, field, raw, "unknown weight unit");
            None
        }
    }
}

/// Parses a date-time keeping the offset it was written with. The flag is true when the text had
/// no offset and was read as UTC; deciding how to report that is the caller's business.
pub fn parse_timestamp(text: &str) -> Option<(DateTime<FixedOffset>, bool)> {
    let text = text.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(text) {
        return Some((t, false));
    }
    // `+0100` instead of `+01:00`.
    if let Ok(t) = DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z") {
        return Some((t, false));
    }
    let naive = NAIVE_FORMATS
        .iter()
        .find_map(|format| NaiveDateTime::parse_from_str(text, format).ok())
        .or_else(|| {
            NaiveDate::parse_from_str(text, "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        })?;
    Some((naive.and_utc().fixed_offset(), true))
}

/// A date-time and whether its offset was missing; unreadable values are noted and left out.
pub fn timestamp_parts(
    field: &str,
    value: Option<&Value>,
    notes: &mut Vec<String>,
) -> Option<(DateTime<FixedOffset>, bool)> {
    let raw = value?;
    let text = text(field, Some(raw), notes)?;
    let parsed = parse_timestamp(&text);
    if parsed.is_none() {
        left_out(notes, field, raw, "not a date-time");
    }
    parsed
}

/// A date-time with its offset; one without an offset is read as UTC and noted.
pub fn timestamp(
    field: &str,
    value: Option<&Value>,
    notes: &mut Vec<String>,
) -> Option<DateTime<FixedOffset>> {
    let (time, offset_missing) = timestamp_parts(field, value, notes)?;
    if offset_missing {
        notes.push(format!(
            "{field} `{}` has no UTC offset; read as UTC (+00:00)",
            value.map(show).unwrap_or_default()
        ));
    }
    Some(time)
}

/// A 3-letter IATA airport code, upper-cased; anything else is left out.
pub fn airport(field: &str, value: Option<&Value>, notes: &mut Vec<String>) -> Option<String> {
    let code = text(field, value, notes)?;
    if code.len() == 3 && code.chars().all(|c| c.is_ascii_alphabetic()) {
        Some(code.to_ascii_uppercase())
    } else {
        notes.push(format!(
            "{field} `{code}`: not a 3-letter IATA airport code; left out"
        ));
        None
    }
}

/// A yes/no flag given as a boolean, `"true"`/`"false"` (CargoAI documents `isPlanned` as a
/// string) or `1`/`0`.
pub fn flag(field: &str, value: Option<&Value>, notes: &mut Vec<String>) -> Option<bool> {
    let raw = value?;
    let parsed = match raw {
        Value::Null => return None,
        Value::Bool(b) => Some(*b),
        Value::String(s) if s.trim().is_empty() => return None,
        Value::String(s) => match s.trim().to_ascii_lowercase().as_str() {
            "true" | "1" => Some(true),
            "false" | "0" => Some(false),
            _ => None,
        },
        Value::Number(n) => n.as_u64().filter(|n| *n <= 1).map(|n| n == 1),
        _ => None,
    };
    if parsed.is_none() {
        left_out(notes, field, raw, "not a true/false flag");
    }
    parsed
}

/// A status code, trimmed and upper-cased; unknown codes are kept as received. A missing code is
/// kept as an empty one so that the event itself is not lost.
pub fn status_code(field: &str, value: Option<&Value>, notes: &mut Vec<String>) -> String {
    match text(field, value, notes) {
        Some(code) => code.to_ascii_uppercase(),
        None => {
            notes.push(format!("{field} missing; event kept with an empty code"));
            String::new()
        }
    }
}

/// A flight number without spaces, upper-cased (`cv 7493` → `CV7493`) so that the same flight
/// written two ways still joins; its form is otherwise carrier-specific (`00733`, `CV7493`).
pub fn flight_number(
    field: &str,
    value: Option<&Value>,
    notes: &mut Vec<String>,
) -> Option<String> {
    text(field, value, notes).map(|n| {
        n.chars()
            .filter(|c| !c.is_whitespace())
            .collect::<String>()
            .to_ascii_uppercase()
    })
}

/// A note when a coordinate pair documented as `lat,lon` is evidently written `lon,lat`: a first
/// value beyond ±90 can only be a longitude. Pairs that could be either are not flagged.
pub fn swapped_coordinates(field: &str, value: Option<&Value>) -> Option<String> {
    let raw = value?.as_str()?;
    let (first, second) = raw.split_once(',')?;
    let first: f64 = first.trim().parse().ok()?;
    let second: f64 = second.trim().parse().ok()?;
    (first.abs() > 90.0 && first.abs() <= 180.0 && second.abs() <= 90.0).then(|| {
        format!(
            "{field} `{raw}` is written longitude,latitude although documented latitude,longitude \
             (|{first}| > 90 cannot be a latitude); coordinates are not stored"
        )
    })
}

/// Notes each leg of a flight whose arrival instant precedes its departure; values are kept.
pub fn check_flight_times(field: &str, flight: &EventFlight, notes: &mut Vec<String>) {
    for (kind, departure, arrival) in flight.time_pairs() {
        if let (Some(dep), Some(arr)) = (departure, arrival)
            && arr < dep
        {
            notes.push(format!(
                "{field}: {kind} arrival {} is before {kind} departure {}; kept as given",
                arr.to_rfc3339(),
                dep.to_rfc3339()
            ));
        }
    }
}

/// Checks that the AWB a source names is the one asked about. Only a different AWB is an error:
/// a wrong check digit on the same serial (seed 001's `000-11223345`), or an absent or unreadable
/// AWB, is noted and the requested AWB is assumed.
pub fn check_awb(
    field: &str,
    requested: &AwbNumber,
    value: Option<&Value>,
    notes: &mut Vec<String>,
) -> Result<(), NormalizeError> {
    let Some(found) = text(field, value, notes) else {
        notes.push(format!(
            "{field} missing; taken to be the requested {requested}"
        ));
        return Ok(());
    };
    let digits: String = found.chars().filter(char::is_ascii_digit).collect();
    let wanted = requested.as_str().replace('-', "");
    if digits == wanted {
        Ok(())
    } else if digits.len() != 11 {
        notes.push(format!(
            "{field} `{found}` is not an 11-digit AWB; taken to be the requested {requested}"
        ));
        Ok(())
    } else if digits[..10] == wanted[..10] {
        notes.push(format!("{field} `{found}` differs from the requested {requested} only in its check digit; taken to be {requested}"));
        Ok(())
    } else {
        Err(NormalizeError::AwbMismatch {
            requested: requested.clone(),
            found,
        })
    }
}

/// Drops repeated notes (the same odd flight shared by several events), keeping first order.
pub fn dedup_notes(notes: &mut Vec<String>) {
    let mut seen = std::collections::HashSet::new();
    notes.retain(|note| seen.insert(note.clone()));
}

/// The object of the event at `path`, or a note that the event was skipped.
pub fn event_object<'a>(
    path: &str,
    item: &'a Value,
    notes: &mut Vec<String>,
) -> Option<&'a serde_json::Map<String, Value>> {
    let object = item.as_object();
    if object.is_none() {
        notes.push(format!(
            "{path} `{}`: not an object; event skipped",
            show(item)
        ));
    }
    object
}

/// An event's status code (`code_key`) and description (`description_key`), the standard one
/// for the code when the source gives none.
pub fn code_and_description(
    path: &str,
    event: &serde_json::Map<String, Value>,
    (code_key, description_key): (&str, &str),
    notes: &mut Vec<String>,
) -> (String, Option<String>) {
    let code = status_code(&format!("{path}.{code_key}"), event.get(code_key), notes);
    let description = text(
        &format!("{path}.{description_key}"),
        event.get(description_key),
        notes,
    )
    .or_else(|| super::describe_code(&code).map(str::to_owned));
    (code, description)
}

#[cfg(test)]
mod tests;
