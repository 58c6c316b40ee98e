//! `GET /v1/messages`: the tenant's message feed, for a TMS that cannot receive webhooks. Every
//! message of a subscription with `"feed": true`, in queue order, with exactly the body a
//! webhook carries (its `id` is the `webhook-id`), paged by an opaque cursor; `wait` holds the
//! request open until a message arrives, woken by the store's feed signal.

use super::AppState;
use super::auth::Tenant;
use super::error::{ApiError, ErrorBody};
use super::extract::ApiQuery;
use super::paging::{self, page_size};
use crate::store::FeedCursor;
use axum::Json;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use std::time::Duration;
use tokio::time::Instant;
use utoipa::{IntoParams, ToSchema};

const DEFAULT_LIMIT: u32 = 100;
const MAX_LIMIT: u32 = 1000;
/// The longest `wait` a request may ask for.
pub const MAX_WAIT: Duration = Duration::from_secs(30);
/// While a committed message is held back by an older transaction still running (Postgres;
/// see `store/feed.rs`), no further wake-up may come: look again this soon.
const HELD_BACK_RECHECK: Duration = Duration::from_millis(20);

#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct FeedQuery {
    /// `nextCursor` of the previous page; without it the feed starts at its beginning.
    pub after: Option<String>,
    /// Page size, 1 to 1000 (default 100).
    #[param(minimum = 1, maximum = 1000)]
    pub limit: Option<u32>,
    /// How long to wait for a message when none is there yet: a duration such as `500ms`,
    /// `2s` or `1m` of at most `30s` (`0s`, the default, answers at once).
    #[param(example = "2s")]
    pub wait: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct MessagePage {
    /// Message bodies, byte for byte as webhooks carry them (`id` is the `webhook-id`).
    #[schema(value_type = Vec<Object>)]
    pub items: Vec<Box<RawValue>>,
    /// Pass as `after` for the next page (the same cursor again when `items` is empty).
    pub next_cursor: String,
}

/// Read your message feed, waiting for the next message with `wait`.
#[utoipa::path(get, path = "/v1/messages", tag = "messages",
    params(FeedQuery),
    responses(
        (status = 200, body = MessagePage),
        (status = 400, description = "ErrInvalidQuery: a bad `limit`, `wait` or `after`, or an unknown parameter", body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Tenant(tenant): Tenant,
    ApiQuery(query): ApiQuery<FeedQuery>,
) -> Result<Json<MessagePage>, ApiError> {
    let limit = page_size(query.limit, DEFAULT_LIMIT, MAX_LIMIT)?;
    let wait = query.wait.as_deref().map(parse_wait).transpose()?;
    let after = query.after.as_deref().map(decode_cursor).transpose()?;
    // The request's own time limit must not cut a long poll short.
    let wait = wait.unwrap_or_default().min(state.feed_max_wait);
    let deadline = Instant::now() + wait;
    let wakeups = state.store.wakeups();
    let after = after.unwrap_or_default();
    loop {
        // Armed before the read: a message committed after it still wakes the wait below.
        let woken = wakeups.feed_woken();
        let page = state.store.read_feed(tenant, after, limit).await?;
        // A long poll answers with everything committed, once the transactions holding some of
        // it back have ended; without `wait`, with what is settled now.
        let settled = !page.held_back && !page.bodies.is_empty();
        if settled || Instant::now() >= deadline {
            return Ok(Json(MessagePage {
                items: page
                    .bodies
                    .into_iter()
                    .map(RawValue::from_string)
                    .collect::<Result<_, _>>()
                    .map_err(|e| ApiError::Internal(e.into()))?,
                next_cursor: encode_cursor(page.next),
            }));
        }
        let recheck = if page.held_back {
            (Instant::now() + HELD_BACK_RECHECK).min(deadline)
        } else {
            deadline
        };
        tokio::select! {
            () = woken => {}
            () = tokio::time::sleep_until(recheck) => {}
        }
    }
}

fn parse_wait(raw: &str) -> Result<Duration, ApiError> {
    let wait = humantime::parse_duration(raw.trim()).map_err(|e| {
        ApiError::InvalidQuery(format!(
            "`wait` must be a duration such as `30s` or `500ms`: {e}"
        ))
    })?;
    if wait > MAX_WAIT {
        return Err(ApiError::InvalidQuery(format!(
            "`wait` must be at most {}s",
            MAX_WAIT.as_secs()
        )));
    }
    Ok(wait)
}

fn encode_cursor(cursor: FeedCursor) -> String {
    paging::encode_cursor(&format!("f1:{}:{}", cursor.tx, cursor.position))
}

fn decode_cursor(raw: &str) -> Result<FeedCursor, ApiError> {
    let invalid = || ApiError::InvalidQuery("`after` is not a cursor this server issued".into());
    let text = paging::cursor_text(raw).ok_or_else(invalid)?;
    let mut parts = text.split(':');
    let (Some("f1"), Some(tx), Some(position), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(invalid());
    };
    Ok(FeedCursor {
        tx: tx.parse().map_err(|_| invalid())?,
        position: position.parse().map_err(|_| invalid())?,
    })
}
