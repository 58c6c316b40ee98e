//! `POST /v1/subscriptions/batch`: up to [`MAX_BATCH_ITEMS`] create bodies in one request, each
//! answered as the single create would answer it, in input order. Each item is checked on its
//! own (a malformed item fails only itself), each distinct callback URL is vetted once,
//! several at a time, and the store writes every accepted item in a few multi-row statements.
//! `skyhook import` goes through [`create_batch`] too.

use super::Subscribing;
use super::dto::{CreateSubscriptionRequest, SavedSubscriptionResponse};
use super::saved_response;
use crate::api::AppState;
use crate::api::auth::Caller;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::ApiJson;
use crate::domain::{AllowNetworks, CallbackUrl, TenantId};
use crate::store::NewSubscription;
use axum::Json;
use axum::extract::State;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use utoipa::ToSchema;

/// The most items one batch may carry.
pub const MAX_BATCH_ITEMS: usize = 1000;
/// The largest batch body: 1,000 items of about 2 KiB each.
pub const MAX_BATCH_BYTES: usize = 2 * 1024 * 1024;
/// Callback URLs vetted (guard and preflight) at once.
const VET_CONCURRENCY: usize = 16;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(example = json!({"items": [
    {"awb": "020-08002050", "url": "https://tms.example.com/hooks/skyhook", "reference": "PO-4711"},
    {"awb": "176-12345675", "feed": true}
]}))]
pub struct BatchRequest {
    /// Up to 1,000 bodies of `POST /v1/subscriptions`.
    #[schema(value_type = Vec<CreateSubscriptionRequest>, max_items = 1000)]
    pub items: Vec<serde_json::Value>,
}

/// One item's outcome: `status` is what the single create would have answered.
#[derive(Debug, Serialize, ToSchema)]
pub struct BatchItemResult {
    /// The item's place in `items`, from 0.
    pub index: usize,
    /// 201 when created, otherwise the single create's error status.
    #[schema(example = 201)]
    pub status: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subscription: Option<SavedSubscriptionResponse>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorBody>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BatchResponse {
    /// One per item, in input order.
    pub results: Vec<BatchItemResult>,
}

/// Create up to 1,000 subscriptions in one request.
#[utoipa::path(post, path = "/v1/subscriptions/batch", tag = "subscriptions",
    request_body = BatchRequest,
    responses(
        (status = 200, description = "One result per item, in input order; an item's `status` and `error` are what `POST /v1/subscriptions` would have answered for it", body = BatchResponse),
        (status = 400, description = "ErrInvalidBody (not `{\"items\": [...]}`) or ErrTooManyItems (over 1,000 items); no item was created", body = ErrorBody),
        (status = 413, description = "ErrPayloadTooLarge (body over 2 MiB)", body = ErrorBody)))]
pub async fn create_many(
    State(state): State<AppState>,
    Caller(key): Caller,
    ApiJson(body): ApiJson<BatchRequest, MAX_BATCH_BYTES>,
) -> Result<Json<BatchResponse>, ApiError> {
    if body.items.len() > MAX_BATCH_ITEMS {
        return Err(ApiError::TooManyItems(format!(
            "a batch holds at most {MAX_BATCH_ITEMS} items; {} were given (split it)",
            body.items.len()
        )));
    }
    let outcomes = create_batch(
        &state.subscribing(),
        key.tenant,
        &key.allow_networks,
        body.items,
    )
    .await?;
    let results = outcomes
        .into_iter()
        .enumerate()
        .map(|(index, outcome)| match outcome {
            Ok(saved) => BatchItemResult {
                index,
                status: 201,
                subscription: Some(saved),
                error: None,
            },
            Err(err) => {
                if let ApiError::Internal(cause) = &err {
                    tracing::error!(error = format!("{cause:#}"), index, "batch item failed");
                }
                BatchItemResult {
                    index,
                    status: err.status().as_u16(),
                    subscription: None,
                    error: Some(err.body()),
                }
            }
        })
        .collect();
    Ok(Json(BatchResponse { results }))
}

