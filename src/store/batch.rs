//! Creating many subscriptions at once (`POST /v1/subscriptions/batch`, `skyhook import`): the
//! single create's duplicate rules (`RequestedChannels::plan`), applied item by item in input
//! order to what is stored plus what the batch's earlier items took, then written in a few
//! multi-row statements inside one transaction: what is taken (one read), the shipments, the
//! flight checks, the subscriptions and their emails (one statement each).
//!
//! On SQLite the single writer makes the read and the writes one atomic step (its single
//! create is a batch of one). On Postgres a concurrent request can take a URL, a feed or an
//! email between the read and the writes: the inserts skip what the unique indexes refuse
//! (`ON CONFLICT DO NOTHING`), and an item that lost its race is reported as the single create
//! would report it, without failing the others.

use super::rows::TargetColumns;
use super::sql::{Col, Conn, JsonRows, sql, ts};
use super::subscriptions::{new_unsubscribe_token, saved_subscription};
use super::{NewSubscription, Saved, StoreError};
use crate::domain::{ChannelPlan, DuplicateError, TakenChannels, Target, TenantId};
use chrono::{DateTime, TimeDelta, Utc};
use std::collections::{BTreeSet, HashMap, HashSet};
use uuid::Uuid;

/// Channels active subscriptions hold on one tenant's target.
#[derive(Default)]
struct Held {
    urls: HashSet<String>,
    feed: bool,
    emails: HashSet<String>,
}

impl Held {
    fn taken_by(&self, new: &NewSubscription) -> TakenChannels {
        let mut emails: Vec<String> = new
            .channels
            .emails
            .iter()
            .filter(|e| self.emails.contains(e.as_str()))
            .map(|e| e.as_str().to_owned())
            .collect();
        emails.sort();
        TakenChannels {
            url: new
                .channels
                .url
                .as_ref()
                .is_some_and(|u| self.urls.contains(u.as_str())),
            feed: self.feed,
            emails,
        }
    }

    fn take(&mut self, plan: &ChannelPlan) {
        self.urls
            .extend(plan.url.iter().map(|u| u.as_str().to_owned()));
        self.feed |= plan.feed;
        self.emails
            .extend(plan.emails.iter().map(|e| e.as_str().to_owned()));
    }
}

type TargetOf = (TenantId, String);

/// Creates each of `batch` as a single create would, in input order; the caller commits.
pub(super) async fn create_batch(
    conn: &mut impl Conn,
    batch: Vec<NewSubscription>,
    poll_spacing: TimeDelta,
) -> Result<Vec<Result<Saved, StoreError>>, StoreError> {
    let mut held = held_channels(conn, &batch).await?;
    let mut results: Vec<Option<Result<Saved, StoreError>>> = Vec::with_capacity(batch.len());
    let mut accepted: Vec<(usize, NewSubscription, ChannelPlan)> = Vec::new();
    for (index, new) in batch.into_iter().enumerate() {
        let on_target = held.entry((new.tenant, new.target.key())).or_default();
        match new.channels.clone().plan(&on_target.taken_by(&new)) {
            Ok(plan) => {
                on_target.take(&plan);
                accepted.push((index, new, plan));
                results.push(None);
            }
            Err(err) => results.push(Some(Err(err.into()))),
        }
    }
    if !accepted.is_empty() {
        insert_targets(conn, &accepted, poll_spacing).await?;
        for (index, outcome) in insert_subscriptions(conn, accepted).await? {
            results[index] = Some(outcome);
        }
    }
    Ok(results
        .into_iter()
        .map(|r| r.expect("every item has an outcome"))
        .collect())
}

