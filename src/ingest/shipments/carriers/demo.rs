//! The SANDBOX carrier (prefix `000`, like CargoAI's mock airline): deterministic scripted
//! shipments, no network. The AWB serial picks the script — a direct flight, two legs with a
//! transit stop, a split over two flights, an offload and rebooking, planned events that become
//! actual — and one milestone appears every `carriers.demo.step` after Skyhook first saw the
//! AWB, ending in DLV. Same AWB, same start, same answer: on every instance, after restarts.

use super::{Carrier, FetchRequest, Fetched};
use crate::clock::Clock;
use crate::domain::normalize::describe_code;
use crate::domain::{EventFlight, Tracking, TrackingEvent};
use crate::ingest::{Sandbox, SourceError};
use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, TimeDelta, Utc};
use std::sync::Arc;
use std::time::Duration;

pub struct DemoCarrier {
    step: Duration,
    clock: Arc<dyn Clock>,
}

/// One scripted milestone: visible from step `at` (planned from `planned_from` if earlier).
struct Milestone {
    at: u32,
    planned_from: Option<u32>,
    code: &'static str,
    station: &'static str,
    leg: Option<usize>,
    pieces: u32,
    detail: Option<&'static str>,
}

struct Leg {
    number: &'static str,
    from: &'static str,
    to: &'static str,
    departs: u32,
}

struct Script {
    name: &'static str,
    origin: &'static str,
    destination: &'static str,
    pieces: u32,
    weight: f64,
    legs: Vec<Leg>,
    milestones: Vec<Milestone>,
}

const fn m(
    at: u32,
    code: &'static str,
    station: &'static str,
    leg: Option<usize>,
    pieces: u32,
) -> Milestone {
    Milestone {
        at,
        planned_from: None,
        code,
        station,
        leg,
        pieces,
        detail: None,
    }
}

fn script(serial: u32) -> Script {
    let leg = |number, from, to, departs| Leg {
        number,
        from,
        to,
        departs,
    };
    match serial % 5 {
        0 => Script {
            name: "direct flight",
            origin: "FRA",
            destination: "JFK",
            pieces: 5,
            weight: 120.0,
            legs: vec![leg("ZZ100", "FRA", "JFK", 4)],
            milestones: vec![
                m(1, "BKD", "FRA", Some(0), 5),
                m(2, "RCS", "FRA", None, 5),
                m(3, "MAN", "FRA", Some(0), 5),
                m(4, "DEP", "FRA", Some(0), 5),
                m(5, "ARR", "JFK", Some(0), 5),
                m(6, "RCF", "JFK", Some(0), 5),
                m(7, "NFD", "JFK", None, 5),
                m(8, "DLV", "JFK", None, 5),
            ],
        },
        1 => Script {
            name: "two legs with a transit stop",
            origin: "FRA",
            destination: "SIN",
            pieces: 3,
            weight: 410.5,
            legs: vec![leg("ZZ200", "FRA", "DXB", 4), leg("ZZ201", "DXB", "SIN", 7)],
            milestones: vec![
                m(1, "BKD", "FRA", Some(0), 3),
                m(1, "BKD", "DXB", Some(1), 3),
                m(2, "RCS", "FRA", None, 3),
                m(3, "MAN", "FRA", Some(0), 3),
                m(4, "DEP", "FRA", Some(0), 3),
                m(5, "ARR", "DXB", Some(0), 3),
                m(6, "RCF", "DXB", Some(0), 3),
                m(7, "DEP", "DXB", Some(1), 3),
                m(8, "ARR", "SIN", Some(1), 3),
                m(9, "RCF", "SIN", Some(1), 3),
                m(10, "NFD", "SIN", None, 3),
                m(11, "DLV", "SIN", None, 3),
            ],
        },
        2 => Script {
            name: "split over two flights",
            origin: "FRA",
            destination: "ORD",
            pieces: 10,
            weight: 1000.0,
            legs: vec![leg("ZZ300", "FRA", "ORD", 3), leg("ZZ302", "FRA", "ORD", 4)],
            milestones: vec![
                m(1, "BKD", "FRA", Some(0), 6),
                m(1, "BKD", "FRA", Some(1), 4),
                m(2, "RCS", "FRA", None, 10),
                m(3, "DEP", "FRA", Some(0), 6),
                m(4, "DEP", "FRA", Some(1), 4),
                m(5, "ARR", "ORD", Some(0), 6),
                m(6, "ARR", "ORD", Some(1), 4),
                m(7, "DLV", "ORD", None, 6),
                m(8, "DLV", "ORD", None, 4),
            ],
        },
        3 => Script {
            name: "offload and rebooking",
            origin: "FRA",
            destination: "JFK",
            pieces: 2,
            weight: 80.0,
            legs: vec![leg("ZZ400", "FRA", "JFK", 4), leg("ZZ402", "FRA", "JFK", 7)],
            milestones: vec![
                m(1, "BKD", "FRA", Some(0), 2),
                m(2, "RCS", "FRA", None, 2),
                m(3, "MAN", "FRA", Some(0), 2),
                Milestone {
                    detail: Some("Offloaded (OFLD)"),
                    ..m(4, "DIS", "FRA", Some(0), 2)
                },
                m(5, "BKD", "FRA", Some(1), 2),
                m(6, "MAN", "FRA", Some(1), 2),
                m(7, "DEP", "FRA", Some(1), 2),
                m(8, "ARR", "JFK", Some(1), 2),
                m(9, "DLV", "JFK", None, 2),
            ],
        },
        _ => Script {
            name: "planned events that become actual",
            origin: "FRA",
            destination: "JFK",
            pieces: 1,
            weight: 15.0,
            legs: vec![leg("ZZ500", "FRA", "JFK", 4)],
            milestones: vec![
                m(1, "BKD", "FRA", Some(0), 1),
                m(2, "RCS", "FRA", None, 1),
                Milestone {
                    planned_from: Some(1),
                    ..m(4, "DEP", "FRA", Some(0), 1)
                },
                Milestone {
                    planned_from: Some(1),
                    ..m(5, "ARR", "JFK", Some(0), 1)
                },
                m(6, "RCF", "JFK", Some(0), 1),
                m(7, "DLV", "JFK", None, 1),
            ],
        },
    }
}

