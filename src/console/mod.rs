//! The web console (`/console`): server-rendered pages for people, one tenant per sign-in.
//!
//! A page sees what its API key sees through the API and nothing more: it calls the same
//! operations as the `/v1` handlers (`crate::api`), and the store ports they use, never HTTP
//! to itself. Templates are askama's, checked at compile time and escaping every value; the
//! stylesheet and the few lines of script are embedded in the binary (`assets.rs`), so the
//! console works offline and under a strict Content-Security-Policy.

mod actions;
mod assets;
mod detail;
mod error;
mod extract;
mod form;
mod page;
mod route_picture;
mod session;
mod sign_in;
mod status;
mod subscriptions;
mod timeline;
mod tracking;
mod upload;

pub use error::ConsoleError;

use crate::api::AppState;
use crate::config::Settings;
use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{HeaderValue, header};
use axum::middleware::Next;
use axum::response::{Redirect, Response};
use axum::routing::{any, get, post};
use axum::{Extension, Router};
use std::sync::Arc;

/// What the console needs from the settings.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    pub session_ttl: chrono::TimeDelta,
    /// Cookies are `Secure` when `server.public_url` is https.
    pub secure_cookies: bool,
    /// Carriers and flight sources configured but not enabled, `(kind, name)`, for the status
    /// page (the enabled ones are in the registries).
    pub disabled_sources: Vec<(&'static str, &'static str)>,
}

impl ConsoleConfig {
    pub fn from_settings(settings: &Settings) -> Self {
        Self {
            session_ttl: chrono::TimeDelta::from_std(settings.console.session_ttl.0)
                .unwrap_or(chrono::TimeDelta::MAX),
            secure_cookies: settings.server.public_url.scheme() == "https",
            disabled_sources: disabled_sources(settings),
        }
    }

    #[cfg(test)]
    fn for_tests() -> Self {
        Self {
            session_ttl: chrono::TimeDelta::hours(12),
            secure_cookies: false,
            disabled_sources: Vec::new(),
        }
    }
}

/// Named as the settings sections (and the sources) name them.
fn disabled_sources(settings: &Settings) -> Vec<(&'static str, &'static str)> {
    let carriers = settings
        .carriers
        .all()
        .into_iter()
        .filter(|(_, s)| !s.enabled)
        .map(|(name, _)| ("carrier", name));
    let flight_sources = settings
        .flights
        .all()
        .into_iter()
        .filter(|(_, s)| !s.enabled)
        .map(|(name, _)| ("flight source", name));
    carriers.chain(flight_sources).collect()
}

/// The console's routes, merged into the API's router by `app.rs` when `console.enabled`.
pub fn router(config: ConsoleConfig) -> Router<AppState> {
    Router::new()
        .route(
            "/console",
            get(|| async { Redirect::to("/console/subscriptions") }),
        )
        .route(
            "/console/",
            get(|| async { Redirect::to("/console/subscriptions") }),
        )
        .route(
            "/console/login",
            get(sign_in::login_form).post(sign_in::login),
        )
        .route(
            "/console/logout",
            get(sign_in::logout_form).post(sign_in::logout),
        )
        .route(
            "/console/subscriptions",
            get(subscriptions::list).post(form::create),
        )
        .route("/console/subscriptions/new", get(form::new_form))
        .route(
            "/console/subscriptions/import",
            post(upload::import).layer(DefaultBodyLimit::max(upload::UPLOAD_LIMIT)),
        )
        .route("/console/subscriptions/{id}", get(detail::page))
        .route("/console/subscriptions/{id}/live", get(detail::live))
        .route("/console/subscriptions/{id}/test", post(actions::send_test))
        .route(
            "/console/subscriptions/{id}/rotate-secret",
            post(actions::rotate_secret),
        )
        .route(
            "/console/subscriptions/{id}/unsubscribe",
            post(actions::unsubscribe),
        )
        .route(
            "/console/subscriptions/{id}/retry-failed",
            post(actions::retry_failed),
        )
        .route(
            "/console/subscriptions/{id}/deliveries/{delivery}/retry",
            post(actions::retry),
        )
        .route(
            "/console/subscriptions/{id}/deliveries/{delivery}",
            get(detail::delivery_body),
        )
        .route("/console/shipments/{awb}", get(tracking::shipment))
        .route("/console/flights/{id}", get(tracking::flight))
        .route("/console/status", get(status::page))
        .route("/console/assets/{file}", get(assets::serve))
        // The console's own 404 page for every other path under it, not the API's JSON.
        .route("/console/{*rest}", any(|| async { ConsoleError::NotFound }))
        .layer(axum::middleware::from_fn(private_pages))
        .layer(Extension(Arc::new(config)))
}

/// Every console answer: never stored by a browser or proxy (so the back button after
/// signing out shows nothing private), never framed, and no script, style or image but
/// the console's own.
async fn private_pages(request: Request, next: Next) -> Response {
    let is_asset = request.uri().path().starts_with("/console/assets/");
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    if !is_asset {
        headers.insert(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store, max-age=0"),
        );
    }
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}
