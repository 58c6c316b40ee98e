//! The one error type of the HTTP API. Every failure a handler can meet becomes an `ApiError`,
//! and every `ApiError` becomes `{"error": NAME, "message": text}` with the right status. Names
//! follow the CargoAI error catalogue where it has one. The answers several routes share are
//! documented once, in `openapi::responses`.

use crate::domain::{
    AwbError, ChannelsError, DuplicateError, EmailAddress, FlightError, StatesError,
};
use crate::store::StoreError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    InvalidBody(String),
    #[error("{0}")]
    InvalidQuery(String),
    #[error("{0}")]
    MissingKeyParams(String),
    /// A batch of more items than one request may carry.
    #[error("{0}")]
    TooManyItems(String),
    #[error(transparent)]
    Awb(#[from] AwbError),
    #[error("{0}")]
    InvalidFlightNumber(String),
    #[error("{0}")]
    InvalidFlightDate(String),
    #[error("{0}")]
    InvalidFlightUuid(String),
    #[error("{0}")]
    MaximumFiveEmails(String),
    #[error("{0}")]
    InvalidEmail(String),
    #[error("{0}")]
    InvalidUrl(String),
    #[error("{0}")]
    AlreadySubscribed(String),
    #[error("every given email is already subscribed to this target")]
    AllEmailsSubscribed(Vec<EmailAddress>),
    #[error("{0}")]
    SubscriptionNotActive(String),
    #[error("a valid API key is required: send `Authorization: Bearer <key>`")]
    Unauthorized,
    #[error("no subscription with id `{0}` exists for this API key")]
    SubscriptionNotFound(String),
    /// An unsubscribe that matched nothing: named like a missing subscription, said of its target.
    #[error("{0}")]
    NothingToUnsubscribe(String),
    #[error("{0}")]
    DeliveryNotFound(String),
    /// A manual retry of a message whose attempt is running right now.
    #[error("{0}")]
    DeliveryInFlight(String),
    #[error("{0}")]
    CallbackPreflightFailed(String),
    #[error("no shipment {0} among the AWBs this API key subscribed to")]
    ShipmentNotFound(String),
    #[error("{0}")]
    FlightNotFound(String),
    #[error("{0}")]
    NoCarrier(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    MethodNotAllowed(String),
    #[error("request body is larger than the {0} KiB limit")]
    PayloadTooLarge(usize),
    /// A body declared as something other than JSON.
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the request took too long and was abandoned")]
    Timeout,
    /// A carrier push naming a subscription id Skyhook never registered (or has removed).
    #[error("{0}")]
    UnknownCarrierSubscription(String),
    /// Momentarily unable to serve; the caller should retry after a few seconds.
    #[error("{0}")]
    Busy(String),
    /// A malformed `Idempotency-Key` header.
    #[error("{0}")]
    InvalidIdempotencyKey(String),
    /// The `Idempotency-Key` was used before for another request.
    #[error("{0}")]
    IdempotencyKeyReused(String),
    /// The request first sent with this `Idempotency-Key` is still running.
    #[error("{0}")]
    IdempotencyKeyInFlight(String),
    /// The API key's request rate (`server.rate_limit`); retry after that many seconds.
    #[error(
        "too many requests for this API key: at most {burst} at once and {per_second} per second; retry in {retry_after} s"
    )]
    RateLimited {
        burst: u32,
        per_second: f64,
        retry_after: u64,
    },
    /// The subscription's test messages of the hour (`subscriptions.test_limit`).
    #[error("{message}")]
    TestLimitReached { message: String, retry_after: u64 },
    /// Anything the client could not have caused. Its cause is logged, never returned.
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    /// Stable machine-readable name, e.g. `ErrInvalidAWBCheckDigit`.
    #[schema(example = "ErrInvalidAWBCheckDigit")]
    pub error: &'static str,
    /// What went wrong, for people.
    pub message: String,
    /// For `AllEmailsSubscribed`: the emails that were already subscribed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub emails: Option<Vec<String>>,
}

