//! FlightAware AeroAPI adapter (being written).

use super::{FlightQuery, FlightSource, SourceError};
use crate::config::FlightSourceSettings;
use crate::domain::FlightReport;
use async_trait::async_trait;

pub struct AeroApi {
    http: reqwest::Client,
    base_url: url::Url,
    api_key: String,
}

impl AeroApi {
    pub fn new(http: reqwest::Client, settings: &FlightSourceSettings) -> Self {
        Self {
            http,
            base_url: settings.base_url.clone(),
            api_key: settings.api_key.expose().to_owned(),
        }
    }
}

#[async_trait]
impl FlightSource for AeroApi {
    fn name(&self) -> &'static str {
        "flightaware"
    }

    async fn lookup(&self, _query: &FlightQuery) -> Result<Vec<FlightReport>, SourceError> {
        let _ = (&self.http, &self.base_url, &self.api_key);
        Err(SourceError::Malformed {
            provider: "flightaware",
            reason: "not implemented yet".into(),
        })
    }
}
