//! The sign-in and sign-out pages: `/console/login` (the form, starting a session for a
//! valid key, then on to the page first asked for) and `/console/logout`.

use super::extract::ConsoleForm;
use super::page::{self, Page};
use super::session::{
    CsrfForm, LOGIN_COOKIE, SESSION_COOKIE, SigningOut, cookie, safe_next, set_cookie,
};
use super::{ConsoleConfig, ConsoleError};
use crate::api::AppState;
use crate::domain::digest::{constant_time_eq, random_token};
use crate::domain::{ApiKeyHash, ConsoleSessionHash};
use crate::store::NewConsoleSession;
use askama::Template;
use axum::Extension;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use std::sync::Arc;

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    page: Page,
    login_csrf: String,
    next: String,
    error: Option<&'static str>,
}

#[derive(Deserialize, Default)]
pub struct NextPage {
    #[serde(default)]
    next: String,
}

/// `GET /console/login`: the sign-in form; a visitor signed in already goes on to `next`.
pub async fn login_form(
    State(state): State<AppState>,
    Extension(config): Extension<Arc<ConsoleConfig>>,
    headers: HeaderMap,
    next: Result<Query<NextPage>, QueryRejection>,
) -> Result<Response, ConsoleError> {
    let next = next.map(|Query(n)| n.next).unwrap_or_default();
    if live_session(&state, &headers).await? {
        return Ok(Redirect::to(after_sign_in(&next)).into_response());
    }
    login_page(&config, &headers, &next, None, StatusCode::OK)
}

/// Whether the request carries the cookie of a live session.
async fn live_session(state: &AppState, headers: &HeaderMap) -> Result<bool, ConsoleError> {
    let Some(value) = cookie(headers, SESSION_COOKIE) else {
        return Ok(false);
    };
    let session = ConsoleSessionHash::of(&value);
    Ok(state
        .store
        .console_session(&session, state.clock.now())
        .await?
        .is_some())
}

fn after_sign_in(next: &str) -> &str {
    safe_next(next).unwrap_or("/console/subscriptions")
}

fn login_page(
    config: &ConsoleConfig,
    headers: &HeaderMap,
    next: &str,
    error: Option<&'static str>,
    status: StatusCode,
) -> Result<Response, ConsoleError> {
    // One token per browser, not per form: two open sign-in tabs must both work.
    let login_csrf = cookie(headers, LOGIN_COOKIE).unwrap_or_else(random_token);
    let cookie = set_cookie(config, LOGIN_COOKIE, &login_csrf, 3600);
    let html = page::render(&LoginPage {
        page: Page::anonymous("Sign in"),
        login_csrf,
        next: safe_next(next).unwrap_or_default().to_owned(),
        error,
    })?;
    Ok((status, [(header::SET_COOKIE, cookie)], html).into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    api_key: String,
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    next: String,
}

/// `POST /console/login`: starts a session for a valid key.
pub async fn login(
    State(state): State<AppState>,
    Extension(config): Extension<Arc<ConsoleConfig>>,
    headers: HeaderMap,
    ConsoleForm(form): ConsoleForm<LoginForm>,
) -> Result<Response, ConsoleError> {
    // Signed in meanwhile (in another tab): on to the page, whatever this form holds.
    if live_session(&state, &headers).await? {
        return Ok(Redirect::to(after_sign_in(&form.next)).into_response());
    }
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(&form.csrf, &expected) {
        return Err(ConsoleError::Csrf);
    }
    let key = form.api_key.trim();
    if key.is_empty() {
        return login_page(
            &config,
            &headers,
            &form.next,
            Some("Enter an API key."),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let now = state.clock.now();
    let value = random_token();
    let started = state
        .store
        .start_console_session(
            &ApiKeyHash::of(key),
            &NewConsoleSession {
                hash: &ConsoleSessionHash::of(&value),
                csrf_token: &random_token(),
                now,
                expires_at: now + config.session_ttl,
            },
        )
        .await?;
    if started.is_none() {
        return login_page(
            &config,
            &headers,
            &form.next,
            Some("That API key is not valid, or has been revoked."),
            StatusCode::UNAUTHORIZED,
        );
    }
    let max_age = config.session_ttl.num_seconds().max(0) as u64;
    let mut response = Redirect::to(after_sign_in(&form.next)).into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(&config, SESSION_COOKIE, &value, max_age),
    );
    headers.append(header::SET_COOKIE, set_cookie(&config, LOGIN_COOKIE, "", 0));
    Ok(response)
}

#[derive(Template)]
#[template(path = "console/logout.html")]
struct LogoutPage {
    page: Page,
    key_name: String,
}

/// `GET /console/logout`: a button that signs out (what an error page's Sign out links to).
pub async fn logout_form(SigningOut(signed): SigningOut) -> Result<Response, ConsoleError> {
    let html = page::render(&LogoutPage {
        page: Page::signed("Sign out", &signed, ""),
        key_name: signed.key_name.clone(),
    })?;
    Ok(html.into_response())
}

/// `POST /console/logout`: ends the session here and in the store.
pub async fn logout(
    State(state): State<AppState>,
    Extension(config): Extension<Arc<ConsoleConfig>>,
    SigningOut(signed): SigningOut,
    ConsoleForm(form): ConsoleForm<CsrfForm>,
) -> Result<Response, ConsoleError> {
    signed.check_csrf(&form.csrf)?;
    state
        .store
        .end_console_session(signed.session(), state.clock.now())
        .await?;
    let mut response = Redirect::to("/console/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&config, SESSION_COOKIE, "", 0),
    );
    Ok(response)
}
