//! A flight's changes in words, for email subjects and bodies and the `summary` of
//! `flight.updated`: "LH8160 FRA→ORD delayed: estimated departure 14:05 → 16:40 (+2h35)".
//! Times are shown in local time at the airport they concern, as the source reported them.

use super::{Change, FlightChange, FlightSnapshot, FlightStatus, FlightTime};
use chrono::TimeDelta;

#[derive(Debug, Clone, PartialEq)]
pub struct FlightSummary {
    /// The most important change, with the flight: an email subject.
    pub headline: String,
    /// Every change, one sentence each.
    pub lines: Vec<String>,
}

pub fn describe(flight: &FlightSnapshot, changes: &[FlightChange]) -> FlightSummary {
    // A diverted flight is still named by the route it was flying.
    let diverted_from = changes.iter().find_map(|c| match c {
        FlightChange::Destination(Change { old: Some(old), .. }) => Some(old),
        _ => None,
    });
    let route = match diverted_from.or(flight.destination.as_ref()) {
        Some(destination) => format!("{}→{destination}", flight.origin),
        None => format!("from {}", flight.origin),
    };
    let lines: Vec<String> = changes
        .iter()
        .filter_map(|change| line(flight, change))
        .collect();
    let what = headline(flight, changes);
    let headline = match lines.first() {
        Some(first) if what.is_empty() => format!("{} {route}: {first}", flight.number),
        Some(_) => format!("{} {route} {what}", flight.number),
        None => format!("{} {route} updated", flight.number),
    };
    FlightSummary { headline, lines }
}

/// The most important change in a few words, with its detail: cancellation, diversion,
/// arrival, departure, then a moved estimate.
fn headline(flight: &FlightSnapshot, changes: &[FlightChange]) -> String {
    let find = |pick: fn(&FlightChange) -> bool| changes.iter().find(|c| pick(c));
    if find(|c| matches!(c, FlightChange::Status(s) if s.new == Some(FlightStatus::Cancelled)))
        .is_some()
    {
        return "cancelled".into();
    }
    if let Some(FlightChange::Destination(Change {
        old: Some(_),
        new: Some(new),
    })) = find(|c| matches!(c, FlightChange::Destination(_)))
    {
        return format!("diverted to {new}");
    }
    if let Some(c) = find(|c| matches!(c, FlightChange::ActualArrival(Change { new: Some(_), .. })))
    {
        return line(flight, c).unwrap_or_else(|| "arrived".into());
    }
    if let Some(c) = find(|c| {
        matches!(
            c,
            FlightChange::ActualDeparture(Change { new: Some(_), .. })
        )
    }) {
        return line(flight, c).unwrap_or_else(|| "departed".into());
    }
    for (change, field) in changes.iter().filter_map(|c| match c {
        FlightChange::EstimatedDeparture(m) => Some((m, "departure")),
        FlightChange::EstimatedArrival(m) => Some((m, "arrival")),
        _ => None,
    }) {
        let baseline = change.old.or(if field == "departure" {
            flight.times.scheduled_departure
        } else {
            flight.times.scheduled_arrival
        });
        if let (Some(old), Some(new)) = (baseline, change.new) {
            let text = line_for_time(&format!("estimated {field}"), Some(old), Some(new));
            return match (new - old).num_minutes() {
                m if m > 0 => format!("delayed: {text}"),
                m if m < 0 => format!("earlier: {text}"),
                _ => continue,
            };
        }
    }
    String::new()
}

fn line(flight: &FlightSnapshot, change: &FlightChange) -> Option<String> {
    let t = &flight.times;
    let text = match change {
        FlightChange::ScheduledDeparture(c) => line_for_time("scheduled departure", c.old, c.new),
        FlightChange::ScheduledArrival(c) => line_for_time("scheduled arrival", c.old, c.new),
        // A first estimate is compared with the schedule: that is the delay people want.
        FlightChange::EstimatedDeparture(c) => line_for_time(
            "estimated departure",
            c.old.or(t.scheduled_departure),
            c.new,
        ),
        FlightChange::EstimatedArrival(c) => {
            line_for_time("estimated arrival", c.old.or(t.scheduled_arrival), c.new)
        }
        FlightChange::ActualDeparture(c) => actual("departed", c.new?, t.scheduled_departure),
        FlightChange::ActualArrival(c) => actual("arrived", c.new?, t.scheduled_arrival),
        FlightChange::Destination(Change {
            old: Some(old),
            new,
        }) => format!(
            "destination {old} → {}",
            new.as_deref().unwrap_or("unknown")
        ),
        FlightChange::Destination(Change { old: None, new }) => {
            format!("destination {}", new.as_deref()?)
        }
        FlightChange::Status(c) => format!(
            "status {} → {}",
            c.old.map_or("unknown", FlightStatus::as_str),
            c.new.map_or("unknown", FlightStatus::as_str)
        ),
    };
    Some(text)
}

fn actual(what: &str, at: FlightTime, scheduled: Option<FlightTime>) -> String {
    match scheduled {
        Some(s) => format!("{what} at {} ({})", clock(at, Some(s)), offset(at - s)),
        None => format!("{what} at {}", clock(at, None)),
    }
}

fn line_for_time(name: &str, old: Option<FlightTime>, new: Option<FlightTime>) -> String {
    match (old, new) {
        (Some(old), Some(new)) if old == new => format!("{name} {}", clock(new, None)),
        (Some(old), Some(new)) => format!(
            "{name} {} → {} ({})",
            clock(old, Some(new)),
            clock(new, Some(old)),
            offset(new - old)
        ),
        (None, Some(new)) => format!("{name} {}", clock(new, None)),
        (Some(old), None) => format!("{name} {} withdrawn", clock(old, None)),
        (None, None) => name.to_owned(),
    }
}

/// `14:05`, or `26 Nov 14:05` when the other time it is compared with is on another day.
fn clock(at: FlightTime, other: Option<FlightTime>) -> String {
    match other {
        Some(o) if o.date_naive() != at.date_naive() => at.format("%-d %b %H:%M").to_string(),
        _ => at.format("%H:%M").to_string(),
    }
}

/// `+2h35`, `-0h20`.
fn offset(delta: TimeDelta) -> String {
    let minutes = delta.num_minutes();
    let sign = if minutes < 0 { '-' } else { '+' };
    let minutes = minutes.abs();
    format!("{sign}{}h{:02}", minutes / 60, minutes % 60)
}
