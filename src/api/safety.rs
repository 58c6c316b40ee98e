//! What guards every `/v1` route, applied to the `/v1` router as a whole where
//! [`super::router`] nests it, outermost first:
//!
//! 1. the caller's API key is verified once ([`authenticate`]) and kept in the request's
//!    extensions, where the [`Caller`]/[`super::auth::Tenant`] extractors find it;
//! 2. [`rate_limit`]: `server.rate_limit` per key (`429 ErrRateLimited`);
//! 3. [`super::idempotency::layer`]: `Idempotency-Key` on every `POST`.
//!
//! A new route gets all three by being added to the `v1` router in [`super::router`] (any
//! method, any handler): the layers wrap that router after its last route, so no route
//! can be added beneath them by mistake. Routes outside `/v1` (health, carrier pushes,
//! one-click unsubscribe) are not API-key routes and get none of them.

use super::AppState;
use super::auth::{Caller, KeyRefused};
use super::error::ApiError;
use super::idempotency::{self, Idempotency};
use super::rate_limit::RateLimiter;
use crate::config::Settings;
use crate::store::TestLimit;
use axum::Router;
use axum::extract::{FromRequestParts, Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::{Next, from_fn_with_state};
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;

/// The limits of `/v1`, from the settings.
pub struct Safety {
    /// `None` when `server.rate_limit.per_second` is 0.
    pub rate_limiter: Option<RateLimiter>,
    pub idempotency: Idempotency,
    /// `subscriptions.test_limit` per hour.
    pub test_limit: TestLimit,
}

impl Safety {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            rate_limiter: RateLimiter::new(settings.server.rate_limit),
            idempotency: Idempotency::new(
                settings.server.idempotency_window.0,
                settings.server.request_timeout.0,
            ),
            test_limit: TestLimit {
                max: settings.subscriptions.test_limit,
                window: TimeDelta::hours(1),
            },
        }
    }
}

/// Wraps the `/v1` router in the layers of the module docs.
pub fn apply(v1: Router<AppState>, state: &AppState) -> Router<AppState> {
    // `Router::layer` puts each layer outside the previous ones: innermost first.
    v1.layer(from_fn_with_state(state.clone(), idempotency::layer))
        .layer(from_fn_with_state(state.clone(), rate_limit))
        .layer(from_fn_with_state(state.clone(), authenticate))
}

/// Verifies the presented key once per request. A refused key is remembered as refused, so
/// the handler's extractor answers 401 without asking the database again; a database error
/// leaves the verdict to the extractor, which reports it.
async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if !request.headers().contains_key(AUTHORIZATION) {
        return next.run(request).await;
    }
    let (mut parts, body) = request.into_parts();
    match Caller::from_request_parts(&mut parts, &state).await {
        Ok(caller) => {
            parts.extensions.insert(caller);
        }
        Err(ApiError::Unauthorized) => {
            parts.extensions.insert(KeyRefused);
        }
        Err(_) => {}
    }
    next.run(Request::from_parts(parts, body)).await
}

/// `server.rate_limit` for requests of a verified key (others are answered 401 anyway).
async fn rate_limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let (Some(limiter), Some(Caller(caller))) = (
        state.safety.rate_limiter.as_ref(),
        request.extensions().get::<Caller>(),
    ) else {
        return next.run(request).await;
    };
    let verdict = limiter.take(caller.tenant, tokio::time::Instant::now());
    let mut response = if verdict.allowed {
        next.run(request).await
    } else {
        limiter.refusal(verdict).into_response()
    };
    limiter.describe(verdict, response.headers_mut());
    response
}
