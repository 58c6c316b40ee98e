//! Tests for the CargoAI normaliser, on the seeds' own examples.

use super::*;
use serde_json::json;

/// Seed 001's example, verbatim (a 2023 date on a 2025 flight, arrivals before departures,
/// lon,lat coordinates and a wrong check digit included).
pub(super) const SEED_001: &str = r#"{
"awb": "000-11223345",
"weight": "1000.0",
"pieces": "34",
"origin": "BCN",
"destination": "MEX",
"events": [
{
"code": "BKD",
"eventLocation": "BCN",
"eventLocationCoord": "2.07845998,41.29710007",
"flight": {
"number": "00733",
"origin": "BCN",
"destination": "MAD",
"originCoord": "2.07845998,41.29710007",
"destinationCoord": "-3.56676000,40.49360000",
"date": "2025-10-25T00:00:00+01:00",
"scheduledDeparture": "2025-10-25T20:00:00+01:00",
"scheduledArrival": "2025-10-25T14:00:00+01:00",
"carbonEmission": "325.60 kg (est)",
"distance": "482.74",
"duration": "32m 10s"
},
"weight": "1000.0",
"pieces": "34",
"isPlanned": false,
"distance": "482.74",
"origin": "BCN",
"destination": "MAD",
"time": "32m 10s",
"flightNumber": "00733",
"scheduledDepartureDate": "2025-10-25T20:00:00+01:00",
"carbonEmission": "325.60 kg (est)",
"originCoord": "2.07845998,41.29710007",
"destinationCoord": "-3.56676000,40.49360000"
},
{
"code": "BKD",
"eventLocation": "MAD",
"eventLocationCoord": "-3.56676000,40.49360000",
"flight": {
"number": "00322",
"origin": "MAD",
"destination": "MEX",
"originCoord": "-3.56676000,40.49360000",
"destinationCoord": "-99.07209778,19.43630028",
"date": "2025-10-25T00:00:00+01:00",
"scheduledDeparture": "2025-10-25T23:15:00+01:00",
"scheduledArrival": "2025-10-25T03:47:00-06:00",
"carbonEmission": "955.03 kg",
"distance": "9065.80",
"duration": "10h 4m 23s"
},
"weight": "600.0",
"pieces": "17",
"isPlanned": false,
"distance": "9065.80",
"origin": "MAD",
"destination": "MEX",
"time": "10h 4m 23s",
"flightNumber": "00322",
"scheduledDepartureDate": "2025-10-25T23:15:00+01:00",
"carbonEmission": "955.03 kg",
"originCoord": "-3.56676000,40.49360000",
"destinationCoord": "-99.07209778,19.43630028"
},
{
"code": "BKD",
"eventLocation": "MAD",
"eventLocationCoord": "-3.56676000,40.49360000",
"flight": {
"number": "00373",
"origin": "MAD",
"destination": "MEX",
"originCoord": "-3.56676000,40.49360000",
"destinationCoord": "-99.07209778,19.43630028",
"date": "2025-10-25T00:00:00+01:00",
"scheduledDeparture": "2025-10-25T15:07:00+01:00",
"scheduledArrival": "2025-10-25T19:38:00-06:00",
"carbonEmission": "619.14 kg",
"distance": "9065.80",
"duration": "10h 4m 23s"
},
"weight": "400.0",
"pieces": "17",
"isPlanned": false,
"distance": "9065.80",
"origin": "MAD",
"destination": "MEX",
"time": "10h 4m 23s",
"flightNumber": "00373",
"scheduledDepartureDate": "2023-11-25T15:07:00+01:00",
"carbonEmission": "619.14 kg",
"originCoord": "-3.56676000,40.49360000",
"destinationCoord": "-99.07209778,19.43630028"
}
],
"status": "PENDING_DELIVERY",
"originCoord": "2.07845998,41.29710007",
"destinationCoord": "-99.07209778,19.43630028",
"carbonEmission": "1899.78 kg (est)",
"distance": "9548.54",
"time": "10h 36m 34s"
}"#;

/// The AWB seed 001 means: its serial with the right check digit (1122334 mod 7 = 3).
pub(super) fn seed_awb() -> AwbNumber {
    AwbNumber::parse("000-11223343").unwrap()
}

fn normalise(body: Value) -> Tracking {
    from_cargoai(&seed_awb(), &body).unwrap()
}

fn has_note(tracking: &Tracking, needle: &str) -> bool {
    tracking.anomalies.iter().any(|n| n.contains(needle))
}

