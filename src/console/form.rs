//! The new-subscription form. It goes through the API's own create (`create_for`), so a form
//! gets exactly the validation, error names and duplicate rules of `POST /v1/subscriptions`;
//! a refusal shows the form again with the error beside its field.

use super::ConsoleError;
use super::extract::ConsoleForm;
use super::page::{self, Page};
use super::session::Signed;
use super::subscriptions::describe_target;
use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::subscriptions::batch::MAX_BATCH_ITEMS;
use crate::api::subscriptions::dto::{CreateSubscriptionRequest, FlightRequest};
use crate::api::subscriptions::{create_for, parse_reference, parse_states};
use askama::Template;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

/// What the new-subscription form holds, as typed (shown again beside its errors).
#[derive(Deserialize, Default)]
pub struct NewForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    awb: String,
    #[serde(default)]
    flight_number: String,
    #[serde(default)]
    flight_date: String,
    #[serde(default)]
    flight_origin: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    emails: String,
    #[serde(default)]
    states: String,
    #[serde(default)]
    reference: String,
}

impl NewForm {
    /// The API request the form stands for; empty fields are left out.
    fn request(&self) -> CreateSubscriptionRequest {
        let given = |s: &str| Some(s.trim().to_owned()).filter(|s| !s.is_empty());
        let list = |s: &str, separators: &[char]| {
            let items: Vec<String> = s
                .split(separators)
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            (!items.is_empty()).then_some(items)
        };
        let flight = given(&self.flight_number).map(|number| FlightRequest {
            number,
            date: self.flight_date.trim().to_owned(),
            origin: given(&self.flight_origin),
        });
        CreateSubscriptionRequest {
            awb: given(&self.awb),
            flight,
            flight_uuid: None,
            url: given(&self.url),
            emails: list(&self.emails, &['\n', '\r', ',', ';']),
            feed: None,
            states: list(&self.states, &[',', ' ', '\n']),
            reference: given(&self.reference),
            headers: None,
        }
    }
}

/// An error shown beside the field it is about.
#[derive(Default)]
pub struct FieldErrors {
    pub awb: Option<String>,
    pub flight_number: Option<String>,
    pub flight_date: Option<String>,
    pub flight_origin: Option<String>,
    pub url: Option<String>,
    pub emails: Option<String>,
    pub states: Option<String>,
    pub reference: Option<String>,
    /// Errors of no one field (no target given, already subscribed…).
    pub form: Option<String>,
}

impl FieldErrors {
    /// Puts the API's error for `request` beside the field it is about, as `ErrName:
    /// message`. The states and the reference share the API's `ErrInvalidBody`: theirs is the
    /// one the API's own parser of that field refuses.
    fn of(err: &ApiError, request: &CreateSubscriptionRequest) -> Self {
        let text = Some(page::api_error(err));
        let mut errors = Self::default();
        let slot = match err {
            ApiError::Awb(_) | ApiError::NoCarrier(_) => &mut errors.awb,
            ApiError::InvalidFlightNumber(_) => &mut errors.flight_number,
            ApiError::InvalidFlightDate(_) => &mut errors.flight_date,
            ApiError::InvalidUrl(_) | ApiError::CallbackPreflightFailed(_) => &mut errors.url,
            ApiError::InvalidEmail(_)
            | ApiError::MaximumFiveEmails(_)
            | ApiError::AllEmailsSubscribed(_) => &mut errors.emails,
            ApiError::InvalidBody(_) if parse_states(request.states.as_deref()).is_err() => {
                &mut errors.states
            }
            ApiError::InvalidBody(_) if parse_reference(request.reference.as_deref()).is_err() => {
                &mut errors.reference
            }
            _ => &mut errors.form,
        };
        *slot = text;
        errors
    }
}

#[derive(Template)]
#[template(path = "console/new.html")]
struct NewPage {
    page: Page,
    form: NewForm,
    errors: FieldErrors,
    max_rows: usize,
}