/// What active subscriptions already hold on the batch's targets: one statement.
async fn held_channels(
    conn: &mut impl Conn,
    batch: &[NewSubscription],
) -> Result<HashMap<TargetOf, Held>, StoreError> {
    let targets: BTreeSet<(Uuid, String)> = batch
        .iter()
        .map(|n| (n.tenant.as_uuid(), n.target.key()))
        .collect();
    let mut rows = JsonRows::default();
    for (tenant, key) in targets {
        rows.push(serde_json::json!({ "tenant_id": tenant, "target_key": key }));
    }
    let source = conn
        .backend()
        .json_rows(1, &[("tenant_id", Col::Uuid), ("target_key", Col::Text)]);
    let found: Vec<(Uuid, String, String, String)> = sql(format!(
        "SELECT s.tenant_id, s.target_key, 'url', s.url FROM {source} \
             JOIN subscriptions s ON s.tenant_id = u.tenant_id AND s.target_key = u.target_key \
             WHERE s.status = 'active' AND s.url IS NOT NULL \
         UNION ALL SELECT s.tenant_id, s.target_key, 'feed', '' FROM {source} \
             JOIN subscriptions s ON s.tenant_id = u.tenant_id AND s.target_key = u.target_key \
             WHERE s.status = 'active' AND s.feed \
         UNION ALL SELECT e.tenant_id, e.target_key, 'email', e.email FROM {source} \
             JOIN subscription_emails e \
                 ON e.tenant_id = u.tenant_id AND e.target_key = u.target_key \
             WHERE e.active"
    ))
    .bind(rows)
    .fetch_all(conn)
    .await?;
    let mut held: HashMap<TargetOf, Held> = HashMap::new();
    for (tenant, key, kind, value) in found {
        let on_target = held.entry((tenant.into(), key)).or_default();
        match kind.as_str() {
            "url" => drop(on_target.urls.insert(value)),
            "feed" => on_target.feed = true,
            _ => drop(on_target.emails.insert(value)),
        }
    }
    Ok(held)
}

/// The shipments and flight checks of the accepted items: a new subscriber makes a dormant
/// one due now, or a shipment `poll_spacing` after its last check if that is later, so that
/// subscribing again and again does not fetch it each time (carrier quota is money).
async fn insert_targets(
    conn: &mut impl Conn,
    accepted: &[(usize, NewSubscription, ChannelPlan)],
    poll_spacing: TimeDelta,
) -> Result<(), StoreError> {
    // Postgres refuses to upsert one row twice in a statement: each target once.
    let mut awbs: HashMap<String, DateTime<Utc>> = HashMap::new();
    let mut flights: HashMap<(String, String), String> = HashMap::new();
    for (_, new, _) in accepted {
        let at = ts(new.created_at);
        let target = TargetColumns::from(&new.target);
        if let Some(awb) = target.awb {
            awbs.entry(awb.to_owned()).or_insert(new.created_at);
        } else if let (Some(number), Some(date)) = (target.flight_number, target.flight_date) {
            flights
                .entry((number.to_owned(), date.to_string()))
                .or_insert(at);
        }
    }
    let dialect = conn.backend();
    let least = dialect.least();
    if !awbs.is_empty() {
        let checked: Vec<(String, Option<DateTime<Utc>>)> = sql(format!(
            "SELECT awb, last_checked_at FROM shipments WHERE awb {}",
            dialect.in_texts(1)
        ))
        .bind(awbs.keys().cloned().collect::<Vec<_>>())
        .fetch_all(conn)
        .await?;
        let checked: HashMap<String, DateTime<Utc>> = checked
            .into_iter()
            .filter_map(|(awb, at)| Some((awb, at?)))
            .collect();
        let mut rows = JsonRows::default();
        for (awb, at) in awbs {
            let due = checked
                .get(&awb)
                .and_then(|last| last.checked_add_signed(poll_spacing))
                .map_or(at, |spaced| spaced.max(at));
            rows.push(serde_json::json!({ "awb": awb, "at": ts(at), "due": ts(due) }));
        }
        let source = dialect.json_rows(
            1,
            &[("awb", Col::Text), ("at", Col::Time), ("due", Col::Time)],
        );
        // `WHERE true` tells SQLite's parser that `ON CONFLICT` is the upsert, not a join.
        sql(format!(
            "INSERT INTO shipments (awb, next_poll_at, created_at, updated_at) \
             SELECT u.awb, u.due, u.at, u.at FROM {source} WHERE true \
             ON CONFLICT (awb) DO UPDATE \
                 SET next_poll_at = {least}(shipments.next_poll_at, excluded.next_poll_at)"
        ))
        .bind(rows)
        .execute(conn)
        .await?;
    }
    if !flights.is_empty() {
        let mut rows = JsonRows::default();
        for ((number, date), at) in flights {
            rows.push(serde_json::json!({ "number": number, "date": date, "at": at }));
        }
        let source = dialect.json_rows(
            1,
            &[
                ("number", Col::Text),
                ("date", Col::Date),
                ("at", Col::Time),
            ],
        );
        sql(format!(
            "INSERT INTO flight_checks (number, date, next_check_at, created_at) \
             SELECT u.number, u.date, u.at, u.at FROM {source} WHERE true \
             ON CONFLICT (number, date) DO UPDATE \
                 SET next_check_at = {least}(flight_checks.next_check_at, \
                     excluded.next_check_at)"
        ))
        .bind(rows)
        .execute(conn)
        .await?;
    }
    Ok(())
}

