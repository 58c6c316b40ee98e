//! The storage conformance suite: every `Store` behaviour, run against both backends.

use crate::db::count;
use crate::helpers::{Backend, fresh_store, on_both_backends};
use chrono::{TimeDelta, Utc};
use skyhook::clock::{Clock, SystemClock};
use skyhook::domain::{
    ApiKey, AwbNumber, DuplicateError, EmailAddress, KeyName, RequestedChannels, SigningSecret,
    StateFilter, SubscriptionId, SubscriptionStatus, Target, TenantId,
};
use skyhook::store::{
    ChannelRemoval, NewSubscription, PageAfter, PageRequest, Store, StoreError, SubscriptionFilter,
    SubscriptionUpdate,
};

on_both_backends!(
    api_keys_are_unique_by_name_and_stop_working_when_revoked,
    subscriptions_round_trip_and_stay_with_their_tenant,
    one_shipment_row_per_awb_however_many_subscriptions,
    duplicate_rules_hold_inside_the_store,
    updates_and_endings_follow_the_lifecycle,
    channel_unsubscribe_reports_what_it_removed,
    keyset_pages_do_not_overlap,
    migrating_twice_is_harmless,
);

pub async fn tenant(store: &dyn Store, name: &str) -> TenantId {
    let key = ApiKey::generate();
    store
        .create_api_key(
            &KeyName::parse(name).unwrap(),
            &key.hash(),
            SystemClock.now(),
        )
        .await
        .unwrap()
        .id
}

fn emails(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| s.to_string()).collect()
}

pub fn new_subscription(
    tenant: TenantId,
    awb: &str,
    url: Option<&str>,
    mails: &[&str],
) -> NewSubscription {
    let now = SystemClock.now();
    NewSubscription {
        id: SubscriptionId::new_random(),
        tenant,
        target: Target::Awb(AwbNumber::parse(awb).unwrap()),
        flight_id: None,
        channels: RequestedChannels::parse(url, &emails(mails)).unwrap(),
        states: StateFilter::All,
        reference: None,
        headers: Default::default(),
        signing_secret: SigningSecret::generate(),
        created_at: now,
        expires_at: now + TimeDelta::days(21),
    }
}

async fn api_keys_are_unique_by_name_and_stop_working_when_revoked(backend: Backend) {
    let (store, _db) = fresh_store(&backend).await;
    let name = KeyName::parse("acme").unwrap();
    let key = ApiKey::generate();
    let info = store
        .create_api_key(&name, &key.hash(), Utc::now())
        .await
        .unwrap();
    assert_eq!(info.name, "acme");
    assert!(matches!(
        store
            .create_api_key(&name, &ApiKey::generate().hash(), Utc::now())
            .await,
        Err(StoreError::KeyNameTaken(n)) if n == "acme"
    ));
    let verified = store.verify_key(&key.hash()).await.unwrap().unwrap();
    assert_eq!(verified.tenant, info.id);
    assert!(verified.allow_networks.is_empty(), "public only by default");
    let networks = skyhook::domain::AllowNetworks::parse(&["10.20.0.0/16"]).unwrap();
    assert!(store.set_allowed_networks(&name, &networks).await.unwrap());
    let verified = store.verify_key(&key.hash()).await.unwrap().unwrap();
    assert_eq!(verified.allow_networks, networks);
    assert_eq!(
        store.verify_key(&ApiKey::generate().hash()).await.unwrap(),
        None
    );
    let listed = store.list_api_keys().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert!(listed[0].revoked_at.is_none());
    assert!(store.revoke_api_key(&name, Utc::now()).await.unwrap());
    assert!(!store.revoke_api_key(&name, Utc::now()).await.unwrap());
    assert_eq!(store.verify_key(&key.hash()).await.unwrap(), None);
    assert!(store.list_api_keys().await.unwrap()[0].revoked_at.is_some());
}

