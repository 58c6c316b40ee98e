//! FlightAware AeroAPI v4: `GET {base_url}/flights/{ident}?ident_type=designator&start=…&end=…`
//! with header `x-apikey`; the answer is `{"flights": [...], "links": …, "num_pages": …}`, one
//! entry per leg, times in UTC (AeroAPI's OpenAPI spec, `get_flight` and `Flight200Response`,
//! <https://static.flightaware.com/rsrc/aeroapi/aeroapi-openapi.yml>).
//!
//! This module owns the request, what AeroAPI's HTTP statuses mean, and turning each leg into
//! a [`FlightReport`]: gate times first, runway times when the gate time is missing, each time
//! shown in the local offset of its airport, and only the legs whose scheduled departure falls
//! on the asked date at the origin.

use super::{FlightQuery, FlightSource};
use crate::clock::Clock;
use crate::config::FlightSourceSettings;
use crate::dispatch::webhook::truncate;
use crate::domain::{AirportCode, FlightKey, FlightReport, FlightTimes};
use crate::ingest::http::describe;
use crate::ingest::{Source, SourceError, SourceHttp, SourceId, retry_after};
use async_trait::async_trait;
use chrono::{DateTime, FixedOffset, NaiveDate, TimeDelta, Utc};
use chrono_tz::Tz;
use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use std::sync::Arc;

const SOURCE: SourceId = SourceId::flights("flightaware");
/// Enough of an error's `detail` to say what was wrong without storing a page of text.
const MAX_REASON: usize = 200;
/// How far from now AeroAPI lets `start` and `end` reach (its `get_flight` parameters).
const LOOK_BACK: TimeDelta = TimeDelta::days(10);
const LOOK_AHEAD: TimeDelta = TimeDelta::days(2);

pub struct AeroApi {
    http: SourceHttp,
    base_url: url::Url,
    api_key: String,
    clock: Arc<dyn Clock>,
}

impl AeroApi {
    pub fn new(http: SourceHttp, settings: &FlightSourceSettings, clock: Arc<dyn Clock>) -> Self {
        Self {
            http,
            base_url: settings.base_url.clone(),
            api_key: settings.api_key.expose().to_owned(),
            clock,
        }
    }

    /// `{base_url}/flights/{ident}`, the ident pushed as one path segment so nothing in it can
    /// reach another resource.
    fn flight_url(&self, ident: &str) -> Result<url::Url, SourceError> {
        let mut url = self.base_url.clone();
        url.path_segments_mut()
            .map_err(|()| {
                SOURCE.malformed(format!("base_url {} cannot take a path", self.base_url))
            })?
            .pop_if_empty()
            .push("flights")
            .push(ident);
        Ok(url)
    }

    #[tracing::instrument(name = "aeroapi.lookup", skip_all, fields(flight = %query.number, date = %query.date))]
    async fn fetch(&self, query: &FlightQuery) -> Result<Vec<FlightReport>, SourceError> {
        let Some((start, end)) = window(query.date, self.clock.now()) else {
            // Outside what AeroAPI will answer for (yet): nothing is known, ask again later.
            return Ok(Vec::new());
        };
        let response = self
            .http
            .client()
            .get(self.flight_url(query.number.as_str())?)
            .header("x-apikey", &self.api_key)
            // By default AeroAPI reads an ident as a registration when it can; ours are always
            // flight numbers.
            .query(&[
                ("ident_type", "designator"),
                ("start", start.as_str()),
                ("end", end.as_str()),
            ])
            .send()
            .await
            .map_err(|e| SOURCE.unavailable(describe(&e), None))?;
        let status = response.status();
        match status {
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(SOURCE.unauthorized(status.as_u16()));
            }
            // The spec documents only 200 and 400 for this resource; a 404 can only mean
            // nothing is known under this ident, which is what an empty list says too.
            StatusCode::NOT_FOUND => return Ok(Vec::new()),
            s if s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error() => {
                return Err(
                    SOURCE.unavailable(format!("HTTP {s}"), retry_after(response.headers()))
                );
            }
            _ => {}
        }
        let body = self.http.read(SOURCE, response).await?;
        if !status.is_success() {
            return Err(SOURCE.malformed(rejection(status, &body)));
        }
        read_answer(query, &body)
    }
}

