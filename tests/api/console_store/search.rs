//! The console's subscription search: AWBs, references and flight numbers, literally, one
//! tenant's only, with the status filter and keyset pages.

use super::create;
use crate::helpers::{Backend, fresh_store, on_both_backends};
use crate::storage::{new_subscription, tenant};
use chrono::TimeDelta;
use skyhook::clock::{Clock, SystemClock};
use skyhook::domain::{
    FlightTarget, Reference, SubscriptionId, SubscriptionStatus, Target, TenantId,
};
use skyhook::store::{NewSubscription, PageAfter, PageRequest, Store, SubscriptionFilter};

on_both_backends!(
    search_finds_awbs_with_or_without_the_dash,
    search_finds_references_and_flight_numbers_in_any_case,
    search_matches_like_wildcards_literally,
    search_pages_with_the_status_filter,
    search_never_finds_another_tenants_subscriptions,
);

/// A subscription of `tenant` to `awb` (with a URL) with `reference`.
fn with_reference(tenant: TenantId, awb: &str, reference: Option<&str>) -> NewSubscription {
    let mut new = new_subscription(tenant, awb, Some("https://a.example/h"), &[]);
    new.reference = reference.map(|r| Reference::parse(r).unwrap());
    new
}

/// The ids `search` finds among the tenant's subscriptions (at most 50), newest first.
async fn found(store: &dyn Store, tenant: TenantId, search: &str) -> Vec<SubscriptionId> {
    let filter = SubscriptionFilter {
        search: Some(search.to_owned()),
        ..Default::default()
    };
    let page = store
        .list_subscriptions(
            tenant,
            &filter,
            PageRequest {
                after: None,
                limit: 50,
            },
        )
        .await
        .unwrap();
    page.into_iter().map(|s| s.id).collect()
}

async fn search_finds_awbs_with_or_without_the_dash(backend: Backend) {
    let (store, _db) = fresh_store(&backend).await;
    let alice = tenant(&*store, "alice").await;
    let lh = create(&*store, with_reference(alice, "020-08002050", None)).await;
    let other = create(&*store, with_reference(alice, "172-28891936", None)).await;
    for search in [
        "020-08002050",
        "02008002050",
        "020 08002050",
        "0800205",
        "0-0800",
        " 08002050 ",
    ] {
        assert_eq!(found(&*store, alice, search).await, vec![lh], "{search:?}");
    }
    assert_eq!(found(&*store, alice, "2889").await, vec![other]);
    assert!(found(&*store, alice, "020-2889").await.is_empty());
    let mut everything = found(&*store, alice, "  ").await;
    everything.sort();
    let mut both = vec![lh, other];
    both.sort();
    assert_eq!(everything, both, "blank text filters nothing");
}

async fn search_finds_references_and_flight_numbers_in_any_case(backend: Backend) {
    let (store, _db) = fresh_store(&backend).await;
    let alice = tenant(&*store, "alice").await;
    let po = create(
        &*store,
        with_reference(alice, "020-08002050", Some("PO-Acme 1234")),
    )
    .await;
    let plain = create(
        &*store,
        with_reference(alice, "172-28891936", Some("order 99")),
    )
    .await;
    let mut flight = with_reference(alice, "020-08002050", Some("Weekly"));
    flight.target =
        Target::Flight(FlightTarget::parse("LH400", "2026-05-01", Some("FRA")).unwrap());
    let flight = create(&*store, flight).await;
    for search in ["acme", "ACME 12", "po-acme 1234", "Acme"] {
        assert_eq!(found(&*store, alice, search).await, vec![po], "{search:?}");
    }
    assert_eq!(found(&*store, alice, "ORDER").await, vec![plain]);
    for search in ["lh40", "LH400", "h4", "lh 400"] {
        assert_eq!(
            found(&*store, alice, search).await,
            vec![flight],
            "{search:?}"
        );
    }
    assert_eq!(found(&*store, alice, "weekly").await, vec![flight]);
    assert!(found(&*store, alice, "acme 12345").await.is_empty());
}

