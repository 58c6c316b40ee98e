//! Reading AeroAPI answers: which leg, which clock, which status.

use super::*;

#[tokio::test]
async fn keeps_the_asked_dates_leg_in_local_times_with_runway_fallback() {
    let asked = leg(
        "DLH8160-1",
        fra(),
        ord(),
        &[
            ("scheduled_out", "2026-11-25T13:05:00Z"),
            // A gate schedule is compared with gate estimates only: this runway estimate
            // would look like a 35-minute delay.
            ("estimated_off", "2026-11-25T13:40:00Z"),
            // Both known: the gate time wins over the runway time.
            ("actual_out", "2026-11-25T13:10:00Z"),
            ("actual_off", "2026-11-25T13:25:00Z"),
            ("scheduled_off", "2026-11-25T13:20:00Z"),
            // Only a runway schedule for the arrival: runway estimates go with it.
            ("scheduled_on", "2026-11-25T22:40:00Z"),
            ("estimated_on", "2026-11-25T22:55:00Z"),
            ("estimated_in", "2026-11-25T23:05:00Z"),
        ],
    );
    // 23:30 on the 24th in Frankfurt although the 25th is only 30 minutes away in UTC terms…
    let day_before = leg(
        "DLH8160-0",
        fra(),
        ord(),
        &[("scheduled_out", "2026-11-24T22:30:00Z")],
    );
    // …and the next day's flight, which the window also covers.
    let day_after = leg(
        "DLH8160-2",
        fra(),
        ord(),
        &[("scheduled_out", "2026-11-26T13:05:00Z")],
    );
    let (source, seen) = json_answer(answer_of(vec![day_after, asked, day_before])).await;

    let reports = source.lookup(&query()).await.unwrap();

    assert_eq!(reports.len(), 1, "{reports:?}");
    let report = &reports[0];
    assert_eq!(report.key.number.as_str(), "LH8160");
    assert_eq!(report.key.date, query().date);
    assert_eq!(report.key.origin.as_str(), "FRA");
    assert_eq!(
        report.destination.as_ref().map(AirportCode::as_str),
        Some("ORD")
    );
    assert_eq!(report.cancelled, Some(false));
    let t = &report.times;
    assert_eq!(t.scheduled_departure, at("2026-11-25T14:05:00+01:00"));
    assert_eq!(t.estimated_departure, None);
    assert_eq!(t.actual_departure, at("2026-11-25T14:10:00+01:00"));
    assert_eq!(t.scheduled_arrival, at("2026-11-25T16:40:00-06:00"));
    assert_eq!(t.estimated_arrival, at("2026-11-25T16:55:00-06:00"));
    assert_eq!(t.actual_arrival, None);
    // Equal instants compare equal whatever the offset: the offsets themselves are the point.
    let offset = |t: Option<DateTime<FixedOffset>>| t.unwrap().offset().local_minus_utc();
    assert_eq!(offset(t.scheduled_departure), 3600);
    assert_eq!(offset(t.scheduled_arrival), -6 * 3600);

    let seen = seen.lock().unwrap();
    assert_eq!(seen.len(), 1);
    assert_eq!(seen[0].path, "/aeroapi/flights/LH8160");
    assert_eq!(seen[0].headers["x-apikey"], "test-key");
    let mut params: Vec<_> = url::form_urlencoded::parse(seen[0].query.as_bytes())
        .into_owned()
        .collect();
    params.sort();
    assert_eq!(
        params,
        [
            ("end".to_owned(), "2026-11-27T00:00:00Z".to_owned()),
            ("ident_type".to_owned(), "designator".to_owned()),
            ("start".to_owned(), "2026-11-24T00:00:00Z".to_owned()),
        ]
    );
}

#[tokio::test]
async fn a_late_evening_departure_west_of_utc_counts_for_its_local_date() {
    // 19:30 on the 25th in Chicago is 01:30 on the 26th in UTC.
    let from_chicago = leg(
        "DLH8161-1",
        ord(),
        fra(),
        &[
            ("scheduled_out", "2026-11-26T01:30:00Z"),
            ("scheduled_in", "2026-11-26T15:45:00Z"),
        ],
    );
    let (source, _) = json_answer(answer_of(vec![from_chicago])).await;
    let reports = source.lookup(&query()).await.unwrap();
    assert_eq!(reports.len(), 1);
    assert_eq!(reports[0].key.origin.as_str(), "ORD");
    assert_eq!(
        reports[0].times.scheduled_departure,
        at("2026-11-25T19:30:00-06:00")
    );
    assert_eq!(
        reports[0].times.scheduled_arrival,
        at("2026-11-26T16:45:00+01:00")
    );
}