/// `start` (inclusive) and `end` (exclusive), which AeroAPI compares with `scheduled_out` in
/// UTC. The asked date is local at an origin anywhere from UTC-12 to UTC+14, so its legs
/// leave between the day before and the day after in UTC: the window spans all three days,
/// cut to what AeroAPI accepts (at most 10 days back and 2 days ahead of now). `None` when
/// nothing of the window is left.
fn window(date: NaiveDate, now: DateTime<Utc>) -> Option<(String, String)> {
    let midnight = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc();
    // A minute inside the limits, so a request built now is still inside them when it lands.
    let start = midnight(date - TimeDelta::days(1)).max(now - LOOK_BACK + TimeDelta::minutes(1));
    let end = midnight(date + TimeDelta::days(2)).min(now + LOOK_AHEAD - TimeDelta::minutes(1));
    let format = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    (start < end).then(|| (format(start), format(end)))
}

/// What a 4xx other than 401/403/404/429 says: the `detail` (or `title`) of AeroAPI's error
/// object, which names the bad parameter, cut short.
fn rejection(status: StatusCode, body: &[u8]) -> String {
    #[derive(Deserialize)]
    struct Error {
        title: Option<String>,
        detail: Option<String>,
    }
    let said = serde_json::from_slice::<Error>(body)
        .ok()
        .and_then(|e| e.detail.filter(|d| !d.trim().is_empty()).or(e.title))
        .unwrap_or_else(|| String::from_utf8_lossy(body).into_owned());
    let said = truncate(said.trim(), MAX_REASON);
    if said.is_empty() {
        format!("HTTP {status}")
    } else {
        format!("HTTP {status}: {said}")
    }
}

#[derive(Deserialize)]
struct Answer {
    flights: Vec<Value>,
    #[serde(default)]
    links: Option<Value>,
}

/// One entry of `flights`, only the fields Skyhook uses; all times are UTC (`Z`).
#[derive(Debug, Deserialize)]
struct Leg {
    #[serde(default)]
    fa_flight_id: Option<String>,
    origin: Option<Airport>,
    /// For a diverted flight, the airport it was diverted to.
    destination: Option<Airport>,
    scheduled_out: Option<DateTime<Utc>>,
    estimated_out: Option<DateTime<Utc>>,
    actual_out: Option<DateTime<Utc>>,
    scheduled_off: Option<DateTime<Utc>>,
    estimated_off: Option<DateTime<Utc>>,
    actual_off: Option<DateTime<Utc>>,
    scheduled_on: Option<DateTime<Utc>>,
    estimated_on: Option<DateTime<Utc>>,
    actual_on: Option<DateTime<Utc>>,
    scheduled_in: Option<DateTime<Utc>>,
    estimated_in: Option<DateTime<Utc>>,
    actual_in: Option<DateTime<Utc>>,
    cancelled: Option<bool>,
}

#[derive(Debug, Deserialize)]
struct Airport {
    code_iata: Option<String>,
    /// IANA name (`Europe/Berlin`).
    timezone: Option<String>,
}

impl Airport {
    /// The airport's zone; UTC stays UTC when AeroAPI names none (or one chrono-tz does not
    /// know), which is still the right instant, only shown in a less friendly offset.
    fn zone(airport: Option<&Self>) -> Option<Tz> {
        let name = airport?.timezone.as_deref()?;
        let zone = name.parse().ok();
        if zone.is_none() {
            tracing::debug!(timezone = name, "unknown timezone; times kept in UTC");
        }
        zone
    }

    fn iata(airport: Option<&Self>) -> Option<AirportCode> {
        AirportCode::parse(airport?.code_iata.as_deref()?).ok()
    }
}

