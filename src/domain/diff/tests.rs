use super::identity::normalize_flight_number;
use super::*;
use crate::domain::SummaryStatus::{AtDestination, Delivered, InTransit, PendingDelivery};
pub(super) use crate::domain::testing::{at, event, stored};

fn flight(number: &str, destination: &str, scheduled_departure: &str) -> Option<EventFlight> {
    Some(EventFlight {
        number: Some(number.to_owned()),
        destination: Some(destination.to_owned()),
        scheduled_departure: at(scheduled_departure),
        ..EventFlight::default()
    })
}

/// Seed 001: one BCN booking, then MAD→MEX split over two flights.
fn seed_001_bookings() -> Vec<TrackingEvent> {
    let booking = |location, number, departure, pieces, weight| TrackingEvent {
        flight: flight(number, "MEX", departure),
        pieces: Some(pieces),
        weight: Some(weight),
        event_date: None,
        ..event("BKD", location, "2025-10-25T00:00:00+01:00")
    };
    vec![
        booking("BCN", "00733", "2025-10-25T20:00:00+01:00", 34, 1000.0),
        booking("MAD", "00322", "2025-10-25T23:15:00+01:00", 17, 600.0),
        booking("MAD", "00373", "2025-10-25T15:07:00+01:00", 17, 400.0),
    ]
}

/// Seed 003: the same BKD written with `Z` and bare, then with `+01:00`, pieces and times.
fn seed_003_bkd_pair() -> Vec<TrackingEvent> {
    let bare = TrackingEvent {
        flight: flight("00768", "SIN", "2025-01-21T15:00:01+01:00"),
        ..event("BKD", "CDG", "2025-01-16T08:50:39Z")
    };
    let mut full = TrackingEvent {
        event_date: at("2025-01-16T08:50:39+01:00"),
        pieces: Some(1),
        weight: Some(100.0),
        volume: Some(1.0),
        ..bare.clone()
    };
    let f = full.flight.as_mut().expect("flight");
    f.actual_departure = at("2025-01-21T15:00:01+01:00");
    f.actual_arrival = at("2025-01-22T03:00:01+08:00");
    vec![bare, full]
}

#[test]
fn fingerprint_is_readable_and_normalises_flight_and_offsets() {
    let mut dep = TrackingEvent {
        flight: flight("lh 08160", "ORD", "2026-11-25T11:00:00+01:00"),
        pieces: Some(34),
        ..event("dep", "fra", "2026-11-25T11:05:00+01:00")
    };
    assert_eq!(fingerprint(&dep), "DEP|FRA|LH8160|2026-11-25T10:00:00Z|34");
    dep.flight.as_mut().unwrap().number = Some("LH8160".into());
    assert_eq!(fingerprint(&dep), "DEP|FRA|LH8160|2026-11-25T10:00:00Z|34");
    assert_eq!(
        normalize_flight_number("00768"),
        normalize_flight_number("768")
    );
    assert_eq!(normalize_flight_number("000"), "0");
    assert_eq!(
        fingerprint(&event("RCS", "MAD", "2025-10-24T10:00:00Z")),
        "RCS|MAD|||"
    );
}

#[test]
fn the_same_data_fetched_twice_is_an_empty_diff() {
    let fetched = seed_001_bookings();
    let store = stored(&fetched);
    assert_eq!(store.len(), 3);
    let second = diff(&store, &fetched);
    assert!(second.is_empty(), "{second:?}");
    assert_eq!(second.changed().count(), 0);
}

#[test]
fn split_shipment_bookings_are_three_new_events() {
    let first = diff(&[], &seed_001_bookings());
    let keys: HashSet<_> = first.new.iter().map(|k| k.fingerprint.as_str()).collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert!(first.anomalies.is_empty());
}

#[test]
fn a_planned_event_that_happens_is_one_update() {
    let planned = TrackingEvent {
        is_planned: true,
        flight: flight("LH400", "JFK", "2026-11-25T10:00:00Z"),
        ..event("DEP", "FRA", "2026-11-25T10:00:00Z")
    };
    let store = stored(std::slice::from_ref(&planned));
    let actual = TrackingEvent {
        is_planned: false,
        event_date: at("2026-11-25T10:20:00Z"),
        ..planned
    };
    let change = diff(&store, std::slice::from_ref(&actual));
    assert!(change.new.is_empty() && change.withdrawn.is_empty());
    assert_eq!(change.updated.len(), 1);
    assert_eq!(change.updated[0].fingerprint, store[0].fingerprint);
    assert_eq!(change.changed().collect::<Vec<_>>(), vec![&actual]);
}

