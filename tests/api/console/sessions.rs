//! Console sessions over plain HTTP: signing in and out, the cookie, the way back to the page
//! asked for, revoked keys, the rate limit, and the console switched off.

use super::{Visitor, console_app};
use crate::helpers::{Backend, on_both_backends};
use chrono::Utc;
use serde_json::json;
use skyhook::domain::KeyName;

on_both_backends!(
    a_wrong_key_gets_an_error_and_no_session_and_the_right_one_a_private_cookie,
    pages_without_a_session_send_to_the_sign_in,
    signing_in_goes_back_to_the_page_asked_for_and_never_elsewhere,
    a_revoked_keys_session_ends_at_its_next_request,
    signing_out_ends_the_session_on_the_server_and_pages_are_never_cached,
    the_console_can_be_turned_off_and_its_cookie_is_secure_over_https,
    a_session_is_rate_limited_like_its_key_but_may_always_sign_out,
    two_sign_in_tabs_both_work,
);

async fn a_wrong_key_gets_an_error_and_no_session_and_the_right_one_a_private_cookie(
    backend: Backend,
) {
    let app = console_app(backend, |_| {}).await;
    let key = app.create_key("acme").await;
    let mut visitor = Visitor::new(&app);
    let login = visitor.get("/console/login").await;
    assert_eq!(login.status, 200);
    assert!(login.body.contains(r#"type="password""#) && login.body.contains(r#"name="api_key""#));
    let refused = visitor.sign_in("sk_not_a_key").await;
    assert_eq!(refused.status, 401);
    assert!(refused.body.contains("not valid"), "{}", refused.body);
    assert!(visitor.cookie("skyhook_console").is_none());

    let signed = visitor.sign_in(&key).await;
    assert_eq!(
        (signed.status, signed.location.as_str()),
        (303, "/console/subscriptions")
    );
    let set_cookie: Vec<&str> = signed
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .filter(|v| v.starts_with("skyhook_console="))
        .collect();
    assert_eq!(set_cookie.len(), 1);
    let cookie = set_cookie[0];
    assert!(
        cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"),
        "{cookie}"
    );
    assert!(
        !cookie.contains("Secure"),
        "plain http public_url: {cookie}"
    );
    assert!(cookie.contains("Max-Age=43200"), "12h default: {cookie}");
    let value = visitor.cookie("skyhook_console").unwrap();
    assert!(!value.contains(&key) && !key.contains(value));
    let list = visitor.get("/console/subscriptions").await;
    assert_eq!(list.status, 200);
    assert!(list.body.contains("acme") && list.body.contains("Sign out"));
}

async fn pages_without_a_session_send_to_the_sign_in(backend: Backend) {
    let app = console_app(backend, |_| {}).await;
    let mut visitor = Visitor::new(&app);
    for path in [
        "/console/subscriptions",
        "/console/subscriptions/new",
        "/console/status",
        "/console/subscriptions/5b1c0e9e-2a9f-4c41-9a53-0d3f7c5a8f10",
        "/console/shipments/020-08002050",
    ] {
        // Without a cookie (a link followed from webmail arrives so): one same-site refresh
        // to the sign-in, naming the page to come back to.
        let page = visitor.get(path).await;
        assert_eq!(page.status, 401, "{path}");
        let next: String = url::form_urlencoded::byte_serialize(path.as_bytes()).collect();
        let refresh =
            format!(r#"http-equiv="refresh" content="0; url=/console/login?next={next}""#);
        assert!(page.body.contains(&refresh), "{path}: {}", page.body);
    }
    assert_eq!(
        visitor.get("/console").await.location,
        "/console/subscriptions"
    );
    // A made-up cookie is no session either: straight to the sign-in.
    visitor
        .cookies
        .insert("skyhook_console".into(), "made-up".into());
    assert_eq!(
        visitor.get("/console/status").await.location,
        "/console/login?next=%2Fconsole%2Fstatus"
    );
}

async fn signing_in_goes_back_to_the_page_asked_for_and_never_elsewhere(backend: Backend) {
    let app = console_app(backend, |_| {}).await;
    let key = app.create_key("acme").await;
    let saved = app
        .subscribed(
            &key,
            json!({"awb": "000-00000011", "emails": ["x@example.com"]}),
        )
        .await;
    let page = format!("/console/subscriptions/{}", saved["id"].as_str().unwrap());
    let mut visitor = Visitor::new(&app);
    let login = visitor.get(&format!("/console/login?next={page}")).await;
    assert!(
        login
            .body
            .contains(&format!(r#"name="next" value="{page}""#)),
        "{}",
        login.body
    );
    let csrf = visitor.csrf.clone();
    let signed = visitor
        .post(
            "/console/login",
            &[("api_key", &key), ("csrf", &csrf), ("next", &page)],
        )
        .await;
    assert_eq!(
        (signed.status, signed.location.as_str()),
        (303, page.as_str())
    );
    // Signed in already, the sign-in page passes straight on; to a console page only.
    for (next, to) in [
        ("/console/status", "/console/status"),
        ("//evil.example/console/", "/console/subscriptions"),
        ("https://evil.example/", "/console/subscriptions"),
        ("/console/\\evil.example", "/console/subscriptions"),
        ("/console/../v1/subscriptions", "/console/subscriptions"),
    ] {
        let encoded: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        let passed = visitor.get(&format!("/console/login?next={encoded}")).await;
        assert_eq!(
            (passed.status, passed.location.as_str()),
            (303, to),
            "{next}"
        );
    }
}

async fn a_revoked_keys_session_ends_at_its_next_request(backend: Backend) {
    let app = console_app(backend, |_| {}).await;
    let key = app.create_key("acme").await;
    let mut visitor = Visitor::signed_in(&app, &key).await;
    assert_eq!(visitor.get("/console/status").await.status, 200);
    let name = KeyName::parse("acme").unwrap();
    assert!(app.store.revoke_api_key(&name, Utc::now()).await.unwrap());
    let after = visitor.get("/console/status").await;
    assert_eq!(
        (after.status, after.location.as_str()),
        (303, "/console/login?next=%2Fconsole%2Fstatus")
    );
    let again = visitor.sign_in(&key).await;
    assert_eq!(again.status, 401, "a revoked key cannot sign in");
}

async fn signing_out_ends_the_session_on_the_server_and_pages_are_never_cached(backend: Backend) {
    let app = console_app(backend, |_| {}).await;
    let key = app.create_key("acme").await;
    let mut visitor = Visitor::signed_in(&app, &key).await;
    let list = visitor.get("/console/subscriptions").await;
    assert_eq!(list.headers["cache-control"], "no-store, max-age=0");
    let session = visitor.cookie("skyhook_console").unwrap().to_owned();
    let out = visitor.submit("/console/logout", &[]).await;
    assert_eq!((out.status, out.location.as_str()), (303, "/console/login"));
    assert!(
        visitor.cookie("skyhook_console").is_none(),
        "the cookie is cleared"
    );
    // The old cookie, replayed, is no session any more.
    visitor.cookies.insert("skyhook_console".into(), session);
    let replayed = visitor.get("/console/subscriptions").await;
    assert_eq!(replayed.status, 303);
    assert!(
        replayed.location.starts_with("/console/login"),
        "{}",
        replayed.location
    );
}

async fn the_console_can_be_turned_off_and_its_cookie_is_secure_over_https(backend: Backend) {
    let off = console_app(backend.clone(), |s| s.console.enabled = false).await;
    let mut visitor = Visitor::new(&off);
    for path in ["/console", "/console/login", "/console/assets/console.css"] {
        assert_eq!(visitor.get(path).await.status, 404, "{path}");
    }
    drop(off);
    let https = console_app(backend, |s| {
        s.server.public_url = "https://skyhook.example.com/".parse().unwrap();
    })
    .await;
    let key = https.create_key("acme").await;
    let mut visitor = Visitor::new(&https);
    let signed = visitor.sign_in(&key).await;
    assert_eq!(signed.status, 303);
    let session = signed
        .headers
        .get_all("set-cookie")
        .iter()
        .map(|v| v.to_str().unwrap())
        .find(|v| v.starts_with("skyhook_console="))
        .expect("a session cookie");
    assert!(session.ends_with("; Secure"), "{session}");
}

async fn a_session_is_rate_limited_like_its_key_but_may_always_sign_out(backend: Backend) {
    let app = console_app(backend, |s| {
        s.server.rate_limit = skyhook::config::RateLimitSettings {
            per_second: 0.01,
            burst: 3,
        };
    })
    .await;
    let key = app.create_key("acme").await;
    // Signing in takes one request of the bucket (the list it lands on).
    let mut visitor = Visitor::signed_in(&app, &key).await;
    let mut statuses = Vec::new();
    for _ in 0..3 {
        statuses.push(visitor.get("/console/status").await.status);
    }
    assert_eq!(statuses, [200, 200, 429]);
    let limited = visitor.get("/console/subscriptions").await;
    assert_eq!(limited.status, 429);
    assert!(limited.body.contains("ErrRateLimited"), "{}", limited.body);
    assert!(limited.headers.contains_key("retry-after"));
    let out = visitor.submit("/console/logout", &[]).await;
    assert_eq!((out.status, out.location.as_str()), (303, "/console/login"));
}

async fn two_sign_in_tabs_both_work(backend: Backend) {
    let app = console_app(backend, |_| {}).await;
    let key = app.create_key("acme").await;
    let mut visitor = Visitor::new(&app);
    visitor.get("/console/login").await;
    let first_tab = visitor.csrf.clone();
    visitor.get("/console/login").await;
    let second_tab = visitor.csrf.clone();
    assert_eq!(first_tab, second_tab, "one token per browser");
    let signed = visitor
        .post("/console/login", &[("api_key", &key), ("csrf", &first_tab)])
        .await;
    assert_eq!(signed.status, 303);
    // The second tab, submitted after the first signed in, goes on to the console.
    let second = visitor
        .post(
            "/console/login",
            &[
                ("api_key", &key),
                ("csrf", &second_tab),
                ("next", "/console/status"),
            ],
        )
        .await;
    assert_eq!(
        (second.status, second.location.as_str()),
        (303, "/console/status")
    );
}
