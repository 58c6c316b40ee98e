use super::*;

fn t(s: &str) -> FlightTime {
    DateTime::parse_from_rfc3339(s).unwrap()
}

fn key() -> FlightKey {
    FlightKey {
        number: FlightNumber::parse("LH8160").unwrap(),
        date: "2026-11-25".parse().unwrap(),
        origin: AirportCode::parse("FRA").unwrap(),
    }
}

fn report(times: FlightTimes) -> FlightReport {
    FlightReport {
        key: key(),
        destination: Some(AirportCode::parse("ORD").unwrap()),
        times,
        cancelled: None,
    }
}

fn scheduled() -> FlightState {
    FlightState {
        destination: Some("ORD".into()),
        times: FlightTimes {
            scheduled_departure: Some(t("2026-11-25T14:05:00+01:00")),
            scheduled_arrival: Some(t("2026-11-25T16:50:00-06:00")),
            ..FlightTimes::default()
        },
        cancelled: false,
    }
}

fn snapshot(state: &FlightState) -> FlightSnapshot {
    FlightSnapshot::new(uuid::Uuid::nil(), &key(), state)
}

#[test]
fn status_follows_the_furthest_milestone() {
    let mut state = scheduled();
    assert_eq!(state.status(), FlightStatus::Scheduled);
    state.times.estimated_departure = Some(t("2026-11-25T14:15:00+01:00"));
    assert_eq!(
        state.status(),
        FlightStatus::Scheduled,
        "10 minutes is noise"
    );
    state.times.estimated_departure = Some(t("2026-11-25T16:40:00+01:00"));
    assert_eq!(state.status(), FlightStatus::Delayed);
    state.times.actual_departure = Some(t("2026-11-25T16:45:00+01:00"));
    assert_eq!(state.status(), FlightStatus::Departed);
    state.times.actual_arrival = Some(t("2026-11-25T19:30:00-06:00"));
    assert_eq!(state.status(), FlightStatus::Arrived);
    assert!(state.status().is_final());
    state.cancelled = true;
    assert_eq!(state.status(), FlightStatus::Cancelled);
}

#[test]
fn a_report_replaces_what_it_reports_and_keeps_the_rest() {
    let merged = scheduled().merged(&FlightReport {
        destination: None,
        ..report(FlightTimes {
            estimated_departure: Some(t("2026-11-25T16:40:00+01:00")),
            ..FlightTimes::default()
        })
    });
    assert_eq!(merged.destination.as_deref(), Some("ORD"));
    assert_eq!(
        merged.times.scheduled_departure,
        scheduled().times.scheduled_departure
    );
    assert_eq!(
        merged.times.estimated_departure,
        Some(t("2026-11-25T16:40:00+01:00"))
    );
}

#[test]
fn a_delay_is_one_time_change_and_a_status_change() {
    let old = scheduled();
    let new = old.merged(&report(FlightTimes {
        estimated_departure: Some(t("2026-11-25T16:40:00+01:00")),
        ..FlightTimes::default()
    }));
    let changes = new.changes_since(&old);
    assert_eq!(
        changes,
        vec![
            FlightChange::EstimatedDeparture(Change {
                old: None,
                new: Some(t("2026-11-25T16:40:00+01:00"))
            }),
            FlightChange::Status(Change {
                old: Some(FlightStatus::Scheduled),
                new: Some(FlightStatus::Delayed)
            }),
        ]
    );
    let json = serde_json::to_value(&changes[0]).unwrap();
    assert_eq!(
        json,
        serde_json::json!({"field": "estimatedDeparture", "old": null,
                           "new": "2026-11-25T16:40:00+01:00"})
    );
    assert_eq!(
        describe(&snapshot(&new), &changes).headline,
        "LH8160 FRA→ORD delayed: estimated departure 14:05 → 16:40 (+2h35)"
    );
}