#[test]
fn a_retimed_planned_event_is_one_update() {
    let planned = TrackingEvent {
        is_planned: true,
        flight: flight("LH400", "JFK", "2026-11-25T10:00:00Z"),
        ..event("ARR", "JFK", "2026-11-25T18:00:00Z")
    };
    let store = stored(std::slice::from_ref(&planned));
    let mut later = planned.clone();
    later.event_date = at("2026-11-25T19:30:00Z");
    later.flight.as_mut().unwrap().estimated_arrival = at("2026-11-25T19:30:00Z");
    let change = diff(&store, &[later]);
    assert_eq!((change.new.len(), change.updated.len()), (0, 1));
}

#[test]
fn another_offset_for_the_same_instant_is_not_an_update() {
    let utc = TrackingEvent {
        flight: flight("LH400", "JFK", "2026-11-25T10:00:00Z"),
        ..event("DEP", "FRA", "2026-11-25T10:20:00Z")
    };
    let store = stored(std::slice::from_ref(&utc));
    let local = TrackingEvent {
        flight: flight("LH400", "JFK", "2026-11-25T11:00:00+01:00"),
        ..event("DEP", "FRA", "2026-11-25T11:20:00+01:00")
    };
    assert!(diff(&store, &[local]).is_empty());
}

#[test]
fn seed_003_bkd_written_twice_is_one_event() {
    let pair = seed_003_bkd_pair();
    let first = diff(&[], &pair);
    assert_eq!(first.new.len(), 1, "{first:?}");
    assert_eq!(
        first.new[0].event, pair[1],
        "the more complete copy is kept"
    );
    assert_eq!(first.anomalies.len(), 1);
    assert!(first.anomalies[0].contains("merged"));
    assert!(diff(&stored(&pair), &pair).is_empty());

    // Stored from the bare copy alone, the full one later is an update of it, not a new event.
    let bare_only = stored(&pair[..1]);
    let later = diff(&bare_only, &pair[1..]);
    assert!(later.new.is_empty());
    assert_eq!(later.updated.len(), 1);
    assert_eq!(later.updated[0].fingerprint, bare_only[0].fingerprint);
    // A source omitting the pieces again does not make them unknown.
    let mut known = bare_only;
    known[0].event = later.updated[0].event.clone();
    let mut less = pair[1].clone();
    less.pieces = None;
    assert!(diff(&known, &[less]).is_empty());
}

#[test]
fn out_of_order_events_are_stored_and_status_never_moves_back() {
    let arr = TrackingEvent {
        flight: flight("IB6403", "MEX", "2025-10-25T23:15:00+01:00"),
        ..event("ARR", "MEX", "2025-10-26T05:00:00-06:00")
    };
    let store = stored(std::slice::from_ref(&arr));
    let status = summary_status(std::slice::from_ref(&arr), Some("MEX"), Some(34), None);
    assert_eq!(status, AtDestination);

    let rcs = event("RCS", "MAD", "2025-10-24T09:00:00+02:00");
    let dep = event("DEP", "MAD", "2025-10-25T23:20:00+01:00");
    let change = diff(&store, &[arr.clone(), dep.clone(), rcs.clone()]);
    let new: Vec<_> = change.new.iter().map(|k| k.event.code.as_str()).collect();
    assert_eq!(
        new,
        ["RCS", "DEP"],
        "chronological, late ones stored anyway"
    );
    assert_eq!(
        summary_status(&[rcs], Some("MEX"), Some(34), Some(status)),
        AtDestination
    );
}

#[test]
fn a_vanished_event_is_withdrawn_and_restored_when_it_reappears() {
    let bookings = seed_001_bookings();
    let mut store = stored(&bookings);
    // Rows are stored in the diff's order, not the fetch's.
    let gone = fingerprint(&bookings[2]);
    let change = diff(&store, &bookings[..2]);
    assert_eq!(change.withdrawn, std::slice::from_ref(&gone));
    assert!(change.new.is_empty() && change.updated.is_empty());

    for row in store.iter_mut().filter(|row| row.fingerprint == gone) {
        row.withdrawn = true;
    }
    assert!(
        diff(&store, &bookings[..2]).is_empty(),
        "withdrawn once only"
    );
    let back = diff(&store, &bookings);
    assert_eq!(back.restored, [gone]);
    assert!(back.new.is_empty() && back.withdrawn.is_empty());
}

#[test]
fn an_empty_fetch_withdraws_nothing() {
    let store = stored(&seed_001_bookings());
    assert!(diff(&store, &[]).is_empty());
}

