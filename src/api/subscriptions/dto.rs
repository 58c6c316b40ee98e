//! Request and response bodies of the subscription routes (camelCase JSON), and their
//! conversion from domain types.

use crate::domain::{Subscription, Target};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

/// A flight as a subscription target.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FlightRequest {
    /// Carrier designator and number; `LH 8160`, `LH08160` and `lh8160` are the same flight.
    #[schema(example = "LH8160")]
    pub number: String,
    /// Scheduled departure date, local at origin, `YYYY-MM-DD`.
    #[schema(example = "2026-11-25")]
    pub date: String,
    /// IATA code of the departure airport, when the number alone is ambiguous.
    #[schema(example = "FRA")]
    pub origin: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct CreateSubscriptionRequest {
    /// Air waybill, `NNN-NNNNNNNN` or 11 digits. One of `awb`, `flight`, `flightUUID`.
    #[schema(example = "020-08002050")]
    pub awb: Option<String>,
    pub flight: Option<FlightRequest>,
    /// A flight Skyhook already knows (see `GET /v1/flights`).
    #[serde(rename = "flightUUID", alias = "flightUuid")]
    pub flight_uuid: Option<String>,
    /// Callback URL that receives signed JSON POSTs.
    #[schema(example = "https://tms.example.com/hooks/skyhook")]
    pub url: Option<String>,
    /// Up to five email recipients.
    pub emails: Option<Vec<String>>,
    /// Also queue every message to your feed (`GET /v1/messages`); with it, `url` and
    /// `emails` may both be left out.
    pub feed: Option<bool>,
    /// Status codes to be notified of; `["*"]` (the default) means every change.
    #[schema(example = json!(["*"]))]
    pub states: Option<Vec<String>>,
    /// Free text for your own identifier, echoed in every message.
    pub reference: Option<String>,
    /// Up to 5 static headers sent with every webhook, e.g. an `Authorization` your endpoint
    /// expects. Shown back by name only.
    #[schema(example = json!({"Authorization": "Bearer my-tms-token"}))]
    pub headers: Option<std::collections::BTreeMap<String, String>>,
}

/// A full replacement of a subscription's channels, filter and reference.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UpdateSubscriptionRequest {
    pub url: Option<String>,
    pub emails: Option<Vec<String>>,
    /// Whether messages also go to your feed (omitted: no).
    pub feed: Option<bool>,
    pub states: Option<Vec<String>>,
    pub reference: Option<String>,
    pub headers: Option<std::collections::BTreeMap<String, String>>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct UnsubscribeRequest {
    /// Air waybill, `NNN-NNNNNNNN` or 11 digits. One of `awb`, `flight`, `flightUUID`.
    #[schema(example = "020-08002050")]
    pub awb: Option<String>,
    pub flight: Option<FlightRequest>,
    /// A flight Skyhook already knows (see `GET /v1/flights`).
    #[serde(rename = "flightUUID", alias = "flightUuid")]
    pub flight_uuid: Option<String>,
    /// Remove this callback URL from your active subscriptions of the target.
    pub url: Option<String>,
    /// Remove these addresses from your active subscriptions of the target.
    pub emails: Option<Vec<String>>,
}

/// The target fields a request carries; serde's `flatten` cannot be combined with
/// `deny_unknown_fields`, so each request spells them out and lends them here.
pub struct TargetFields<'a> {
    pub awb: Option<&'a str>,
    pub flight: Option<&'a FlightRequest>,
    pub flight_uuid: Option<&'a str>,
}

impl CreateSubscriptionRequest {
    pub fn target(&self) -> TargetFields<'_> {
        TargetFields {
            awb: self.awb.as_deref(),
            flight: self.flight.as_ref(),
            flight_uuid: self.flight_uuid.as_deref(),
        }
    }
}

