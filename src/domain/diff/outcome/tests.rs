use super::super::tests::{at, event, stored};
use super::super::{Diff, diff};
use super::*;

fn codes(events: &[TrackingEvent]) -> Vec<&str> {
    events.iter().map(|e| e.code.as_str()).collect()
}

/// The store after `diff` is written, as the SQL does it: upserts un-withdraw, withdrawals mark.
fn written(stored: &[StoredEvent], diff: &Diff) -> Vec<StoredEvent> {
    let out = outcome(stored, diff);
    let mut rows = stored.to_vec();
    for upsert in out.upserts {
        match rows
            .iter_mut()
            .find(|r| r.fingerprint == upsert.fingerprint)
        {
            Some(row) => *row = upsert,
            None => rows.push(upsert),
        }
    }
    for row in &mut rows {
        row.withdrawn |= out.withdrawn.contains(&row.fingerprint);
    }
    rows
}

#[test]
fn events_restored_unchanged_are_known_not_news() {
    let full = [
        event("BKD", "FRA", "2026-11-23T08:00:00Z"),
        event("RCS", "FRA", "2026-11-24T09:00:00Z"),
        event("DEP", "FRA", "2026-11-25T13:20:00Z"),
    ];
    let first = stored(&full);
    let truncated = written(&first, &diff(&first, &full[..1]));
    assert_eq!(
        truncated.iter().map(|r| r.withdrawn).collect::<Vec<_>>(),
        [false, true, true]
    );

    let back = diff(&truncated, &full);
    assert_eq!(back.restored.len(), 2);
    let out = outcome(&truncated, &back);
    assert!(out.changed.is_empty(), "{:?}", out.changed);
    assert_eq!(codes(&out.unchanged), ["BKD", "RCS", "DEP"]);
    assert_eq!(codes(&out.events), ["BKD", "RCS", "DEP"]);
    assert_eq!(
        out.upserts.len(),
        2,
        "the two restored rows are un-withdrawn"
    );
    assert!(out.upserts.iter().all(|u| !u.withdrawn));
    assert_eq!(written(&truncated, &back), first);
}

#[test]
fn an_event_restored_with_other_content_is_news_once() {
    let full = [
        event("BKD", "FRA", "2026-11-23T08:00:00Z"),
        event("DEP", "FRA", "2026-11-25T13:20:00Z"),
    ];
    let first = stored(&full);
    let truncated = written(&first, &diff(&first, &full[..1]));
    let retimed = [full[0].clone(), event("DEP", "FRA", "2026-11-25T14:05:00Z")];
    let out = outcome(&truncated, &diff(&truncated, &retimed));
    assert_eq!(out.changed, [retimed[1].clone()]);
    assert_eq!(codes(&out.unchanged), ["BKD"]);
    assert_eq!(out.upserts.len(), 1, "updated and restored in one row");
    assert_eq!(out.upserts[0].fingerprint, first[1].fingerprint);
}

#[test]
fn an_earlier_occurrence_back_filled_is_the_only_news() {
    let part = |date| TrackingEvent {
        pieces: Some(1),
        ..event("RCS", "FRA", date)
    };
    let (earlier, later) = (part("2026-11-24T07:00:00Z"), part("2026-11-24T09:00:00Z"));
    let first = stored(std::slice::from_ref(&later));
    let back_filled = diff(&first, &[earlier.clone(), later.clone()]);
    assert!(back_filled.updated.is_empty(), "{back_filled:?}");
    let out = outcome(&first, &back_filled);
    assert_eq!(out.changed, std::slice::from_ref(&earlier));
    assert_eq!(out.unchanged, std::slice::from_ref(&later));
    assert_eq!(out.events, [earlier.clone(), later.clone()]);

    // Once both are stored, fetching them again in either order is nothing new, and the
    // first one vanishing withdraws it, not the later one.
    let both = written(&first, &back_filled);
    assert!(diff(&both, &[later.clone(), earlier.clone()]).is_empty());
    let gone = diff(&both, std::slice::from_ref(&later));
    assert!(gone.new.is_empty() && gone.updated.is_empty(), "{gone:?}");
    let earlier_row = both
        .iter()
        .find(|r| r.event.event_date == at("2026-11-24T07:00:00Z"));
    assert_eq!(gone.withdrawn, [earlier_row.unwrap().fingerprint.clone()]);
}