#[test]
fn the_same_instant_in_another_offset_is_no_change() {
    let old = scheduled();
    let new = old.merged(&report(FlightTimes {
        scheduled_departure: Some(t("2026-11-25T13:05:00Z")),
        ..FlightTimes::default()
    }));
    assert!(new.changes_since(&old).is_empty());
}

#[test]
fn departures_arrivals_cancellations_and_diversions_are_said_in_words() {
    let old = scheduled();
    let departed = old.merged(&report(FlightTimes {
        actual_departure: Some(t("2026-11-25T14:20:00+01:00")),
        ..FlightTimes::default()
    }));
    let summary = describe(&snapshot(&departed), &departed.changes_since(&old));
    assert_eq!(summary.headline, "LH8160 FRA→ORD departed at 14:20 (+0h15)");
    assert_eq!(summary.lines[1], "status SCHEDULED → DEPARTED");

    let arrived = departed.merged(&report(FlightTimes {
        actual_arrival: Some(t("2026-11-25T16:40:00-06:00")),
        ..FlightTimes::default()
    }));
    assert_eq!(
        describe(&snapshot(&arrived), &arrived.changes_since(&departed)).headline,
        "LH8160 FRA→ORD arrived at 16:40 (-0h10)"
    );

    let cancelled = old.merged(&FlightReport {
        cancelled: Some(true),
        ..report(FlightTimes::default())
    });
    let changes = cancelled.changes_since(&old);
    assert_eq!(changes.len(), 1);
    assert_eq!(
        describe(&snapshot(&cancelled), &changes).headline,
        "LH8160 FRA→ORD cancelled"
    );

    let diverted = departed.merged(&FlightReport {
        destination: Some(AirportCode::parse("MKE").unwrap()),
        ..report(FlightTimes::default())
    });
    let summary = describe(&snapshot(&diverted), &diverted.changes_since(&departed));
    assert_eq!(summary.headline, "LH8160 FRA→ORD diverted to MKE");
    assert_eq!(summary.lines, vec!["destination ORD → MKE"]);
}

#[test]
fn a_new_day_is_named_when_a_time_moves_past_midnight() {
    let old = scheduled();
    let new = old.merged(&report(FlightTimes {
        estimated_departure: Some(t("2026-11-26T01:10:00+01:00")),
        ..FlightTimes::default()
    }));
    assert_eq!(
        describe(&snapshot(&new), &new.changes_since(&old)).lines[0],
        "estimated departure 25 Nov 14:05 → 26 Nov 01:10 (+11h05)"
    );
}

#[test]
fn event_flights_need_a_number_an_origin_and_a_departure_to_be_identified() {
    let flight = EventFlight {
        number: Some("lh 08160".into()),
        origin: Some("FRA".into()),
        destination: Some("ORD".into()),
        scheduled_departure: Some(t("2026-11-25T00:30:00+01:00")),
        ..EventFlight::default()
    };
    let report = FlightReport::from_event_flight(&flight).unwrap();
    assert_eq!(report.key.to_string(), "LH8160 2026-11-25 FRA");
    assert_eq!(report.cancelled, None);
    let no_origin = EventFlight {
        origin: None,
        ..flight.clone()
    };
    assert!(FlightReport::from_event_flight(&no_origin).is_none());
    let undated = EventFlight {
        scheduled_departure: None,
        ..flight.clone()
    };
    assert!(FlightReport::from_event_flight(&undated).is_none());
    let unreadable = EventFlight {
        number: Some("TBA".into()),
        ..flight
    };
    assert!(FlightReport::from_event_flight(&unreadable).is_none());
}

#[test]
fn milestones_are_the_unreported_departure_and_arrival() {
    let mut state = scheduled();
    assert_eq!(state.pending_milestones().len(), 2);
    state.times.actual_departure = Some(t("2026-11-25T14:20:00+01:00"));
    assert_eq!(
        state.pending_milestones(),
        vec!["2026-11-25T22:50:00Z".parse::<DateTime<Utc>>().unwrap()]
    );
    state.cancelled = true;
    assert!(state.pending_milestones().is_empty());
}