async fn search_matches_like_wildcards_literally(backend: Backend) {
    let (store, _db) = fresh_store(&backend).await;
    let alice = tenant(&*store, "alice").await;
    let percent = create(
        &*store,
        with_reference(alice, "020-08002050", Some("100%_off")),
    )
    .await;
    let lookalike = create(
        &*store,
        with_reference(alice, "172-28891936", Some("100xyoff")),
    )
    .await;
    let slash = create(
        &*store,
        with_reference(alice, "020-08002061", Some(r"back\slash")),
    )
    .await;
    assert_eq!(found(&*store, alice, "100%").await, vec![percent]);
    assert_eq!(found(&*store, alice, "0%_o").await, vec![percent]);
    assert_eq!(found(&*store, alice, "_off").await, vec![percent]);
    assert_eq!(
        found(&*store, alice, "%").await,
        vec![percent],
        "only the literal %"
    );
    assert_eq!(found(&*store, alice, r"k\s").await, vec![slash]);
    assert_eq!(found(&*store, alice, r"\").await, vec![slash]);
    assert_eq!(found(&*store, alice, "xyoff").await, vec![lookalike]);
    assert!(
        found(&*store, alice, "1_0").await.is_empty(),
        "`_` is no wildcard"
    );
}

async fn search_pages_with_the_status_filter(backend: Backend) {
    let (store, _db) = fresh_store(&backend).await;
    let alice = tenant(&*store, "alice").await;
    let created_at = SystemClock.now();
    let mut active = Vec::new();
    for n in 0..7u32 {
        let awb = crate::helpers::awb("020", 1000 + n);
        let reference = if n == 3 {
            "unrelated".to_owned()
        } else {
            format!("Batch-{n}")
        };
        let mut new = with_reference(alice, &awb, Some(&reference));
        // Equal creation times for some: the id breaks ties, as in unsearched pages.
        new.created_at = created_at + TimeDelta::seconds(i64::from(n / 2));
        let id = create(&*store, new).await;
        if n % 3 == 1 {
            store
                .unsubscribe_subscription(alice, id, created_at)
                .await
                .unwrap();
        } else if n != 3 {
            active.push(id);
        }
    }
    let filter = SubscriptionFilter {
        status: Some(SubscriptionStatus::Active),
        search: Some("batch".to_owned()),
        ..Default::default()
    };
    let (mut seen, mut after, mut pages) = (Vec::new(), None, 0);
    loop {
        let page = store
            .list_subscriptions(alice, &filter, PageRequest { after, limit: 2 })
            .await
            .unwrap();
        if page.is_empty() {
            break;
        }
        pages += 1;
        assert!(page.len() <= 2);
        assert!(page.iter().all(|s| s.status == SubscriptionStatus::Active));
        let last = page.last().unwrap();
        after = Some(PageAfter {
            created_at: last.created_at,
            id: last.id,
        });
        seen.extend(page.into_iter().map(|s| (s.created_at, s.id)));
    }
    assert_eq!(pages, active.len().div_ceil(2));
    let mut newest_first = seen.clone();
    newest_first.sort_by(|a, b| b.cmp(a));
    assert_eq!(seen, newest_first, "pages go on newest first");
    let mut ids: Vec<SubscriptionId> = seen.into_iter().map(|(_, id)| id).collect();
    ids.sort();
    active.sort();
    assert_eq!(ids, active, "each active match exactly once");
}

async fn search_never_finds_another_tenants_subscriptions(backend: Backend) {
    let (store, _db) = fresh_store(&backend).await;
    let (alice, bob) = (tenant(&*store, "alice").await, tenant(&*store, "bob").await);
    let alices = create(&*store, with_reference(alice, "020-08002050", Some("PO-1"))).await;
    let bobs = create(&*store, with_reference(bob, "020-08002050", Some("PO-1"))).await;
    for search in ["020-08002050", "po-1", "PO", "0"] {
        assert_eq!(
            found(&*store, alice, search).await,
            vec![alices],
            "{search:?}"
        );
        assert_eq!(found(&*store, bob, search).await, vec![bobs], "{search:?}");
    }
    assert!(
        found(&*store, TenantId::new_random(), "PO")
            .await
            .is_empty()
    );
}