/// Inserts the accepted subscriptions, then their emails; returns each item's outcome.
async fn insert_subscriptions(
    conn: &mut impl Conn,
    accepted: Vec<(usize, NewSubscription, ChannelPlan)>,
) -> Result<Vec<(usize, Result<Saved, StoreError>)>, StoreError> {
    let mut rows = JsonRows::default();
    for (_, new, plan) in &accepted {
        let target = TargetColumns::from(&new.target);
        rows.push(serde_json::json!({
            "id": new.id.as_uuid(),
            "tenant_id": new.tenant.as_uuid(),
            "target_key": new.target.key(),
            "awb": target.awb,
            "flight_number": target.flight_number,
            "flight_date": target.flight_date.map(|d| d.to_string()),
            "flight_origin": target.flight_origin,
            "flight_id": new.flight_id,
            "url": plan.url.as_ref().map(|u| u.as_str()),
            "states": new.states.to_codes(),
            "reference": new.reference.as_ref().map(|r| r.as_str()),
            "signing_secret": new.signing_secret.expose(),
            "created_at": ts(new.created_at),
            "expires_at": ts(new.expires_at),
            "headers": new.headers.as_map(),
            "feed": plan.feed,
        }));
    }
    let dialect = conn.backend();
    let source = dialect.json_rows(
        1,
        &[
            ("id", Col::Uuid),
            ("tenant_id", Col::Uuid),
            ("target_key", Col::Text),
            ("awb", Col::Text),
            ("flight_number", Col::Text),
            ("flight_date", Col::Date),
            ("flight_origin", Col::Text),
            ("flight_id", Col::Uuid),
            ("url", Col::Text),
            ("states", Col::Json),
            ("reference", Col::Text),
            ("signing_secret", Col::Text),
            ("created_at", Col::Time),
            ("expires_at", Col::Time),
            ("headers", Col::Json),
            ("feed", Col::Bool),
        ],
    );
    // What a concurrent request took since the read (Postgres only) is skipped, not an error
    // that would fail the whole batch.
    let inserted: Vec<(Uuid,)> = sql(format!(
        "INSERT INTO subscriptions (id, tenant_id, target_key, awb, flight_number, flight_date, \
             flight_origin, flight_id, url, states, reference, status, signing_secret, \
             created_at, updated_at, expires_at, headers, feed) \
         SELECT u.id, u.tenant_id, u.target_key, u.awb, u.flight_number, u.flight_date, \
             u.flight_origin, u.flight_id, u.url, u.states, u.reference, 'active', \
             u.signing_secret, u.created_at, u.created_at, u.expires_at, u.headers, u.feed \
         FROM {source} WHERE true ON CONFLICT DO NOTHING RETURNING id"
    ))
    .bind(rows)
    .fetch_all(conn)
    .await?;
    let inserted: HashSet<Uuid> = inserted.into_iter().map(|(id,)| id).collect();
    let (written, lost): (Vec<_>, Vec<_>) = accepted
        .into_iter()
        .partition(|(_, new, _)| inserted.contains(&new.id.as_uuid()));
    let mut outcomes: Vec<(usize, Result<Saved, StoreError>)> = lost
        .into_iter()
        .map(|(index, _, plan)| {
            let err = match plan.url {
                Some(url) => DuplicateError::UrlAlreadySubscribed(url),
                None => DuplicateError::FeedAlreadySubscribed,
            };
            (index, Err(err.into()))
        })
        .collect();
    let emails_written = insert_emails(conn, &written).await?;
    let mut emptied = Vec::new();
    for (index, new, mut plan) in written {
        // An email a concurrent request took since the read is skipped, as a single create
        // skips a taken email; a subscription left without any channel is not kept.
        let (kept, taken): (Vec<_>, Vec<_>) = plan
            .emails
            .into_iter()
            .partition(|e| emails_written.contains(&(new.id.as_uuid(), e.as_str().to_owned())));
        plan.emails = kept;
        plan.skipped_emails.extend(taken);
        if plan.url.is_none() && !plan.feed && plan.emails.is_empty() {
            emptied.push(new.id);
            let err = DuplicateError::AllEmailsSubscribed(new.channels.emails.clone());
            outcomes.push((index, Err(err.into())));
        } else {
            outcomes.push((index, Ok(saved_subscription(&new, plan))));
        }
    }
    if !emptied.is_empty() {
        sql(format!(
            "DELETE FROM subscriptions WHERE id {}",
            dialect.in_uuids(1)
        ))
        .bind(emptied)
        .execute(conn)
        .await?;
    }
    Ok(outcomes)
}

