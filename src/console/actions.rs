//! The buttons of a subscription's page: Retry, Retry all failed, Send test, Rotate secret and
//! Unsubscribe. Each checks the form's CSRF token and that the subscription is the tenant's,
//! then runs the API's own operation; success redirects back to the page with a notice, a
//! refusal shows the page again with the API's error.

use super::ConsoleError;
use super::detail::{find, show};
use super::page::utc;
use super::session::{CsrfForm, Signed};
use crate::api::AppState;
use crate::api::deliveries::{delivery_log, queue_test, retry_delivery, rotate_signing_secret};
use crate::api::error::ApiError;
use crate::domain::SubscriptionId;
use axum::extract::{Form, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use uuid::Uuid;

/// After an action: back to the page with what was done, or the page again with why not.
async fn after(
    state: &AppState,
    signed: &Signed,
    id: &str,
    outcome: Result<String, ApiError>,
) -> Result<Response, ConsoleError> {
    match outcome {
        Ok(done) => {
            Ok(Redirect::to(&format!("/console/subscriptions/{id}?{done}")).into_response())
        }
        Err(e @ ApiError::Internal(_)) => Err(e.into()),
        Err(refused) => {
            let status = refused.status();
            show(state, signed, id, None, Some(&refused), None, status).await
        }
    }
}

async fn checked(
    state: &AppState,
    signed: &Signed,
    id: &str,
    form: &CsrfForm,
) -> Result<SubscriptionId, ConsoleError> {
    signed.check_csrf(&form.csrf)?;
    let subscription = find(state, signed, id).await?;
    Ok(subscription.id.into())
}

/// `POST …/deliveries/{delivery}/retry`.
pub async fn retry(
    State(state): State<AppState>,
    signed: Signed,
    Path((id, delivery)): Path<(String, String)>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ConsoleError> {
    checked(&state, &signed, &id, &form).await?;
    let delivery = Uuid::parse_str(&delivery).map_err(|_| ConsoleError::NotFound)?;
    let outcome = retry_delivery(&state, signed.key.tenant, delivery)
        .await
        .map(|()| "done=retried".to_owned());
    after(&state, &signed, &id, outcome).await
}

/// `POST …/retry-failed`: every failed message of the subscription, again.
pub async fn retry_failed(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ConsoleError> {
    let subscription = checked(&state, &signed, &id, &form).await?;
    let tenant = signed.key.tenant;
    let failed: Vec<Uuid> = delivery_log(&state, tenant, subscription)
        .await?
        .into_iter()
        .filter(|r| r.status == "failed")
        .map(|r| r.id)
        .collect();
    let mut queued = 0;
    for delivery in failed {
        match retry_delivery(&state, tenant, delivery).await {
            Ok(()) => queued += 1,
            // Being attempted right now: it needs no push.
            Err(ApiError::DeliveryInFlight(_)) => {}
            Err(e) => return after(&state, &signed, &id, Err(e)).await,
        }
    }
    after(
        &state,
        &signed,
        &id,
        Ok(format!("done=retried-all&n={queued}")),
    )
    .await
}

/// `POST …/test`.
pub async fn send_test(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ConsoleError> {
    let subscription = checked(&state, &signed, &id, &form).await?;
    let outcome = queue_test(&state, signed.key.tenant, subscription)
        .await
        .map(|_| "done=test".to_owned());
    after(&state, &signed, &id, outcome).await
}

/// `POST …/rotate-secret`: the page again, with the new secret shown this once.
pub async fn rotate_secret(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ConsoleError> {
    let subscription = checked(&state, &signed, &id, &form).await?;
    match rotate_signing_secret(&state, signed.key.tenant, subscription).await {
        Ok(rotated) => {
            let notice = format!(
                "The signing secret was replaced. Until {} messages carry signatures with both \
                 the old and the new secret.",
                utc(rotated.previous_secret_valid_until)
            );
            show(
                &state,
                &signed,
                &id,
                Some(notice),
                None,
                Some(rotated.signing_secret),
                StatusCode::OK,
            )
            .await
        }
        Err(e) => after(&state, &signed, &id, Err(e)).await,
    }
}

/// `POST …/unsubscribe`.
pub async fn unsubscribe(
    State(state): State<AppState>,
    signed: Signed,
    Path(id): Path<String>,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ConsoleError> {
    let subscription = checked(&state, &signed, &id, &form).await?;
    state
        .store
        .unsubscribe_subscription(signed.key.tenant, subscription, state.clock.now())
        .await?;
    after(&state, &signed, &id, Ok("done=unsubscribed".to_owned())).await
}