fn time(s: &str) -> DateTime<FixedOffset> {
    DateTime::parse_from_rfc3339(s).unwrap()
}

#[test]
fn seed_001_example_is_read_in_full() {
    let body: Value = serde_json::from_str(SEED_001).unwrap();
    let t = normalise(body);
    assert_eq!(t.awb, seed_awb());
    assert_eq!(t.origin.as_deref(), Some("BCN"));
    assert_eq!(t.destination.as_deref(), Some("MEX"));
    assert_eq!(
        (t.pieces, t.weight, t.volume),
        (Some(34), Some(1000.0), None)
    );
    assert_eq!(t.status, Some(SummaryStatus::PendingDelivery));

    // Order as given; the split shipment's parts keep their own figures.
    let numbers: Vec<_> = t
        .events
        .iter()
        .map(|e| e.flight.as_ref().unwrap().number.as_deref())
        .collect();
    assert_eq!(numbers, [Some("00733"), Some("00322"), Some("00373")]);
    let parts: Vec<_> = t.events.iter().map(|e| (e.pieces, e.weight)).collect();
    assert_eq!(
        parts,
        [
            (Some(34), Some(1000.0)),
            (Some(17), Some(600.0)),
            (Some(17), Some(400.0))
        ]
    );
    for event in &t.events {
        assert_eq!(event.code, "BKD");
        assert_eq!(
            event.description.as_deref(),
            Some("Booked"),
            "filled from the code"
        );
        assert_eq!(event.event_date, None);
        assert!(!event.is_planned);
    }
    let first = t.events[0].flight.as_ref().unwrap();
    assert_eq!(route(first), (Some("BCN"), Some("MAD")));
    assert_eq!(
        first.scheduled_departure,
        Some(time("2025-10-25T20:00:00+01:00"))
    );
    assert_eq!(
        first.scheduled_arrival,
        Some(time("2025-10-25T14:00:00+01:00"))
    );
}

#[test]
fn seed_001_oddities_are_noted_not_fatal() {
    let t = normalise(serde_json::from_str(SEED_001).unwrap());
    assert!(
        has_note(
            &t,
            "awb `000-11223345` differs from the requested 000-11223343 only in its check digit"
        ),
        "{:#?}",
        t.anomalies
    );
    // 00733 lands (14:00+01) before it leaves (20:00+01); 00322 lands 09:47Z before 22:15Z.
    assert!(has_note(
        &t,
        "events[0].flight: scheduled arrival 2025-10-25T14:00:00+01:00 is before"
    ));
    assert!(has_note(
        &t,
        "events[1].flight: scheduled arrival 2025-10-25T03:47:00-06:00 is before"
    ));
    assert!(
        !has_note(&t, "events[2].flight: scheduled arrival"),
        "00373 is consistent"
    );
    // The 2023 copy of the 2025 flight date: flagged, the flight's own date kept.
    assert!(has_note(
        &t,
        "events[2].scheduledDepartureDate 2023-11-25T15:07:00+01:00 disagrees"
    ));
    let third = t.events[2].flight.as_ref().unwrap();
    assert_eq!(
        third.scheduled_departure,
        Some(time("2025-10-25T15:07:00+01:00"))
    );
    assert!(has_note(&t, "is written longitude,latitude"));
    assert_eq!(
        t.anomalies
            .iter()
            .filter(|n| n.contains("longitude,latitude"))
            .count(),
        1
    );
}

#[test]
fn a_different_awb_is_an_error() {
    let body = json!({"awb": "020-08002050", "events": []});
    let err = from_cargoai(&seed_awb(), &body).unwrap_err();
    assert!(
        matches!(err, NormalizeError::AwbMismatch { ref found, .. } if found == "020-08002050")
    );
}

#[test]
fn a_body_that_is_not_an_object_is_an_error() {
    let err = from_cargoai(&seed_awb(), &json!([1, 2])).unwrap_err();
    assert_eq!(
        err,
        NormalizeError::NotAnObject {
            what: "CargoAI tracking body"
        }
    );
}

#[test]
fn the_same_event_in_z_and_plus_one_keeps_both_offsets() {
    // Seed 003's first two `oldEvents`, trimmed to what matters.
    let body = json!({
        "awb": "000-11223343",
        "events": [
            {"code": "BKD", "eventDate": "2025-01-16T08:50:39Z", "eventLocation": "CDG", "isPlanned": false},
            {"code": "BKD", "eventDate": "2025-01-16T08:50:39+01:00", "eventLocation": "CDG",
             "weight": "100.0", "volume": "1.0", "pieces": "1", "isPlanned": "false"}
        ]
    });
    let t = normalise(body);
    assert!(t.anomalies.is_empty(), "{:?}", t.anomalies);
    let dates: Vec<_> = t.events.iter().map(|e| e.event_date.unwrap()).collect();
    assert_eq!(dates[0].to_rfc3339(), "2025-01-16T08:50:39+00:00");
    assert_eq!(dates[1].to_rfc3339(), "2025-01-16T08:50:39+01:00");
    assert_eq!(
        (t.events[1].volume, t.events[1].pieces),
        (Some(1.0), Some(1))
    );
}