#[test]
fn two_partial_deliveries_of_equal_pieces_are_two_events() {
    let part = |date| TrackingEvent {
        pieces: Some(17),
        ..event("DLV", "MEX", date)
    };
    let first = part("2025-10-27T10:00:00-06:00");
    let second = part("2025-10-28T15:00:00-06:00");
    let change = diff(&[], &[second.clone(), first.clone()]);
    let keys: Vec<_> = change.new.iter().map(|k| k.fingerprint.as_str()).collect();
    assert_eq!(keys, ["DLV|MEX|||17", "DLV|MEX|||17#2"]);
    assert!(change.anomalies.is_empty());
    assert!(diff(&stored(&[first.clone(), second.clone()]), &[first, second]).is_empty());
}

#[test]
fn a_row_keyed_by_an_older_rule_still_matches_its_event() {
    let bookings = seed_001_bookings();
    let mut store = stored(&bookings);
    store[0].fingerprint = "legacy-key".into();
    assert!(diff(&store, &bookings).is_empty());
}

#[test]
fn sort_events_is_chronological_with_undated_last() {
    let mut events = vec![
        TrackingEvent {
            event_date: None,
            ..event("BKD", "BCN", "2025-01-01T00:00:00Z")
        },
        event("DEP", "BCN", "2025-10-25T21:00:00+01:00"),
        event("RCS", "BCN", "2025-10-25T19:00:00Z"),
        event("MAN", "BCN", "2025-10-25T20:00:00+01:00"),
    ];
    sort_events(&mut events);
    let codes: Vec<_> = events.iter().map(|e| e.code.as_str()).collect();
    assert_eq!(
        codes,
        ["RCS", "MAN", "DEP", "BKD"],
        "same instant keeps its order"
    );
}

#[test]
fn status_follows_the_journey() {
    let dest = Some("MEX");
    let status = |events: &[TrackingEvent]| summary_status(events, dest, Some(34), None);
    assert_eq!(status(&seed_001_bookings()), PendingDelivery);
    assert_eq!(
        status(&[event("RCS", "BCN", "2025-10-24T09:00:00Z")]),
        InTransit
    );
    assert_eq!(
        status(&[event("ARR", "MAD", "2025-10-25T21:00:00Z")]),
        InTransit
    );
    assert_eq!(
        status(&[event("ARR", "mex", "2025-10-26T05:00:00Z")]),
        AtDestination
    );
    assert_eq!(
        status(&[event("NFD", "MEX", "2025-10-26T08:00:00Z")]),
        AtDestination
    );
    let planned = TrackingEvent {
        is_planned: true,
        ..event("ARR", "MEX", "2025-10-26T05:00:00Z")
    };
    assert_eq!(
        status(&[planned]),
        PendingDelivery,
        "planned events do not count"
    );
}

#[test]
fn a_split_shipment_is_delivered_once_all_pieces_are() {
    let part = |code, pieces, date| TrackingEvent {
        pieces: Some(pieces),
        ..event(code, "MEX", date)
    };
    let first = part("DLV", 17, "2025-10-27T10:00:00-06:00");
    let second = part("DLV", 17, "2025-10-28T15:00:00-06:00");
    let door = part("DDL", 17, "2025-10-27T12:00:00-06:00");
    let status = |events: &[TrackingEvent]| summary_status(events, Some("MEX"), Some(34), None);
    assert_eq!(status(std::slice::from_ref(&first)), AtDestination);
    assert_eq!(
        status(&[first.clone(), door]),
        AtDestination,
        "DLV+DDL of one part"
    );
    assert_eq!(status(&[first.clone(), second]), Delivered);
    let mut twice = first.clone();
    twice.event_date = at("2025-10-27T10:00:00Z");
    assert_eq!(
        status(&[first.clone(), twice]),
        AtDestination,
        "one DLV written twice"
    );
    assert!(
        is_delivered(std::slice::from_ref(&first), Some("MEX"), None),
        "total unknown"
    );
    let mut unknown = first;
    unknown.pieces = None;
    assert!(
        is_delivered(&[unknown], Some("MEX"), Some(34)),
        "pieces unknown"
    );
}

#[test]
fn without_a_destination_dlv_anywhere_delivers_and_arr_is_transit() {
    let arr = event("ARR", "MEX", "2025-10-26T05:00:00Z");
    assert_eq!(summary_status(&[arr], None, None, None), InTransit);
    let dlv = event("DLV", "MEX", "2025-10-27T10:00:00Z");
    assert_eq!(summary_status(&[dlv], None, None, None), Delivered);
    let elsewhere = event("DLV", "MAD", "2025-10-27T10:00:00Z");
    assert_eq!(
        summary_status(&[elsewhere], Some("MEX"), None, None),
        InTransit
    );
}
