//! One subscription's page: its channels and expiry, the shipment's (or flight's) timeline and
//! route, the delivery log with a message's body on demand. The timeline and the log are also
//! served alone (`…/live`), for the page's script to refresh them while it is open. Its buttons
//! are in `actions.rs`.

use super::ConsoleError;
use super::page::{self, Page, utc, utc_or_dash};
use super::session::Signed;
use super::subscriptions::{channels, describe_target};
use super::timeline::{FlightPanel, ShipmentPanel};
use crate::api::AppState;
use crate::api::deliveries::delivery_log;
use crate::api::error::ApiError;
use crate::api::extract::parse_id;
use crate::api::shipments::carrier_is_sandbox;
use crate::api::subscriptions::dto::SubscriptionResponse;
use crate::domain::AwbNumber;
use crate::domain::digest::sha256_hex;
use crate::store::{DeliveryRecord, DeliveryScope};
use askama::Template;
use askama::filters::Safe;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

/// The subscription itself, as the page's header shows it.
pub struct Summary {
    pub id: String,
    /// When it last changed, as a token: a button's form carries it, so that a form sent again
    /// after the subscription changed (a reload after rotating the secret) can be told apart.
    pub version: String,
    pub target: String,
    pub target_link: Option<String>,
    pub status: String,
    pub active: bool,
    pub reference: String,
    pub channels: String,
    pub url: Option<String>,
    pub url_disabled: Option<String>,
    pub emails: Vec<String>,
    pub feed: bool,
    pub states: String,
    pub created: String,
    pub expires: String,
    pub ended: String,
    pub last_message: String,
}

impl Summary {
    pub fn version_of(s: &SubscriptionResponse) -> String {
        s.updated_at
            .to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
    }
}

impl From<&SubscriptionResponse> for Summary {
    fn from(s: &SubscriptionResponse) -> Self {
        Self {
            id: s.id.to_string(),
            version: Self::version_of(s),
            target: describe_target(s),
            target_link: s
                .awb
                .as_ref()
                .map(|awb| format!("/console/shipments/{awb}")),
            status: s.status.clone(),
            active: s.status == "active",
            reference: s.reference.clone().unwrap_or_default(),
            channels: channels(s),
            url: s.url.clone(),
            url_disabled: s.url_disabled_at.map(|at| {
                format!(
                    "disabled since {}: {}",
                    utc(at),
                    s.url_disabled_reason.clone().unwrap_or_default()
                )
            }),
            emails: s.emails.clone(),
            feed: s.feed,
            states: s.states.join(", "),
            created: utc(s.created_at),
            expires: utc(s.expires_at),
            ended: utc_or_dash(s.ended_at),
            last_message: utc_or_dash(s.last_message_at),
        }
    }
}

/// One message of the delivery log: the store's record, with what the page writes in words.
pub struct LogRow {
    pub record: DeliveryRecord,
    pub last_attempt: String,
    pub next_attempt: String,
    /// A failed or pending message can be sent again now.
    pub retryable: bool,
}

impl From<DeliveryRecord> for LogRow {
    fn from(record: DeliveryRecord) -> Self {
        Self {
            last_attempt: utc_or_dash(record.last_attempt_at),
            next_attempt: utc_or_dash(record.next_attempt_at),
            retryable: matches!(record.status.as_str(), "failed" | "pending"),
            record,
        }
    }
}

/// What changes while the page is open: the tracking and the delivery log.
pub struct Live {
    pub subscription_id: String,
    pub csrf: String,
    pub shipment: Option<ShipmentPanel>,
    pub flight: Option<FlightPanel>,
    pub log: Vec<LogRow>,
    pub failed: usize,
}