impl ApiError {
    pub fn status(&self) -> StatusCode {
        match self {
            Self::Unauthorized => StatusCode::UNAUTHORIZED,
            Self::SubscriptionNotFound(_)
            | Self::NothingToUnsubscribe(_)
            | Self::ShipmentNotFound(_)
            | Self::FlightNotFound(_)
            | Self::DeliveryNotFound(_)
            | Self::UnknownCarrierSubscription(_)
            | Self::NotFound(_) => StatusCode::NOT_FOUND,
            Self::Busy(_) => StatusCode::SERVICE_UNAVAILABLE,
            Self::MethodNotAllowed(_) => StatusCode::METHOD_NOT_ALLOWED,
            Self::SubscriptionNotActive(_)
            | Self::DeliveryInFlight(_)
            | Self::IdempotencyKeyReused(_)
            | Self::IdempotencyKeyInFlight(_) => StatusCode::CONFLICT,
            Self::RateLimited { .. } | Self::TestLimitReached { .. } => {
                StatusCode::TOO_MANY_REQUESTS
            }
            Self::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            Self::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            Self::Timeout => StatusCode::REQUEST_TIMEOUT,
            Self::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
            _ => StatusCode::BAD_REQUEST,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Self::InvalidBody(_) => "ErrInvalidBody",
            Self::InvalidQuery(_) => "ErrInvalidQuery",
            Self::MissingKeyParams(_) => "ErrMissingKeyParams",
            Self::TooManyItems(_) => "ErrTooManyItems",
            Self::Awb(AwbError::NotDigits(_)) => "ErrInvalidAWB",
            Self::Awb(AwbError::Length { .. }) => "ErrInvalidAWBLength",
            Self::Awb(AwbError::CheckDigit { .. }) => "ErrInvalidAWBCheckDigit",
            Self::InvalidFlightNumber(_) => "ErrInvalidFlightNumber",
            Self::InvalidFlightDate(_) => "ErrInvalidFlightDate",
            Self::InvalidFlightUuid(_) => "ErrInvalidFlightUUID",
            Self::MaximumFiveEmails(_) => "ErrMaximumFiveEmails",
            Self::InvalidEmail(_) => "ErrInvalidEmail",
            Self::InvalidUrl(_) => "ErrInvalidUrl",
            Self::AlreadySubscribed(_) => "ErrAlreadySubscribed",
            Self::AllEmailsSubscribed(_) => "AllEmailsSubscribed",
            Self::SubscriptionNotActive(_) => "ErrSubscriptionNotActive",
            Self::Unauthorized => "ErrUnauthorized",
            Self::SubscriptionNotFound(_) | Self::NothingToUnsubscribe(_) => {
                "ErrSubscriptionNotFound"
            }
            Self::ShipmentNotFound(_) => "ErrShipmentNotFound",
            Self::FlightNotFound(_) => "ErrFlightNotFound",
            Self::DeliveryNotFound(_) => "ErrDeliveryNotFound",
            Self::DeliveryInFlight(_) => "ErrDeliveryInFlight",
            Self::CallbackPreflightFailed(_) => "ErrCallbackPreflightFailed",
            Self::NoCarrier(_) => "ErrNoCarrier",
            Self::NotFound(_) => "ErrNotFound",
            Self::MethodNotAllowed(_) => "ErrMethodNotAllowed",
            Self::PayloadTooLarge(_) => "ErrPayloadTooLarge",
            Self::UnsupportedMediaType(_) => "ErrUnsupportedMediaType",
            Self::Timeout => "ErrRequestTimeout",
            Self::UnknownCarrierSubscription(_) => "ErrUnknownCarrierSubscription",
            Self::Busy(_) => "ErrBusy",
            Self::InvalidIdempotencyKey(_) => "ErrInvalidIdempotencyKey",
            Self::IdempotencyKeyReused(_) => "ErrIdempotencyKeyReused",
            Self::IdempotencyKeyInFlight(_) => "ErrIdempotencyKeyInFlight",
            Self::RateLimited { .. } => "ErrRateLimited",
            Self::TestLimitReached { .. } => "ErrTestLimitReached",
            Self::Internal(_) => "ErrInternalServerError",
        }
    }
}

