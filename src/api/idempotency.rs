//! Safe retries: a `POST` under `/v1` that carries `Idempotency-Key` runs at most once per API
//! key and key within `server.idempotency_window`. The first request claims the key in the
//! database (so instances sharing it agree) and its answer is kept; the same request again
//! (same method, path and body) gets that answer replayed, marked `Idempotent-Replayed: true`;
//! the key with another request is `409 ErrIdempotencyKeyReused`; the same request while the
//! first still runs is `409 ErrIdempotencyKeyInFlight` with `Retry-After: 1` (it is not run
//! twice, and the client is not held waiting).
//!
//! Only answers that are the request's outcome are kept: 2xx, and 4xx except 408, 409 and 429,
//! which say "try again". After a 5xx, a timeout or one of those, the key is released and a
//! retry runs the request again. The request runs in a task of its own, so a client that gives
//! up (the TMS timing out) does not cut it short: its answer is still kept for the retry.

use super::AppState;
use super::auth::Caller;
use super::error::ApiError;
use crate::domain::idempotency::request_fingerprint;
use crate::domain::{IdempotencyKey, TenantId};
use crate::store::{IdempotencyClaim, KeyState, StoredResponse};
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::TimeDelta;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;
use uuid::Uuid;

const HEADER: &str = "idempotency-key";
/// Marks a replayed answer.
const REPLAYED: &str = "idempotent-replayed";

/// The largest request body fingerprinted: the largest any route takes (the batch's), so a
/// keyed request holds no more than an unkeyed one could; each route's own limit still applies.
const MAX_REQUEST_BYTES: usize = super::subscriptions::batch::MAX_BATCH_BYTES;
/// The largest answer kept for replays.
const MAX_RESPONSE_BYTES: usize = 32 << 20;
/// Headers of an answer that are replayed with it.
const KEPT_HEADERS: [HeaderName; 2] = [header::CONTENT_TYPE, header::LOCATION];
/// Expired keys are deleted at most this often by each instance.
const PURGE_EVERY: TimeDelta = TimeDelta::minutes(10);

/// The settings of safe retries.
pub struct Idempotency {
    /// How long answers are replayed (`server.idempotency_window`).
    pub window: TimeDelta,
    /// How long a request may run (`server.request_timeout`); its claim holds a little longer,
    /// so a retry takes it over only once the first run has certainly ended.
    pub run_limit: Duration,
    last_purge: AtomicI64,
}

impl Idempotency {
    pub fn new(window: Duration, run_limit: Duration) -> Self {
        Self {
            window: TimeDelta::from_std(window).unwrap_or(TimeDelta::MAX),
            run_limit,
            last_purge: AtomicI64::new(i64::MIN),
        }
    }
}

/// The middleware (see the module docs).
pub async fn layer(State(state): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(raw) = request.headers().get(HEADER) else {
        return next.run(request).await;
    };
    // Without a verified key the handler answers 401 itself.
    let Some(Caller(caller)) = request.extensions().get::<Caller>().cloned() else {
        return next.run(request).await;
    };
    let key = match IdempotencyKey::parse(raw.as_bytes()) {
        Ok(key) => key,
        Err(e) => return ApiError::InvalidIdempotencyKey(e.to_string()).into_response(),
    };
    run_once(state, caller.tenant, key, request, next)
        .await
        .unwrap_or_else(IntoResponse::into_response)
}