/// Creates each item as the single create would, for a tenant whose key allows `networks`;
/// one outcome per item, in input order. Fails as a whole only when the store does.
pub async fn create_batch(
    subscribing: &Subscribing,
    tenant: TenantId,
    networks: &AllowNetworks,
    items: Vec<serde_json::Value>,
) -> Result<Vec<Result<SavedSubscriptionResponse, ApiError>>, ApiError> {
    let mut outcomes: Vec<Result<NewSubscription, ApiError>> = Vec::with_capacity(items.len());
    for item in items {
        let prepared = match serde_json::from_value::<CreateSubscriptionRequest>(item) {
            Ok(body) => subscribing.prepare(tenant, body).await,
            Err(e) => Err(ApiError::InvalidBody(format!("item is not valid: {e}"))),
        };
        outcomes.push(prepared);
    }
    let vetted = vet_urls(subscribing, networks, &outcomes).await;
    let outcomes: Vec<Result<NewSubscription, ApiError>> = outcomes
        .into_iter()
        .map(|prepared| {
            let new = prepared?;
            match new
                .channels
                .url
                .as_ref()
                .and_then(|u| vetted.get(u.as_str()))
            {
                Some(Err(refusal)) => Err(refusal.again()),
                _ => Ok(new),
            }
        })
        .collect();
    // The accepted items go to the store together; each answer goes back to its place.
    let mut places = Vec::new();
    let mut batch = Vec::new();
    let mut secrets = Vec::new();
    let mut results: Vec<Option<Result<SavedSubscriptionResponse, ApiError>>> = Vec::new();
    for (index, outcome) in outcomes.into_iter().enumerate() {
        match outcome {
            Ok(new) => {
                places.push(index);
                secrets.push(new.signing_secret.expose().to_owned());
                batch.push(new);
                results.push(None);
            }
            Err(err) => results.push(Some(Err(err))),
        }
    }
    let saved = subscribing.store.create_subscriptions(batch).await?;
    for ((index, secret), saved) in places.into_iter().zip(secrets).zip(saved) {
        results[index] = Some(
            saved
                .map(|saved| saved_response(saved, Some(secret)))
                .map_err(ApiError::from),
        );
    }
    Ok(results
        .into_iter()
        .map(|r| r.expect("every item has an outcome"))
        .collect())
}

/// Why a callback URL was refused, kept to answer every item that names it.
enum Refusal {
    Url(String),
    Preflight(String),
    Internal(String),
}

impl Refusal {
    fn of(err: ApiError) -> Self {
        match err {
            ApiError::InvalidUrl(m) => Self::Url(m),
            ApiError::CallbackPreflightFailed(m) => Self::Preflight(m),
            other => Self::Internal(format!("{:#}", anyhow::Error::from(other))),
        }
    }

    fn again(&self) -> ApiError {
        match self {
            Self::Url(m) => ApiError::InvalidUrl(m.clone()),
            Self::Preflight(m) => ApiError::CallbackPreflightFailed(m.clone()),
            Self::Internal(m) => ApiError::Internal(anyhow::anyhow!(m.clone())),
        }
    }
}

/// Vets each distinct callback URL of the prepared items once (a TMS gives most of its AWBs
/// the same URL), [`VET_CONCURRENCY`] at a time.
async fn vet_urls(
    subscribing: &Subscribing,
    networks: &AllowNetworks,
    prepared: &[Result<NewSubscription, ApiError>],
) -> HashMap<String, Result<(), Refusal>> {
    let mut urls: Vec<CallbackUrl> = prepared
        .iter()
        .filter_map(|p| p.as_ref().ok()?.channels.url.clone())
        .collect();
    urls.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    urls.dedup_by(|a, b| a.as_str() == b.as_str());
    // Owned in each task: a stream of futures borrowing from here does not satisfy the
    // handler's `Send` bound.
    let callbacks = subscribing.callbacks.clone();
    futures_util::stream::iter(urls)
        .map(|url| {
            let (callbacks, networks) = (callbacks.clone(), networks.clone());
            async move {
                let vetted = callbacks.vet(&url, &networks).await;
                (url.as_str().to_owned(), vetted.map_err(Refusal::of))
            }
        })
        .buffer_unordered(VET_CONCURRENCY)
        .collect()
        .await
}
