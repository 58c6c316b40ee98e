//! Flight-status sources: one [`FlightSource`] per provider, chosen per airline designator by
//! the [`FlightSources`] registry, each behind its own rate limit and concurrency bound, like
//! the carriers beside them. Adapters turn answers into the domain's [`FlightReport`]s; they
//! never touch storage.

mod aeroapi;
mod demo;

use crate::clock::Clock;
use crate::config::{FlightSourceSettings, FlightsSettings};
use crate::domain::{FlightNumber, FlightReport};
use crate::ingest::{
    Entry, Kind, Registry, RegistryError, Source, SourceError, SourceHttp, SourceSettings, Throttle,
};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use std::sync::Arc;
use std::time::Duration;

/// One flight to look up: a number on a date (local at the origin), whatever its origin.
#[derive(Debug, Clone)]
pub struct FlightQuery {
    pub number: FlightNumber,
    pub date: NaiveDate,
    /// When Skyhook first looked for it (the demo source scripts from here).
    pub first_checked: DateTime<Utc>,
}

#[async_trait]
pub trait FlightSource: Source {
    /// Every leg flying under `query.number` whose scheduled departure falls on `query.date`
    /// (local at its origin); empty when the source does not know the flight (yet).
    async fn lookup(&self, query: &FlightQuery) -> Result<Vec<FlightReport>, SourceError>;
}

/// A source with the limits it must be called under.
pub type FlightSourceEntry = Entry<dyn FlightSource>;

/// Which enabled source serves which airline designator.
pub type FlightSources = Registry<dyn FlightSource>;

impl SourceSettings for FlightSourceSettings {
    fn throttle(&self) -> Throttle {
        Throttle::new(self.rate_limit, self.concurrency as usize)
    }

    fn keys(&self) -> &[String] {
        &self.designators
    }
}

static FLIGHT_SOURCES: Kind = Kind {
    section: "flights",
    key: "airline designator",
    auth_failures_metric: "skyhook_flight_source_auth_failures_total",
    metric_label: "source",
};

impl FlightSources {
    pub fn from_settings(
        settings: &FlightsSettings,
        http: SourceHttp,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, RegistryError> {
        let mut sources = Vec::<(Arc<dyn FlightSource>, &FlightSourceSettings)>::new();
        if settings.demo.enabled {
            let step = settings.demo.step.map_or(Duration::from_secs(30), |s| s.0);
            sources.push((
                Arc::new(demo::DemoFlights::new(step, clock.clone())),
                &settings.demo,
            ));
        }
        if settings.flightaware.enabled {
            sources.push((
                Arc::new(aeroapi::AeroApi::new(http, &settings.flightaware, clock)),
                &settings.flightaware,
            ));
        }
        Self::of_enabled(&FLIGHT_SOURCES, sources)
    }

    /// The source serving a flight number, if any enabled source does.
    pub fn for_number(&self, number: &FlightNumber) -> Option<&Arc<FlightSourceEntry>> {
        self.serving(number.designator())
    }
}
