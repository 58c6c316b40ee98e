//! What the store offers the web console, on both backends: its sessions (here), the
//! subscription search, a tenant's delivery figures and a message's body.

mod search;
mod stats;

use crate::db::{count, texts};
use crate::helpers::{Backend, fresh_store, on_both_backends};
use chrono::{DateTime, TimeDelta, Utc};
use skyhook::clock::{Clock, SystemClock};
use skyhook::domain::{ApiKey, ConsoleSessionHash, KeyName, SubscriptionId, TenantId};
use skyhook::store::{ConsoleSession, NewConsoleSession, NewSubscription, Store};

on_both_backends!(
    a_session_lives_until_it_expires_or_ends,
    a_session_needs_an_unrevoked_key,
    the_cookie_value_is_never_stored,
);

/// Creates a subscription that must be accepted; returns its id.
async fn create(store: &dyn Store, new: NewSubscription) -> SubscriptionId {
    store
        .create_subscription(new)
        .await
        .unwrap()
        .subscription
        .id
}

/// A key the way `skyhook keys create` makes one: its text and its tenant.
async fn key(store: &dyn Store, name: &str) -> (ApiKey, TenantId) {
    let key = ApiKey::generate();
    let info = store
        .create_api_key(
            &KeyName::parse(name).unwrap(),
            &key.hash(),
            SystemClock.now(),
        )
        .await
        .unwrap();
    (key, info.id)
}

/// A fresh random cookie value, as the console would set one.
fn cookie() -> String {
    format!("cookie-{}", uuid::Uuid::new_v4().simple())
}

/// Starts a session for `key`, as signing in does; `None` when the store refuses the key.
async fn start(
    store: &dyn Store,
    key: &ApiKey,
    session: &ConsoleSessionHash,
    csrf_token: &str,
    (now, expires_at): (DateTime<Utc>, DateTime<Utc>),
) -> Option<ConsoleSession> {
    store
        .start_console_session(
            &key.hash(),
            &NewConsoleSession {
                hash: session,
                csrf_token,
                now,
                expires_at,
            },
        )
        .await
        .unwrap()
}

async fn a_session_lives_until_it_expires_or_ends(backend: Backend) {
    let (store, db) = fresh_store(&backend).await;
    let (alice_key, alice) = key(&*store, "alice").await;
    let now = SystemClock.now();
    let expires_at = now + TimeDelta::hours(12);
    let cookie = cookie();
    let session = ConsoleSessionHash::of(&cookie);
    let started = start(&*store, &alice_key, &session, "csrf-1", (now, expires_at))
        .await
        .expect("a live key starts a session");
    assert_eq!(started.key.tenant, alice);
    assert_eq!(started.key_name, "alice");
    assert_eq!(started.csrf_token, "csrf-1");
    assert_eq!(started.expires_at, expires_at);
    assert!(
        !format!("{started:?}").contains("csrf-1"),
        "debug output hides the token"
    );

    let read = store.console_session(&session, now).await.unwrap();
    assert_eq!(read.as_ref(), Some(&started), "read back as started");
    let last_moment = expires_at - TimeDelta::microseconds(1);
    assert!(
        store
            .console_session(&session, last_moment)
            .await
            .unwrap()
            .is_some()
    );
    assert_eq!(
        store.console_session(&session, expires_at).await.unwrap(),
        None,
        "a session is over at its expiry"
    );
    assert_eq!(
        store
            .console_session(&ConsoleSessionHash::of(&format!("{cookie}x")), now)
            .await
            .unwrap(),
        None,
        "an unknown cookie has no session"
    );

    // Signing out ends it at once, and takes the expired sessions with it.
    let other = ConsoleSessionHash::of("other browser");
    let short = ConsoleSessionHash::of("short session");
    for (hash, until) in [(&other, expires_at), (&short, now + TimeDelta::minutes(1))] {
        start(&*store, &alice_key, hash, "csrf-2", (now, until))
            .await
            .unwrap();
    }
    assert_eq!(
        count(&db.url, "SELECT COUNT(*) FROM console_sessions").await,
        3
    );
    let later = now + TimeDelta::minutes(2);
    store.end_console_session(&session, later).await.unwrap();
    assert_eq!(store.console_session(&session, later).await.unwrap(), None);
    assert_eq!(
        count(&db.url, "SELECT COUNT(*) FROM console_sessions").await,
        1,
        "the ended and the expired session are deleted"
    );
    let lives = async |hash| store.console_session(hash, later).await.unwrap().is_some();
    assert!(lives(&other).await);
    // Ending one already ended, or one never started, ends no other.
    store.end_console_session(&session, later).await.unwrap();
    store
        .end_console_session(&ConsoleSessionHash::of("never started"), later)
        .await
        .unwrap();
    assert!(lives(&other).await);
}

async fn a_session_needs_an_unrevoked_key(backend: Backend) {
    let (store, db) = fresh_store(&backend).await;
    let (alice_key, _) = key(&*store, "alice").await;
    let (bob_key, bob) = key(&*store, "bob").await;
    let now = SystemClock.now();
    let until = now + TimeDelta::hours(1);
    let wrong = ApiKey::generate();
    let session = ConsoleSessionHash::of(&cookie());
    let started = start(&*store, &wrong, &session, "c", (now, until)).await;
    assert_eq!(started, None, "a wrong key starts nothing");
    assert_eq!(
        count(&db.url, "SELECT COUNT(*) FROM console_sessions").await,
        0
    );

    let alices = ConsoleSessionHash::of(&cookie());
    let bobs = ConsoleSessionHash::of(&cookie());
    for (key, session) in [(&alice_key, &alices), (&bob_key, &bobs)] {
        start(&*store, key, session, "c", (now, until))
            .await
            .unwrap();
    }
    let alice_name = KeyName::parse("alice").unwrap();
    assert!(store.revoke_api_key(&alice_name, now).await.unwrap());
    assert_eq!(
        store.console_session(&alices, now).await.unwrap(),
        None,
        "a revoked key's session ends at its next request"
    );
    let still = store.console_session(&bobs, now).await.unwrap().unwrap();
    assert_eq!(still.key.tenant, bob, "other keys' sessions go on");
    let fresh = ConsoleSessionHash::of(&cookie());
    let again = start(&*store, &alice_key, &fresh, "c", (now, until)).await;
    assert_eq!(again, None, "a revoked key starts nothing");
    assert_eq!(
        count(&db.url, "SELECT COUNT(*) FROM console_sessions").await,
        2
    );
}

async fn the_cookie_value_is_never_stored(backend: Backend) {
    let (store, db) = fresh_store(&backend).await;
    let (alice_key, _) = key(&*store, "alice").await;
    let cookie = cookie();
    let session = ConsoleSessionHash::of(&cookie);
    assert_ne!(session.as_str(), cookie);
    let now = SystemClock.now();
    let until = now + TimeDelta::hours(1);
    start(&*store, &alice_key, &session, "csrf", (now, until))
        .await
        .unwrap();
    let stored = texts(
        &db.url,
        "SELECT session_hash || ' ' || csrf_token FROM console_sessions",
    )
    .await;
    assert_eq!(stored, vec![format!("{} csrf", session.as_str())]);
    assert!(!stored[0].contains(&cookie), "{stored:?}");
}
