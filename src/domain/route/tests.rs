use super::*;
use crate::domain::EventFlight;
use crate::domain::diff::summary_status;
use crate::domain::testing::{at, event};
use chrono::{DateTime, FixedOffset};
use proptest::prelude::*;

/// The route of `events` under a summary whose status is the one the events give (as the
/// poller derives it), so that "delivered" follows the real rule.
fn route_of(origin: Option<&str>, destination: Option<&str>, events: &[TrackingEvent]) -> Route {
    let summary = ShipmentSummary {
        origin: origin.map(str::to_owned),
        destination: destination.map(str::to_owned),
        pieces: None,
        weight: None,
        volume: None,
        status: summary_status(events, destination, None, None),
    };
    Route::of(&summary, events)
}

fn planned(mut event: TrackingEvent) -> TrackingEvent {
    event.is_planned = true;
    event
}

fn on(mut event: TrackingEvent, number: &str, from: &str, to: &str) -> TrackingEvent {
    event.flight = Some(EventFlight {
        number: Some(number.to_owned()),
        origin: Some(from.to_owned()),
        destination: Some(to.to_owned()),
        ..EventFlight::default()
    });
    event
}

fn stations(route: &Route) -> Vec<&str> {
    route.stops.iter().map(|s| s.station.as_str()).collect()
}

fn reached(route: &Route) -> Vec<bool> {
    route.stops.iter().map(|s| s.reached).collect()
}

fn flights(route: &Route) -> Vec<Vec<&str>> {
    route
        .legs
        .iter()
        .map(|l| l.flights.iter().map(String::as_str).collect())
        .collect()
}

fn flown(route: &Route) -> Vec<bool> {
    route.legs.iter().map(|l| l.flown).collect()
}

/// FRA → DOH → SYD on QR68 and QR908: departed FRA, the rest planned.
fn departed_frankfurt() -> Vec<TrackingEvent> {
    vec![
        event("RCS", "FRA", "2026-11-23T06:00:00+01:00"),
        on(
            event("DEP", "FRA", "2026-11-23T10:15:00+01:00"),
            "QR68",
            "FRA",
            "DOH",
        ),
        planned(on(
            event("ARR", "DOH", "2026-11-23T18:05:00+03:00"),
            "QR68",
            "FRA",
            "DOH",
        )),
        planned(on(
            event("DEP", "DOH", "2026-11-23T20:30:00+03:00"),
            "QR908",
            "DOH",
            "SYD",
        )),
        planned(event("ARR", "SYD", "2026-11-24T17:45:00+11:00")),
    ]
}

#[test]
fn a_shipment_that_left_its_origin_is_at_the_origin_with_the_first_leg_flown() {
    let route = route_of(Some("FRA"), Some("SYD"), &departed_frankfurt());
    assert_eq!(stations(&route), ["FRA", "DOH", "SYD"]);
    assert_eq!(reached(&route), [true, false, false]);
    assert_eq!(flights(&route), [vec!["QR68"], vec!["QR908"]]);
    assert_eq!(flown(&route), [true, false]);
    assert_eq!(route.current, Some(0));
    assert_eq!(route.current_stop().unwrap().station, "FRA");
    assert!(route.between_stops(), "it left FRA for DOH");
    assert!(!route.delivered);
}

#[test]
fn events_in_any_order_give_the_same_route() {
    let ordered = route_of(Some("FRA"), Some("SYD"), &departed_frankfurt());
    let mut shuffled = departed_frankfurt();
    shuffled.reverse();
    shuffled.swap(0, 2);
    assert_eq!(route_of(Some("FRA"), Some("SYD"), &shuffled), ordered);
}

#[test]
fn without_origin_and_destination_the_events_give_the_stations() {
    let route = route_of(None, Some("  "), &departed_frankfurt());
    assert_eq!(stations(&route), ["FRA", "DOH", "SYD"]);
    // The transit station comes between origin and destination even if an event names the
    // destination first.
    let early = vec![
        planned(event("ARR", "SYD", "2026-11-20T00:00:00Z")),
        event("DEP", "FRA", "2026-11-23T10:15:00+01:00"),
        event("ARR", "DOH", "2026-11-23T18:05:00+03:00"),
    ];
    let route = route_of(Some("FRA"), Some("SYD"), &early);
    assert_eq!(stations(&route), ["FRA", "DOH", "SYD"]);
    assert_eq!(route.current, Some(1));
}

#[test]
fn nothing_known_is_an_empty_route_and_events_without_a_place_add_nothing() {
    assert_eq!(route_of(None, None, &[]), Route::default());
    let nowhere = vec![
        TrackingEvent::new("BKD", at("2026-11-22T09:00:00+01:00")),
        TrackingEvent::new("DEP", None),
    ];
    let route = route_of(None, None, &nowhere);
    assert!(route.stops.is_empty() && route.legs.is_empty());
    assert_eq!(route.current, None);

    let route = route_of(Some("FRA"), Some("ORD"), &nowhere);
    assert_eq!(stations(&route), ["FRA", "ORD"]);
    assert_eq!(flown(&route), [false]);
    assert_eq!(route.current, None);
}

