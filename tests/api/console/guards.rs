//! What guards the console's pages and buttons, request by request: CSRF tokens, tenancy (the
//! same 404 for another tenant's and an unknown id), escaping and the console's own error pages.

use super::{Visitor, console_app, queue_test, webhook_subscription};
use crate::helpers::{Backend, on_both_backends};
use serde_json::json;

on_both_backends!(
    a_post_without_the_csrf_token_is_refused_and_changes_nothing,
    another_tenants_subscription_is_the_same_404_as_an_unknown_one,
    a_hostile_reference_is_shown_as_text,
    the_buttons_need_the_csrf_token_and_act_only_on_the_subscriptions_own_messages,
    unknown_console_paths_and_bad_queries_get_console_pages,
);

async fn a_post_without_the_csrf_token_is_refused_and_changes_nothing(backend: Backend) {
    let app = console_app(backend, |_| {}).await;
    let key = app.create_key("acme").await;
    let mut visitor = Visitor::signed_in(&app, &key).await;
    let form = [("awb", "000-00000011"), ("emails", "ops@example.com")];
    let refused = visitor.post("/console/subscriptions", &form).await;
    assert_eq!(refused.status, 403);
    let wrong = visitor
        .post(
            "/console/subscriptions",
            &[form[0], form[1], ("csrf", "not-the-token")],
        )
        .await;
    assert_eq!(wrong.status, 403);
    assert!(app.all_subscriptions(&key).await.is_empty());
    // The sign-in form needs its own token too.
    let mut stranger = Visitor::new(&app);
    let login = stranger.post("/console/login", &[("api_key", &key)]).await;
    assert_eq!(login.status, 403);
    assert!(stranger.cookie("skyhook_console").is_none());
    // With the token it works.
    visitor.get("/console/subscriptions/new").await;
    let created = visitor.submit("/console/subscriptions", &form).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(app.all_subscriptions(&key).await.len(), 1);
}

async fn another_tenants_subscription_is_the_same_404_as_an_unknown_one(backend: Backend) {
    let app = console_app(backend, |_| {}).await;
    let acme = app.create_key("acme").await;
    let other = app.create_key("other").await;
    let theirs = app
        .subscribed(
            &other,
            json!({"awb": "000-00000011", "emails": ["x@example.com"]}),
        )
        .await;
    let id = theirs["id"].as_str().unwrap();
    let mut visitor = Visitor::signed_in(&app, &acme).await;
    let foreign = visitor.get(&format!("/console/subscriptions/{id}")).await;
    let unknown = visitor
        .get("/console/subscriptions/5b1c0e9e-2a9f-4c41-9a53-0d3f7c5a8f10")
        .await;
    let malformed = visitor.get("/console/subscriptions/not-an-id").await;
    assert_eq!(
        (foreign.status, unknown.status, malformed.status),
        (404, 404, 404)
    );
    assert_eq!(foreign.body, unknown.body);
    assert!(!foreign.body.contains("000-00000011"));
    for path in [
        format!("/console/subscriptions/{id}/live"),
        "/console/shipments/000-00000011".to_owned(),
    ] {
        assert_eq!(visitor.get(&path).await.status, 404, "{path}");
    }
    let unsubscribe = visitor
        .submit(&format!("/console/subscriptions/{id}/unsubscribe"), &[])
        .await;
    assert_eq!(unsubscribe.status, 404);
    assert_eq!(app.all_subscriptions(&other).await[0]["status"], "active");
}

async fn a_hostile_reference_is_shown_as_text(backend: Backend) {
    let app = console_app(backend, |_| {}).await;
    let key = app.create_key("acme").await;
    let hostile = "<script>alert(1)</script>\"><img src=x>";
    let saved = app
        .subscribed(
            &key,
            json!({"awb": "000-00000011", "emails": ["x@example.com"], "reference": hostile}),
        )
        .await;
    let mut visitor = Visitor::signed_in(&app, &key).await;
    let list = visitor.get("/console/subscriptions").await;
    let detail = visitor
        .get(&format!(
            "/console/subscriptions/{}",
            saved["id"].as_str().unwrap()
        ))
        .await;
    for page in [&list, &detail] {
        assert!(!page.body.contains("<script>alert(1)"), "{}", page.body);
        assert!(!page.body.contains("<img src=x>"));
        assert!(
            page.body
                .contains("&#60;script&#62;alert(1)&#60;/script&#62;"),
            "escaped, to show as text: {}",
            page.body
        );
    }
    let csp = list.headers["content-security-policy"].to_str().unwrap();
    assert!(
        csp.contains("script-src 'self'") && csp.contains("default-src 'none'"),
        "{csp}"
    );
}

