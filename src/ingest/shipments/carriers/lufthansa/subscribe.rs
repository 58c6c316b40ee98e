//! Lufthansa's Shipment Tracking Subscribe API (seed 002): `POST …/subscribe` with
//! `{"AWB", "Callback", "States": "*"}`, `GET …/subscribe/{subscriptionId}` to see that a
//! registration still exists, `DELETE …/subscribe/{subscriptionId}` to end it, all with header
//! `apikey`. Before creating a subscription Lufthansa sends `OPTIONS` to the callback and
//! insists on an `Allow` header that includes POST, so the callback must be reachable from
//! Lufthansa; a refusal for that reason comes back as an HTTP 4xx, kept verbatim in the error.
//! Subscription ids and tokens are not logged at INFO: a token is a credential, and an id was
//! one before tokens.

use super::{Lufthansa, SOURCE, excerpt, send};
use crate::domain::{AwbNumber, CallbackToken};
use crate::ingest::SourceError;
use crate::ingest::shipments::carriers::Registrar;
use async_trait::async_trait;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

/// Every status change, TOA included (seed 002's `*`).
const ALL_STATES: &str = "*";

impl Lufthansa {
    /// The callback URL of one registration: the configured callback plus `/{token}`.
    fn callback_for(&self, token: &CallbackToken) -> url::Url {
        let mut url = self.callback.clone();
        url.path_segments_mut()
            .expect("an http(s) URL has path segments")
            .pop_if_empty()
            .push(token.expose());
        url
    }

    fn subscription_url(&self, carrier_ref: &str) -> url::Url {
        let mut url = self.subscribe_url.clone();
        url.path_segments_mut()
            .expect("an http(s) URL has path segments")
            .pop_if_empty()
            .push(carrier_ref);
        url
    }

    #[tracing::instrument(name = "lufthansa.unregister", skip_all, fields(awb = %awb))]
    pub(super) async fn delete_subscription(
        &self,
        awb: &AwbNumber,
        carrier_ref: &str,
    ) -> Result<(), SourceError> {
        let request = self.request(Method::DELETE, self.subscription_url(carrier_ref));
        let response = send(request).await?;
        // Already gone is what we wanted.
        if response.status() == StatusCode::NOT_FOUND {
            tracing::info!(%awb, "Lufthansa no longer knew the registration");
            return Ok(());
        }
        self.check(response, "unsubscribe").await?;
        tracing::info!(%awb, "unregistered from Lufthansa");
        Ok(())
    }
}

#[async_trait]
impl Registrar for Lufthansa {
    #[tracing::instrument(name = "lufthansa.register", skip_all, fields(awb = %awb))]
    async fn register(
        &self,
        awb: &AwbNumber,
        token: &CallbackToken,
    ) -> Result<String, SourceError> {
        let request = self
            .request(Method::POST, self.subscribe_url.clone())
            .json(&json!({
                "AWB": awb.as_str(),
                "Callback": self.callback_for(token).as_str(),
                "States": ALL_STATES,
            }));
        let response = send(request).await?;
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
        tracing::info!(%awb, "registered with Lufthansa");
        tracing::debug!(%awb, subscription_id = carrier_ref, "Lufthansa's registration id");
        Ok(carrier_ref)
    }

    #[tracing::instrument(name = "lufthansa.check_registration", skip_all)]
    async fn is_registered(&self, carrier_ref: &str) -> Result<bool, SourceError> {
        let request = self.request(Method::GET, self.subscription_url(carrier_ref));
        let response = send(request).await?;
        if response.status() == StatusCode::NOT_FOUND {
            return Ok(false);
        }
        self.check(response, "subscription check").await?;
        Ok(true)
    }
}

/// `subscriptionId` as seed 002 names it, in whatever case, as text or a number.
pub(super) fn subscription_id(body: &Value) -> Option<String> {
    let fields = body.as_object()?;
    let value = fields.get("subscriptionId").or_else(|| {
        fields
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case("subscriptionId"))
            .map(|(_, v)| v)
    })?;
    let id = match value {
        Value::String(s) => s.trim().replace('\0', ""),
        Value::Number(n) => n.to_string(),
        _ => return None,
    };
    (!id.is_empty()).then_some(id)
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
