//! What a carrier's answer means for a stored shipment: the diff against what is stored, the
//! rows to write, and what subscribers are told. Shared by polls and pushes.

use crate::domain::diff;
use crate::domain::message::ShipmentChange;
use crate::domain::schedule::LastPoll;
use crate::domain::{SummaryStatus, Tracking};
use crate::store::{ClaimedShipment, PollResult, ShipmentSummary};
use chrono::Utc;

/// What a successful fetch (or a push merged into the stored events) means for the stored
/// shipment, of which at most `max_events` events are kept (`poller.max_events_per_shipment`).
pub(crate) fn apply(
    claim: &ClaimedShipment,
    mut tracking: Tracking,
    raw: serde_json::Value,
    max_events: usize,
) -> (PollResult, LastPoll) {
    keep_latest(&mut tracking, max_events);
    let found = diff::diff(&claim.events, &tracking.events);
    let written = diff::outcome(&claim.events, &found);
    let status = diff::summary_status(
        &tracking.events,
        tracking.destination.as_deref(),
        tracking.pieces,
        Some(claim.status),
    );
    let last = if status == SummaryStatus::Delivered && found.is_empty() {
        LastPoll::Delivered
    } else if found.is_empty() {
        LastPoll::Unchanged
    } else {
        LastPoll::Changed
    };
    let mut anomalies = tracking.anomalies;
    anomalies.extend(found.anomalies);
    let summary = ShipmentSummary {
        origin: tracking.origin,
        destination: tracking.destination,
        pieces: tracking.pieces,
        weight: tracking.weight,
        volume: tracking.volume,
        status,
    };
    let change = Box::new(ShipmentChange {
        awb: claim.awb.clone(),
        summary: summary.clone(),
        changed: written.changed,
        events: written.events,
        unchanged: written.unchanged,
    });
    let result = PollResult::Tracked {
        summary,
        raw,
        anomalies,
        upserts: written.upserts,
        withdrawn: written.withdrawn,
        change,
    };
    (result, last)
}

/// Cuts what a carrier lists to `max` events before anything is diffed, so that neither the
/// stored events nor any message body grows with whatever a carrier sends. The latest dated
/// events are kept, undated ones only in the room left (a flood of them must not push out the
/// dated milestones); the kept ones stay in the carrier's order, which the diff's keying of
/// repeated occurrences follows. Cut events count as no longer listed: stored ones are
/// withdrawn, like any event a carrier stops reporting.
fn keep_latest(tracking: &mut Tracking, max: usize) {
    let listed = tracking.events.len();
    if listed <= max {
        return;
    }
    let mut by_priority: Vec<usize> = (0..listed).collect();
    by_priority.sort_by_key(|&i| {
        let date = tracking.events[i].event_date.map(|d| d.with_timezone(&Utc));
        (date.is_none(), std::cmp::Reverse(date))
    });
    let mut keep = vec![false; listed];
    for &i in &by_priority[..max] {
        keep[i] = true;
    }
    let mut index = 0;
    tracking.events.retain(|_| {
        index += 1;
        keep[index - 1]
    });
    tracking.anomalies.push(format!(
        "the carrier listed {listed} events; only the latest {max} are kept \
         (poller.max_events_per_shipment), the {} others are cut",
        listed - max
    ));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{AwbNumber, TrackingEvent};

    fn tracking(dates: &[Option<&str>]) -> Tracking {
        let events = dates
            .iter()
            .enumerate()
            .map(|(i, date)| {
                let date = date.map(|d| chrono::DateTime::parse_from_rfc3339(d).unwrap());
                TrackingEvent::new(format!("E{i}"), date)
            })
            .collect();
        Tracking::of_events(
            AwbNumber::parse("020-08002050").unwrap(),
            events,
            Vec::new(),
        )
    }

    fn codes(tracking: &Tracking) -> Vec<&str> {
        tracking.events.iter().map(|e| e.code.as_str()).collect()
    }

    #[test]
    fn past_the_cap_the_latest_dated_events_stay_in_the_carriers_order() {
        // Out of order, offsets mixed: E1 (09:00Z) and E3 (10:30+01:00 = 09:30Z) are latest.
        let mut listed = tracking(&[
            Some("2026-11-25T08:00:00Z"),
            Some("2026-11-25T09:00:00Z"),
            None,
            Some("2026-11-25T10:30:00+01:00"),
            Some("2026-11-25T07:00:00Z"),
        ]);
        keep_latest(&mut listed, 2);
        assert_eq!(codes(&listed), ["E1", "E3"]);
        assert_eq!(listed.anomalies.len(), 1);

        let mut room_left = tracking(&[None, Some("2026-11-25T08:00:00Z"), None]);
        keep_latest(&mut room_left, 2);
        assert_eq!(
            codes(&room_left),
            ["E0", "E1"],
            "undated fill the room left"
        );

        let mut within = tracking(&[None, None]);
        keep_latest(&mut within, 2);
        assert_eq!(codes(&within), ["E0", "E1"]);
        assert!(within.anomalies.is_empty());
    }
}
