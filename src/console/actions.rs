//! The buttons of a subscription's page: Retry, Retry all failed, Send test, Rotate secret and
//! Unsubscribe. Each is an [`Action`]: the form's CSRF token checked and the subscription
//! found among the tenant's before anything runs; then the API's own operation, after which
//! success redirects back to the page with a notice and a refusal shows the page again with
//! the API's error.

use super::ConsoleError;
use super::detail::{Summary, find, show};
use super::extract::form_refused;
use super::page::utc;
use super::session::Signed;
use crate::api::AppState;
use crate::api::deliveries::{queue_test, retry_delivery, rotate_signing_secret};
use crate::api::error::ApiError;
use crate::domain::SubscriptionId;
use crate::store::DeliveryScope;
use axum::extract::{Form, FromRequest, FromRequestParts, Path, RawPathParams, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use uuid::Uuid;

/// A button pressed on the page of subscription `{id}`: by a signed-in tenant whose
/// subscription it is, with the session's CSRF token in the form.
pub struct Action {
    signed: Signed,
    subscription: SubscriptionId,
    /// As written in the URL, for the way back.
    id: String,
    /// Whether the subscription is as the page that sent the form showed it (unchanged since;
    /// see [`Summary::version`]). Only rotating the secret needs it: any other button sent
    /// twice does no harm (a second test message, an unsubscribe that is already done).
    as_shown: bool,
}

/// A button's form: the session's CSRF token, and the version of the subscription the page
/// showed.
#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    version: String,
}

impl FromRequest<AppState> for Action {
    type Rejection = Response;

    async fn from_request(request: Request, state: &AppState) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let signed = Signed::from_request_parts(&mut parts, state).await?;
        let id = RawPathParams::from_request_parts(&mut parts, state)
            .await
            .map_err(IntoResponse::into_response)?
            .iter()
            .find(|(name, _)| *name == "id")
            .map(|(_, value)| value.to_owned())
            .unwrap_or_default();
        let Form(form) = Form::<ActionForm>::from_request(Request::from_parts(parts, body), state)
            .await
            .map_err(|rejection| match form_refused(rejection) {
                too_large @ ApiError::PayloadTooLarge(_) => {
                    ConsoleError::from(too_large).into_response()
                }
                // Not a form, so no token: refused like a form without one.
                _ => ConsoleError::Csrf.into_response(),
            })?;
        signed
            .check_csrf(&form.csrf)
            .map_err(IntoResponse::into_response)?;
        let subscription = find(state, &signed, &id)
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(Self {
            signed,
            subscription: subscription.id.into(),
            id,
            as_shown: form.version == Summary::version_of(&subscription),
        })
    }
}

impl Action {
    /// Back to the page with what was done, or the page again with why not.
    async fn then(
        &self,
        state: &AppState,
        outcome: Result<String, ApiError>,
    ) -> Result<Response, ConsoleError> {
        let id = &self.id;
        match outcome {
            Ok(done) => {
                Ok(Redirect::to(&format!("/console/subscriptions/{id}?{done}")).into_response())
            }
            Err(e @ ApiError::Internal(_)) => Err(e.into()),
            Err(refused) => {
                let status = refused.status();
                show(state, &self.signed, id, None, Some(&refused), None, status).await
            }
        }
    }

    fn tenant(&self) -> crate::domain::TenantId {
        self.signed.key.tenant
    }

    /// The messages a button may act on: this subscription's only.
    fn scope(&self) -> DeliveryScope {
        DeliveryScope::subscription(self.tenant(), self.subscription)
    }
}

/// `POST …/deliveries/{delivery}/retry`.
pub async fn retry(
    State(state): State<AppState>,
    Path((_, delivery)): Path<(String, String)>,
    action: Action,
) -> Result<Response, ConsoleError> {
    let delivery = Uuid::parse_str(&delivery).map_err(|_| ConsoleError::NotFound)?;
    let outcome = retry_delivery(&state, action.scope(), delivery)
        .await
        .map(|()| "done=retried".to_owned());
    action.then(&state, outcome).await
}

/// `POST …/retry-failed`: every failed message of the subscription, again.
pub async fn retry_failed(
    State(state): State<AppState>,
    action: Action,
) -> Result<Response, ConsoleError> {
    // One statement for all of them; one being attempted right now needs no push.
    let queued = state
        .store
        .retry_failed_deliveries(action.scope(), state.clock.now())
        .await
        .map_err(ApiError::from);
    let done = queued.map(|n| format!("done=retried-all&n={n}"));
    action.then(&state, done).await
}

/// `POST …/test`.
pub async fn send_test(
    State(state): State<AppState>,
    action: Action,
) -> Result<Response, ConsoleError> {
    let outcome = queue_test(&state, action.tenant(), action.subscription)
        .await
        .map(|_| "done=test".to_owned());
    action.then(&state, outcome).await
}

/// `POST …/rotate-secret`: the page again, with the new secret shown this once.
pub async fn rotate_secret(
    State(state): State<AppState>,
    action: Action,
) -> Result<Response, ConsoleError> {
    // A reload, or Back then Forward, sends the form again: rotating again would make the
    // secret just copied the old one, which stops signing in a day.
    if !action.as_shown {
        let notice = "The subscription changed since that page was shown (its secret was \
                      rotated, or it was updated), so the secret was not rotated again. Rotate \
                      from this page if a new one is still wanted."
            .to_owned();
        let id = &action.id;
        return show(
            &state,
            &action.signed,
            id,
            Some(notice),
            None,
            None,
            StatusCode::CONFLICT,
        )
        .await;
    }
    let rotated = match rotate_signing_secret(&state, action.tenant(), action.subscription).await {
        Ok(rotated) => rotated,
        Err(e) => return action.then(&state, Err(e)).await,
    };
    let notice = format!(
        "The signing secret was replaced. Until {} messages carry signatures with both the old \
         and the new secret.",
        utc(rotated.previous_secret_valid_until)
    );
    let secret = Some(rotated.signing_secret);
    show(
        &state,
        &action.signed,
        &action.id,
        Some(notice),
        None,
        secret,
        StatusCode::OK,
    )
    .await
}

/// `POST …/unsubscribe`.
pub async fn unsubscribe(
    State(state): State<AppState>,
    action: Action,
) -> Result<Response, ConsoleError> {
    state
        .store
        .unsubscribe_subscription(action.tenant(), action.subscription, state.clock.now())
        .await?;
    action
        .then(&state, Ok("done=unsubscribed".to_owned()))
        .await
}
