//! The web console: sessions, CSRF, tenancy and escaping over plain HTTP (`http.rs`), and the
//! scenarios of a support person in a real headless Chromium (`scenarios.rs`, `emails.rs`).

mod emails;
mod guards;
mod pages;
mod scenarios;
mod sessions;
mod uploads;

use crate::helpers::{Backend, TestApp, spawn_app_with};
use regex::Regex;
use skyhook::config::Settings;

/// A browser-less console visitor: keeps the cookies the console sets and the CSRF token of
/// the last page it read.
pub struct Visitor<'a> {
    app: &'a TestApp,
    client: reqwest::Client,
    cookies: std::collections::BTreeMap<String, String>,
    pub csrf: String,
}

pub struct Page {
    pub status: u16,
    pub location: String,
    pub headers: reqwest::header::HeaderMap,
    pub body: String,
}

impl<'a> Visitor<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            client: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap(),
            cookies: Default::default(),
            csrf: String::new(),
        }
    }

    /// Signs in with `key` through the form, as a person would.
    pub async fn signed_in(app: &'a TestApp, key: &str) -> Self {
        let mut visitor = Self::new(app);
        let page = visitor.sign_in(key).await;
        assert_eq!(page.status, 303, "sign-in redirects: {}", page.body);
        assert_eq!(page.location, "/console/subscriptions");
        visitor.get("/console/subscriptions").await;
        visitor
    }

    pub async fn sign_in(&mut self, key: &str) -> Page {
        self.get("/console/login").await;
        let csrf = self.csrf.clone();
        self.post("/console/login", &[("api_key", key), ("csrf", &csrf)])
            .await
    }

    pub async fn get(&mut self, path: &str) -> Page {
        let request = self.client.get(format!("{}{path}", self.app.address));
        self.send(request).await
    }

    /// Posts a form (the CSRF token is the caller's to include, or not).
    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let request = self
            .client
            .post(format!("{}{path}", self.app.address))
            .form(form);
        self.send(request).await
    }

    /// Posts a form with this session's CSRF token.
    pub async fn submit(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let csrf = self.csrf.clone();
        let mut fields = form.to_vec();
        fields.push(("csrf", &csrf));
        self.post(path, &fields).await
    }

    pub async fn send(&mut self, request: reqwest::RequestBuilder) -> Page {
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let response = request
            .header("cookie", cookie)
            .send()
            .await
            .expect("console request sent");
        for set in response.headers().get_all("set-cookie") {
            let set = set.to_str().unwrap();
            let (pair, _) = set.split_once(';').unwrap_or((set, ""));
            let (name, value) = pair.split_once('=').unwrap();
            if value.is_empty() || set.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.to_owned(), value.to_owned());
            }
        }
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let location = headers
            .get("location")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let body = response.text().await.unwrap();
        if let Some(token) = Regex::new(r#"name="csrf" value="([^"]+)""#)
            .unwrap()
            .captures(&body)
        {
            self.csrf = token[1].to_owned();
        }
        Page {
            status,
            location,
            headers,
            body,
        }
    }

    pub fn cookie(&self, name: &str) -> Option<&str> {
        self.cookies.get(name).map(String::as_str)
    }
}

/// The server with the console, a demo carrier that moves fast, and the poller on.
pub async fn console_app(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    spawn_app_with(backend, |s| {
        s.console.enabled = true;
        adjust(s);
    })
    .await
}

/// A subscription of `awb` for `key` with a webhook (never called: the dispatcher is off in
/// these tests); its id.
pub async fn webhook_subscription(app: &TestApp, key: &str, awb: &str) -> String {
    let saved = app
        .subscribed(
            key,
            serde_json::json!({"awb": awb, "url": "https://tms.example.com/h"}),
        )
        .await;
    saved["id"].as_str().unwrap().to_owned()
}

/// Queues a `subscription.test` message for subscription `id` through the API.
pub async fn queue_test(app: &TestApp, key: &str, id: &str) {
    let test = app
        .post(
            &format!("/v1/subscriptions/{id}/test"),
            key,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(test.status, 202, "{}", test.body);
}