/// Inserts the new emails of the written subscriptions; returns which were written.
async fn insert_emails(
    conn: &mut impl Conn,
    written: &[(usize, NewSubscription, ChannelPlan)],
) -> Result<HashSet<(Uuid, String)>, StoreError> {
    let mut rows = JsonRows::default();
    for (_, new, plan) in written {
        for (position, email) in (1..).zip(&plan.emails) {
            rows.push(serde_json::json!({
                "subscription_id": new.id.as_uuid(),
                "tenant_id": new.tenant.as_uuid(),
                "target_key": new.target.key(),
                "email": email.as_str(),
                "position": position,
                "token": new_unsubscribe_token(),
                "created_at": ts(new.created_at),
            }));
        }
    }
    if rows.is_empty() {
        return Ok(HashSet::new());
    }
    let source = conn.backend().json_rows(
        1,
        &[
            ("subscription_id", Col::Uuid),
            ("tenant_id", Col::Uuid),
            ("target_key", Col::Text),
            ("email", Col::Text),
            ("position", Col::SmallInt),
            ("token", Col::Text),
            ("created_at", Col::Time),
        ],
    );
    let written: Vec<(Uuid, String)> = sql(format!(
        "INSERT INTO subscription_emails (subscription_id, email, position, tenant_id, \
             target_key, unsubscribe_token, created_at) \
         SELECT u.subscription_id, u.email, u.position, u.tenant_id, u.target_key, u.token, \
             u.created_at FROM {source} WHERE true \
         ON CONFLICT DO NOTHING RETURNING subscription_id, email"
    ))
    .bind(rows)
    .fetch_all(conn)
    .await?;
    Ok(written.into_iter().collect())
}

/// The kind of work a batch made due, for the wake-ups.
pub(super) fn work_of(batch: &[NewSubscription]) -> Vec<super::Work> {
    let mut work = Vec::new();
    if batch.iter().any(|n| matches!(n.target, Target::Awb(_))) {
        work.push(super::Work::Shipments);
    }
    if batch.iter().any(|n| matches!(n.target, Target::Flight(_))) {
        work.push(super::Work::FlightChecks);
    }
    work
}
