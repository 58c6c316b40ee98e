//! `POST /v1/unsubscribe`: the CargoAI way of unsubscribing, by target and channel rather than
//! by subscription id.

use super::dto::{UnsubscribeRequest, UnsubscribeResponse, UnsubscribedSubscription};
use super::{missing_target, resolve_target};
use crate::api::AppState;
use crate::api::auth::Tenant;
use crate::api::error::{ApiError, ErrorBody};
use crate::api::extract::ApiJson;
use crate::domain::SubscriptionId;
use crate::domain::{CallbackUrl, EmailAddress};
use crate::store::ChannelRemoval;
use axum::Json;
use axum::extract::State;
use std::collections::BTreeMap;

/// Remove a callback URL and/or emails from your active subscriptions of a target.
///
/// A subscription left with no channel becomes `unsubscribed`.
#[utoipa::path(post, path = "/v1/unsubscribe", tag = "subscriptions",
    request_body = UnsubscribeRequest,
    responses(
        (status = 200, description = "What was removed", body = UnsubscribeResponse),
        (status = 400, description = "ErrInvalidBody, ErrMissingKeyParams, an AWB or flight error, ErrInvalidEmail or ErrInvalidUrl", body = ErrorBody),
        (status = 404, description = "ErrSubscriptionNotFound: none of your active subscriptions of the target has that URL or those emails", body = ErrorBody)))]
pub async fn unsubscribe(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiJson(body): ApiJson<UnsubscribeRequest>,
) -> Result<Json<UnsubscribeResponse>, ApiError> {
    let now = state.clock.now();
    let (target, _) = resolve_target(&*state.store, body.target(), now)
        .await?
        .ok_or_else(missing_target)?;
    let url = body
        .url
        .as_deref()
        .map(CallbackUrl::parse)
        .transpose()
        .map_err(|e| ApiError::InvalidUrl(e.to_string()))?;
    let emails = body
        .emails
        .iter()
        .flatten()
        .map(|e| EmailAddress::parse(e))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| ApiError::InvalidEmail(e.to_string()))?;
    if url.is_none() && emails.is_empty() {
        return Err(ApiError::MissingKeyParams(
            "at least one of `url` or `emails` is required".into(),
        ));
    }

    let report = state
        .store
        .unsubscribe_channels(
            tenant,
            &ChannelRemoval {
                target: &target,
                url: url.as_ref().map(CallbackUrl::as_str),
                emails: &emails,
            },
            now,
        )
        .await?;
    if report.url_removed_from.is_empty() && report.emails_removed.is_empty() {
        return Err(ApiError::NothingToUnsubscribe(format!(
            "no active subscription of {target} has that url or those emails"
        )));
    }

    let mut by_subscription = BTreeMap::new();
    for id in &report.url_removed_from {
        slot(&mut by_subscription, *id, &report.ended).url_removed = true;
    }
    for (id, email) in &report.emails_removed {
        slot(&mut by_subscription, *id, &report.ended)
            .emails_removed
            .push(email.as_str().to_owned());
    }
    let emails_not_found = emails
        .iter()
        .filter(|e| {
            !report
                .emails_removed
                .iter()
                .any(|(_, removed)| removed == *e)
        })
        .map(|e| e.as_str().to_owned())
        .collect();
    Ok(Json(UnsubscribeResponse {
        subscriptions: by_subscription.into_values().collect(),
        emails_not_found,
        url_not_found: url.is_some() && report.url_removed_from.is_empty(),
    }))
}

fn slot<'m>(
    map: &'m mut BTreeMap<SubscriptionId, UnsubscribedSubscription>,
    id: SubscriptionId,
    ended: &[SubscriptionId],
) -> &'m mut UnsubscribedSubscription {
    map.entry(id).or_insert_with(|| UnsubscribedSubscription {
        subscription_id: id.as_uuid(),
        url_removed: false,
        emails_removed: Vec::new(),
        status: if ended.contains(&id) {
            "unsubscribed"
        } else {
            "active"
        }
        .into(),
    })
}
