//! The one-click unsubscribe link of every email (RFC 8058): `POST /unsubscribe/{token}` (what
//! mail programs send, body `List-Unsubscribe=One-Click`) removes that one address from that one
//! subscription; `GET` shows a small page with a button doing the same, so that link scanners
//! that follow links never unsubscribe anybody.

use super::AppState;
use super::error::ApiError;
use crate::store::TokenTarget;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};

/// Shows what the link would do, and a button.
pub async fn page(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    let Some(target) = state.store.email_for_token(&token).await? else {
        return Ok(unknown_link());
    };
    let body = if target.active {
        format!(
            "<p>Stop emails about <strong>{what}</strong> to <strong>{email}</strong>?</p>\
             <form method=\"post\"><input type=\"hidden\" name=\"List-Unsubscribe\" \
             value=\"One-Click\"><button type=\"submit\">Unsubscribe</button></form>",
            what = escape(&describe(&target)),
            email = escape(&target.email),
        )
    } else {
        done_text(&target)
    };
    Ok(Html(layout(&body)).into_response())
}

/// Removes the address; repeating it is harmless.
pub async fn unsubscribe(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<Response, ApiError> {
    match state
        .store
        .unsubscribe_email_token(&token, state.clock.now())
        .await?
    {
        Some(target) => {
            tracing::info!(subscription = %target.subscription_id, "email unsubscribed by link");
            Ok(Html(layout(&done_text(&target))).into_response())
        }
        None => Ok(unknown_link()),
    }
}

fn done_text(target: &TokenTarget) -> String {
    format!(
        "<p><strong>{email}</strong> will receive no more emails about <strong>{what}</strong>.</p>",
        email = escape(&target.email),
        what = escape(&describe(target)),
    )
}

fn unknown_link() -> Response {
    (
        StatusCode::NOT_FOUND,
        Html(layout(
            "<p>This unsubscribe link is not known. It may be mistyped.</p>",
        )),
    )
        .into_response()
}

/// `awb:020-08002050` → `AWB 020-08002050`; flights likewise.
fn describe(target: &TokenTarget) -> String {
    match target.target_key.split_once(':') {
        Some(("awb", awb)) => format!("AWB {awb}"),
        Some(("flight", rest)) => format!("flight {}", rest.replace(':', " ")),
        _ => target.target_key.clone(),
    }
}

fn layout(body: &str) -> String {
    format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>Skyhook · unsubscribe</title>\
         </head><body style=\"font-family:sans-serif;max-width:32em;margin:3em auto\">\
         <h1>Skyhook</h1>{body}</body></html>"
    )
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}
