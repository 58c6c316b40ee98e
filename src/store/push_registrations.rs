//! Push carriers' registrations (Lufthansa) and the pushes they send. Each step of a
//! registration is one statement of its own, written the moment it happens: the callback
//! token before the registration is sent, the carrier's id as soon as it answers. A push only
//! makes a fetch due (`push_due_at`, and `next_poll_at` no later than that), so several pushes
//! within the delay share one fetch, and every instance on the database agrees on it.

use super::rows::corrupt;
use super::sql::sql;
use super::{PushRegistrations, SqlStore, StoreError, Work};
use crate::domain::{AwbNumber, CallbackTokenHash};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use uuid::Uuid;

/// The registration a callback token belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct PushTarget {
    pub awb: AwbNumber,
    /// The carrier's id of the registration; `None` while the registration is being sent.
    pub carrier_ref: Option<String>,
}

/// A push a carrier sent to a registration's callback URL.
#[derive(Debug, Clone, Copy)]
pub struct Push<'a> {
    pub carrier: &'a str,
    /// The hash of the callback URL's token.
    pub token: &'a CallbackTokenHash,
    /// The registration the push names: a push for an earlier one records nothing.
    pub carrier_ref: &'a str,
    pub now: DateTime<Utc>,
    /// When the fetch the push asks for is due at the latest.
    pub due: DateTime<Utc>,
}

#[async_trait]
impl PushRegistrations for SqlStore {
    async fn begin_registration(
        &self,
        owner: Uuid,
        awb: &AwbNumber,
        carrier: &str,
        token: &CallbackTokenHash,
    ) -> Result<bool, StoreError> {
        let updated = sql(
            "UPDATE shipments SET carrier = $3, callback_token_hash = $4, carrier_ref = NULL, \
                 registration_checked_at = NULL \
             WHERE awb = $1 AND lease_owner = $2",
        )
        .bind(awb.as_str())
        .bind(owner)
        .bind(carrier)
        .bind(token.as_str())
        .execute(&mut self.writer().await?)
        .await?;
        Ok(updated == 1)
    }

    async fn complete_registration(
        &self,
        owner: Uuid,
        awb: &AwbNumber,
        carrier_ref: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let updated = sql(
            "UPDATE shipments SET carrier_ref = $3, registration_checked_at = $4 \
             WHERE awb = $1 AND lease_owner = $2",
        )
        .bind(awb.as_str())
        .bind(owner)
        .bind(carrier_ref)
        .bind(now)
        .execute(&mut self.writer().await?)
        .await?;
        Ok(updated == 1)
    }

    async fn confirm_registration(
        &self,
        owner: Uuid,
        awb: &AwbNumber,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let updated = sql("UPDATE shipments SET registration_checked_at = $3 \
             WHERE awb = $1 AND lease_owner = $2")
        .bind(awb.as_str())
        .bind(owner)
        .bind(now)
        .execute(&mut self.writer().await?)
        .await?;
        Ok(updated == 1)
    }

    async fn find_registration(
        &self,
        carrier: &str,
        token: &CallbackTokenHash,
    ) -> Result<Option<PushTarget>, StoreError> {
        let row: Option<(String, Option<String>)> = sql("SELECT awb, carrier_ref FROM shipments \
             WHERE carrier = $1 AND callback_token_hash = $2")
        .bind(carrier)
        .bind(token.as_str())
        .fetch_optional(&mut self.reader().await?)
        .await?;
        row.map(|(awb, carrier_ref)| {
            Ok(PushTarget {
                awb: AwbNumber::parse(&awb).map_err(corrupt)?,
                carrier_ref,
            })
        })
        .transpose()
    }

    async fn record_push(&self, push: &Push<'_>) -> Result<Option<DateTime<Utc>>, StoreError> {
        // The earliest fetch pending wins: a push within the delay of another joins its fetch.
        let fetch_at: Option<(DateTime<Utc>,)> = sql(
            "UPDATE shipments SET push_count = push_count + 1, last_push_at = $4, \
                 push_due_at = CASE WHEN push_due_at IS NULL OR push_due_at > $5 THEN $5 \
                     ELSE push_due_at END, \
                 next_poll_at = CASE WHEN next_poll_at > $5 THEN $5 ELSE next_poll_at END \
             WHERE carrier = $1 AND callback_token_hash = $2 AND carrier_ref = $3 \
             RETURNING push_due_at",
        )
        .bind(push.carrier)
        .bind(push.token.as_str())
        .bind(push.carrier_ref)
        .bind(push.now)
        .bind(push.due)
        .fetch_optional(&mut self.writer().await?)
        .await?;
        let fetch_at = fetch_at.map(|(at,)| at);
        if fetch_at.is_some_and(|at| at <= push.now) {
            self.woken(Work::Shipments);
        }
        Ok(fetch_at)
    }

    fn wake_pollers(&self) {
        self.woken(Work::Shipments);
    }
}