fn read_answer(query: &FlightQuery, body: &[u8]) -> Result<Vec<FlightReport>, SourceError> {
    let answer: Answer = serde_json::from_slice(body)
        .map_err(|e| SOURCE.malformed(format!("not an AeroAPI flights answer: {e}")))?;
    if answer.links.as_ref().is_some_and(|l| !l.is_null()) {
        // A window of three days rarely fills AeroAPI's first page; further pages cost a query
        // each, so they are not fetched, but it should show when it happens.
        tracing::debug!("AeroAPI has further pages; only the first was read");
    }
    let mut reports = Vec::new();
    let mut readable = 0;
    for entry in &answer.flights {
        match serde_json::from_value::<Leg>(entry.clone()) {
            Ok(leg) => {
                readable += 1;
                reports.extend(report(query, &leg));
            }
            // One odd leg should not hide the others, which may be the one asked about.
            Err(e) => tracing::debug!(error = %e, "unreadable AeroAPI leg skipped"),
        }
    }
    if readable == 0 && !answer.flights.is_empty() {
        return Err(SOURCE.malformed(format!(
            "none of the {} legs could be read",
            answer.flights.len()
        )));
    }
    Ok(reports)
}

/// The leg as a report, if it departs on the asked date (local at its origin) from an airport
/// with an IATA code, which is the only kind a subscription can name.
fn report(query: &FlightQuery, leg: &Leg) -> Option<FlightReport> {
    let id = leg.fa_flight_id.as_deref().unwrap_or("?");
    let Some(origin) = Airport::iata(leg.origin.as_ref()) else {
        tracing::debug!(
            fa_flight_id = id,
            "leg from an airport without IATA code skipped"
        );
        return None;
    };
    let at_origin = Airport::zone(leg.origin.as_ref());
    let at_destination = Airport::zone(leg.destination.as_ref());
    // Gate times are what the schedule and the cargo handover go by; runway times stand in
    // when an airport reports only those.
    let departure = |gate: Option<DateTime<Utc>>, runway| local(gate.or(runway), at_origin);
    let arrival = |gate: Option<DateTime<Utc>>, runway| local(gate.or(runway), at_destination);
    // An estimate is compared with the schedule (a 15-minute gap makes a delay), so both come
    // from one clock: a runway estimate runs 10-20 minutes behind a gate schedule on a punctual
    // flight. Actual times are facts either way, so they fall back field by field.
    let (gate_out, gate_in) = (leg.scheduled_out.is_some(), leg.scheduled_in.is_some());
    let same_clock =
        |gate_scheduled: bool, gate, runway| if gate_scheduled { gate } else { runway };
    let times = FlightTimes {
        scheduled_departure: departure(leg.scheduled_out, leg.scheduled_off),
        estimated_departure: local(
            same_clock(gate_out, leg.estimated_out, leg.estimated_off),
            at_origin,
        ),
        actual_departure: departure(leg.actual_out, leg.actual_off),
        scheduled_arrival: arrival(leg.scheduled_in, leg.scheduled_on),
        estimated_arrival: local(
            same_clock(gate_in, leg.estimated_in, leg.estimated_on),
            at_destination,
        ),
        actual_arrival: arrival(leg.actual_in, leg.actual_on),
    };
    let Some(date) = times.scheduled_departure.map(|t| t.date_naive()) else {
        tracing::debug!(fa_flight_id = id, "leg without scheduled departure skipped");
        return None;
    };
    if date != query.date {
        return None;
    }
    Some(FlightReport {
        key: FlightKey {
            number: query.number.clone(),
            date,
            origin,
        },
        destination: Airport::iata(leg.destination.as_ref()),
        times,
        // AeroAPI sets `cancelled` when it stops tracking a flight, "including cancellation by
        // the airline, but that will not always be the case"; it has no better signal.
        cancelled: leg.cancelled,
    })
}

fn local(time: Option<DateTime<Utc>>, zone: Option<Tz>) -> Option<DateTime<FixedOffset>> {
    let time = time?;
    Some(match zone {
        Some(zone) => time.with_timezone(&zone).fixed_offset(),
        None => time.fixed_offset(),
    })
}

impl Source for AeroApi {
    fn name(&self) -> &'static str {
        SOURCE.name
    }
}

#[async_trait]
impl FlightSource for AeroApi {
    async fn lookup(&self, query: &FlightQuery) -> Result<Vec<FlightReport>, SourceError> {
        self.fetch(query).await
    }
}

#[cfg(test)]
mod tests;
