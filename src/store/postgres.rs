//! What only Postgres does: production, and the coordination point when several instances
//! share one database. Claims lock the due rows with `FOR UPDATE SKIP LOCKED`, so instances
//! pass over each other's rows instead of waiting; migrations run under sqlx's advisory lock;
//! and the two hottest writes (creating a subscription, reading a flight while linking an AWB
//! to it) take one round trip instead of a transaction of several.

use super::delivery_queue::{CLAIM_SET, CLAIMED_COLUMNS, due_deliveries};
use super::flight_reports::{SELECT_FLIGHT, StoredFlight};
use super::sql::{Backend, Claim, Conn, sql};
use super::subscriptions::{
    email_strings, map_unique_violation, new_unsubscribe_token, saved_subscription,
};
use super::{NewSubscription, Saved, StoreError};
use crate::domain::{FlightKey, TakenChannels};
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::types::Json;
use std::time::Duration;

pub(super) async fn connect(url: &str, max_connections: u32) -> Result<PgPool, sqlx::Error> {
    PgPoolOptions::new()
        .max_connections(max_connections)
        .acquire_timeout(Duration::from_secs(5))
        .connect(url)
        .await
}

pub(super) async fn migrate(pool: &PgPool) -> Result<(), StoreError> {
    // sqlx holds a Postgres advisory lock while migrating, so instances starting together
    // apply each migration once.
    sqlx::migrate!("./migrations/postgres").run(pool).await?;
    Ok(())
}

/// See [`Claim`]: the due rows are locked (skipping rows another instance holds) in a CTE,
/// which Postgres evaluates once, then leased.
pub(super) fn claim(claim: &Claim<'_>) -> String {
    let join: Vec<String> = claim
        .key
        .iter()
        .map(|k| format!("t.{k} = due.{k}"))
        .collect();
    let returning: Vec<String> = claim.returning.iter().map(|c| format!("t.{c}")).collect();
    format!(
        "WITH due AS ({} FOR UPDATE SKIP LOCKED) UPDATE {} t SET {} FROM due WHERE {} \
         RETURNING {}",
        claim.due,
        claim.table,
        Claim::SET,
        join.join(" AND "),
        returning.join(", ")
    )
}

/// Leases due messages and returns them with their subscriptions' sending details, in one
/// statement (`$1` owner, `$2` now, `$3` lease end, `$4` limit).
pub(super) fn claim_deliveries() -> String {
    format!(
        "WITH due AS ({} FOR UPDATE OF d SKIP LOCKED) \
         UPDATE deliveries d SET {CLAIM_SET} \
         FROM due, subscriptions s WHERE d.id = due.id AND s.id = d.subscription_id \
         RETURNING {CLAIMED_COLUMNS}",
        due_deliveries(Backend::Postgres)
    )
}

/// Reads a flight and links the AWB (if any) to it in one round trip: most reports end here.
/// Returns whether the link was made.
pub(super) async fn read_and_link_flight(
    conn: &mut impl Conn,
    key: &FlightKey,
    awb: Option<&str>,
    now: DateTime<Utc>,
) -> Result<(Option<StoredFlight>, bool), StoreError> {
    let stored: Option<StoredFlight> = sql(format!(
        "WITH f AS ({SELECT_FLIGHT}), link AS ( \
             INSERT INTO flight_awbs (flight_id, awb, first_seen_at) \
             SELECT id, $4, $5 FROM f WHERE $4 IS NOT NULL \
             ON CONFLICT DO NOTHING \
         ) SELECT id, state, from_source FROM f"
    ))
    .bind_flight(key)
    .bind(awb)
    .bind(now)
    .fetch_optional(conn)
    .await?;
    let linked = stored.is_some();
    Ok((stored, linked))
}

