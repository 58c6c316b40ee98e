//! What the properties found, shrunk to examples (each failed before its fix).

use super::super::tests::{at, event, stored};
use super::super::{diff, outcome};
use crate::domain::TrackingEvent;

/// A source writes one event twice, `Z` and `+01:00` on the same wall-clock time, neither
/// copy more complete; the next answer lists the copies the other way round. Which copy is
/// kept used to follow the fetch order, so the reordered answer was an update.
#[test]
fn copies_as_complete_as_each_other_merge_alike_in_either_order() {
    let utc = event("BKD", "FRA", "2026-11-23T00:00:00Z");
    let local = TrackingEvent {
        event_date: at("2026-11-23T00:00:00+01:00"),
        ..utc.clone()
    };
    let store = stored(&[utc.clone(), local.clone()]);
    assert_eq!(store.len(), 1);
    assert!(diff(&store, &[local, utc]).is_empty());
}

/// A planned booking of 3 pieces and the actual one without a count, in one answer: merged
/// into the actual one, which forgot the 3. The next answer, counting 2 on the actual one,
/// then updated the booking to 2 pieces as if the 3 had never been reported.
#[test]
fn a_copy_without_pieces_merged_with_a_counted_one_keeps_the_count() {
    let planned = TrackingEvent {
        is_planned: true,
        pieces: Some(3),
        ..event("BKD", "ORD", "2026-11-23T20:30:00Z")
    };
    let actual = event("BKD", "ORD", "2026-11-23T01:00:00Z");
    let first = diff(&[], &[planned, actual.clone()]);
    assert_eq!(first.new.len(), 1);
    assert_eq!(first.new[0].event.pieces, Some(3));
    assert!(!first.new[0].event.is_planned, "the actual copy is kept");
}

/// Two acceptances of 3 pieces stored; the next answer omits the first one's count and
/// re-times the second. The second matched the first's key (`…|3`) and the first the
/// second's row, so both rows were rewritten with each other's content, and the first
/// acceptance was announced again as it was.
#[test]
fn an_occurrence_that_loses_its_count_is_not_taken_for_its_neighbour() {
    let part = |date| TrackingEvent {
        pieces: Some(3),
        ..event("RCS", "ORD", date)
    };
    let store = stored(&[part("2026-11-23T00:30:00Z"), part("2026-11-23T02:00:00Z")]);
    let uncounted = TrackingEvent {
        pieces: None,
        ..part("2026-11-23T00:30:00Z")
    };
    let retimed = part("2026-11-23T02:30:00Z");
    let found = diff(&store, &[uncounted, retimed.clone()]);
    assert!(
        found.new.is_empty() && found.withdrawn.is_empty(),
        "{found:?}"
    );
    let second = store
        .iter()
        .find(|row| row.event.event_date == at("2026-11-23T02:00:00Z"))
        .expect("the second acceptance is stored");
    assert_eq!(found.updated.len(), 1, "{found:?}");
    assert_eq!(found.updated[0].fingerprint, second.fingerprint);
    assert_eq!(outcome(&store, &found).changed, [retimed]);
}