impl UnsubscribeRequest {
    pub fn target(&self) -> TargetFields<'_> {
        TargetFields {
            awb: self.awb.as_deref(),
            flight: self.flight.as_ref(),
            flight_uuid: self.flight_uuid.as_deref(),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Only subscriptions of this AWB.
    pub awb: Option<String>,
    /// `active`, `completed`, `expired` or `unsubscribed`.
    pub status: Option<String>,
    /// Only subscriptions pushing to this callback URL.
    pub url: Option<String>,
    /// Only subscriptions whose AWB (with or without its dash) or flight number contains
    /// this, or whose reference contains it in any case.
    pub q: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// `nextCursor` of the previous page.
    pub cursor: Option<String>,
}

/// The flight a subscription follows (named apart from `GET /v1/flights`'s `FlightResponse`,
/// which would otherwise replace it in the document).
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscribedFlight {
    pub number: String,
    pub date: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub origin: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionResponse {
    pub id: Uuid,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub awb: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flight: Option<SubscribedFlight>,
    #[serde(rename = "flightUUID", skip_serializing_if = "Option::is_none")]
    pub flight_uuid: Option<Uuid>,
    pub url: Option<String>,
    /// Set when Skyhook stopped calling `url` (410 Gone, or failing longer than
    /// `webhooks.disable_after`); a PUT with the URL turns it back on.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_disabled_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub url_disabled_reason: Option<String>,
    pub emails: Vec<String>,
    /// Messages also go to your feed (`GET /v1/messages`).
    pub feed: bool,
    /// Names of the static headers sent with every webhook.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub header_names: Vec<String>,
    pub states: Vec<String>,
    pub reference: Option<String>,
    /// `active`, `completed`, `expired` or `unsubscribed`.
    pub status: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    /// When the last message was queued for it (any channel); null before the first.
    pub last_message_at: Option<DateTime<Utc>>,
}

/// A subscription as saved by a create or update.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SavedSubscriptionResponse {
    #[serde(flatten)]
    pub subscription: SubscriptionResponse,
    /// Standard Webhooks secret (`whsec_…`) to verify pushes with. Shown only on creation.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub signing_secret: Option<String>,
    /// Requested emails that were already subscribed to this target and were left out.
    pub skipped_emails: Vec<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SubscriptionPage {
    pub items: Vec<SubscriptionResponse>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnsubscribedSubscription {
    pub subscription_id: Uuid,
    /// Whether the callback URL was removed from this subscription.
    pub url_removed: bool,
    pub emails_removed: Vec<String>,
    /// `unsubscribed` when no channel is left, otherwise `active`.
    pub status: String,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct UnsubscribeResponse {
    pub subscriptions: Vec<UnsubscribedSubscription>,
    /// Requested emails that were on none of your active subscriptions of the target.
    pub emails_not_found: Vec<String>,
    /// Whether the requested URL was on none of them.
    pub url_not_found: bool,
}

impl From<Subscription> for SubscriptionResponse {
    fn from(s: Subscription) -> Self {
        let (awb, flight) = match s.target {
            Target::Awb(awb) => (Some(awb.to_string()), None),
            Target::Flight(f) => (
                None,
                Some(SubscribedFlight {
                    number: f.number.to_string(),
                    date: f.date.to_string(),
                    origin: f.origin.map(|o| o.as_str().to_owned()),
                }),
            ),
        };
        Self {
            id: s.id.as_uuid(),
            awb,
            flight,
            flight_uuid: s.flight_id,
            url: s.url.map(|u| u.to_string()),
            url_disabled_at: s.url_disabled.as_ref().map(|d| d.at),
            url_disabled_reason: s.url_disabled.map(|d| d.reason),
            emails: s.emails.iter().map(|e| e.as_str().to_owned()).collect(),
            feed: s.feed,
            header_names: s.header_names,
            states: s.states.to_codes(),
            reference: s.reference.map(|r| r.as_str().to_owned()),
            status: s.status.as_str().to_owned(),
            created_at: s.created_at,
            updated_at: s.updated_at,
            expires_at: s.expires_at,
            ended_at: s.ended_at,
            last_message_at: s.last_message_at,
        }
    }
}
