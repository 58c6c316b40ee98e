//! Lufthansa Cargo Shipment Tracking Subscribe (seed 002), a push carrier: instead of being
//! polled, each AWB is registered once with `POST {base_url}/lh/handling/shipment/subscribe`
//! (header `apikey`, body `{"AWB", "Callback", "States": "*"}`) and Lufthansa pushes every new
//! status to the callback ([`CALLBACK_PATH`], answered by the API layer). The answer's
//! `subscriptionId` is kept as the shipment's `carrier_ref`; when no subscription needs the AWB
//! any more, `DELETE {base_url}/lh/handling/shipment/subscribe/{subscriptionId}` removes it.
//!
//! Before creating a subscription Lufthansa sends `OPTIONS` to the callback and insists on an
//! `Allow` header that includes POST, so the callback must be reachable from Lufthansa for the
//! registration to succeed; a refusal for that reason comes back as an HTTP 4xx, kept verbatim
//! in the shipment's error.

use super::{Carrier, FetchRequest, Fetched, join};
use crate::config::CarrierSettings;
use crate::domain::AwbNumber;
use crate::ingest::{Source, SourceError, SourceHttp, SourceId, retry_after};
use async_trait::async_trait;
use reqwest::{Response, StatusCode};
use serde_json::{Value, json};

pub(super) mod normalize;

const SOURCE: SourceId = SourceId::carrier("lufthansa");
/// Where Skyhook receives Lufthansa's preflight and pushes.
pub const CALLBACK_PATH: &str = "/carriers/lufthansa/callback";
/// Every status change, TOA included (seed 002's `*`).
const ALL_STATES: &str = "*";
/// How much of an unexpected answer's body is kept in the error.
const BODY_EXCERPT: usize = 300;

pub struct Lufthansa {
    http: SourceHttp,
    subscribe_url: url::Url,
    callback: url::Url,
    api_key: String,
}

impl Lufthansa {
    pub fn new(http: SourceHttp, settings: &CarrierSettings, callback: url::Url) -> Self {
        Self {
            http,
            subscribe_url: join(&settings.base_url, "lh/handling/shipment/subscribe"),
            callback,
            api_key: settings.api_key.expose().to_owned(),
        }
    }

    #[tracing::instrument(name = "lufthansa.register", skip_all, fields(awb = %awb))]
    async fn register(&self, awb: &AwbNumber) -> Result<Fetched, SourceError> {
        let response = self
            .http
            .client()
            .post(self.subscribe_url.clone())
            .header("apikey", &self.api_key)
            .json(&json!({
                "AWB": awb.as_str(),
                "Callback": self.callback.as_str(),
                "States": ALL_STATES,
            }))
            .send()
            .await
            .map_err(|e| SOURCE.unavailable(e.to_string(), None))?;
        let response = self.check(response, "subscribe").await?;
        let body: Value = self
            .http
            .json(SOURCE, response)
            .await
            .map_err(|e| match e {
                SourceError::Malformed { reason, .. } => {
                    SOURCE.malformed(format!("subscribe answer: {reason}"))
                }
                other => other,
            })?;
        let carrier_ref = subscription_id(&body).ok_or_else(|| {
            SOURCE.malformed(format!(
                "subscribe answer has no subscriptionId: {}",
                excerpt(&body.to_string())
            ))
        })?;
        tracing::info!(%awb, subscription_id = carrier_ref, "registered with Lufthansa");
        Ok(Fetched::Registered { carrier_ref })
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

/// `subscriptionId` as seed 002 names it, in whatever case, as text or a number.
fn subscription_id(body: &Value) -> Option<String> {
    let fields = body.as_object()?;
    let value = fields.get("subscriptionId").or_else(|| {
        fields
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case("subscriptionId"))
            .map(|(_, v)| v)
    })?;
    let id = match value {
        Value::String(s) => s.trim().to_owned(),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!id.is_empty()).then_some(id)
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
    /// Registers AWBs not registered yet; a registered one has nothing to fetch (Lufthansa
    /// pushes), so it is confirmed as it is.
    async fn fetch(&self, requests: &[FetchRequest]) -> Vec<Result<Fetched, SourceError>> {
        let mut results = Vec::with_capacity(requests.len());
        for request in requests {
            results.push(match &request.carrier_ref {
                Some(carrier_ref) => Ok(Fetched::Registered {
                    carrier_ref: carrier_ref.clone(),
                }),
                None => self.register(&request.awb).await,
            });
        }
        results
    }

    #[tracing::instrument(name = "lufthansa.unregister", skip_all, fields(awb = %awb))]
    async fn unregister(&self, awb: &AwbNumber, carrier_ref: &str) -> Result<(), SourceError> {
        let mut url = self.subscribe_url.clone();
        url.path_segments_mut()
            .expect("an http(s) URL has path segments")
            .pop_if_empty()
            .push(carrier_ref);
        let response = self
            .http
            .client()
            .delete(url)
            .header("apikey", &self.api_key)
            .send()
            .await
            .map_err(|e| SOURCE.unavailable(e.to_string(), None))?;
        // Already gone is what we wanted.
        if response.status() == StatusCode::NOT_FOUND {
            tracing::info!(
                subscription_id = carrier_ref,
                "Lufthansa no longer knew the subscription"
            );
            return Ok(());
        }
        self.check(response, "unsubscribe").await?;
        tracing::info!(subscription_id = carrier_ref, "unregistered from Lufthansa");
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_subscription_id_is_read_leniently() {
        let id = |body| subscription_id(&body);
        assert_eq!(
            id(
                json!({"subscriptionId": " 9b2d5c0e-5d1c-4f7a-8d6e-3c2b1a0f9e8d ", "AWB": "020-08002050"})
            ),
            Some("9b2d5c0e-5d1c-4f7a-8d6e-3c2b1a0f9e8d".to_owned())
        );
        assert_eq!(id(json!({"SubscriptionID": 42})), Some("42".to_owned()));
        assert_eq!(id(json!({"subscriptionId": ""})), None);
        assert_eq!(id(json!({"AWB": "020-08002050"})), None);
        assert_eq!(id(json!("9b2d")), None);
    }
}
