//! When the receiver does not take a message: retries on the schedule with the same bytes,
//! `Retry-After`, 410 Gone, redirects, timeouts, huge answers, and disabling a URL that has
//! failed for too long.

use super::{DeliveryRig, booked, departed, secret, secs, signed_by, time};
use crate::helpers::{Backend, on_both_backends};
use crate::receiver::Reply;
use chrono::TimeDelta;
use serde_json::{Value, json};
use std::time::Duration;

on_both_backends!(
    a_failing_callback_is_retried_on_the_schedule_with_the_same_bytes,
    retry_after_of_429_and_503_is_honoured_up_to_a_day,
    retry_after_as_an_http_date_is_honoured,
    gone_disables_the_url_and_parks_its_messages_until_a_put_brings_them_back,
    a_put_without_the_url_fails_its_parked_messages_saying_why,
    a_redirect_is_a_failure_and_is_not_followed,
    a_slow_receiver_times_out_and_a_huge_answer_is_cut_short,
    a_callback_failing_longer_than_disable_after_is_disabled,
);

/// The only entry of a one-message log.
fn only(log: &[Value]) -> &Value {
    assert_eq!(log.len(), 1, "{log:?}");
    &log[0]
}

async fn a_failing_callback_is_retried_on_the_schedule_with_the_same_bytes(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    let sub = rig.subscribe_url("/hook").await;
    rig.receiver
        .script([Reply::Status(500), Reply::Status(500), Reply::Status(200)]);
    rig.poll(vec![booked()]).await;

    let first_try = rig.now();
    assert_eq!(rig.dispatch().await, 1);
    let log = rig.deliveries(&sub).await;
    let entry = only(&log);
    assert_eq!(entry["status"], "pending");
    assert_eq!(entry["attempts"], 1);
    assert_eq!(entry["lastStatusCode"], 500);
    assert!(
        entry["lastError"].as_str().unwrap().contains("500"),
        "{entry}"
    );
    let next = time(&entry["nextAttemptAt"]);
    assert!(
        next >= first_try + TimeDelta::seconds(5),
        "never earlier: {next}"
    );
    assert!(
        next <= first_try + TimeDelta::milliseconds(5500),
        "≤10% jitter: {next}"
    );

    rig.advance_to(next - TimeDelta::milliseconds(1));
    assert_eq!(rig.dispatch().await, 0, "not due before its time");
    rig.advance_to(next);
    let second_try = rig.now();
    assert_eq!(rig.dispatch().await, 1);
    let log = rig.deliveries(&sub).await;
    let entry = only(&log);
    assert_eq!(entry["attempts"], 2);
    let next = time(&entry["nextAttemptAt"]);
    assert!(next >= second_try + TimeDelta::seconds(60), "{next}");
    assert!(next <= second_try + TimeDelta::seconds(66), "{next}");

    rig.advance_to(next);
    assert_eq!(rig.dispatch().await, 1);
    let log = rig.deliveries(&sub).await;
    let entry = only(&log);
    assert_eq!(entry["status"], "delivered");
    assert_eq!(entry["attempts"], 3);
    assert_eq!(entry["lastStatusCode"], 200);
    assert_eq!(entry["nextAttemptAt"], json!(null));

    let posts = rig.receiver.posts();
    assert_eq!(posts.len(), 3);
    for post in &posts {
        assert_eq!(
            post.body, posts[0].body,
            "every attempt sends the queued bytes"
        );
        assert_eq!(post.header("webhook-id"), posts[0].header("webhook-id"));
        assert!(signed_by(post, secret(&sub)));
    }
    assert_ne!(
        posts[0].header("webhook-timestamp"),
        posts[2].header("webhook-timestamp")
    );

    // A message that fails every attempt is failed once the schedule is used up.
    rig.receiver.always(Reply::Status(500));
    rig.poll(vec![booked(), departed()]).await;
    for _ in 0..3 {
        assert_eq!(rig.dispatch().await, 1);
        let log = rig.deliveries(&sub).await;
        if let Some(pending) = log.iter().find(|d| d["status"] == "pending") {
            rig.advance_to(time(&pending["nextAttemptAt"]));
        }
    }
    let log = rig.deliveries(&sub).await;
    assert_eq!(log[1]["status"], "failed");
    assert_eq!(log[1]["attempts"], 3);
    assert_eq!(log[1]["nextAttemptAt"], json!(null));
    rig.advance(TimeDelta::hours(1));
    assert_eq!(rig.dispatch().await, 0, "given up");
}

