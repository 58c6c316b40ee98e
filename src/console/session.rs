//! The session cookie, the [`Signed`] extractor every page takes, and the CSRF tokens (the
//! sign-in and sign-out pages are in `sign_in.rs`).
//!
//! A session lives in the store (so every instance on one database knows it), keyed by the
//! SHA-256 of a random cookie value: the cookie never holds the API key, and the store never
//! holds the cookie. Each request looks its session up again, so a revoked key's session ends
//! at its next request. Every `POST` carries the session's CSRF token in a form field as well
//! as the `SameSite=Strict` cookie; the sign-in form, which has no session yet, carries a
//! token that must match a cookie of its own (double submit).

use super::{ConsoleConfig, ConsoleError};
use crate::api::AppState;
use crate::domain::ConsoleSessionHash;
use crate::domain::digest::constant_time_eq;
use crate::store::VerifiedKey;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

pub(super) const SESSION_COOKIE: &str = "skyhook_console";
pub(super) const LOGIN_COOKIE: &str = "skyhook_console_login";

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

    /// The session, within its key's rate limit: a session may do no more than its key could
    /// through the API.
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        let signed = Self::look_up(parts, state).await?;
        if let Some(limiter) = state.safety.rate_limiter.as_ref() {
            let verdict = limiter.take(signed.key.tenant, tokio::time::Instant::now());
            if !verdict.allowed {
                return Err(ConsoleError::from(limiter.refusal(verdict)).into_response());
            }
        }
        Ok(signed)
    }
}

/// The session of a request that signs out: outside the rate limit, so a busy key never locks
/// its people in.
pub struct SigningOut(pub Signed);

impl FromRequestParts<AppState> for SigningOut {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        Signed::look_up(parts, state).await.map(SigningOut)
    }
}

/// Where to come back to after signing in: the page asked for, when it is a console page
/// one can navigate to.
fn return_path(parts: &Parts) -> Option<String> {
    if parts.method != axum::http::Method::GET {
        return None;
    }
    let path = parts.uri.path_and_query()?.as_str();
    safe_next(path).map(str::to_owned)
}

/// `next` only ever names a page of this console: no other host, no scheme, no
/// protocol-relative `//`, no backslash a browser might read as a slash.
pub(super) fn safe_next(next: &str) -> Option<&str> {
    let path = next.split(['?', '#']).next().unwrap_or_default();
    let ok = next.starts_with("/console/")
        && next.is_ascii()
        && !next.contains("//")
        // No dot segments, plain or encoded: `/console/../v1` leaves the console.
        && !path.split('/').any(|segment| {
            let segment = segment.to_ascii_lowercase().replace("%2e", ".");
            segment == "." || segment == ".."
        })
        && !path.to_ascii_lowercase().contains("%2f")
        && !next.contains('\\')
        && !next.chars().any(char::is_control)
        && !next.starts_with("/console/login")
        && !next.starts_with("/console/logout")
        && !next.starts_with("/console/assets/")
        && !next.contains("/live");
    ok.then_some(next)
}

fn login_url(next: Option<&str>) -> String {
    match next {
        Some(next) => format!(
            "/console/login?next={}",
            url::form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        ),
        None => "/console/login".to_owned(),
    }
}

/// A request that came without the session cookie. A link followed from another site (the
/// View in console link of an email in webmail) arrives without it, `SameSite=Strict` as it
/// is; one same-site step (a refresh to the sign-in page, which passes a live session
/// straight on to `next`) lets the browser send it.
fn without_cookie(next: Option<&str>) -> Response {
    let to = login_url(next);
    let escaped = to.replace('&', "&amp;").replace('"', "&quot;");
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta http-equiv=\"refresh\" content=\"0; url={escaped}\"><title>Sign in · Skyhook</title>\
         </head><body><p><a href=\"{escaped}\">Sign in</a></p></body></html>"
    );
    (
        StatusCode::UNAUTHORIZED,
        [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
        html,
    )
        .into_response()
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub csrf: String,
}

impl Signed {
    /// The live session the request's cookie names. Without a cookie, a page saying so;
    /// with one that names no live session, on to sign in again.
    async fn look_up(parts: &Parts, state: &AppState) -> Result<Self, Response> {
        let back_to = return_path(parts);
        let Some(value) = cookie(&parts.headers, SESSION_COOKIE) else {
            return Err(without_cookie(back_to.as_deref()));
        };
        let session = ConsoleSessionHash::of(&value);
        let found = state
            .store
            .console_session(&session, state.clock.now())
            .await
            .map_err(|e| ConsoleError::from(e).into_response())?;
        let Some(found) = found else {
            return Err(Redirect::to(&login_url(back_to.as_deref())).into_response());
        };
        tracing::Span::current().record("tenant", tracing::field::display(found.key.tenant));
        Ok(Signed {
            key: found.key,
            key_name: found.key_name,
            csrf: found.csrf_token,
            session,
        })
    }

    pub(super) fn session(&self) -> &ConsoleSessionHash {
        &self.session
    }

    /// Refuses a form whose CSRF token is not this session's.
    pub fn check_csrf(&self, presented: &str) -> Result<(), ConsoleError> {
        if constant_time_eq(presented, &self.csrf) {
            Ok(())
        } else {
            Err(ConsoleError::Csrf)
        }
    }
}

/// The value of the cookie `name` in the request's `Cookie` headers.
pub(super) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
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
pub(super) fn set_cookie(
    config: &ConsoleConfig,
    name: &str,
    value: &str,
    max_age: u64,
) -> HeaderValue {
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

#[cfg(test)]
mod next_tests {
    use super::*;

    #[test]
    fn only_console_pages_are_returned_to() {
        assert_eq!(
            safe_next("/console/subscriptions/5b1c?done=test"),
            Some("/console/subscriptions/5b1c?done=test")
        );
        for refused in [
            "https://evil.example/console/",
            "//evil.example/console/",
            "/console//evil.example",
            "/console/\\evil.example",
            "/v1/subscriptions",
            "/console/login?next=/console/status",
            "/console/subscriptions/5b1c/live",
            "/console/x\n",
            "/console/../v1/subscriptions",
            "/console/%2e%2E/v1",
            "/console/%2F%2Fevil.example",
            "/console/ünïcode",
        ] {
            assert_eq!(safe_next(refused), None, "{refused}");
        }
        assert_eq!(
            login_url(Some("/console/status?q=a&b")),
            "/console/login?next=%2Fconsole%2Fstatus%3Fq%3Da%26b"
        );
    }
}
