//! CargoAI Track & Trace (seeds 000/001): `GET {base_url}/track?awb=NNN-NNNNNNNN` with header
//! `x-api-key`; the answer is the seed-001 tracking object.

use super::{Carrier, FetchRequest, Fetched, join};
use crate::config::CarrierSettings;
use crate::ingest::{Source, SourceError, SourceHttp, SourceId, retry_after};
use async_trait::async_trait;
use futures_util::{StreamExt, stream};
use normalize::from_cargoai;
use reqwest::StatusCode;

mod normalize;

const SOURCE: SourceId = SourceId::carrier("cargoai");

pub struct CargoAi {
    http: SourceHttp,
    track_url: url::Url,
    api_key: String,
}

impl CargoAi {
    pub fn new(http: SourceHttp, settings: &CarrierSettings) -> Self {
        Self {
            http,
            track_url: join(&settings.base_url, "track"),
            api_key: settings.api_key.expose().to_owned(),
        }
    }

    #[tracing::instrument(name = "cargoai.fetch", skip_all, fields(awb = %request.awb))]
    async fn fetch_one(&self, request: &FetchRequest) -> Result<Fetched, SourceError> {
        let response = self
            .http
            .client()
            .get(self.track_url.clone())
            .query(&[("awb", request.awb.as_str())])
            .header("x-api-key", &self.api_key)
            .send()
            .await
            .map_err(|e| SOURCE.unavailable(e.to_string(), None))?;
        let status = response.status();
        match status {
            StatusCode::NOT_FOUND => return Ok(Fetched::NotFound),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(SOURCE.unauthorized(status.as_u16()));
            }
            s if s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error() => {
                return Err(
                    SOURCE.unavailable(format!("HTTP {s}"), retry_after(response.headers()))
                );
            }
            s if !s.is_success() => {
                return Err(SOURCE.malformed(format!("unexpected HTTP {s}")));
            }
            _ => {}
        }
        let raw: serde_json::Value = self.http.json(SOURCE, response).await?;
        let tracking =
            from_cargoai(&request.awb, &raw).map_err(|e| SOURCE.malformed(e.to_string()))?;
        Ok(Fetched::Found { tracking, raw })
    }
}

impl Source for CargoAi {
    fn name(&self) -> &'static str {
        SOURCE.name
    }
}

#[async_trait]
impl Carrier for CargoAi {
    async fn fetch(&self, requests: &[FetchRequest]) -> Vec<Result<Fetched, SourceError>> {
        // One AWB a request, each in turn.
        stream::iter(requests)
            .then(|request| self.fetch_one(request))
            .collect()
            .await
    }
}
