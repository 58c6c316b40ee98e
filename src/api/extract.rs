//! Extractors that turn axum's rejections into [`ApiError`]s, so malformed input gets the same
//! `{"error", "message"}` body as every other failure; and the ids in `/v1` paths, parsed once
//! and documented once (`params(SubscriptionPath)`).

use super::error::ApiError;
use crate::domain::SubscriptionId;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Path, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;
use utoipa::IntoParams;
use uuid::Uuid;

/// Largest request body accepted anywhere in the API.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON body of at most `MAX` bytes (the route's `DefaultBodyLimit` must allow as much).
/// Unlike `axum::Json` it does not insist on a `Content-Type` header, which many TMS
/// integrations forget; the body must still be JSON. One that says it is something else
/// (`text/plain`, a form) is `415 ErrUnsupportedMediaType`.
pub struct ApiJson<T, const MAX: usize = MAX_BODY_BYTES>(pub T);

impl<S, T, const MAX: usize> FromRequest<S> for ApiJson<T, MAX>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if let Some(declared) = req.headers().get(header::CONTENT_TYPE)
            && !is_json(declared.as_bytes())
        {
            return Err(ApiError::UnsupportedMediaType(format!(
                "the body must be JSON (`Content-Type: application/json`), not `{}`",
                String::from_utf8_lossy(declared.as_bytes())
            )));
        }
        read_json(req, state, MAX).await.map(ApiJson)
    }
}

/// A carrier's push: a JSON body whatever `Content-Type` it declares, since a carrier's
/// mislabelled push must still be heard.
pub struct PushedJson<T>(pub T);

impl<S, T> FromRequest<S> for PushedJson<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        read_json(req, state, MAX_BODY_BYTES).await.map(PushedJson)
    }
}

async fn read_json<S: Send + Sync, T: DeserializeOwned>(
    req: Request,
    state: &S,
    max: usize,
) -> Result<T, ApiError> {
    let bytes = Bytes::from_request(req, state)
        .await
        .map_err(|rejection: BytesRejection| {
            if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                ApiError::PayloadTooLarge(max / 1024)
            } else {
                ApiError::InvalidBody(rejection.body_text())
            }
        })?;
    serde_json::from_slice(&bytes)
        .map_err(|e| ApiError::InvalidBody(format!("request body is not valid: {e}")))
}

/// `application/json` or any `+json` type, with any parameters (`; charset=utf-8`).
fn is_json(content_type: &[u8]) -> bool {
    let text = String::from_utf8_lossy(content_type);
    let essence = text.split(';').next().unwrap_or_default().trim();
    let essence = essence.to_ascii_lowercase();
    essence == "application/json"
        || essence
            .strip_prefix("application/")
            .is_some_and(|subtype| subtype.ends_with("+json"))
}

/// Query parameters, with rejections reported as `ErrInvalidQuery`.
pub struct ApiQuery<T>(pub T);

impl<S, T> FromRequestParts<S> for ApiQuery<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| ApiQuery(q.0))
            .map_err(|e| ApiError::InvalidQuery(e.body_text()))
    }
}

/// The `{id}` of a route under `/v1/subscriptions/{id}`, parsed once. A malformed id cannot
/// name a subscription, so it is `404 ErrSubscriptionNotFound` rather than a bad request.
#[derive(Debug, Clone, Copy, IntoParams)]
#[into_params(names("id"), parameter_in = Path)]
pub struct SubscriptionPath(
    /// Subscription id
    #[param(value_type = Uuid)]
    pub SubscriptionId,
);

impl<S: Send + Sync> FromRequestParts<S> for SubscriptionPath {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = path_segment(parts, state).await?;
        parse_id(&raw)
            .map(SubscriptionPath)
            .map_err(IntoResponse::into_response)
    }
}

/// The `{id}` of `/v1/deliveries/{id}/retry`: a delivery log entry's id. A malformed one is
/// `404 ErrDeliveryNotFound`, like a subscription's.
#[derive(Debug, Clone, Copy, IntoParams)]
#[into_params(names("id"), parameter_in = Path)]
pub struct DeliveryPath(
    /// Delivery id (from the delivery log)
    pub Uuid,
);

impl<S: Send + Sync> FromRequestParts<S> for DeliveryPath {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let raw = path_segment(parts, state).await?;
        Uuid::parse_str(&raw).map(DeliveryPath).map_err(|_| {
            ApiError::DeliveryNotFound(format!("`{raw}` is not a delivery id")).into_response()
        })
    }
}

/// A subscription id as the API and the console take it from a path.
pub(crate) fn parse_id(raw: &str) -> Result<SubscriptionId, ApiError> {
    Uuid::parse_str(raw)
        .map(SubscriptionId::from)
        .map_err(|_| ApiError::SubscriptionNotFound(raw.to_owned()))
}

/// The route's one path parameter, as text. A segment that is not UTF-8 keeps axum's own
/// rejection, as `Path<String>` answered it.
async fn path_segment<S: Send + Sync>(parts: &mut Parts, state: &S) -> Result<String, Response> {
    Path::<String>::from_request_parts(parts, state)
        .await
        .map(|Path(raw)| raw)
        .map_err(IntoResponse::into_response)
}