async fn subscriptions_round_trip_and_stay_with_their_tenant(backend: Backend) {
    let (store, _db) = fresh_store(&backend).await;
    let (alice, bob) = (tenant(&*store, "alice").await, tenant(&*store, "bob").await);
    let new = new_subscription(
        alice,
        "020-08002050",
        Some("https://a.example/h"),
        &["x@a.io"],
    );
    let saved = store.create_subscription(new.clone()).await.unwrap();
    let read = store
        .get_subscription(alice, new.id)
        .await
        .unwrap()
        .expect("found");
    assert_eq!(
        read, saved.subscription,
        "what was returned is what is stored"
    );
    assert_eq!(read.status, SubscriptionStatus::Active);
    assert_eq!(read.created_at, new.created_at);
    assert_eq!(store.get_subscription(bob, new.id).await.unwrap(), None);
    let bobs = store
        .list_subscriptions(
            bob,
            &SubscriptionFilter::default(),
            PageRequest {
                after: None,
                limit: 10,
            },
        )
        .await
        .unwrap();
    assert!(bobs.is_empty());
}

async fn one_shipment_row_per_awb_however_many_subscriptions(backend: Backend) {
    let (store, db) = fresh_store(&backend).await;
    let (alice, bob) = (tenant(&*store, "alice").await, tenant(&*store, "bob").await);
    for (tenant, url) in [
        (alice, "https://a.example/1"),
        (alice, "https://a.example/2"),
        (bob, "https://b.example/1"),
    ] {
        store
            .create_subscription(new_subscription(tenant, "020-08002050", Some(url), &[]))
            .await
            .unwrap();
    }
    store
        .create_subscription(new_subscription(
            alice,
            "172-28891936",
            Some("https://a.example/1"),
            &[],
        ))
        .await
        .unwrap();
    assert_eq!(count(&db.url, "SELECT COUNT(*) FROM shipments").await, 2);
    assert_eq!(
        count(&db.url, "SELECT COUNT(*) FROM subscriptions").await,
        4
    );
}

async fn duplicate_rules_hold_inside_the_store(backend: Backend) {
    let (store, _db) = fresh_store(&backend).await;
    let alice = tenant(&*store, "alice").await;
    let awb = "020-08002050";
    store
        .create_subscription(new_subscription(
            alice,
            awb,
            Some("https://a.example/h"),
            &["x@a.io"],
        ))
        .await
        .unwrap();
    let dup = store
        .create_subscription(new_subscription(
            alice,
            awb,
            Some("https://a.example/h"),
            &[],
        ))
        .await;
    assert!(matches!(
        dup,
        Err(StoreError::Duplicate(DuplicateError::UrlAlreadySubscribed(
            _
        )))
    ));
    let all_taken = store
        .create_subscription(new_subscription(alice, awb, None, &["x@a.io"]))
        .await;
    assert!(matches!(
        all_taken,
        Err(StoreError::Duplicate(DuplicateError::AllEmailsSubscribed(e))) if e.len() == 1
    ));
    let partly = store
        .create_subscription(new_subscription(alice, awb, None, &["x@a.io", "y@a.io"]))
        .await
        .unwrap();
    assert_eq!(
        partly.subscription.emails,
        vec![EmailAddress::parse("y@a.io").unwrap()]
    );
    assert_eq!(
        partly.skipped_emails,
        vec![EmailAddress::parse("x@a.io").unwrap()]
    );
}

