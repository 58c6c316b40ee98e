//! The SANDBOX flight-status source: scripted flights `ZZ9000`–`ZZ9999` (designator `ZZ`, like
//! the demo carrier), no network. The number modulo 4 picks the script — 0 on time, 1 delayed
//! twice, 2 delayed then cancelled, 3 diverted — and the flight moves one step every `flights.demo.step`
//! from the moment Skyhook first asked for it. Times lie on the requested date whatever the
//! clock says, so any date can be tried. Other `ZZ` numbers are unknown to it.

use super::{FlightQuery, FlightSource};
use crate::clock::Clock;
use crate::domain::{AirportCode, FlightKey, FlightReport, FlightTimes};
use crate::ingest::{Sandbox, SourceError};
use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeDelta, TimeZone};
use std::sync::Arc;
use std::time::Duration;

pub struct DemoFlights {
    step: Duration,
    clock: Arc<dyn Clock>,
}

/// The scripts: what is known at each step. Minutes are offsets from the scheduled times.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Script {
    OnTime,
    Delayed,
    Cancelled,
    Diverted,
}

impl DemoFlights {
    pub fn new(step: Duration, clock: Arc<dyn Clock>) -> Self {
        Self { step, clock }
    }

    fn report(&self, query: &FlightQuery, script: Script, step: u32) -> FlightReport {
        let frankfurt = FixedOffset::east_opt(3600).expect("valid offset");
        let chicago = FixedOffset::west_opt(6 * 3600).expect("valid offset");
        let at = |zone: FixedOffset, date: NaiveDate, h, m| -> DateTime<FixedOffset> {
            zone.from_local_datetime(&date.and_time(NaiveTime::from_hms_opt(h, m, 0).unwrap()))
                .single()
                .expect("fixed offsets are unambiguous")
        };
        let departs = at(frankfurt, query.date, 14, 5);
        let arrives = at(chicago, query.date, 16, 50);
        let later = |t: DateTime<FixedOffset>, minutes| t + TimeDelta::minutes(minutes);
        let mut times = FlightTimes {
            scheduled_departure: Some(departs),
            scheduled_arrival: Some(arrives),
            ..FlightTimes::default()
        };
        let mut cancelled = false;
        let mut destination = "ORD";
        // (departure delay in minutes by step, step it departs, step it arrives)
        let (delays, departs_at, arrives_at): (&[(u32, i64)], u32, u32) = match script {
            Script::OnTime => (&[], 3, 5),
            Script::Delayed => (&[(2, 155), (3, 180)], 4, 6),
            Script::Cancelled => (&[(2, 60)], u32::MAX, u32::MAX),
            Script::Diverted => (&[], 3, 5),
        };
        let delay = delays
            .iter()
            .rev()
            .find(|(at, _)| step >= *at)
            .map_or(0, |(_, minutes)| *minutes);
        if delay > 0 {
            times.estimated_departure = Some(later(departs, delay));
            times.estimated_arrival = Some(later(arrives, delay));
        }
        if step >= departs_at {
            times.actual_departure = Some(later(departs, delay + 5));
        }
        if script == Script::Cancelled && step >= 3 {
            cancelled = true;
        }
        if script == Script::Diverted && step >= 4 {
            destination = "MKE";
        }
        if step >= arrives_at {
            times.actual_arrival = Some(later(arrives, delay - 10));
        }
        FlightReport {
            key: FlightKey {
                number: query.number.clone(),
                date: query.date,
                origin: AirportCode::parse("FRA").expect("valid code"),
            },
            destination: Some(AirportCode::parse(destination).expect("valid code")),
            times,
            cancelled: Some(cancelled),
        }
    }
}

fn script_for(number: &str) -> Option<Script> {
    let digits = number.strip_prefix("ZZ")?;
    let n: u32 = digits.parse().ok()?;
    (9000..=9999).contains(&n).then_some(match n % 4 {
        0 => Script::OnTime,
        1 => Script::Delayed,
        2 => Script::Cancelled,
        _ => Script::Diverted,
    })
}

impl Sandbox for DemoFlights {
    fn step(&self) -> Duration {
        self.step
    }
}

#[async_trait]
impl FlightSource for DemoFlights {
    async fn lookup(&self, query: &FlightQuery) -> Result<Vec<FlightReport>, SourceError> {
        let Some(script) = script_for(query.number.as_str()) else {
            return Ok(Vec::new());
        };
        let elapsed = (self.clock.now() - query.first_checked)
            .to_std()
            .unwrap_or_default();
        let step = u32::try_from(elapsed.as_millis() / self.step.as_millis().max(1))
            .unwrap_or(u32::MAX)
            .saturating_add(1);
        Ok(vec![self.report(query, script, step)])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::ManualClock;
    use crate::domain::{FlightNumber, FlightState, FlightStatus};
    use chrono::Utc;

    async fn status_at(number: &str, step: i64) -> (FlightStatus, Option<String>) {
        let start: DateTime<Utc> = "2026-11-25T08:00:00Z".parse().unwrap();
        let clock = Arc::new(ManualClock::new(
            start + TimeDelta::seconds(30 * (step - 1)),
        ));
        let source = DemoFlights::new(Duration::from_secs(30), clock);
        let query = FlightQuery {
            number: FlightNumber::parse(number).unwrap(),
            date: "2026-11-25".parse().unwrap(),
            first_checked: start,
        };
        let mut reports = source.lookup(&query).await.unwrap();
        assert_eq!(reports.len(), 1);
        let state = FlightState::default().merged(&reports.remove(0));
        (state.status(), state.destination)
    }

    #[tokio::test]
    async fn scripts_move_one_step_at_a_time() {
        let statuses = |number: &'static str| async move {
            let mut out = Vec::new();
            for step in 1..=6 {
                out.push(status_at(number, step).await.0);
            }
            out
        };
        use FlightStatus::*;
        assert_eq!(
            statuses("ZZ9000").await,
            [Scheduled, Scheduled, Departed, Departed, Arrived, Arrived]
        );
        assert_eq!(
            statuses("ZZ9001").await,
            [Scheduled, Delayed, Delayed, Departed, Departed, Arrived]
        );
        assert_eq!(
            statuses("ZZ9002").await,
            [
                Scheduled, Delayed, Cancelled, Cancelled, Cancelled, Cancelled
            ]
        );
        assert_eq!(status_at("ZZ9003", 5).await, (Arrived, Some("MKE".into())));
    }

    #[tokio::test]
    async fn other_numbers_are_unknown() {
        let clock = Arc::new(ManualClock::new(Utc::now()));
        let source = DemoFlights::new(Duration::from_secs(30), clock);
        for number in ["ZZ100", "LH8160"] {
            let query = FlightQuery {
                number: FlightNumber::parse(number).unwrap(),
                date: "2026-11-25".parse().unwrap(),
                first_checked: Utc::now(),
            };
            assert!(source.lookup(&query).await.unwrap().is_empty(), "{number}");
        }
    }
}
