//! Lufthansa Cargo, as seed 002 describes it: a push says only that something changed, and the
//! Shipment Tracking API is the truth. [`Carrier::fetch`] asks that API
//! (`GET {base_url}/{tracking_path}?aWBPrefix=020&aWBNumber=08002050`, header `apikey`) and
//! reads its `shipmentTrackingStatus` (`tracking.rs`); the [`Registrar`] side (`subscribe.rs`)
//! registers each AWB with the subscribe API, with a callback URL that carries a secret token
//! ([`CALLBACK_PATH`]`/{token}`, answered by the API layer), checks registrations and removes
//! them. Pushes themselves are read in `normalize.rs`.

use super::{Carrier, FetchRequest, Fetched, Registrar, join};
use crate::config::CarrierSettings;
use crate::domain::AwbNumber;
use crate::ingest::{Source, SourceError, SourceHttp, SourceId, retry_after};
use async_trait::async_trait;
use futures_util::{StreamExt, stream};
use reqwest::{Method, RequestBuilder, Response, StatusCode};

pub(super) mod normalize;
mod subscribe;
mod tracking;

const SOURCE: SourceId = SourceId::carrier("lufthansa");
/// Where Skyhook receives Lufthansa's preflight and pushes; each registration's callback URL
/// is this route's URL plus `/{token}`.
pub const CALLBACK_PATH: &str = "/carriers/lufthansa/callback";
/// Where the Shipment Tracking API is when `carriers.lufthansa.tracking_path` is not set.
const TRACKING_PATH: &str = "lh/handling/shipment";
/// How much of an unexpected answer's body is kept in the error.
const BODY_EXCERPT: usize = 300;

pub struct Lufthansa {
    http: SourceHttp,
    tracking_url: url::Url,
    subscribe_url: url::Url,
    /// The callback URL without its token.
    callback: url::Url,
    api_key: String,
}

impl Lufthansa {
    pub fn new(http: SourceHttp, settings: &CarrierSettings, callback: url::Url) -> Self {
        let tracking_path = settings.tracking_path.as_deref().unwrap_or(TRACKING_PATH);
        Self {
            http,
            tracking_url: join(&settings.base_url, tracking_path.trim_matches('/')),
            subscribe_url: join(&settings.base_url, "lh/handling/shipment/subscribe"),
            callback,
            api_key: settings.api_key.expose().to_owned(),
        }
    }

    #[tracing::instrument(name = "lufthansa.fetch", skip_all, fields(awb = %request.awb))]
    async fn fetch_one(&self, request: &FetchRequest) -> Result<Fetched, SourceError> {
        let awb = &request.awb;
        let request = self
            .request(Method::GET, self.tracking_url.clone())
            .query(&[
                ("aWBPrefix", awb.prefix()),
                ("aWBNumber", &awb.as_str()[4..]),
            ]);
        let response = send(request).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(Fetched::NotFound);
        }
        let response = self.check(response, "shipment tracking").await?;
        let raw: serde_json::Value = self.http.json(SOURCE, response).await?;
        let tracking = tracking::from_lufthansa(awb, &raw)
            .map_err(|e| SOURCE.malformed(format!("shipment tracking answer: {e}")))?;
        Ok(Fetched::Found { tracking, raw })
    }

    /// A request to one of Lufthansa's APIs, with our key.
    fn request(&self, method: Method, url: url::Url) -> RequestBuilder {
        self.http
            .client()
            .request(method, url)
            .header("apikey", &self.api_key)
    }

    /// Maps Lufthansa's HTTP status: 401/403 is our key, 429/5xx is theirs to recover from,
    /// any other failure is kept with an excerpt of what they said.
    async fn check(&self, response: Response, what: &str) -> Result<Response, SourceError> {
        let status = response.status();
        if status.is_success() {
            return Ok(response);
        }
        if status == StatusCode::UNAUTHORIZED || status == StatusCode::FORBIDDEN {
            return Err(SOURCE.unauthorized(status.as_u16()));
        }
        if status == StatusCode::TOO_MANY_REQUESTS || status.is_server_error() {
            let wait = retry_after(response.headers());
            return Err(SOURCE.unavailable(format!("{what}: HTTP {status}"), wait));
        }
        // Only an excerpt is kept, but it is read through the same bound as any answer.
        let said = self.http.read(SOURCE, response).await.unwrap_or_default();
        Err(SOURCE.malformed(format!(
            "{what} refused with HTTP {status}: {}",
            excerpt(&String::from_utf8_lossy(&said))
        )))
    }
}

/// Sends a request; one that gets no answer at all is an outage.
async fn send(request: RequestBuilder) -> Result<Response, SourceError> {
    request
        .send()
        .await
        .map_err(|e| SOURCE.unavailable(e.to_string(), None))
}

fn excerpt(text: &str) -> String {
    match text.char_indices().nth(BODY_EXCERPT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

impl Source for Lufthansa {
    fn name(&self) -> &'static str {
        SOURCE.name
    }
}

#[async_trait]
impl Carrier for Lufthansa {
    async fn fetch(&self, requests: &[FetchRequest]) -> Vec<Result<Fetched, SourceError>> {
        // One AWB a request, each in turn.
        stream::iter(requests)
            .then(|request| self.fetch_one(request))
            .collect()
            .await
    }

    fn registrar(&self) -> Option<&dyn Registrar> {
        Some(self)
    }

    async fn unregister(&self, awb: &AwbNumber, carrier_ref: &str) -> Result<(), SourceError> {
        self.delete_subscription(awb, carrier_ref).await
    }
}
