//! What a console page can fail with, and the page each failure shows.

use super::page::{self, Page};
use crate::api::error::ApiError;
use crate::store::StoreError;
use askama::Template;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum ConsoleError {
    /// Unknown, or another tenant's: the same page either way.
    #[error("not found")]
    NotFound,
    /// A form posted without this session's CSRF token.
    #[error("the form's security token is missing or out of date")]
    Csrf,
    #[error(transparent)]
    Api(#[from] ApiError),
    #[error("cannot render the page")]
    Render(#[from] askama::Error),
}

impl From<StoreError> for ConsoleError {
    fn from(e: StoreError) -> Self {
        Self::Api(ApiError::from(e))
    }
}

#[derive(Template)]
#[template(path = "console/error.html")]
struct ErrorPage {
    page: Page,
    heading: &'static str,
    detail: String,
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        let (status, heading, detail) = match &self {
            Self::NotFound => (
                StatusCode::NOT_FOUND,
                "Not found",
                "There is nothing here for this API key.".to_owned(),
            ),
            Self::Csrf => (
                StatusCode::FORBIDDEN,
                "Form expired",
                "The form's security token is missing or out of date. Go back, reload the \
                 page and try again."
                    .to_owned(),
            ),
            Self::Api(ApiError::Internal(cause)) => {
                tracing::error!(error = format!("{cause:#}"), "console page failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The page could not be shown. Try again in a moment.".to_owned(),
                )
            }
            Self::Api(e) => (e.status(), "Cannot do that", page::api_error(e)),
            Self::Render(e) => {
                tracing::error!(error = %e, "console template failed");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong",
                    "The page could not be shown.".to_owned(),
                )
            }
        };
        let retry_after = match &self {
            Self::Api(e) => e.retry_after(),
            _ => None,
        };
        let body = page::render(&ErrorPage {
            page: Page::error(heading),
            heading,
            detail,
        })
        .map(IntoResponse::into_response)
        .unwrap_or_else(|_| heading.into_response());
        let mut response = (status, body).into_response();
        if let Some(seconds) = retry_after {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
