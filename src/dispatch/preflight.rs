//! The callback preflight: before a subscription is accepted, ask its callback URL with
//! `OPTIONS` whether it will take our POSTs.
//!
//! Lufthansa Cargo's subscribe API (seed 002) calls the callback with OPTIONS first and requires
//! an `Allow` header that includes POST. Many receivers are not written for that (frameworks
//! answer OPTIONS with 404 or 405, often without `Allow`), so the default is gentler: the URL
//! must answer at all, and must not say it refuses POST. The Lufthansa rule is `strict`.

use crate::domain::PreflightMode;
use reqwest::StatusCode;
use reqwest::header::{ALLOW, HeaderMap};
use std::time::Duration;
use url::Url;

/// How long a preflight may take, so a subscribe request does not hang on a slow receiver.
const PREFLIGHT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a callback failed its preflight; the message says what was seen, for the subscriber.
#[derive(Debug, thiserror::Error)]
pub enum PreflightError {
    /// No HTTP answer: connection refused, TLS failure, timeout, or a guard refusal.
    #[error("the callback URL did not answer OPTIONS: {detail}")]
    Unreachable { detail: String },
    #[error(
        "the callback URL answered OPTIONS with {status}; a 2xx answer with an Allow header \
         including POST is required"
    )]
    NotSuccess { status: StatusCode },
    #[error(
        "the callback URL answered OPTIONS with {status} but no Allow header; an Allow header \
         including POST is required"
    )]
    MissingAllow { status: StatusCode },
    #[error(
        "the callback URL answered OPTIONS with {status} and `Allow: {allow}`, which does not \
         include POST"
    )]
    PostNotAllowed { status: StatusCode, allow: String },
}

/// Runs the preflight `mode` asks for against `url` with `client`.
///
/// Use a client from `guarded_client_builder`, after `CallbackGuard::check`: the preflight is
/// itself a request to a subscriber-chosen URL.
#[tracing::instrument(skip_all, fields(host = url.host_str().unwrap_or_default(), ?mode))]
pub async fn preflight(
    client: &reqwest::Client,
    url: &Url,
    mode: PreflightMode,
) -> Result<(), PreflightError> {
    if mode == PreflightMode::Off {
        return Ok(());
    }
    let response = client
        .request(reqwest::Method::OPTIONS, url.clone())
        .timeout(PREFLIGHT_TIMEOUT)
        .send()
        .await
        .map_err(unreachable)?;
    let status = response.status();
    let allow = allow_header(response.headers());
    tracing::debug!(%status, allow = allow.as_deref(), "callback answered the preflight");
    match (mode, allow) {
        (PreflightMode::Strict, _) if !status.is_success() => {
            Err(PreflightError::NotSuccess { status })
        }
        (PreflightMode::Strict, None) => Err(PreflightError::MissingAllow { status }),
        (_, Some(allow)) if !allows_post(&allow) => {
            Err(PreflightError::PostNotAllowed { status, allow })
        }
        _ => Ok(()),
    }
}

/// All `Allow` header lines joined as one list, or `None` if there is none.
fn allow_header(headers: &HeaderMap) -> Option<String> {
    let lines: Vec<String> = headers
        .get_all(ALLOW)
        .iter()
        .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
        .collect();
    (!lines.is_empty()).then(|| lines.join(", "))
}

/// Method names are case-sensitive in HTTP, but a receiver writing `post` means POST; being
/// lenient here costs nothing, as the POST itself is the real test.
fn allows_post(allow: &str) -> bool {
    allow
        .split(',')
        .any(|method| method.trim().eq_ignore_ascii_case("POST"))
}

