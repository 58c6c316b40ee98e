//! CargoAI Track & Trace (seeds 000/001): `GET {base_url}/track?awb=NNN-NNNNNNNN` with header
//! `x-api-key`; the answer is the seed-001 tracking object.

use super::{Carrier, FetchError, FetchRequest, Fetched, join, retry_after};
use crate::config::CarrierSettings;
use async_trait::async_trait;
use normalize::from_cargoai;
use reqwest::StatusCode;

mod normalize;

const NAME: &str = "cargoai";

pub struct CargoAi {
    http: reqwest::Client,
    track_url: url::Url,
    api_key: String,
}

impl CargoAi {
    pub fn new(http: reqwest::Client, settings: &CarrierSettings) -> Self {
        Self {
            http,
            track_url: join(&settings.base_url, "track"),
            api_key: settings.api_key.expose().to_owned(),
        }
    }

    #[tracing::instrument(name = "cargoai.fetch", skip_all, fields(awb = %request.awb))]
    async fn fetch_one(&self, request: &FetchRequest) -> Result<Fetched, FetchError> {
        let response = self
            .http
            .get(self.track_url.clone())
            .query(&[("awb", request.awb.as_str())])
            .header("x-api-key", &self.api_key)
            .send()
            .await
            .map_err(|e| unavailable(e.to_string(), None))?;
        let status = response.status();
        match status {
            StatusCode::NOT_FOUND => return Ok(Fetched::NotFound),
            StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => {
                return Err(FetchError::Unauthorized {
                    carrier: NAME,
                    status: status.as_u16(),
                });
            }
            s if s == StatusCode::TOO_MANY_REQUESTS || s.is_server_error() => {
                return Err(unavailable(
                    format!("HTTP {s}"),
                    retry_after(response.headers()),
                ));
            }
            s if !s.is_success() => {
                return Err(FetchError::Malformed {
                    carrier: NAME,
                    reason: format!("unexpected HTTP {s}"),
                });
            }
            _ => {}
        }
        let raw: serde_json::Value = response.json().await.map_err(|e| FetchError::Malformed {
            carrier: NAME,
            reason: e.to_string(),
        })?;
        let tracking = from_cargoai(&request.awb, &raw).map_err(|e| FetchError::Malformed {
            carrier: NAME,
            reason: e.to_string(),
        })?;
        Ok(Fetched::Found { tracking, raw })
    }
}

fn unavailable(reason: String, retry_after: Option<std::time::Duration>) -> FetchError {
    FetchError::Unavailable {
        carrier: NAME,
        reason,
        retry_after,
    }
}

#[async_trait]
impl Carrier for CargoAi {
    fn name(&self) -> &'static str {
        NAME
    }

    async fn fetch(&self, requests: &[FetchRequest]) -> Vec<Result<Fetched, FetchError>> {
        let mut results = Vec::with_capacity(requests.len());
        for request in requests {
            results.push(self.fetch_one(request).await);
        }
        results
    }
}
