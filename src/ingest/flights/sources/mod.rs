//! Flight-status sources: one [`FlightSource`] per provider, chosen per airline designator by
//! the [`FlightSources`] registry, each behind its own rate limit and concurrency bound, like
//! the carriers beside them. Adapters turn answers into the domain's [`FlightReport`]s; they
//! never touch storage.

mod aeroapi;
mod demo;

use crate::clock::Clock;
use crate::config::{FlightSourceSettings, FlightsSettings};
use crate::domain::{FlightNumber, FlightReport};
use crate::ingest::shipments::carriers::AuthProblems;
use crate::ingest::{Source, SourceError, Throttle};
use async_trait::async_trait;
use chrono::{DateTime, NaiveDate, Utc};
use std::collections::HashMap;
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
pub struct FlightSourceEntry {
    pub source: Arc<dyn FlightSource>,
    pub throttle: Throttle,
}

#[derive(Debug, thiserror::Error)]
pub enum FlightRegistryError {
    #[error("flights.{first} and flights.{second} both claim airline designator `{designator}`")]
    DesignatorClaimedTwice {
        designator: String,
        first: &'static str,
        second: &'static str,
    },
}

/// Which enabled source serves which airline designator.
#[derive(Default)]
pub struct FlightSources {
    by_designator: HashMap<String, Arc<FlightSourceEntry>>,
    fallback: Option<Arc<FlightSourceEntry>>,
    /// Sources refusing our credentials, for `/readyz`.
    pub auth_problems: AuthProblems,
}

impl FlightSources {
    pub fn from_settings(
        settings: &FlightsSettings,
        http: reqwest::Client,
        clock: Arc<dyn Clock>,
    ) -> Result<Self, FlightRegistryError> {
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
        let mut registry = Self::default();
        for (source, config) in sources {
            let entry = Arc::new(FlightSourceEntry {
                throttle: Throttle::new(config.rate_limit, config.concurrency as usize),
                source,
            });
            registry.add(entry, &config.designators)?;
        }
        Ok(registry)
    }

    /// Registers a source for designators (`*` = every designator no other source claims).
    pub fn add(
        &mut self,
        entry: Arc<FlightSourceEntry>,
        designators: &[String],
    ) -> Result<(), FlightRegistryError> {
        for designator in designators {
            let designator = designator.trim().to_ascii_uppercase();
            let existing = if designator == "*" {
                self.fallback.replace(entry.clone())
            } else {
                self.by_designator.insert(designator.clone(), entry.clone())
            };
            if let Some(other) = existing {
                return Err(FlightRegistryError::DesignatorClaimedTwice {
                    designator,
                    first: other.source.name(),
                    second: entry.source.name(),
                });
            }
        }
        Ok(())
    }

    /// The source serving a flight number, if any enabled source does.
    pub fn for_number(&self, number: &FlightNumber) -> Option<&Arc<FlightSourceEntry>> {
        self.by_designator
            .get(number.designator())
            .or(self.fallback.as_ref())
    }
}