async fn run_once(
    state: AppState,
    tenant: TenantId,
    key: IdempotencyKey,
    request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let (parts, body) = request.into_parts();
    let body = axum::body::to_bytes(body, MAX_REQUEST_BYTES)
        .await
        .map_err(|_| ApiError::PayloadTooLarge(MAX_REQUEST_BYTES / 1024))?;
    let path = parts.uri.path_and_query().map_or("", |p| p.as_str());
    let settings = &state.safety.idempotency;
    let now = state.clock.now();
    let lock = TimeDelta::from_std(settings.run_limit).unwrap_or(TimeDelta::MAX);
    let claim = IdempotencyClaim {
        tenant,
        key: key.clone(),
        fingerprint: request_fingerprint(parts.method.as_str(), path, &body),
        owner: Uuid::new_v4(),
        now,
        locked_until: now + lock + TimeDelta::seconds(5),
        expires_at: now + settings.window,
    };
    purge_now_and_then(&state, now);
    match state.store.claim_idempotency_key(&claim).await? {
        KeyState::Claimed => {}
        KeyState::Replay(stored) => return Ok(replay(stored)),
        KeyState::Reused => {
            return Err(ApiError::IdempotencyKeyReused(format!(
                "Idempotency-Key `{}` was used for another request (method, path or body) \
                 within the last {}; use a new key for a new request",
                key.as_str(),
                humantime::format_duration(settings.window.to_std().unwrap_or_default())
            )));
        }
        KeyState::InFlight { locked_until } => {
            return Err(ApiError::IdempotencyKeyInFlight(format!(
                "the request first sent with Idempotency-Key `{}` is still running (for \
                 {} s at most); retry it in a moment to get its answer",
                key.as_str(),
                (locked_until - now).num_seconds().max(1)
            )));
        }
    }
    let request = Request::from_parts(parts, Body::from(body));
    let run_limit = settings.run_limit;
    // In a task of its own: see the module docs.
    let task = tokio::spawn(async move {
        let outcome = match tokio::time::timeout(run_limit, next.run(request)).await {
            Ok(response) => keep(response).await,
            Err(_) => Err(ApiError::Timeout),
        };
        let kept = match &outcome {
            Ok((_, Some(stored))) => state
                .store
                .complete_idempotency_key(&claim, stored)
                .await
                .inspect_err(|e| tracing::error!(error = %e, "cannot keep an answer for replays")),
            _ => Ok(false),
        };
        if !matches!(kept, Ok(true)) {
            // Not kept (or the claim lapsed and was taken over): a retry runs the request.
            if let Err(e) = state.store.release_idempotency_key(&claim).await {
                tracing::error!(error = %e, "cannot release an idempotency key");
            }
        }
        outcome.map(|(response, _)| response)
    });
    match task.await {
        Ok(outcome) => outcome.map(|response| response.map(Body::from)),
        Err(e) => Err(ApiError::Internal(anyhow::anyhow!(
            "request task failed: {e}"
        ))),
    }
}

/// Reads an answer whole, and what of it is kept for replays (`None` if it is not kept).
async fn keep(
    response: Response,
) -> Result<(axum::http::Response<Bytes>, Option<StoredResponse>), ApiError> {
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_RESPONSE_BYTES)
        .await
        .map_err(|e| ApiError::Internal(anyhow::anyhow!("cannot read an answer: {e}")))?;
    let status = parts.status;
    let replayable = (status.is_success() || status.is_client_error())
        && !matches!(
            status,
            StatusCode::REQUEST_TIMEOUT | StatusCode::CONFLICT | StatusCode::TOO_MANY_REQUESTS
        );
    let stored = match std::str::from_utf8(&bytes) {
        Ok(text) if replayable => Some(StoredResponse {
            status: status.as_u16(),
            headers: KEPT_HEADERS
                .iter()
                .filter_map(|name| {
                    let value = parts.headers.get(name)?.to_str().ok()?;
                    Some((name.as_str().to_owned(), value.to_owned()))
                })
                .collect(),
            body: text.to_owned(),
        }),
        _ => None,
    };
    Ok((axum::http::Response::from_parts(parts, bytes), stored))
}

fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    let headers = response.headers_mut();
    headers.remove(header::CONTENT_TYPE);
    for (name, value) in stored.headers {
        if let (Ok(name), Ok(value)) = (HeaderName::try_from(name), HeaderValue::try_from(value)) {
            headers.insert(name, value);
        }
    }
    headers.insert(REPLAYED, HeaderValue::from_static("true"));
    response
}

/// Deletes expired keys in the background, at most every [`PURGE_EVERY`] per instance.
fn purge_now_and_then(state: &AppState, now: chrono::DateTime<chrono::Utc>) {
    let last = &state.safety.idempotency.last_purge;
    let previous = last.load(Ordering::Relaxed);
    let due = previous == i64::MIN || now.timestamp() - previous >= PURGE_EVERY.num_seconds();
    if !due
        || last
            .compare_exchange(
                previous,
                now.timestamp(),
                Ordering::Relaxed,
                Ordering::Relaxed,
            )
            .is_err()
    {
        return;
    }
    let store = state.store.clone();
    tokio::spawn(async move {
        match store.purge_idempotency_keys(now).await {
            Ok(0) => {}
            Ok(purged) => tracing::debug!(purged, "expired idempotency keys deleted"),
            Err(e) => tracing::warn!(error = %e, "cannot delete expired idempotency keys"),
        }
    });
}
