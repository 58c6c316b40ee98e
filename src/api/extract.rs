//! Extractors that turn axum's rejections into [`ApiError`]s, so malformed input gets the same
//! `{"error", "message"}` body as every other failure.

use super::error::ApiError;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use serde::de::DeserializeOwned;

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