async fn retry_after_of_429_and_503_is_honoured_up_to_a_day(backend: Backend) {
    let rig = DeliveryRig::with(backend, |s| {
        s.webhooks.retry_schedule = vec![secs(5), secs(60), secs(60)];
    })
    .await;
    let sub = rig.subscribe_url("/hook").await;
    rig.receiver.script([
        Reply::RetryAfter(429, 120),
        // Only 429 and 503 are asked to wait; a 500's Retry-After is not honoured.
        Reply::RetryAfter(500, 600),
        Reply::RetryAfter(503, 10 * 86_400),
        Reply::Status(204),
    ]);
    rig.poll(vec![booked()]).await;

    let mut waits = Vec::new();
    for _ in 0..3 {
        let at = rig.now();
        assert_eq!(rig.dispatch().await, 1);
        let log = rig.deliveries(&sub).await;
        let next = time(&only(&log)["nextAttemptAt"]);
        waits.push(next - at);
        rig.advance_to(next);
    }
    assert_eq!(waits[0], TimeDelta::seconds(120), "Retry-After: 120");
    assert!(
        waits[1] >= TimeDelta::seconds(60) && waits[1] <= TimeDelta::seconds(66),
        "the schedule, not the 500's Retry-After: {}",
        waits[1]
    );
    assert_eq!(waits[2], TimeDelta::hours(24), "capped at a day");
    assert_eq!(rig.dispatch().await, 1);
    let log = rig.deliveries(&sub).await;
    assert_eq!(only(&log)["status"], "delivered");
    assert_eq!(only(&log)["lastStatusCode"], 204);
}

async fn retry_after_as_an_http_date_is_honoured(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    let sub = rig.subscribe_url("/hook").await;
    rig.poll(vec![booked()]).await;
    // RFC 9110 allows `Retry-After: <http-date>` as well as seconds.
    let now = rig.now();
    let asked =
        chrono::DurationRound::duration_trunc(now + TimeDelta::minutes(10), TimeDelta::seconds(1))
            .unwrap();
    let date = asked.format("%a, %d %b %Y %H:%M:%S GMT").to_string();
    rig.receiver
        .script([Reply::RetryAfterDate(503, date.clone())]);
    assert_eq!(rig.dispatch().await, 1);
    let log = rig.deliveries(&sub).await;
    assert_eq!(only(&log)["lastStatusCode"], 503);
    assert_eq!(
        time(&only(&log)["nextAttemptAt"]),
        asked,
        "Retry-After: {date}"
    );
}

/// A subscription by URL and email whose receiver answers its first update `410 Gone`; that
/// update has been sent to both channels.
async fn gone_at_the_first_update(backend: Backend) -> (DeliveryRig, Value) {
    let rig = DeliveryRig::new(backend).await;
    let sub = rig
        .subscribe(json!({"url": rig.receiver.url("/hook"), "emails": ["ops@example.com"]}))
        .await;
    rig.receiver.script([Reply::Status(410)]);
    rig.poll(vec![booked()]).await;
    assert_eq!(rig.dispatch().await, 2);
    (rig, sub)
}

async fn gone_disables_the_url_and_parks_its_messages_until_a_put_brings_them_back(
    backend: Backend,
) {
    let (rig, sub) = gone_at_the_first_update(backend).await;

    let webhooks = |log: &[Value]| -> Vec<(i64, String, i64)> {
        log.iter()
            .filter(|d| d["channel"] == "webhook")
            .map(|d| {
                (
                    d["sequence"].as_i64().unwrap(),
                    d["status"].as_str().unwrap().to_owned(),
                    d["attempts"].as_i64().unwrap(),
                )
            })
            .collect()
    };
    let log = rig.deliveries(&sub).await;
    let webhook = log.iter().find(|d| d["channel"] == "webhook").unwrap();
    assert_eq!(webhook["status"], "parked", "kept, not retried: {webhook}");
    assert_eq!(webhook["attempts"], 1);
    assert_eq!(webhook["lastStatusCode"], 410);
    let now = rig.reread(&sub).await;
    assert_eq!(now["status"], "active", "the email channel lives on");
    assert_eq!(time(&now["urlDisabledAt"]), rig.now());
    let reason = now["urlDisabledReason"].as_str().unwrap();
    assert!(reason.contains("410"), "{reason}");

    // News while the URL is disabled is kept for it too, and the email goes at once.
    rig.poll(vec![booked(), departed()]).await;
    assert_eq!(rig.dispatch().await, 1, "only the email");
    let log = rig.deliveries(&sub).await;
    assert_eq!(
        webhooks(&log),
        [(1, "parked".to_owned(), 1), (2, "parked".to_owned(), 0)]
    );
    assert_eq!(rig.receiver.posts().len(), 1);
    assert_eq!(rig.sink.messages().len(), 2);

    // A PUT with the URL turns it back on, and what was parked goes out, in order.
    let path = format!("/v1/subscriptions/{}", super::id(&sub));
    let body = json!({"url": rig.receiver.url("/hook"), "emails": ["ops@example.com"]});
    let put = rig.app.put(&path, &rig.key, body).await;
    assert_eq!(put.status, 200, "{}", put.body);
    assert!(put.body.get("urlDisabledAt").is_none(), "{}", put.body);
    rig.catch_up();
    assert_eq!(rig.dispatch().await, 2);
    let sequences: Vec<Value> = rig
        .receiver
        .posts()
        .iter()
        .map(|p| p.json()["sequence"].clone())
        .collect();
    assert_eq!(sequences, [json!(1), json!(1), json!(2)]);
    let log = rig.deliveries(&sub).await;
    assert_eq!(
        webhooks(&log),
        [
            (1, "delivered".to_owned(), 2),
            (2, "delivered".to_owned(), 1)
        ]
    );

    rig.poll(vec![booked(), departed(), super::arrived()]).await;
    rig.dispatch().await;
    assert_eq!(rig.receiver.posts().len(), 4);
    assert_eq!(rig.receiver.posts()[3].json()["sequence"], 3);
}