async fn the_buttons_need_the_csrf_token_and_act_only_on_the_subscriptions_own_messages(
    backend: Backend,
) {
    let app = console_app(backend, |_| {}).await;
    let key = app.create_key("acme").await;
    let mut ids = Vec::new();
    for awb in ["000-00000011", "000-00000022"] {
        let id = webhook_subscription(&app, &key, awb).await;
        queue_test(&app, &key, &id).await;
        ids.push(id);
    }
    let (a, b) = (&ids[0], &ids[1]);
    let mut visitor = Visitor::signed_in(&app, &key).await;
    let page = visitor.get(&format!("/console/subscriptions/{b}")).await;
    let b_delivery = regex::Regex::new(r#"data-delivery-id="([^"]+)""#)
        .unwrap()
        .captures(&page.body)
        .unwrap()[1]
        .to_owned();
    for action in ["test", "rotate-secret", "unsubscribe", "retry-failed"] {
        let path = format!("/console/subscriptions/{a}/{action}");
        assert_eq!(visitor.post(&path, &[]).await.status, 403, "{action}");
        let forged = visitor.post(&path, &[("csrf", "forged")]).await;
        assert_eq!(forged.status, 403, "{action}");
    }
    let retry = format!("/console/subscriptions/{a}/deliveries/{b_delivery}/retry");
    assert_eq!(visitor.post(&retry, &[]).await.status, 403);
    let deliveries = app
        .get(&format!("/v1/subscriptions/{a}/deliveries"), &key)
        .await;
    assert_eq!(
        deliveries.body["items"].as_array().unwrap().len(),
        1,
        "no test was queued"
    );
    let still = app.get(&format!("/v1/subscriptions/{a}"), &key).await;
    assert_eq!(
        still.body["status"], "active",
        "the unsubscribe was refused"
    );
    // B's message under A's name: not found, for its body and for Retry alike.
    let body = visitor
        .get(&format!(
            "/console/subscriptions/{a}/deliveries/{b_delivery}"
        ))
        .await;
    assert_eq!(body.status, 404);
    assert_eq!(visitor.submit(&retry, &[]).await.status, 404);
    // Under its own subscription both work.
    let own = format!("/console/subscriptions/{b}/deliveries/{b_delivery}");
    assert_eq!(visitor.get(&own).await.status, 200);
    let retried = visitor.submit(&format!("{own}/retry"), &[]).await;
    assert_eq!(
        (retried.status, retried.location.as_str()),
        (
            303,
            format!("/console/subscriptions/{b}?done=retried").as_str()
        )
    );
}

async fn unknown_console_paths_and_bad_queries_get_console_pages(backend: Backend) {
    let app = console_app(backend, |_| {}).await;
    let key = app.create_key("acme").await;
    let mut visitor = Visitor::signed_in(&app, &key).await;
    assert_eq!(
        visitor.get("/console/").await.location,
        "/console/subscriptions"
    );
    let unknown = visitor.get("/console/nope/nothing").await;
    assert_eq!(unknown.status, 404);
    assert!(
        unknown.body.contains("<h1>Not found</h1>"),
        "{}",
        unknown.body
    );
    assert!(
        unknown.body.contains(r#"href="/console/logout""#),
        "Sign out on the error page"
    );
    let twice = visitor.get("/console/subscriptions?q=a&q=b").await;
    assert_eq!(twice.status, 400);
    assert!(
        twice.headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/html")
    );
    assert!(twice.body.contains("ErrInvalidQuery"), "{}", twice.body);
    // A form that is not sent as one gets a console page naming why, on every form.
    for path in [
        "/console/login",
        "/console/logout",
        "/console/subscriptions",
    ] {
        let request = visitor
            .client
            .post(format!("{}{path}", app.address))
            .body("csrf=x");
        let refused = visitor.send(request).await;
        assert_eq!(refused.status, 415, "{path}");
        assert!(
            refused.body.contains("ErrUnsupportedMediaType"),
            "{path}: {}",
            refused.body
        );
        assert!(refused.body.contains("<h1>"), "{path}: a console page");
    }
    let logout = visitor.get("/console/logout").await;
    assert_eq!(logout.status, 200);
    assert!(logout.body.contains(r#"action="/console/logout""#));
}