impl Live {
    async fn load(
        state: &AppState,
        signed: &Signed,
        subscription: &SubscriptionResponse,
    ) -> Result<Self, ConsoleError> {
        let tenant = signed.key.tenant;
        let shipment = match &subscription.awb {
            Some(awb) => {
                let awb = AwbNumber::parse(awb).map_err(ApiError::from)?;
                state.store.get_shipment(tenant, &awb).await?.map(|view| {
                    let sandbox = carrier_is_sandbox(state, view.carrier.as_deref());
                    ShipmentPanel::of(view, sandbox)
                })
            }
            None => None,
        };
        let flight = match subscription.flight_uuid {
            Some(id) => state
                .store
                .get_flight(tenant, id)
                .await?
                .map(FlightPanel::of),
            None => None,
        };
        let log: Vec<LogRow> = delivery_log(state, tenant, subscription.id.into())
            .await?
            .into_iter()
            .map(LogRow::from)
            .collect();
        Ok(Self {
            subscription_id: subscription.id.to_string(),
            csrf: signed.csrf.clone(),
            failed: log.iter().filter(|r| r.record.status == "failed").count(),
            shipment,
            flight,
            log,
        })
    }
}

#[derive(Template)]
#[template(path = "console/subscription.html")]
struct DetailPage {
    page: Page,
    summary: Summary,
    /// The live part as `/live` serves it, rendered (and escaped) once by its own template.
    live_html: Safe<String>,
    /// Which state of the live part the page shows (see [`LiveFragment::render_versioned`]).
    live_version: String,
    notice: Option<String>,
    error: Option<String>,
    secret: Option<String>,
}

#[derive(Template)]
#[template(path = "console/live.html")]
struct LiveFragment<'a> {
    live: &'a Live,
}

impl LiveFragment<'_> {
    /// The fragment and a short digest of it: the page's script asks for the fragment with
    /// the digest it shows and gets `304 Not Modified` while nothing changed, so the live
    /// part is replaced (losing focus and selection) only when it really changed.
    fn render_versioned(&self) -> Result<(String, String), askama::Error> {
        let html = self.render()?;
        // 64 bits of the digest: enough to tell one state of one page from the next.
        let mut version = sha256_hex(&html);
        version.truncate(16);
        Ok((html, version))
    }
}

/// The tenant's subscription, or the 404 page (an unknown id and another tenant's alike).
pub(super) async fn find(
    state: &AppState,
    signed: &Signed,
    id: &str,
) -> Result<SubscriptionResponse, ConsoleError> {
    let id = parse_id(id).map_err(|_| ConsoleError::NotFound)?;
    state
        .store
        .get_subscription(signed.key.tenant, id)
        .await?
        .map(SubscriptionResponse::from)
        .ok_or(ConsoleError::NotFound)
}

/// What a redirect after an action tells the page to say.
#[derive(Deserialize, Default)]
pub struct Notice {
    done: Option<String>,
    /// A count, read leniently: it only ever comes from this console's own redirects.
    n: Option<String>,
}

impl Notice {
    fn text(&self) -> Option<String> {
        Some(match self.done.as_deref()? {
            "retried" => "The message is queued to be sent again now.".to_owned(),
            "retried-all" => match self.n.as_deref().and_then(|n| n.parse().ok()).unwrap_or(0) {
                0 => "There were no failed messages to send again.".to_owned(),
                1 => "1 failed message is queued to be sent again.".to_owned(),
                n => format!("{n} failed messages are queued to be sent again."),
            },
            "test" => "A test message is queued to every channel.".to_owned(),
            "unsubscribed" => "The subscription has ended; nothing more will be sent.".to_owned(),
            _ => return None,
        })
    }
}

/// `GET /console/subscriptions/{id}`.
pub async fn page(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    notice: Result<Query<Notice>, QueryRejection>,
) -> Result<Response, ConsoleError> {
    // A notice that cannot be read is no notice; the page is what was asked for.
    let notice = notice.ok().and_then(|Query(notice)| notice.text());
    show(&state, &signed, &id, notice, None, None, StatusCode::OK).await
}