async fn a_put_without_the_url_fails_its_parked_messages_saying_why(backend: Backend) {
    let (rig, sub) = gone_at_the_first_update(backend).await;

    let path = format!("/v1/subscriptions/{}", super::id(&sub));
    let put = rig
        .app
        .put(&path, &rig.key, json!({"emails": ["ops@example.com"]}))
        .await;
    assert_eq!(put.status, 200, "{}", put.body);
    rig.catch_up();
    assert_eq!(rig.dispatch().await, 0);
    let log = rig.deliveries(&sub).await;
    let webhook = log.iter().find(|d| d["channel"] == "webhook").unwrap();
    assert_eq!(webhook["status"], "failed", "{webhook}");
    let error = webhook["lastError"].as_str().unwrap();
    assert!(error.contains("removed"), "{error}");
    assert_eq!(rig.receiver.posts().len(), 1);
}

async fn a_redirect_is_a_failure_and_is_not_followed(backend: Backend) {
    let rig = DeliveryRig::new(backend).await;
    let sub = rig.subscribe_url("/hook").await;
    rig.receiver.script([Reply::Redirect]);
    rig.poll(vec![booked()]).await;
    assert_eq!(rig.dispatch().await, 1);

    let all = rig.receiver.all();
    assert_eq!(all.len(), 1, "the Location was not followed: {all:?}");
    let log = rig.deliveries(&sub).await;
    let entry = only(&log);
    assert_eq!(entry["status"], "pending");
    assert_eq!(entry["lastStatusCode"], 307);
    let error = entry["lastError"].as_str().unwrap();
    assert!(
        error.contains("redirect") && error.contains("/redirected"),
        "{error}"
    );
}

async fn a_slow_receiver_times_out_and_a_huge_answer_is_cut_short(backend: Backend) {
    let rig = DeliveryRig::with(backend, |s| {
        s.webhooks.timeout = super::HumanDuration(Duration::from_millis(300));
    })
    .await;
    let sub = rig.subscribe_url("/hook").await;
    rig.receiver
        .script([Reply::Slow(Duration::from_secs(3)), Reply::HugeBody(500)]);
    rig.poll(vec![booked()]).await;

    assert_eq!(rig.dispatch().await, 1);
    let log = rig.deliveries(&sub).await;
    let entry = only(&log);
    assert_eq!(entry["status"], "pending");
    assert_eq!(entry["lastStatusCode"], json!(null));
    let error = entry["lastError"].as_str().unwrap();
    assert!(error.contains("timed out"), "{error}");

    rig.advance_to_next_attempt(&log);
    assert_eq!(rig.dispatch().await, 1);
    let log = rig.deliveries(&sub).await;
    let entry = only(&log);
    assert_eq!(entry["lastStatusCode"], 500);
    let error = entry["lastError"].as_str().unwrap();
    assert!(error.starts_with("HTTP 500"), "{error}");
    let kept = error.matches('x').count();
    assert!(
        kept > 0 && kept <= 2048,
        "at most 2 KiB of the answer kept, got {kept}"
    );
    assert!(error.len() <= 2048 + 64, "{}", error.len());
}

async fn a_callback_failing_longer_than_disable_after_is_disabled(backend: Backend) {
    let rig = DeliveryRig::with(backend, |s| {
        s.webhooks.retry_schedule = vec![secs(60); 5];
        s.webhooks.disable_after = secs(120);
    })
    .await;
    let sub = rig.subscribe_url("/hook").await;
    rig.receiver.always(Reply::Status(500));
    rig.poll(vec![booked()]).await;

    let first_failure = rig.now();
    let mut attempts = 0;
    loop {
        assert_eq!(rig.dispatch().await, 1);
        attempts += 1;
        let log = rig.deliveries(&sub).await;
        if only(&log)["status"] != "pending" {
            break;
        }
        assert!(rig.reread(&sub).await["urlDisabledAt"].is_null());
        rig.advance_to_next_attempt(&log);
    }
    assert_eq!(attempts, 3, "at 0s, ~60s and ~120s");
    assert!(rig.now() - first_failure >= TimeDelta::seconds(120));
    let log = rig.deliveries(&sub).await;
    assert_eq!(only(&log)["status"], "parked");
    let now = rig.reread(&sub).await;
    assert!(now["urlDisabledAt"].is_string(), "{now}");
    let reason = now["urlDisabledReason"].as_str().unwrap();
    assert!(reason.contains("disable_after"), "{reason}");

    rig.poll(vec![booked(), departed()]).await;
    assert_eq!(rig.dispatch().await, 0, "nothing is sent to a disabled URL");
    let log = rig.deliveries(&sub).await;
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|d| d["status"] == "parked"), "{log:?}");
    assert_eq!(rig.receiver.posts().len(), 3);
}