#[test]
fn unknown_codes_are_kept_verbatim_and_known_descriptions_are_not_overwritten() {
    let body = json!({"events": [
        {"code": " xyz9 "},
        {"code": "dep", "description": "Departed from CDG"},
        {"description": "no code at all"}
    ]});
    let t = normalise(body);
    assert_eq!(
        (
            t.events[0].code.as_str(),
            t.events[0].description.as_deref()
        ),
        ("XYZ9", None)
    );
    assert_eq!(t.events[1].code, "DEP");
    assert_eq!(
        t.events[1].description.as_deref(),
        Some("Departed from CDG")
    );
    assert_eq!(t.events[2].code, "");
    assert!(has_note(&t, "events[2].code missing"));
    assert!(has_note(&t, "awb missing"));
}

#[test]
fn event_level_flight_fields_stand_in_for_a_missing_flight() {
    let body = json!({"awb": "000-11223343", "events": [{
        "code": "BKD", "flightNumber": "lh8160", "origin": "FRA", "destination": "ORD",
        "scheduledDepartureDate": "2025-03-01T10:00:00+01:00"
    }]});
    let flight = normalise(body).events.remove(0).flight.unwrap();
    assert_eq!(flight.number.as_deref(), Some("LH8160"));
    assert_eq!(route(&flight), (Some("FRA"), Some("ORD")));
    assert_eq!(
        flight.scheduled_departure,
        Some(time("2025-03-01T10:00:00+01:00"))
    );
    assert_eq!(flight.actual_departure, None);
}

#[test]
fn an_event_dated_far_from_its_flight_is_kept_and_noted() {
    let body = json!({"awb": "000-11223343", "events": [{
        "code": "DEP", "eventDate": "2023-10-25T20:05:00+01:00",
        "flight": {"number": "00733", "scheduledDeparture": "2025-10-25T20:00:00+01:00",
                   "actualDeparture": "2025-10-25T20:05:00+01:00", "actualArrival": "2025-10-25T20:00:00Z"}
    }]});
    let t = normalise(body);
    assert_eq!(
        t.events[0].event_date,
        Some(time("2023-10-25T20:05:00+01:00"))
    );
    assert!(has_note(
        &t,
        "events[0].eventDate 2023-10-25T20:05:00+01:00 is more than 180 days"
    ));
    // 20:00Z is after 19:05Z: comparing instants, not wall clocks, finds nothing wrong.
    assert!(!has_note(&t, "actual arrival"), "{:?}", t.anomalies);
}

#[test]
fn unknown_status_is_left_out_and_booking_status_is_read() {
    let t = normalise(json!({"awb": "000-11223343", "status": "LOST_IN_SPACE"}));
    assert_eq!(t.status, None);
    assert!(has_note(
        &t,
        "status `LOST_IN_SPACE`: not a known summary status"
    ));
    let t = normalise(json!({"awb": "000-11223343", "bookingStatus": "delivered"}));
    assert_eq!(t.status, Some(SummaryStatus::Delivered));
}

#[test]
fn ulds_and_additional_information_are_carried() {
    let info = json!({"receivedFromName": "ACME Forwarding"});
    let body = json!({"awb": "000-11223343", "events": [{
        "code": "RCS", "eventUlds": [{"pieces": "2", "uld": "ake"}, {}, "junk"],
        "additionalInformation": info
    }, {"code": "FOH", "additionalInformation": {}}]});
    let t = normalise(body);
    let uld = Uld {
        pieces: Some(2),
        uld: Some("AKE".into()),
    };
    assert_eq!(t.events[0].event_ulds, vec![uld]);
    assert_eq!(t.events[0].additional_information, Some(info));
    assert_eq!(t.events[1].additional_information, None);
    assert!(has_note(&t, "events[0].eventUlds[2] `junk`: not an object"));
}

/// A flight's origin and destination.
fn route(flight: &EventFlight) -> (Option<&str>, Option<&str>) {
    (flight.origin.as_deref(), flight.destination.as_deref())
}
