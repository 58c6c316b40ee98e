//! The console's form bodies: read as `application/x-www-form-urlencoded`, a refusal shown as
//! a console page naming what was wrong (like the API's errors), never axum's plain text.

use super::ConsoleError;
use crate::api::error::ApiError;
use crate::api::extract::MAX_BODY_BYTES;
use axum::extract::rejection::FormRejection;
use axum::extract::{Form, FromRequest, Request};
use axum::http::StatusCode;
use serde::de::DeserializeOwned;

/// A posted form.
pub struct ConsoleForm<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for ConsoleForm<T> {
    type Rejection = ConsoleError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ConsoleError> {
        Form::<T>::from_request(request, state)
            .await
            .map(|Form(form)| ConsoleForm(form))
            .map_err(|rejection| form_refused(rejection).into())
    }
}

/// Why a form could not be read: too large, not sent as a form, or not this form.
pub(super) fn form_refused(rejection: FormRejection) -> ApiError {
    match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge(MAX_BODY_BYTES / 1024),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => ApiError::UnsupportedMediaType(format!(
            "the form must be sent as application/x-www-form-urlencoded: {rejection}"
        )),
        _ => ApiError::InvalidBody(format!("the form could not be read: {rejection}")),
    }
}