#[tokio::test]
async fn cancelled_and_diverted_flights_say_so() {
    let mut cancelled = leg(
        "DLH8160-1",
        fra(),
        ord(),
        &[("scheduled_out", "2026-11-25T13:05:00Z")],
    );
    cancelled["cancelled"] = json!(true);
    cancelled["status"] = json!("Cancelled");
    let mut diverted = leg(
        "DLH8160-2",
        airport("EDDP", Some("LEJ"), Some("Europe/Berlin")),
        airport("KMKE", Some("MKE"), Some("America/Chicago")),
        &[
            ("scheduled_out", "2026-11-25T20:00:00Z"),
            ("actual_out", "2026-11-25T20:05:00Z"),
            ("actual_in", "2026-11-26T06:30:00Z"),
        ],
    );
    diverted["diverted"] = json!(true);
    let (source, _) = json_answer(answer_of(vec![cancelled, diverted])).await;

    let mut reports = source.lookup(&query()).await.unwrap();
    reports.sort_by(|a, b| a.key.origin.as_str().cmp(b.key.origin.as_str()));

    assert_eq!(reports.len(), 2);
    assert_eq!(reports[0].key.origin.as_str(), "FRA");
    assert_eq!(reports[0].cancelled, Some(true));
    assert_eq!(reports[1].key.origin.as_str(), "LEJ");
    assert_eq!(reports[1].cancelled, Some(false));
    assert_eq!(
        reports[1].destination.as_ref().map(AirportCode::as_str),
        Some("MKE")
    );
    assert_eq!(
        reports[1].times.actual_arrival,
        at("2026-11-26T00:30:00-06:00")
    );
}

#[tokio::test]
async fn unreadable_legs_and_legs_without_iata_origin_are_skipped() {
    let good = leg(
        "DLH8160-1",
        fra(),
        json!(null),
        &[
            ("scheduled_out", "2026-11-25T13:05:00Z"),
            ("scheduled_in", "2026-11-25T22:50:00Z"),
        ],
    );
    let mut bad_time = good.clone();
    bad_time["scheduled_out"] = json!("tomorrow-ish");
    let no_iata = leg(
        "DLH8160-3",
        airport("EDXX", None, Some("Europe/Berlin")),
        ord(),
        &[("scheduled_out", "2026-11-25T13:05:00Z")],
    );
    let (source, _) = json_answer(answer_of(vec![bad_time, json!(7), no_iata, good])).await;

    let reports = source.lookup(&query()).await.unwrap();

    assert_eq!(reports.len(), 1, "{reports:?}");
    assert_eq!(reports[0].key.origin.as_str(), "FRA");
    // No destination airport, so no zone for the arrival: UTC, the same instant.
    assert_eq!(reports[0].destination, None);
    assert_eq!(
        reports[0].times.scheduled_arrival,
        at("2026-11-25T22:50:00+00:00")
    );
}

#[tokio::test]
async fn an_unknown_timezone_keeps_utc() {
    let odd = leg(
        "DLH8160-1",
        airport("EDDF", Some("FRA"), Some("Mars/Olympus_Mons")),
        ord(),
        &[("scheduled_out", "2026-11-25T13:05:00Z")],
    );
    let (source, _) = json_answer(answer_of(vec![odd])).await;
    let reports = source.lookup(&query()).await.unwrap();
    let departure = reports[0].times.scheduled_departure.unwrap();
    assert_eq!(departure.offset().local_minus_utc(), 0);
    assert_eq!(departure, at("2026-11-25T13:05:00Z").unwrap());
}

#[tokio::test]
async fn nothing_readable_in_a_non_empty_answer_is_malformed_but_empty_is_not() {
    let (source, _) = json_answer(answer_of(vec![json!("x"), json!({"origin": 3})])).await;
    let error = source.lookup(&query()).await.unwrap_err();
    assert!(matches!(error, SourceError::Malformed { .. }), "{error:?}");

    let (source, _) = json_answer(answer_of(Vec::new())).await;
    assert_eq!(source.lookup(&query()).await.unwrap(), Vec::new());
}
