//! Signing in and out, the session cookie and the CSRF tokens.
//!
//! A session lives in the store (so every instance on one database knows it), keyed by the
//! SHA-256 of a random cookie value: the cookie never holds the API key, and the store never
//! holds the cookie. Each request looks its session up again, so a revoked key's session ends
//! at its next request. Every `POST` carries the session's CSRF token in a form field as well
//! as the `SameSite=Strict` cookie; the sign-in form, which has no session yet, carries a
//! token that must match a cookie of its own (double submit).

use super::page::{self, Page};
use super::{ConsoleConfig, ConsoleError};
use crate::api::AppState;
use crate::domain::{ApiKeyHash, ConsoleSessionHash};
use crate::store::VerifiedKey;
use askama::Template;
use axum::Extension;
use axum::extract::{Form, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use serde::Deserialize;
use std::sync::Arc;

const SESSION_COOKIE: &str = "skyhook_console";
const LOGIN_COOKIE: &str = "skyhook_console_login";

/// The signed-in tenant of a console request. Extracting it is the only way a page learns
/// who is asking; without a live session the request is sent to the sign-in page.
pub struct Signed {
    pub key: VerifiedKey,
    pub key_name: String,
    pub csrf: String,
    session: ConsoleSessionHash,
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let to_login = || Redirect::to("/console/login").into_response();
        let Some(value) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(to_login());
        };
        let session = ConsoleSessionHash::of(&value);
        let found = state
            .store
            .console_session(&session, state.clock.now())
            .await
            .map_err(|e| ConsoleError::from(e).into_response())?;
        let Some(found) = found else {
            return Err(to_login());
        };
        tracing::Span::current().record("tenant", tracing::field::display(found.key.tenant));
        Ok(Signed {
            key: found.key,
            key_name: found.key_name,
            csrf: found.csrf_token,
            session,
        })
    }
}

impl Signed {
    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, presented: &str) -> Result<(), ConsoleError> {
        if tokens_match(presented, &self.csrf) {
            Ok(())
        } else {
            Err(ConsoleError::Csrf)
        }
    }
}

/// Compares without an early exit, so the time taken says nothing about how much matched.
fn tokens_match(presented: &str, expected: &str) -> bool {
    presented.len() == expected.len()
        && presented
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The value of the cookie `name` in the request's `Cookie` headers.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
        .filter(|v| !v.is_empty())
}

/// A `Set-Cookie` for the console's path; `max_age` 0 deletes it.
fn set_cookie(config: &ConsoleConfig, name: &str, value: &str, max_age: u64) -> HeaderValue {
    let secure = if config.secure_cookies {
        "; Secure"
    } else {
        ""
    };
    HeaderValue::from_str(&format!(
        "{name}={value}; Path=/console; Max-Age={max_age}; HttpOnly; SameSite=Strict{secure}"
    ))
    .expect("cookie values are URL-safe base64")
}

#[derive(Template)]
#[template(path = "console/login.html")]
struct LoginPage {
    page: Page,
    login_csrf: String,
    error: Option<&'static str>,
}

/// `GET /console/login`: the sign-in form (a signed-in visitor goes to the list).
pub async fn login_form(
    State(state): State<AppState>,
    Extension(config): Extension<Arc<ConsoleConfig>>,
    headers: HeaderMap,
) -> Result<Response, ConsoleError> {
    if let Some(value) = cookie(&headers, SESSION_COOKIE) {
        let live = state
            .store
            .console_session(&ConsoleSessionHash::of(&value), state.clock.now())
            .await?;
        if live.is_some() {
            return Ok(Redirect::to("/console/subscriptions").into_response());
        }
    }
    login_page(&config, None, StatusCode::OK)
}

fn login_page(
    config: &ConsoleConfig,
    error: Option<&'static str>,
    status: StatusCode,
) -> Result<Response, ConsoleError> {
    let login_csrf = random_token();
    let cookie = set_cookie(config, LOGIN_COOKIE, &login_csrf, 3600);
    let html = page::render(&LoginPage {
        page: Page::anonymous("Sign in"),
        login_csrf,
        error,
    })?;
    Ok((status, [(header::SET_COOKIE, cookie)], html).into_response())
}

#[derive(Deserialize)]
pub struct LoginForm {
    api_key: String,
    #[serde(default)]
    csrf: String,
}

/// `POST /console/login`: starts a session for a valid key.
pub async fn login(
    State(state): State<AppState>,
    Extension(config): Extension<Arc<ConsoleConfig>>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Result<Response, ConsoleError> {
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !tokens_match(&form.csrf, &expected) {
        return Err(ConsoleError::Csrf);
    }
    let key = form.api_key.trim();
    if key.is_empty() {
        return login_page(
            &config,
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
            &ConsoleSessionHash::of(&value),
            &random_token(),
            now,
            now + config.session_ttl,
        )
        .await?;
    if started.is_none() {
        return login_page(
            &config,
            Some("That API key is not valid, or has been revoked."),
            StatusCode::UNAUTHORIZED,
        );
    }
    let max_age = config.session_ttl.num_seconds().max(0) as u64;
    let mut response = Redirect::to("/console/subscriptions").into_response();
    let headers = response.headers_mut();
    headers.append(
        header::SET_COOKIE,
        set_cookie(&config, SESSION_COOKIE, &value, max_age),
    );
    headers.append(header::SET_COOKIE, set_cookie(&config, LOGIN_COOKIE, "", 0));
    Ok(response)
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

/// `POST /console/logout`: ends the session here and in the store.
pub async fn logout(
    State(state): State<AppState>,
    Extension(config): Extension<Arc<ConsoleConfig>>,
    signed: Signed,
    Form(form): Form<CsrfForm>,
) -> Result<Response, ConsoleError> {
    signed.check_csrf(&form.csrf)?;
    state
        .store
        .end_console_session(&signed.session, state.clock.now())
        .await?;
    let mut response = Redirect::to("/console/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        set_cookie(&config, SESSION_COOKIE, "", 0),
    );
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cookie_is_found_among_others_and_an_empty_one_is_none() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, "a=1; skyhook_console=abc".parse().unwrap());
        headers.append(header::COOKIE, "skyhook_console_login=xyz".parse().unwrap());
        assert_eq!(cookie(&headers, SESSION_COOKIE).as_deref(), Some("abc"));
        assert_eq!(cookie(&headers, LOGIN_COOKIE).as_deref(), Some("xyz"));
        assert_eq!(cookie(&headers, "b"), None);
        let mut empty = HeaderMap::new();
        empty.append(header::COOKIE, "skyhook_console=".parse().unwrap());
        assert_eq!(cookie(&empty, SESSION_COOKIE), None);
    }

    #[test]
    fn tokens_match_only_when_equal() {
        assert!(tokens_match("abc", "abc"));
        assert!(!tokens_match("abd", "abc"));
        assert!(!tokens_match("ab", "abc"));
        assert!(!tokens_match("", "abc"));
    }

    #[test]
    fn cookies_are_http_only_strict_and_secure_only_over_https() {
        let mut config = ConsoleConfig::for_tests();
        let plain = set_cookie(&config, SESSION_COOKIE, "v", 60);
        let plain = plain.to_str().unwrap();
        assert!(plain.contains("HttpOnly") && plain.contains("SameSite=Strict"));
        assert!(!plain.contains("Secure"));
        config.secure_cookies = true;
        assert!(
            set_cookie(&config, SESSION_COOKIE, "v", 60)
                .to_str()
                .unwrap()
                .ends_with("; Secure")
        );
    }
}
