//! Making and reading subscriptions, and the pieces every flow that writes channels shares:
//! which channels are taken, inserting emails, and mapping a lost race to the right client
//! error.

use super::rows::{FlightRow, SUBSCRIPTION_COLUMNS, SubscriptionRow};
use super::sql::{Backend, Col, Conn, JsonRows, contains_pattern, sql};
use super::wake::Work;
use super::{
    NewSubscription, PageRequest, Pools, Saved, SqlStore, StoreError, SubscriptionFilter,
    Subscriptions, postgres, sqlite,
};
use crate::domain::{
    ChannelPlan, DuplicateError, EmailAddress, FlightKey, FlightTarget, RequestedChannels,
    Subscription, SubscriptionId, SubscriptionStatus, TakenChannels, Target, TenantId,
};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sqlx::types::Json;
use uuid::Uuid;

#[async_trait]
impl Subscriptions for SqlStore {
    async fn create_subscription(&self, new: NewSubscription) -> Result<Saved, StoreError> {
        // The target is due now: its poller starts at once.
        let work = match new.target {
            Target::Awb(_) => Work::Shipments,
            Target::Flight(_) => Work::FlightChecks,
        };
        let saved = match &self.pools {
            Pools::Postgres(_) => {
                postgres::create_subscription(&mut self.writer().await?, new, self.poll_spacing)
                    .await?
            }
            Pools::Sqlite { .. } => {
                sqlite::create_subscription(self.begin().await?, new, self.poll_spacing).await?
            }
        };
        self.woken(work);
        Ok(saved)
    }

    async fn create_subscriptions(
        &self,
        batch: Vec<NewSubscription>,
    ) -> Result<Vec<Result<Saved, StoreError>>, StoreError> {
        if batch.is_empty() {
            return Ok(Vec::new());
        }
        let work = super::batch::work_of(&batch);
        let mut tx = self.begin().await?;
        let outcomes = super::batch::create_batch(&mut tx, batch, self.poll_spacing).await?;
        tx.commit().await?;
        work.into_iter().for_each(|w| self.woken(w));
        Ok(outcomes)
    }

    async fn get_subscription(
        &self,
        tenant: TenantId,
        id: SubscriptionId,
    ) -> Result<Option<Subscription>, StoreError> {
        fetch_subscription(&mut self.reader().await?, tenant, id).await
    }

    async fn list_subscriptions(
        &self,
        tenant: TenantId,
        filter: &SubscriptionFilter,
        page: PageRequest,
    ) -> Result<Vec<Subscription>, StoreError> {
        // The search's patterns: `$7` as written, `$8` without `-` and spaces (none when
        // that leaves nothing), for AWBs (stored `NNN-NNNNNNNN`) and flight numbers.
        let search = filter
            .search
            .as_deref()
            .map(str::trim)
            .filter(|s| !s.is_empty());
        let compact = search
            .map(|s| s.replace(|c: char| c == '-' || c.is_whitespace(), ""))
            .filter(|s| !s.is_empty());
        let select = select_subscriptions(
            self.dialect(),
            "WHERE s.tenant_id = $1 \
               AND ($2 IS NULL OR s.target_key = $2) \
               AND ($3 IS NULL OR s.status = $3) \
               AND ($4 IS NULL OR s.url = $4) \
               AND ($5 IS NULL OR (s.created_at, s.id) < ($5, $6)) \
               AND ($7 IS NULL OR LOWER(s.reference) LIKE LOWER($7) ESCAPE '\\' \
                    OR REPLACE(s.awb, '-', '') LIKE $8 ESCAPE '\\' \
                    OR LOWER(s.flight_number) LIKE LOWER($8) ESCAPE '\\') \
             ORDER BY s.created_at DESC, s.id DESC LIMIT $9",
        );
        let rows: Vec<SubscriptionRow> = sql(select)
            .bind(tenant)
            .bind(filter.target.as_ref().map(Target::key))
            .bind(filter.status.map(SubscriptionStatus::as_str))
            .bind(filter.url.as_deref())
            .bind(page.after.map(|a| a.created_at))
            .bind(page.after.map(|a| a.id))
            .bind(search.map(contains_pattern))
            .bind(compact.as_deref().map(contains_pattern))
            .bind(i64::from(page.limit))
            .fetch_all(&mut self.reader().await?)
            .await?;
        rows.into_iter().map(Subscription::try_from).collect()
    }

