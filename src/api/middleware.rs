//! Cross-cutting HTTP concerns: request ids, the request span, timeouts and request metrics.

use super::error::ApiError;
use axum::Router;
use axum::extract::{MatchedPath, Request};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use std::time::{Duration, Instant};
use tower::ServiceBuilder;
use tower_http::request_id::{
    MakeRequestUuid, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::trace::{DefaultOnResponse, TraceLayer};
use tracing::Level;

/// The layers around every route, outermost first: assign a request id, open the request span
/// (method, path, id — never headers, so `Authorization` stays out of logs, and for a route
/// with a `{token}` its template, so no token is logged), echo the id, record metrics, and
/// bound the request's time.
pub fn apply(router: Router, request_timeout: Duration) -> Router {
    router.layer(
        ServiceBuilder::new()
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(
                TraceLayer::new_for_http()
                    .make_span_with(|req: &Request| {
                        let request_id = req
                            .extensions()
                            .get::<RequestId>()
                            .and_then(|id| id.header_value().to_str().ok())
                            .unwrap_or_default();
                        tracing::info_span!(
                            "request",
                            method = %req.method(),
                            path = loggable_path(req),
                            request_id,
                            tenant = tracing::field::Empty,
                        )
                    })
                    .on_response(DefaultOnResponse::new().level(Level::INFO)),
            )
            .layer(PropagateRequestIdLayer::x_request_id())
            .layer(axum::middleware::from_fn(record_metrics))
            .layer(axum::middleware::from_fn(move |req, next| {
                timeout(request_timeout, req, next)
            })),
    )
}

/// The request's path, or the template of its route when the path carries a secret (a
/// carrier's callback token, an unsubscribe token).
fn loggable_path(req: &Request) -> &str {
    match req.extensions().get::<MatchedPath>() {
        Some(route) if route.as_str().contains("{token}") => route.as_str(),
        _ => req.uri().path(),
    }
}

async fn timeout(limit: Duration, req: Request, next: Next) -> Response {
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(response) => response,
        Err(_) => ApiError::Timeout.into_response(),
    }
}

async fn record_metrics(req: Request, next: Next) -> Response {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let method = req.method().to_string();
    let started = Instant::now();
    let response = next.run(req).await;
    let labels = [
        ("method", method),
        ("route", route),
        ("status", response.status().as_u16().to_string()),
    ];
    metrics::counter!("skyhook_http_requests_total", &labels).increment(1);
    metrics::histogram!("skyhook_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}