/// Creates a subscription in one statement. Its pieces, in order: the `requested` emails with
/// their new tokens and positions; which of them (`taken_emails`), whether the URL
/// (`url_taken`) and whether the feed (`feed_taken`) another active subscription of the
/// tenant's target already has; the rest
/// (`new_emails`); and `allowed`, the duplicate rules' verdict (the same as
/// `RequestedChannels::plan`, which then decides from this snapshot what to report). Only if
/// allowed are the shipment (the first subscriber of an AWB creates it; a new one makes a
/// dormant shipment due now, or `poll_spacing` after its last check if that is later), the
/// flight check likewise, the subscription and its new emails
/// inserted. The partial unique indexes catch what a concurrent request slips in between.
pub(super) async fn create_subscription(
    conn: &mut impl Conn,
    new: NewSubscription,
    poll_spacing: chrono::TimeDelta,
) -> Result<Saved, StoreError> {
    let target_key = new.target.key();
    let target = super::rows::TargetColumns::from(&new.target);
    let tokens: Vec<String> = new
        .channels
        .emails
        .iter()
        .map(|_| new_unsubscribe_token())
        .collect();
    let (url_taken, feed_taken, taken): (bool, bool, Json<Vec<String>>) =
        sql("WITH requested AS ( \
             SELECT e.email, e.token, e.position::smallint AS position \
             FROM unnest($15::text[], $16::text[]) WITH ORDINALITY AS e(email, token, position) \
         ), taken_emails AS ( \
             SELECT email FROM subscription_emails \
             WHERE tenant_id = $2 AND target_key = $4 AND active \
               AND email IN (SELECT email FROM requested) \
         ), url_taken AS ( \
             SELECT EXISTS (SELECT 1 FROM subscriptions WHERE tenant_id = $2 \
                 AND target_key = $4 AND status = 'active' AND url = $9) AS taken \
         ), feed_taken AS ( \
             SELECT $19 AND EXISTS (SELECT 1 FROM subscriptions WHERE tenant_id = $2 \
                 AND target_key = $4 AND status = 'active' AND feed) AS taken \
         ), new_emails AS ( \
             SELECT * FROM requested WHERE email NOT IN (SELECT email FROM taken_emails) \
         ), allowed AS ( \
             SELECT NOT (SELECT taken FROM url_taken) AND NOT (SELECT taken FROM feed_taken) \
                 AND ($9::text IS NOT NULL OR $19 OR EXISTS (SELECT 1 FROM new_emails)) AS ok \
         ), shipment AS ( \
             INSERT INTO shipments (awb, next_poll_at, created_at, updated_at) \
             SELECT $3, $13, $13, $13 WHERE $3::text IS NOT NULL AND (SELECT ok FROM allowed) \
             ON CONFLICT (awb) DO UPDATE \
                 SET next_poll_at = LEAST(shipments.next_poll_at, GREATEST(EXCLUDED.next_poll_at, \
                     shipments.last_checked_at + $18 * interval '1 microsecond')) \
         ), flight_check AS ( \
             INSERT INTO flight_checks (number, date, next_check_at, created_at) \
             SELECT $5, $6, $13, $13 WHERE $5::text IS NOT NULL AND (SELECT ok FROM allowed) \
             ON CONFLICT (number, date) DO UPDATE \
                 SET next_check_at = LEAST(flight_checks.next_check_at, EXCLUDED.next_check_at) \
         ), subscription AS ( \
             INSERT INTO subscriptions (id, tenant_id, target_key, awb, flight_number, \
                 flight_date, flight_origin, flight_id, url, states, reference, status, \
                 signing_secret, created_at, updated_at, expires_at, headers, feed) \
             SELECT $1, $2, $4, $3, $5, $6, $7, $8, $9, $10, $11, 'active', $12, $13, $13, $14, \
                 $17, $19 \
             WHERE (SELECT ok FROM allowed) \
         ), emails AS ( \
             INSERT INTO subscription_emails (subscription_id, email, position, tenant_id, \
                 target_key, unsubscribe_token, created_at) \
             SELECT $1, email, position, $2, $4, token, $13 FROM new_emails \
             WHERE (SELECT ok FROM allowed) \
         ) \
         SELECT (SELECT taken FROM url_taken), (SELECT taken FROM feed_taken), \
             (SELECT COALESCE(json_agg(email), '[]'::json) FROM taken_emails)")
        .bind(new.id) // $1
        .bind(new.tenant) // $2
        .bind(target.awb) // $3
        .bind(&target_key) // $4
        .bind(target.flight_number) // $5
        .bind(target.flight_date) // $6
        .bind(target.flight_origin) // $7
        .bind(new.flight_id) // $8
        .bind(new.channels.url.as_ref().map(|u| u.as_str())) // $9
        .bind(Json(new.states.to_codes())) // $10
        .bind(new.reference.as_ref().map(|r| r.as_str())) // $11
        .bind(new.signing_secret.expose()) // $12
        .bind(new.created_at) // $13: now
        .bind(new.expires_at) // $14
        .bind(email_strings(&new.channels.emails)) // $15
        .bind(tokens) // $16
        .bind(Json(new.headers.as_map())) // $17
        .bind(poll_spacing.num_microseconds().unwrap_or(i64::MAX)) // $18
        .bind(new.channels.feed) // $19
        .fetch_one(conn)
        .await
        .map_err(|e| map_unique_violation(e, &new.channels))?;
    let taken = TakenChannels {
        url: url_taken,
        feed: feed_taken,
        emails: taken.0,
    };
    let plan = new.channels.clone().plan(&taken)?;
    Ok(saved_subscription(&new, plan))
}