    async fn find_flight(&self, id: Uuid) -> Result<Option<FlightTarget>, StoreError> {
        sql("SELECT number, date, origin FROM flights WHERE id = $1")
            .bind(id)
            .fetch_optional::<FlightRow>(&mut self.reader().await?)
            .await?
            .map(FlightTarget::try_from)
            .transpose()
    }

    async fn learn_flight(&self, key: &FlightKey, now: DateTime<Utc>) -> Result<Uuid, StoreError> {
        // Inserting first and reading after is right whether or not another request (or
        // instance) learned the flight in between.
        let mut tx = self.begin().await?;
        insert_flight(&mut tx, key, now).await?;
        let (id,): (Uuid,) =
            sql("SELECT id FROM flights WHERE number = $1 AND date = $2 AND origin = $3")
                .bind_flight(key)
                .fetch_one(&mut tx)
                .await?;
        tx.commit().await?;
        Ok(id)
    }
}

/// Makes the flight known (a no-op when it is).
pub(super) async fn insert_flight(
    conn: &mut impl Conn,
    key: &FlightKey,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sql(
        "INSERT INTO flights (id, number, date, origin, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING",
    )
    .bind(Uuid::new_v4())
    .bind_flight(key)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Subscriptions with their active emails, in position order, `filter` appended.
pub(super) fn select_subscriptions(dialect: Backend, filter: &str) -> String {
    let emails = active_emails(dialect);
    format!("SELECT {SUBSCRIPTION_COLUMNS}, {emails} AS emails FROM subscriptions s {filter}")
}

/// Whether the email row `e` is on subscription `s`: while both are active, or when it was
/// still on `s` as `s` completed or expired (what was queued for it, and the notice of the
/// ending, still go to it, and the subscription still shows it). Ending a subscription clears
/// `active`, which frees the address for a new subscription to the same target.
macro_rules! email_on_subscription {
    () => {
        "(e.active OR (s.status IN ('completed', 'expired') AND e.removed_at = s.ended_at))"
    };
}
pub(super) use email_on_subscription;

/// The emails of subscription `s` as a JSON array, in position order.
pub(super) fn active_emails(dialect: Backend) -> String {
    dialect.json_array(
        "e.email",
        concat!(
            "FROM subscription_emails e WHERE e.subscription_id = s.id AND ",
            email_on_subscription!()
        ),
        "e.position",
    )
}

pub(super) async fn fetch_subscription(
    conn: &mut impl Conn,
    tenant: TenantId,
    id: SubscriptionId,
) -> Result<Option<Subscription>, StoreError> {
    let select = select_subscriptions(conn.backend(), "WHERE s.tenant_id = $1 AND s.id = $2");
    sql(select)
        .bind(tenant)
        .bind(id)
        .fetch_optional::<SubscriptionRow>(conn)
        .await?
        .map(Subscription::try_from)
        .transpose()
}

/// Whether the URL and the feed, and which of the emails, are already on another active
/// subscription of the same tenant and target (`excluding` the one being changed): one round
/// trip.
pub(super) async fn taken_channels(
    conn: &mut impl Conn,
    tenant: TenantId,
    target_key: &str,
    channels: &RequestedChannels,
    excluding: Option<SubscriptionId>,
) -> Result<TakenChannels, StoreError> {
    let dialect = conn.backend();
    let emails = dialect.json_array(
        "email",
        &format!(
            "FROM subscription_emails WHERE tenant_id = $1 AND target_key = $2 AND active \
             AND email {} AND subscription_id IS DISTINCT FROM $5",
            dialect.in_texts(4)
        ),
        "email",
    );
    let (url, feed, taken): (bool, bool, Json<Vec<String>>) = sql(format!(
        "SELECT EXISTS (SELECT 1 FROM subscriptions WHERE tenant_id = $1 AND target_key = $2 \
             AND status = 'active' AND url = $3 AND id IS DISTINCT FROM $5), \
             EXISTS (SELECT 1 FROM subscriptions WHERE tenant_id = $1 AND target_key = $2 \
             AND status = 'active' AND feed AND id IS DISTINCT FROM $5), {emails}"
    ))
    .bind(tenant)
    .bind(target_key)
    .bind(channels.url.as_ref().map(|u| u.as_str()))
    .bind(email_strings(&channels.emails))
    .bind(excluding)
    .fetch_one(conn)
    .await?;
    Ok(TakenChannels {
        url,
        feed,
        emails: taken.0,
    })
}

/// Adds (or re-activates) a subscription's emails in their order. An address already on it
/// keeps its unsubscribe token.
pub(super) async fn upsert_emails(
    conn: &mut impl Conn,
    id: SubscriptionId,
    tenant: TenantId,
    target_key: &str,
    emails: &[EmailAddress],
    now: DateTime<Utc>,
) -> Result<(), sqlx::Error> {
    if emails.is_empty() {
        return Ok(());
    }
    let mut rows = JsonRows::default();
    for (position, email) in (1..).zip(emails) {
        rows.push(serde_json::json!({
            "email": email.as_str(),
            "token": new_unsubscribe_token(),
            "position": position,
        }));
    }
    let source = conn.backend().json_rows(
        5,
        &[
            ("email", Col::Text),
            ("token", Col::Text),
            ("position", Col::SmallInt),
        ],
    );
    // `WHERE true` tells SQLite's parser that `ON CONFLICT` is the upsert, not a join.
    sql(format!(
        "INSERT INTO subscription_emails (subscription_id, email, position, tenant_id, \
             target_key, unsubscribe_token, created_at) \
         SELECT $1, u.email, u.position, $2, $3, u.token, $4 FROM {source} WHERE true \
         ON CONFLICT (subscription_id, email) DO UPDATE \
             SET active = true, removed_at = NULL, position = excluded.position"
    ))
    .bind(id)
    .bind(tenant)
    .bind(target_key)
    .bind(now)
    .bind(rows)
    .execute(conn)
    .await?;
    Ok(())
}

pub(super) fn email_strings(emails: &[EmailAddress]) -> Vec<String> {
    emails.iter().map(|e| e.as_str().to_owned()).collect()
}

/// The subscription a create produces, built from what was written rather than read back,
/// which saves a round trip.
pub(super) fn saved_subscription(new: &NewSubscription, plan: ChannelPlan) -> Saved {
    Saved {
        subscription: Subscription {
            id: new.id,
            tenant: new.tenant,
            target: new.target.clone(),
            flight_id: new.flight_id,
            url: plan.url,
            url_disabled: None,
            emails: plan.emails,
            feed: plan.feed,
            header_names: new.headers.names(),
            states: new.states.clone(),
            reference: new.reference.clone(),
            status: SubscriptionStatus::Active,
            created_at: new.created_at,
            updated_at: new.created_at,
            expires_at: new.expires_at,
            ended_at: None,
            last_message_at: None,
        },
        skipped_emails: plan.skipped_emails,
    }
}

/// A fresh random token for the one-click unsubscribe link of one (subscription, email).
pub(super) fn new_unsubscribe_token() -> String {
    use base64::Engine;
    use rand::RngCore;
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Names of the partial unique indexes that enforce the duplicate rules, so that a race the
/// pre-check could not see still ends as the right client error.
const ACTIVE_URL_INDEX: &str = "subscriptions_active_url";
const ACTIVE_EMAIL_INDEX: &str = "subscription_emails_active";
const ACTIVE_FEED_INDEX: &str = "subscriptions_active_feed";

pub(super) fn map_unique_violation(err: sqlx::Error, channels: &RequestedChannels) -> StoreError {
    let constraint = err
        .as_database_error()
        .and_then(|e| e.constraint().map(str::to_owned))
        .or_else(|| {
            // SQLite reports the columns, not the index name.
            err.as_database_error()
                .filter(|e| e.is_unique_violation())
                .map(|e| e.message().to_owned())
        });
    match constraint {
        Some(c) if c.contains(ACTIVE_URL_INDEX) || c.contains("subscriptions.url") => {
            match &channels.url {
                Some(url) => DuplicateError::UrlAlreadySubscribed(url.clone()).into(),
                None => StoreError::Database(err),
            }
        }
        Some(c) if c.contains(ACTIVE_EMAIL_INDEX) || c.contains("subscription_emails.email") => {
            DuplicateError::AllEmailsSubscribed(channels.emails.clone()).into()
        }
        // SQLite names the feed index's columns: (tenant_id, target_key).
        Some(c) if c.contains(ACTIVE_FEED_INDEX) || c.ends_with("subscriptions.target_key") => {
            DuplicateError::FeedAlreadySubscribed.into()
        }
        _ => StoreError::Database(err),
    }
}
