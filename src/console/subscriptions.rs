//! The subscription list: newest first, searchable by AWB, flight or reference, filtered by
//! status, a page at a time (the API's own `list_page`).

use super::ConsoleError;
use super::detail::Summary;
use super::page::{self, Page};
use super::session::Signed;
use crate::api::AppState;
use crate::api::error::ApiError;
use crate::api::subscriptions::dto::{ListQuery, SubscriptionResponse};
use crate::api::subscriptions::list_page;
use crate::domain::SubscriptionStatus;
use askama::Template;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

const PAGE_SIZE: u32 = 25;

/// `020-08002050`, or `LH8160 2026-12-01 FRA`.
pub fn describe_target(s: &SubscriptionResponse) -> String {
    match (&s.awb, &s.flight) {
        (Some(awb), _) => awb.clone(),
        (None, Some(f)) => [
            Some(f.number.as_str()),
            Some(f.date.as_str()),
            f.origin.as_deref(),
        ]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" "),
        (None, None) => "—".to_owned(),
    }
}

/// `webhook · 2 emails · feed`.
pub fn channels(s: &SubscriptionResponse) -> String {
    let mut parts = Vec::new();
    if s.url.is_some() {
        parts.push(if s.url_disabled_at.is_some() {
            "webhook (disabled)".to_owned()
        } else {
            "webhook".to_owned()
        });
    }
    match s.emails.len() {
        0 => {}
        1 => parts.push("1 email".to_owned()),
        n => parts.push(format!("{n} emails")),
    }
    if s.feed {
        parts.push("feed".to_owned());
    }
    parts.join(" · ")
}

#[derive(Template)]
#[template(path = "console/subscriptions.html")]
struct ListPage {
    page: Page,
    q: String,
    status: String,
    statuses: [&'static str; 4],
    /// One a row, as the subscription's own page heads it.
    rows: Vec<Summary>,
    error: Option<String>,
    next: Option<String>,
    first: Option<String>,
}

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(default)]
    q: String,
    #[serde(default)]
    status: String,
    cursor: Option<String>,
}

/// `GET /console/subscriptions`: newest first, searchable by AWB, flight or reference.
pub async fn list(
    State(state): State<AppState>,
    signed: Signed,
    params: Result<Query<ListParams>, QueryRejection>,
) -> Result<Response, ConsoleError> {
    let Query(params) =
        params.map_err(|e| ApiError::InvalidQuery(format!("the search is not valid: {e}")))?;
    let query = ListQuery {
        awb: None,
        status: Some(params.status.clone()).filter(|s| !s.is_empty()),
        url: None,
        q: Some(params.q.clone()),
        limit: Some(PAGE_SIZE),
        cursor: params.cursor.clone().filter(|c| !c.is_empty()),
    };
    let (rows, next, error) = match list_page(&state, signed.key.tenant, query).await {
        Ok(found) => (
            found.items.iter().map(Summary::from).collect(),
            found
                .next_cursor
                .map(|cursor| list_link(&params.q, &params.status, Some(&cursor))),
            None,
        ),
        Err(e @ ApiError::InvalidQuery(_)) => (Vec::new(), None, Some(e.to_string())),
        Err(e) => return Err(e.into()),
    };
    let html = page::render(&ListPage {
        page: Page::signed("Subscriptions", &signed, "subscriptions"),
        first: params
            .cursor
            .is_some()
            .then(|| list_link(&params.q, &params.status, None)),
        q: params.q,
        status: params.status,
        statuses: SubscriptionStatus::ALL.map(SubscriptionStatus::as_str),
        rows,
        error,
        next,
    })?;
    Ok(html.into_response())
}

fn list_link(q: &str, status: &str, cursor: Option<&str>) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    if !q.is_empty() {
        query.append_pair("q", q);
    }
    if !status.is_empty() {
        query.append_pair("status", status);
    }
    if let Some(cursor) = cursor {
        query.append_pair("cursor", cursor);
    }
    format!("/console/subscriptions?{}", query.finish())
}