#[test]
fn planned_events_add_stations_and_flights_but_reach_nothing() {
    let plan: Vec<TrackingEvent> = departed_frankfurt().into_iter().map(planned).collect();
    let mut with_dlv = plan.clone();
    with_dlv.push(planned(event("DLV", "SYD", "2026-11-25T09:00:00+11:00")));
    let route = route_of(Some("FRA"), Some("SYD"), &with_dlv);
    assert_eq!(stations(&route), ["FRA", "DOH", "SYD"]);
    assert_eq!(flights(&route), [vec!["QR68"], vec!["QR908"]]);
    assert_eq!(reached(&route), [false, false, false]);
    assert_eq!(flown(&route), [false, false]);
    assert_eq!(route.current, None);
    assert!(!route.delivered);
}

#[test]
fn a_part_delivery_is_not_a_delivery() {
    // Two of five pieces handed over at SYD: the shipment is there, not delivered.
    let mut dlv = event("DLV", "SYD", "2026-11-25T09:00:00+11:00");
    dlv.pieces = Some(2);
    let events = vec![event("DEP", "FRA", "2026-11-23T10:15:00+01:00"), dlv];
    let summary = ShipmentSummary {
        origin: Some("FRA".to_owned()),
        destination: Some("SYD".to_owned()),
        pieces: Some(5),
        weight: None,
        volume: None,
        status: summary_status(&events, Some("SYD"), Some(5), None),
    };
    assert_eq!(summary.status, SummaryStatus::AtDestination);
    let route = Route::of(&summary, &events);
    assert!(!route.delivered);
    assert_eq!(route.whereabouts().as_deref(), Some("now at SYD"));
}

#[test]
fn a_delivery_at_the_destination_flies_every_leg_before_it() {
    let events = vec![
        event("DEP", "FRA", "2026-11-23T10:15:00+01:00"),
        // Nothing was reported at DOH.
        planned(event("DEP", "DOH", "2026-11-23T20:30:00+03:00")),
        event("DLV", "SYD", "2026-11-25T09:00:00+11:00"),
    ];
    let route = route_of(Some("FRA"), Some("SYD"), &events);
    assert_eq!(reached(&route), [true, false, true]);
    assert_eq!(flown(&route), [true, true]);
    assert_eq!(route.current, Some(2));
    assert!(!route.between_stops());
    assert!(route.delivered);
    assert!(route.passed(1), "DOH lies behind the shipment");
    assert!(!route.passed(3));
}

#[test]
fn a_flight_that_names_no_stations_belongs_to_the_leg_its_event_leaves_or_ends() {
    let number_only = |mut e: TrackingEvent, number: &str| {
        e.flight = Some(EventFlight {
            number: Some(number.to_owned()),
            ..EventFlight::default()
        });
        e
    };
    let events = vec![
        number_only(event("DEP", "FRA", "2026-11-23T10:15:00+01:00"), "QR68"),
        number_only(event("ARR", "DOH", "2026-11-23T18:05:00+03:00"), "QR68"),
        number_only(
            planned(event("ARR", "SYD", "2026-11-24T17:45:00+11:00")),
            "QR908",
        ),
    ];
    let route = route_of(None, None, &events);
    assert_eq!(stations(&route), ["FRA", "DOH", "SYD"]);
    assert_eq!(flights(&route), [vec!["QR68"], vec!["QR908"]]);
    assert_eq!(flown(&route), [true, false]);
    assert_eq!(route.current, Some(1));
}

#[test]
fn a_flights_actual_times_reach_its_stations() {
    let mut dep = on(
        event("MAN", "FRA", "2026-11-23T08:00:00+01:00"),
        "QR68",
        "FRA",
        "DOH",
    );
    if let Some(flight) = &mut dep.flight {
        flight.actual_departure = at("2026-11-23T10:15:00+01:00");
        flight.actual_arrival = at("2026-11-23T18:05:00+03:00");
    }
    let route = route_of(Some("FRA"), Some("SYD"), &[dep.clone()]);
    assert_eq!(reached(&route), [true, true, false]);
    assert_eq!(flown(&route), [true, false]);
    assert_eq!(route.current, Some(1));
    // A planned event's times are a promise, not a movement.
    let route = route_of(Some("FRA"), Some("SYD"), &[planned(dep)]);
    assert_eq!(reached(&route), [false, false, false]);
}

#[test]
fn stations_written_two_ways_are_one_and_a_flight_is_listed_once() {
    let events = vec![
        on(
            event("DEP", " fra ", "2026-11-23T10:15:00+01:00"),
            "QR68",
            "FRA",
            "doh",
        ),
        on(
            event("ARR", "DOH", "2026-11-23T18:05:00+03:00"),
            "QR68",
            "fra",
            "DOH",
        ),
    ];
    let route = route_of(Some("Fra"), Some("doh"), &events);
    assert_eq!(stations(&route), ["FRA", "DOH"]);
    assert_eq!(flights(&route), [vec!["QR68"]]);
    assert_eq!(route.current, Some(1));
}