/// The error and its causes in one line, without the URL (the subscriber knows it, and a query
/// string may hold a token that should not reach logs).
fn unreachable(error: reqwest::Error) -> PreflightError {
    let error = error.without_url();
    let mut detail = if error.is_timeout() {
        format!("no answer within {}s", PREFLIGHT_TIMEOUT.as_secs())
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(&error);
    while let Some(cause) = source {
        detail.push_str(": ");
        detail.push_str(&cause.to_string());
        source = cause.source();
    }
    PreflightError::Unreachable { detail }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::Router;
    use axum::http::HeaderValue;
    use axum::response::{IntoResponse, Response};
    use axum::routing::{any, get, post};
    use std::net::SocketAddr;
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn answer(status: u16, allow: &[&'static str]) -> Response {
        let mut response = StatusCode::from_u16(status).unwrap().into_response();
        for value in allow {
            response
                .headers_mut()
                .append(ALLOW, HeaderValue::from_static(value));
        }
        response
    }

    /// A receiver answering OPTIONS in the ways met in practice, counting the requests it gets.
    async fn receiver() -> (SocketAddr, Arc<AtomicUsize>) {
        let hits = Arc::new(AtomicUsize::new(0));
        let counter = hits.clone();
        let app = Router::new()
            .route(
                "/lufthansa",
                any(|| async { answer(200, &["OPTIONS, GET, HEAD, POST"]) }),
            )
            .route(
                "/lowercase",
                any(|| async { answer(204, &["options,post"]) }),
            )
            .route("/split", any(|| async { answer(200, &["GET", "POST"]) }))
            .route(
                "/get-only-200",
                any(|| async { answer(200, &["GET, HEAD"]) }),
            )
            .route("/empty-allow", any(|| async { answer(200, &[""]) }))
            .route("/no-allow", any(|| async { answer(204, &[]) }))
            .route("/server-error", any(|| async { answer(500, &[]) }))
            // axum answers OPTIONS on these with 405 and an Allow header listing the route's
            // methods, as most frameworks do.
            .route("/post-only", post(|| async { "ok" }))
            .route("/get-only", get(|| async { "ok" }))
            .layer(axum::middleware::from_fn(
                move |request: axum::extract::Request, next: axum::middleware::Next| {
                    counter.fetch_add(1, Ordering::SeqCst);
                    next.run(request)
                },
            ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        (addr, hits)
    }

    fn client() -> reqwest::Client {
        crate::telemetry::install_crypto_provider();
        reqwest::Client::builder().no_proxy().build().unwrap()
    }

    async fn run(addr: SocketAddr, path: &str, mode: PreflightMode) -> Result<(), String> {
        let url = Url::parse(&format!("http://{addr}{path}")).unwrap();
        preflight(&client(), &url, mode)
            .await
            .map_err(|e| e.to_string())
    }

    #[tokio::test]
    async fn reachable_accepts_any_answer_that_does_not_refuse_post() {
        let (addr, hits) = receiver().await;
        for path in [
            "/lufthansa",
            "/lowercase",
            "/split",
            "/no-allow",
            "/server-error",
            "/post-only",
            "/not-a-route",
        ] {
            assert_eq!(
                run(addr, path, PreflightMode::Reachable).await,
                Ok(()),
                "{path}"
            );
        }
        assert_eq!(hits.load(Ordering::SeqCst), 7, "one OPTIONS request each");
    }

    #[tokio::test]
    async fn reachable_refuses_an_allow_header_without_post() {
        let (addr, _) = receiver().await;
        for (path, expected) in [
            (
                "/get-only-200",
                "the callback URL answered OPTIONS with 200 OK and `Allow: GET, HEAD`, which \
                 does not include POST",
            ),
            (
                "/empty-allow",
                "the callback URL answered OPTIONS with 200 OK and `Allow: `, which does not \
                 include POST",
            ),
        ] {
            assert_eq!(
                run(addr, path, PreflightMode::Reachable).await,
                Err(expected.into())
            );
        }
        let err = run(addr, "/get-only", PreflightMode::Reachable)
            .await
            .unwrap_err();
        assert!(
            err.contains("405 Method Not Allowed and `Allow: GET"),
            "{err}"
        );
    }

    #[tokio::test]
    async fn strict_requires_a_2xx_answer_allowing_post() {
        let (addr, _) = receiver().await;
        for path in ["/lufthansa", "/lowercase", "/split"] {
            assert_eq!(
                run(addr, path, PreflightMode::Strict).await,
                Ok(()),
                "{path}"
            );
        }
        for (path, expected) in [
            (
                "/no-allow",
                "the callback URL answered OPTIONS with 204 No Content but no Allow header; an \
                 Allow header including POST is required",
            ),
            (
                "/post-only",
                "the callback URL answered OPTIONS with 405 Method Not Allowed; a 2xx answer \
                 with an Allow header including POST is required",
            ),
            (
                "/server-error",
                "the callback URL answered OPTIONS with 500 Internal Server Error; a 2xx answer \
                 with an Allow header including POST is required",
            ),
            (
                "/get-only-200",
                "the callback URL answered OPTIONS with 200 OK and `Allow: GET, HEAD`, which \
                 does not include POST",
            ),
        ] {
            assert_eq!(
                run(addr, path, PreflightMode::Strict).await,
                Err(expected.into())
            );
        }
    }

    #[tokio::test]
    async fn off_sends_nothing() {
        let (addr, hits) = receiver().await;
        assert_eq!(run(addr, "/get-only-200", PreflightMode::Off).await, Ok(()));
        assert_eq!(hits.load(Ordering::SeqCst), 0);
    }

    #[tokio::test]
    async fn an_unreachable_callback_is_reported_with_its_cause() {
        // Bind then drop: the port is free, so nothing answers there.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        for mode in [PreflightMode::Reachable, PreflightMode::Strict] {
            let err = run(addr, "/hook?token=s3cret", mode).await.unwrap_err();
            assert!(
                err.starts_with("the callback URL did not answer OPTIONS: "),
                "{err}"
            );
            assert!(err.to_lowercase().contains("connection refused"), "{err}");
            assert!(
                !err.contains("s3cret"),
                "the URL stays out of the message: {err}"
            );
        }
    }
}
