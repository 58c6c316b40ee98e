//! The HTTP layer: routes, request/response bodies, authentication and the API error type.
//! Nothing outside this module (and the console, `crate::console`, which serves pages on the
//! same operations) knows HTTP.

pub mod auth;
pub mod carrier_callbacks;
pub mod deliveries;
pub mod error;
pub(crate) mod extract;
pub mod flights;
mod health;
pub mod idempotency;
pub mod messages;
mod middleware;
mod one_click;
pub mod openapi;
mod paging;
pub mod rate_limit;
pub mod safety;
pub mod serve;
pub mod shipments;
pub mod subscriptions;

use crate::clock::Clock;
use crate::ingest::shipments::Carriers;
use crate::store::Store;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use error::ApiError;
use metrics_exporter_prometheus::PrometheusHandle;
pub use openapi::document as openapi_document;
use openapi::{BearerAuth, V1Routes};
use std::sync::Arc;
use std::time::Duration;
use utoipa::OpenApi;
use utoipa_swagger_ui::SwaggerUi;

/// What every handler can reach.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub clock: Arc<dyn Clock>,
    pub metrics: PrometheusHandle,
    pub subscription_ttl: Duration,
    pub keys: Arc<auth::KeyCache>,
    /// Which carrier serves which AWB prefix (handlers only ask, never call carriers).
    pub carriers: Arc<Carriers>,
    /// Flight-status sources (handlers only read their credential problems).
    pub flight_sources: Arc<crate::ingest::flights::FlightSources>,
    pub callbacks: Arc<CallbackCheck>,
    /// Applies what push carriers send to their callbacks.
    pub pushes: Arc<crate::ingest::shipments::Pushes>,
    /// Rate limits, idempotency keys and the test-message limit (`safety.rs`).
    pub safety: Arc<safety::Safety>,
    /// The longest a `GET /v1/messages` long poll waits: its `wait`, within the request's
    /// own time limit.
    pub feed_max_wait: Duration,
}

impl AppState {
    /// What creating subscriptions needs, lent from the state.
    pub fn subscribing(&self) -> subscriptions::Subscribing {
        subscriptions::Subscribing {
            store: self.store.clone(),
            carriers: self.carriers.clone(),
            callbacks: self.callbacks.clone(),
            clock: self.clock.clone(),
            ttl: self.subscription_ttl,
        }
    }
}

/// How a callback URL is vetted when a subscription is created or changed: the SSRF guard,
/// then the preflight.
pub struct CallbackCheck {
    /// Guarded like the dispatcher's clients, per tenant's networks.
    pub clients: crate::dispatch::GuardedClients,
    pub preflight: crate::domain::PreflightMode,
}

impl CallbackCheck {
    /// Checks `url` for a tenant whose key allows `networks` besides the operator's.
    pub async fn vet(
        &self,
        url: &crate::domain::CallbackUrl,
        networks: &crate::domain::AllowNetworks,
    ) -> Result<(), ApiError> {
        let guarded = self
            .clients
            .for_tenant(networks)
            .map_err(|e| ApiError::Internal(e.into()))?;
        guarded
            .guard
            .check(url.as_url())
            .await
            .map_err(|e| ApiError::InvalidUrl(format!("`url` is not allowed: {e}")))?;
        crate::dispatch::preflight(&guarded.client, url.as_url(), self.preflight)
            .await
            .map_err(|e| {
                ApiError::CallbackPreflightFailed(format!("`url` failed its preflight: {e}"))
            })
    }
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Skyhook",
        description = "Self-hosted air cargo tracking subscriptions. Every `/v1` route needs \
                       `Authorization: Bearer <key>` (create a key with `skyhook keys create NAME`). \
                       Errors are `{\"error\": NAME, \"message\": text}`; a malformed JSON body is \
                       `400 ErrInvalidBody`, a body over 64 KiB `413 ErrPayloadTooLarge`, one declared as \
                       anything but JSON `415 ErrUnsupportedMediaType`. \
                       Every `POST` accepts `Idempotency-Key` (1-255 visible ASCII characters): \
                       the same request with the same key within 24 h gets the first answer again \
                       (`Idempotent-Replayed: true`); another request with it is \
                       `409 ErrIdempotencyKeyReused`, one while the first runs \
                       `409 ErrIdempotencyKeyInFlight`. Each key is rate limited \
                       (`429 ErrRateLimited` with `Retry-After`; `RateLimit` and \
                       `RateLimit-Policy` headers on every answer)."
    ),
    paths(
        subscriptions::create,
        subscriptions::batch::create_many,
        subscriptions::list,
        subscriptions::get,
        subscriptions::replace,
        subscriptions::delete,
        subscriptions::unsubscribe::unsubscribe,
        deliveries::list,
        deliveries::retry,
        deliveries::test,
        deliveries::rotate_secret,
        messages::list,
        shipments::get,
        flights::list,
        flights::get,
        health::healthz,
        health::readyz,
        health::metrics,
    ),
    modifiers(&BearerAuth, &V1Routes),
    tags(
        (name = "subscriptions", description = "Subscribe AWBs and flights to tracking updates"),
        (name = "shipments", description = "Current tracking of subscribed AWBs"),
        (name = "flights", description = "Flights Skyhook knows, and their flightUUIDs"),
        (name = "deliveries", description = "The delivery log, re-sends, test messages and secret rotation"),
        (name = "messages", description = "The message feed, for a TMS that cannot receive webhooks"),
        (name = "operations", description = "Health and metrics"),
    )
)]
pub struct ApiDoc;