impl ApiError {
    /// What the client is told (never an internal error's cause).
    pub fn body(&self) -> ErrorBody {
        ErrorBody {
            error: self.name(),
            message: self.to_string(),
            emails: match self {
                Self::AllEmailsSubscribed(emails) => {
                    Some(emails.iter().map(|e| e.as_str().to_owned()).collect())
                }
                _ => None,
            },
        }
    }

    /// `subscriptions.test_limit` reached at `now`; the next test fits from `free_at`.
    pub fn test_limit(max: u32, free_at: DateTime<Utc>, now: DateTime<Utc>) -> Self {
        // Rounded up, so a client that waits that long is not refused again.
        let wait = (free_at - now)
            .num_milliseconds()
            .max(0)
            .unsigned_abs()
            .div_ceil(1000);
        Self::TestLimitReached {
            message: format!(
                "this subscription was sent its {max} test messages of the hour \
                 (subscriptions.test_limit); the next can be sent at {}",
                free_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
            ),
            retry_after: wait.max(1),
        }
    }

    /// Seconds for `Retry-After`, for the errors that are worth retrying as they are.
    pub fn retry_after(&self) -> Option<u64> {
        match self {
            Self::Busy(_) => Some(5),
            Self::IdempotencyKeyInFlight(_) => Some(1),
            Self::RateLimited { retry_after, .. } | Self::TestLimitReached { retry_after, .. } => {
                Some(*retry_after)
            }
            _ => None,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        if let Self::Internal(cause) = &self {
            // The one place a server-side failure is logged, with its whole cause chain, inside
            // the request's span (which carries the request id).
            tracing::error!(error = format!("{cause:#}"), "request failed");
        }
        let mut response = (self.status(), Json(self.body())).into_response();
        if matches!(self, Self::Unauthorized) {
            response
                .headers_mut()
                .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(seconds) = self.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Duplicate(dup) => dup.into(),
            StoreError::NotActive(status) => Self::SubscriptionNotActive(format!(
                "the subscription is {status}; only active subscriptions can be changed"
            )),

            other => Self::Internal(other.into()),
        }
    }
}

impl From<DuplicateError> for ApiError {
    fn from(err: DuplicateError) -> Self {
        match err {
            DuplicateError::UrlAlreadySubscribed(url) => Self::AlreadySubscribed(format!(
                "{url} is already subscribed to this target by an active subscription"
            )),
            DuplicateError::AllEmailsSubscribed(emails) => Self::AllEmailsSubscribed(emails),
            DuplicateError::FeedAlreadySubscribed => Self::AlreadySubscribed(
                "the feed is already subscribed to this target by an active subscription".into(),
            ),
        }
    }
}

impl From<ChannelsError> for ApiError {
    fn from(err: ChannelsError) -> Self {
        let message = err.to_string();
        match err {
            ChannelsError::NoChannel => Self::MissingKeyParams(message),
            ChannelsError::TooManyEmails(_) => Self::MaximumFiveEmails(message),
            ChannelsError::Url(_) => Self::InvalidUrl(message),
            ChannelsError::Email(_) => Self::InvalidEmail(message),
        }
    }
}

impl From<FlightError> for ApiError {
    fn from(err: FlightError) -> Self {
        match err {
            FlightError::Number(_) => Self::InvalidFlightNumber(err.to_string()),
            FlightError::Date(_) | FlightError::Airport(_) => Self::InvalidBody(err.to_string()),
        }
    }
}

impl From<StatesError> for ApiError {
    fn from(err: StatesError) -> Self {
        Self::InvalidBody(err.to_string())
    }
}