/// Local offsets of the sandbox's airports, so times show real offsets.
fn offset(station: &str) -> FixedOffset {
    let hours = match station {
        "FRA" => 1,
        "DXB" => 4,
        "SIN" => 8,
        "JFK" => -5,
        "ORD" => -6,
        _ => 0,
    };
    FixedOffset::east_opt(hours * 3600).expect("valid offset")
}

impl DemoCarrier {
    pub fn new(step: Duration, clock: Arc<dyn Clock>) -> Self {
        Self { step, clock }
    }

    /// The shipment as it stands `now` for an AWB first seen at `first_seen`.
    fn tracking_at(&self, request: &FetchRequest, now: DateTime<Utc>) -> Tracking {
        let step = TimeDelta::from_std(self.step).unwrap_or(TimeDelta::seconds(30));
        // Milestone 1 happens when Skyhook first sees the AWB, milestone n (n-1) steps later.
        let at = |n: u32, station: &str| {
            let steps = i32::try_from(n.saturating_sub(1)).unwrap_or(i32::MAX);
            (request.first_seen + step * steps).with_timezone(&offset(station))
        };
        let elapsed = (now - request.first_seen).num_milliseconds().max(0);
        let reached = u32::try_from(elapsed / step.num_milliseconds().max(1))
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        let serial: u32 = request.awb.as_str()[4..11].parse().unwrap_or(0);
        let script = script(serial);
        let flight = |leg: &Leg, now_step: u32| EventFlight {
            number: Some(leg.number.to_owned()),
            origin: Some(leg.from.to_owned()),
            destination: Some(leg.to.to_owned()),
            scheduled_departure: Some(at(leg.departs, leg.from)),
            actual_departure: (now_step >= leg.departs).then(|| at(leg.departs, leg.from)),
            scheduled_arrival: Some(at(leg.departs + 1, leg.to)),
            actual_arrival: (now_step > leg.departs).then(|| at(leg.departs + 1, leg.to)),
            ..EventFlight::default()
        };
        let events = script
            .milestones
            .iter()
            .filter(|m| m.planned_from.unwrap_or(m.at) <= reached)
            .map(|m| {
                let planned = reached < m.at;
                TrackingEvent {
                    code: m.code.to_owned(),
                    description: Some(
                        m.detail
                            .or_else(|| describe_code(m.code))
                            .unwrap_or(m.code)
                            .to_owned(),
                    ),
                    event_date: Some(at(m.at, m.station)),
                    event_location: Some(m.station.to_owned()),
                    is_planned: planned,
                    pieces: Some(m.pieces),
                    weight: Some(script.weight * f64::from(m.pieces) / f64::from(script.pieces)),
                    volume: None,
                    flight: m.leg.map(|i| flight(&script.legs[i], reached)),
                    event_ulds: Vec::new(),
                    additional_information: Some(serde_json::json!({
                        "sandbox": format!("Skyhook demo carrier: {}", script.name)
                    })),
                }
            })
            .collect();
        Tracking {
            awb: request.awb.clone(),
            origin: Some(script.origin.to_owned()),
            destination: Some(script.destination.to_owned()),
            pieces: Some(script.pieces),
            weight: Some(script.weight),
            volume: None,
            status: None,
            events,
            anomalies: Vec::new(),
        }
    }
}