/// `GET /console/subscriptions/new`.
pub async fn new_form(signed: Signed) -> Result<Response, ConsoleError> {
    let html = page::render(&NewPage {
        page: Page::signed("New subscription", &signed, "new"),
        form: NewForm {
            states: "*".to_owned(),
            ..NewForm::default()
        },
        errors: FieldErrors::default(),
        max_rows: MAX_BATCH_ITEMS,
    })?;
    Ok(html.into_response())
}

#[derive(Template)]
#[template(path = "console/created.html")]
struct CreatedPage {
    page: Page,
    id: String,
    target: String,
    secret: String,
    skipped_emails: Vec<String>,
}

/// `POST /console/subscriptions`: the form, through the API's create. A refusal shows the form
/// again with the error beside its field, and stores nothing.
pub async fn create(
    State(state): State<AppState>,
    signed: Signed,
    ConsoleForm(form): ConsoleForm<NewForm>,
) -> Result<Response, ConsoleError> {
    signed.check_csrf(&form.csrf)?;
    match create_for(&state, &signed.key, form.request()).await {
        Ok(saved) => {
            let html = page::render(&CreatedPage {
                page: Page::signed("Subscription created", &signed, "new"),
                id: saved.subscription.id.to_string(),
                target: describe_target(&saved.subscription),
                secret: saved.signing_secret.unwrap_or_default(),
                skipped_emails: saved.skipped_emails,
            })?;
            Ok((StatusCode::CREATED, html).into_response())
        }
        Err(ApiError::Internal(cause)) => Err(ApiError::Internal(cause).into()),
        Err(refused) => {
            let status = refused.status();
            let html = page::render(&NewPage {
                page: Page::signed("New subscription", &signed, "new"),
                errors: FieldErrors::of(&refused, &form.request()),
                form,
                max_rows: MAX_BATCH_ITEMS,
            })?;
            Ok((status, html).into_response())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_form_becomes_the_api_request_it_stands_for() {
        let form = NewForm {
            awb: " 020-08002050 ".into(),
            emails: "a@x.io\r\nb@x.io, c@x.io".into(),
            states: "DEP, ARR".into(),
            ..NewForm::default()
        };
        let request = form.request();
        assert_eq!(request.awb.as_deref(), Some("020-08002050"));
        assert_eq!(request.emails.unwrap(), vec!["a@x.io", "b@x.io", "c@x.io"]);
        assert_eq!(request.states.unwrap(), vec!["DEP", "ARR"]);
        assert!(request.url.is_none() && request.flight.is_none() && request.reference.is_none());
    }

    #[test]
    fn errors_go_beside_their_field() {
        let request = NewForm::default().request();
        let err = ApiError::InvalidEmail("`emails[0]` is not an email".into());
        let errors = FieldErrors::of(&err, &request);
        assert!(errors.emails.unwrap().starts_with("ErrInvalidEmail: "));
        assert!(errors.awb.is_none() && errors.form.is_none());
        let missing = ApiError::MissingKeyParams("give a target".into());
        assert!(FieldErrors::of(&missing, &request).form.is_some());
    }

    #[test]
    fn a_bad_states_or_reference_is_told_apart_by_the_apis_own_parsers() {
        let bad_states = NewForm {
            states: "DEP, not a code!".into(),
            ..NewForm::default()
        }
        .request();
        let err = parse_states(bad_states.states.as_deref()).unwrap_err();
        let errors = FieldErrors::of(&err, &bad_states);
        assert!(errors.states.is_some() && errors.form.is_none(), "{err}");
        let long_reference = NewForm {
            reference: "x".repeat(10_000),
            ..NewForm::default()
        }
        .request();
        let err = parse_reference(long_reference.reference.as_deref()).unwrap_err();
        let errors = FieldErrors::of(&err, &long_reference);
        assert!(
            errors.reference.is_some() && errors.states.is_none(),
            "{err}"
        );
        // Any other ErrInvalidBody is the form's.
        let other = ApiError::InvalidBody("something else".into());
        let fine = NewForm::default().request();
        assert!(FieldErrors::of(&other, &fine).form.is_some());
    }
}