async fn updates_and_endings_follow_the_lifecycle(backend: Backend) {
    let (store, _db) = fresh_store(&backend).await;
    let alice = tenant(&*store, "alice").await;
    let new = new_subscription(
        alice,
        "020-08002050",
        Some("https://a.example/h"),
        &["x@a.io"],
    );
    store.create_subscription(new.clone()).await.unwrap();
    let update = |url: Option<&str>, mails: &[&str]| SubscriptionUpdate {
        channels: RequestedChannels::parse(url, &emails(mails)).unwrap(),
        states: StateFilter::parse(&["DLV"]).unwrap(),
        reference: None,
        headers: Default::default(),
        now: SystemClock.now(),
    };
    let updated = store
        .update_subscription(alice, new.id, update(None, &["y@a.io", "x@a.io"]))
        .await
        .unwrap()
        .expect("exists");
    assert_eq!(updated.subscription.url, None);
    assert_eq!(updated.subscription.emails.len(), 2);
    assert_eq!(
        updated.subscription.states,
        StateFilter::parse(&["DLV"]).unwrap()
    );
    assert!(
        store
            .update_subscription(TenantId::new_random(), new.id, update(None, &["z@a.io"]))
            .await
            .unwrap()
            .is_none()
    );

    let ended = store
        .unsubscribe_subscription(alice, new.id, SystemClock.now())
        .await
        .unwrap()
        .expect("exists");
    assert_eq!(ended.status, SubscriptionStatus::Unsubscribed);
    assert!(ended.emails.is_empty() && ended.ended_at.is_some());
    assert!(matches!(
        store
            .update_subscription(alice, new.id, update(None, &["z@a.io"]))
            .await,
        Err(StoreError::NotActive(SubscriptionStatus::Unsubscribed))
    ));
    let filter = SubscriptionFilter {
        status: Some(SubscriptionStatus::Unsubscribed),
        ..Default::default()
    };
    assert_eq!(
        store
            .list_subscriptions(
                alice,
                &filter,
                PageRequest {
                    after: None,
                    limit: 10
                }
            )
            .await
            .unwrap()
            .len(),
        1
    );
    // Its emails are free again.
    store
        .create_subscription(new_subscription(alice, "020-08002050", None, &["x@a.io"]))
        .await
        .unwrap();
}

async fn channel_unsubscribe_reports_what_it_removed(backend: Backend) {
    let (store, _db) = fresh_store(&backend).await;
    let alice = tenant(&*store, "alice").await;
    let awb = "020-08002050";
    let url_only = new_subscription(alice, awb, Some("https://a.example/h"), &[]);
    let mixed = new_subscription(alice, awb, Some("https://a.example/other"), &["x@a.io"]);
    store.create_subscription(url_only.clone()).await.unwrap();
    store.create_subscription(mixed.clone()).await.unwrap();
    let target = Target::Awb(AwbNumber::parse(awb).unwrap());
    let report = store
        .unsubscribe_channels(
            alice,
            &ChannelRemoval {
                target: &target,
                url: Some("https://a.example/h"),
                emails: &[EmailAddress::parse("x@a.io").unwrap()],
            },
            SystemClock.now(),
        )
        .await
        .unwrap();
    assert_eq!(report.url_removed_from, vec![url_only.id]);
    assert_eq!(
        report.emails_removed,
        vec![(mixed.id, EmailAddress::parse("x@a.io").unwrap())]
    );
    assert_eq!(report.ended, vec![url_only.id]);
    let mixed_now = store
        .get_subscription(alice, mixed.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mixed_now.status, SubscriptionStatus::Active);
    assert!(mixed_now.emails.is_empty());
}

async fn keyset_pages_do_not_overlap(backend: Backend) {
    let (store, _db) = fresh_store(&backend).await;
    let alice = tenant(&*store, "alice").await;
    let mut ids = Vec::new();
    // Equal creation times must still page correctly: the id breaks ties.
    let created_at = SystemClock.now();
    for n in 0..7u32 {
        let mut new = new_subscription(
            alice,
            &format!("020-{:07}{}", n, n % 7),
            Some("https://a.example/h"),
            &[],
        );
        new.created_at = created_at;
        ids.push(new.id);
        store.create_subscription(new).await.unwrap();
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = store
            .list_subscriptions(
                alice,
                &SubscriptionFilter::default(),
                PageRequest { after, limit: 3 },
            )
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        let last = page.last().unwrap();
        after = Some(PageAfter {
            created_at: last.created_at,
            id: last.id,
        });
        seen.extend(page.iter().map(|s| s.id));
    }
    let mut sorted = seen.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted.len(), 7, "every subscription exactly once");
    ids.sort();
    assert_eq!(sorted, ids);
}

async fn migrating_twice_is_harmless(backend: Backend) {
    let (store, db) = fresh_store(&backend).await;
    store.migrate().await.unwrap();
    // A second instance starting at the same time migrates the same database safely.
    let other = skyhook::store::connect(&db.url, 2).await.unwrap();
    let (a, b) = tokio::join!(store.migrate(), other.migrate());
    a.unwrap();
    b.unwrap();
    store.ping().await.unwrap();
}