const STATIONS: &[&str] = &["FRA", "fra", " DOH ", "SYD", "ORD", "", "  "];
const CODES: &[&str] = &["BKD", "RCS", "DEP", "ARR", "RCF", "DLV", "XYZ", ""];

fn maybe_station() -> impl Strategy<Value = Option<String>> {
    proptest::option::of(proptest::sample::select(STATIONS).prop_map(str::to_owned))
}

fn maybe_time() -> impl Strategy<Value = Option<DateTime<FixedOffset>>> {
    proptest::option::of((0i64..48, -3i32..4)).prop_map(|t| {
        t.map(|(hours, offset)| {
            let zone = FixedOffset::east_opt(offset * 3600).unwrap();
            (DateTime::parse_from_rfc3339("2026-11-23T00:00:00Z").unwrap()
                + chrono::Duration::hours(hours))
            .with_timezone(&zone)
        })
    })
}

fn arbitrary_flight() -> impl Strategy<Value = EventFlight> {
    (
        proptest::option::of(proptest::sample::select(
            &["QR68", "QR908", " ", "LH8160"][..],
        )),
        maybe_station(),
        maybe_station(),
        maybe_time(),
        maybe_time(),
    )
        .prop_map(
            |(number, origin, destination, departed, arrived)| EventFlight {
                number: number.map(str::to_owned),
                origin,
                destination,
                actual_departure: departed,
                actual_arrival: arrived,
                ..EventFlight::default()
            },
        )
}

fn arbitrary_event() -> impl Strategy<Value = TrackingEvent> {
    (
        proptest::sample::select(CODES),
        maybe_time(),
        maybe_station(),
        any::<bool>(),
        proptest::option::of(arbitrary_flight()),
    )
        .prop_map(|(code, date, location, is_planned, flight)| TrackingEvent {
            event_location: location,
            is_planned,
            flight,
            ..TrackingEvent::new(code, date)
        })
}

#[test]
fn the_path_and_whereabouts_are_said_in_words() {
    let booked = [planned(event("DEP", "FRA", "2026-12-01T09:00:00+01:00"))];
    let route = route_of(Some("FRA"), Some("SYD"), &booked);
    assert_eq!(route.path(), "FRA → SYD");
    assert_eq!(route.whereabouts(), None, "nothing actual yet");
    let arrived = [
        on(
            event("DEP", "FRA", "2026-12-01T09:00:00+01:00"),
            "QR68",
            "FRA",
            "DOH",
        ),
        on(
            event("ARR", "DOH", "2026-12-01T17:00:00+03:00"),
            "QR68",
            "FRA",
            "DOH",
        ),
    ];
    let route = route_of(Some("FRA"), Some("SYD"), &arrived);
    assert_eq!(route.path(), "FRA → DOH → SYD");
    assert_eq!(route.whereabouts().as_deref(), Some("now at DOH"));
    let departed = [
        arrived[0].clone(),
        arrived[1].clone(),
        on(
            event("DEP", "DOH", "2026-12-01T20:00:00+03:00"),
            "QR908",
            "DOH",
            "SYD",
        ),
    ];
    let route = route_of(Some("FRA"), Some("SYD"), &departed);
    assert_eq!(route.whereabouts().as_deref(), Some("departed DOH"));
    let delivered = [event("DLV", "SYD", "2026-12-02T18:00:00+11:00")];
    let route = route_of(Some("FRA"), Some("SYD"), &delivered);
    assert_eq!(route.whereabouts().as_deref(), Some("delivered at SYD"));
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn any_events_give_a_well_formed_route(
        origin in maybe_station(),
        destination in maybe_station(),
        events in proptest::collection::vec(arbitrary_event(), 0..8),
    ) {
        let route = route_of(origin.as_deref(), destination.as_deref(), &events);
        for pair in route.stops.windows(2) {
            prop_assert_ne!(&pair[0].station, &pair[1].station);
        }
        prop_assert_eq!(route.legs.len(), route.stops.len().saturating_sub(1));
        if let Some(current) = route.current {
            prop_assert!(current < route.stops.len());
            prop_assert!(route.stops[current].reached);
            prop_assert!(route.stops[current + 1..].iter().all(|s| !s.reached));
        } else {
            prop_assert!(route.stops.iter().all(|s| !s.reached));
        }
        if events.iter().all(|e| e.is_planned) {
            prop_assert_eq!(route.current, None);
            prop_assert!(!route.delivered);
            prop_assert!(route.legs.iter().all(|l| !l.flown));
        }
        let given = |s: &Option<String>| s.as_deref().map(str::trim).filter(|s| !s.is_empty())
            .map(str::to_ascii_uppercase);
        if let Some(origin) = given(&origin) {
            // The origin opens the route, unless it is the destination too.
            let first = &route.stops[0].station;
            prop_assert!(*first == origin || given(&destination) == Some(origin));
        }
        if let Some(destination) = given(&destination) {
            prop_assert_eq!(&route.stops.last().unwrap().station, &destination);
        }
    }
}