impl Sandbox for DemoCarrier {
    fn step(&self) -> Duration {
        self.step
    }
}

#[async_trait]
impl Carrier for DemoCarrier {
    fn batch_size(&self) -> usize {
        100
    }

    async fn fetch(&self, requests: &[FetchRequest]) -> Vec<Result<Fetched, SourceError>> {
        let now = self.clock.now();
        requests
            .iter()
            .map(|request| {
                let tracking = self.tracking_at(request, now);
                if tracking.events.is_empty() {
                    return Ok(Fetched::NotFound);
                }
                let raw = serde_json::to_value(&tracking).unwrap_or_default();
                Ok(Fetched::Found { tracking, raw })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::domain::AwbNumber;

    fn request(serial7: u32) -> (FetchRequest, DateTime<Utc>) {
        let start = "2026-11-23T10:00:00Z".parse().unwrap();
        let awb = AwbNumber::parse(&format!("000-{serial7:07}{}", serial7 % 7)).unwrap();
        (
            FetchRequest {
                awb,
                first_seen: start,
            },
            start,
        )
    }

    fn at(start: DateTime<Utc>, steps: i64) -> DemoCarrier {
        DemoCarrier::new(
            Duration::from_secs(30),
            Arc::new(ManualClock::new(start + TimeDelta::seconds(30 * steps))),
        )
    }

    #[test]
    fn milestones_appear_one_step_at_a_time_and_end_delivered() {
        let (req, start) = request(0);
        let first = at(start, 0).tracking_at(&req, start).events;
        assert_eq!(first.len(), 1, "the booking shows at once");
        assert_eq!(first[0].event_date.unwrap(), start);
        let carrier = at(start, 2);
        let codes: Vec<_> = carrier
            .tracking_at(&req, carrier.clock.now())
            .events
            .into_iter()
            .map(|e| e.code)
            .collect();
        assert_eq!(codes, ["BKD", "RCS", "MAN"]);
        let done = at(start, 100);
        let last = done
            .tracking_at(&req, done.clock.now())
            .events
            .pop()
            .unwrap();
        assert_eq!(
            (last.code.as_str(), last.event_location.as_deref()),
            ("DLV", Some("JFK"))
        );
    }

    #[test]
    fn the_serial_chooses_the_script_and_answers_are_deterministic() {
        for serial in 0..5 {
            let (req, start) = request(serial);
            let carrier = at(start, 100);
            let a = carrier.tracking_at(&req, carrier.clock.now());
            let b = carrier.tracking_at(&req, carrier.clock.now());
            assert_eq!(a, b);
            assert_eq!(a.events.last().unwrap().code, "DLV", "script {serial}");
        }
        let (split, start) = request(2);
        let carrier = at(start, 100);
        let deliveries: Vec<_> = carrier
            .tracking_at(&split, carrier.clock.now())
            .events
            .into_iter()
            .filter(|e| e.code == "DLV")
            .map(|e| e.pieces)
            .collect();
        assert_eq!(deliveries, [Some(6), Some(4)]);
    }

    #[test]
    fn planned_events_become_actual_at_their_step() {
        let (req, start) = request(4);
        let early = at(start, 2);
        let dep = |c: &DemoCarrier| {
            c.tracking_at(&req, c.clock.now())
                .events
                .into_iter()
                .find(|e| e.code == "DEP")
                .unwrap()
        };
        assert!(dep(&early).is_planned);
        assert!(!dep(&at(start, 4)).is_planned);
        assert_eq!(dep(&early).event_date, dep(&at(start, 4)).event_date);
    }
}