/// The whole HTTP surface: `/v1`, the operational routes, carrier callbacks, the docs, and
/// `extra` (the console, when enabled) under the same layers.
pub fn router(
    state: AppState,
    request_timeout: Duration,
    extra: Option<Router<AppState>>,
) -> Router {
    let v1 = Router::new()
        .route(
            "/subscriptions",
            post(subscriptions::create).get(subscriptions::list),
        )
        .route(
            "/subscriptions/{id}",
            get(subscriptions::get)
                .put(subscriptions::replace)
                .delete(subscriptions::delete),
        )
        .route(
            "/subscriptions/batch",
            post(subscriptions::batch::create_many)
                .layer(DefaultBodyLimit::max(subscriptions::batch::MAX_BATCH_BYTES)),
        )
        .route("/messages", get(messages::list))
        .route(
            "/unsubscribe",
            post(subscriptions::unsubscribe::unsubscribe),
        )
        .route("/subscriptions/{id}/deliveries", get(deliveries::list))
        .route("/subscriptions/{id}/test", post(deliveries::test))
        .route(
            "/subscriptions/{id}/rotate-secret",
            post(deliveries::rotate_secret),
        )
        .route("/deliveries/{id}/retry", post(deliveries::retry))
        .route("/shipments/{awb}", get(shipments::get))
        .route("/flights", get(flights::list))
        .route("/flights/{id}", get(flights::get));

    // Every route of `v1` gets the layers of `safety.rs`; add new /v1 routes above.
    let v1 = safety::apply(v1, &state);
    let router = Router::new()
        .nest("/v1", v1)
        .route(
            "/unsubscribe/{token}",
            get(one_click::page).post(one_click::unsubscribe),
        )
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route(
            crate::ingest::shipments::LUFTHANSA_CALLBACK_PATH,
            post(carrier_callbacks::lufthansa_push_without_token)
                .options(carrier_callbacks::lufthansa_preflight),
        )
        .route(
            &format!(
                "{}/{{token}}",
                crate::ingest::shipments::LUFTHANSA_CALLBACK_PATH
            ),
            post(carrier_callbacks::lufthansa_push).options(carrier_callbacks::lufthansa_preflight),
        )
        .merge(SwaggerUi::new("/docs").external_url_unchecked("/openapi.json", openapi_document()))
        .merge(extra.unwrap_or_default())
        .fallback(|| async { ApiError::NotFound("no such route".into()) })
        .method_not_allowed_fallback(|| async {
            ApiError::MethodNotAllowed("method not allowed on this route".into())
        })
        .layer(DefaultBodyLimit::max(extract::MAX_BODY_BYTES))
        .with_state(state);
    middleware::apply(router, request_timeout)
}
