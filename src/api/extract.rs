//! Extractors that turn axum's rejections into [`ApiError`]s, so malformed input gets the same
//! `{"error", "message"}` body as every other failure.

use super::error::ApiError;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

/// Largest request body accepted anywhere in the API.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// A JSON body of at most `MAX` bytes (the route's `DefaultBodyLimit` must allow as much).
/// Unlike `axum::Json` it does not insist on a `Content-Type` header, which many TMS
/// integrations forget; the body must still be JSON.
pub struct ApiJson<T, const MAX: usize = MAX_BODY_BYTES>(pub T);

impl<S, T, const MAX: usize> FromRequest<S> for ApiJson<T, MAX>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        let bytes =
            Bytes::from_request(req, state)
                .await
                .map_err(|rejection: BytesRejection| {
                    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                        ApiError::PayloadTooLarge(MAX / 1024)
                    } else {
                        ApiError::InvalidBody(rejection.body_text())
                    }
                })?;
        serde_json::from_slice(&bytes)
            .map(ApiJson)
            .map_err(|e| ApiError::InvalidBody(format!("request body is not valid: {e}")))
    }
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