pub(super) async fn show(
    state: &AppState,
    signed: &Signed,
    id: &str,
    notice: Option<String>,
    error: Option<&ApiError>,
    secret: Option<String>,
    status: StatusCode,
) -> Result<Response, ConsoleError> {
    let subscription = find(state, signed, id).await?;
    let live = Live::load(state, signed, &subscription).await?;
    let (live_html, live_version) = LiveFragment { live: &live }.render_versioned()?;
    let summary = Summary::from(&subscription);
    let html = page::render(&DetailPage {
        page: Page::signed(summary.target.clone(), signed, "subscriptions"),
        summary,
        live_html: Safe(live_html),
        live_version,
        notice,
        error: error.map(page::api_error),
        secret,
    })?;
    Ok((status, html).into_response())
}

/// `GET /console/subscriptions/{id}/live`: the timeline and the log alone.
pub async fn live(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    let subscription = find(&state, &signed, &id).await?;
    let live = Live::load(&state, &signed, &subscription).await?;
    let (html, version) = LiveFragment { live: &live }.render_versioned()?;
    let etag = HeaderValue::from_str(&format!("\"{version}\"")).expect("hex digits");
    if headers.get(header::IF_NONE_MATCH) == Some(&etag) {
        return Ok((StatusCode::NOT_MODIFIED, [(header::ETAG, etag)]).into_response());
    }
    Ok(([(header::ETAG, etag)], Html(html)).into_response())
}

#[derive(Template)]
#[template(path = "console/delivery.html")]
struct BodyPage {
    page: Page,
    subscription_id: String,
    body: String,
}

/// `GET …/deliveries/{delivery}`: a message's body, as queued.
pub async fn delivery_body(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<Response, ConsoleError> {
    let subscription = parse_id(&id).map_err(|_| ConsoleError::NotFound)?;
    let delivery = Uuid::parse_str(&delivery).map_err(|_| ConsoleError::NotFound)?;
    // Found only under its own subscription of this tenant: the URL names both.
    let scope = DeliveryScope::subscription(signed.key.tenant, subscription);
    let body = state
        .store
        .delivery_body(scope, delivery)
        .await?
        .ok_or(ConsoleError::NotFound)?;
    // Pretty when it is JSON (webhooks and the feed), as it is otherwise.
    let body = serde_json::from_str::<serde_json::Value>(&body)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or(body);
    let html = page::render(&BodyPage {
        page: Page::signed("Message body", &signed, "subscriptions"),
        subscription_id: subscription.to_string(),
        body,
    })?;
    Ok(html.into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_disabled_url_is_shown_with_when_and_why() {
        let at = chrono::DateTime::parse_from_rfc3339("2026-12-01T10:00:00Z")
            .unwrap()
            .with_timezone(&chrono::Utc);
        let subscription = SubscriptionResponse {
            id: Uuid::nil(),
            awb: Some("020-08002050".to_owned()),
            flight: None,
            flight_uuid: None,
            url: Some("https://tms.example.com/h".to_owned()),
            url_disabled_at: Some(at),
            url_disabled_reason: Some("the receiver answered 410 Gone".to_owned()),
            emails: vec!["ops@example.com".to_owned()],
            feed: false,
            header_names: Vec::new(),
            states: vec!["*".to_owned()],
            reference: None,
            status: "active".to_owned(),
            created_at: at,
            updated_at: at,
            expires_at: at,
            ended_at: None,
            last_message_at: None,
        };
        let summary = Summary::from(&subscription);
        assert_eq!(
            summary.url_disabled.as_deref(),
            Some("disabled since 2026-12-01 10:00 UTC: the receiver answered 410 Gone")
        );
        assert_eq!(summary.channels, "webhook (disabled) · 1 email");
        assert_eq!(
            summary.target_link.as_deref(),
            Some("/console/shipments/020-08002050")
        );
    }

    #[test]
    fn only_known_notices_are_shown() {
        let notice = |done: &str, n: Option<&str>| Notice {
            done: Some(done.to_owned()),
            n: n.map(str::to_owned),
        };
        assert!(notice("retried", None).text().unwrap().contains("again"));
        assert!(
            notice("retried-all", Some("3"))
                .text()
                .unwrap()
                .starts_with("3 failed")
        );
        assert!(notice("<script>", None).text().is_none());
        assert!(Notice::default().text().is_none());
    }
}
