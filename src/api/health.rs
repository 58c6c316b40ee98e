//! Liveness, readiness and metrics: the unauthenticated operational endpoints.

use super::AppState;
use super::error::ErrorBody;
use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct HealthBody {
    /// `ok`, `ready`, `degraded` (ready, but a carrier refuses our credentials) or
    /// `unavailable`.
    pub status: &'static str,
    /// The storage backend (`postgres` or `sqlite`), on /readyz.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub database: Option<&'static str>,
    /// Why the server is not ready, or what is degraded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    /// Carriers and flight-status sources refusing Skyhook's credentials (a configuration
    /// error; what they serve is not being tracked). The server stays ready: the API and the
    /// other sources still work.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub carrier_errors: Vec<String>,
}

/// The process is up and serving HTTP.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, description = "Process is up", body = HealthBody)))]
pub async fn healthz() -> Json<HealthBody> {
    Json(HealthBody {
        status: "ok",
        database: None,
        detail: None,
        carrier_errors: Vec::new(),
    })
}

/// The server can do its work: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "operations", responses(
    (status = 200, description = "Ready", body = HealthBody),
    (status = 503, description = "Database unreachable", body = HealthBody)))]
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    let database = Some(state.store.backend());
    let carrier_errors: Vec<String> = state
        .carriers
        .auth_problems()
        .into_iter()
        .map(|(name, error)| format!("carriers.{name}: {error}"))
        .chain(
            state
                .flight_sources
                .auth_problems()
                .into_iter()
                .map(|(name, error)| format!("flights.{name}: {error}")),
        )
        .collect();
    match state.store.ping().await {
        Ok(()) => (
            StatusCode::OK,
            Json(HealthBody {
                status: if carrier_errors.is_empty() {
                    "ready"
                } else {
                    "degraded"
                },
                database,
                detail: None,
                carrier_errors,
            }),
        ),
        Err(err) => {
            tracing::warn!(
                error = format!("{:#}", anyhow::Error::from(err)),
                "not ready"
            );
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(HealthBody {
                    status: "unavailable",
                    database,
                    detail: Some("database unreachable".into()),
                    carrier_errors,
                }),
            )
        }
    }
}

/// Prometheus text exposition: request counts and latencies by route and status, pool state.
#[utoipa::path(get, path = "/metrics", tag = "operations", responses(
    (status = 200, description = "Prometheus metrics", content_type = "text/plain", body = String),
    (status = 500, description = "Internal error", body = ErrorBody)))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    let pool = state.store.pool_state();
    let backend = state.store.backend();
    metrics::gauge!("skyhook_db_pool_connections", "backend" => backend).set(pool.size);
    metrics::gauge!("skyhook_db_pool_idle_connections", "backend" => backend).set(pool.idle);
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
}
