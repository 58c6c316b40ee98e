//! Statements written once for both backends. A [`Statement`] is a text with `$N`
//! placeholders (sqlx's SQLite driver binds `$N` by its number, as Postgres does, and leaves a
//! placeholder numbered past the last argument NULL, so count them) and a list of
//! [`Arg`]s, each bound the way its backend stores it: times as `timestamptz` on Postgres and
//! as fixed-width UTC text on SQLite (so that text order is time order), lists as arrays on
//! Postgres and as JSON on SQLite. It runs on any [`Conn`] of either backend, and rows decode
//! into the same `FromRow` structs.
//!
//! The few pieces of SQL that differ between the dialects are [`Backend`]'s methods; whole
//! statements that differ (claims, one-round-trip forms) live in `postgres.rs`/`sqlite.rs`.

mod args;
mod dialect;

pub(super) use args::{Arg, JsonRows, ts};
pub(super) use dialect::{Backend, Claim, Col};

use super::{DeliveryScope, Lease};
use crate::domain::FlightKey;
use chrono::{DateTime, Utc};
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::{FromRow, PgConnection, SqliteConnection};
use std::borrow::Cow;

/// A row type both backends decode (`#[derive(sqlx::FromRow)]` structs and tuples).
pub(super) trait FromRows:
    for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin
{
}

impl<T> FromRows for T where
    T: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin
{
}

/// The text [`Backend::utc_hour`] gives for any time in the hour starting at `hour`.
pub(super) fn hour_key(hour: DateTime<Utc>) -> String {
    hour.format("%Y-%m-%dT%H").to_string()
}

/// A `LIKE … ESCAPE '\'` pattern that matches any text containing `text` as written: its
/// `%`, `_` and `\` are escaped, so they match only themselves.
pub(super) fn contains_pattern(text: &str) -> String {
    let mut pattern = String::with_capacity(text.len() + 2);
    pattern.push('%');
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

/// A connection of either backend, as statements run on it.
pub(super) enum Raw<'a> {
    Postgres(&'a mut PgConnection),
    Sqlite(&'a mut SqliteConnection),
}

/// Something statements run on: a transaction or a pooled connection.
pub(super) trait Conn: Send {
    fn raw(&mut self) -> Raw<'_>;

    fn backend(&mut self) -> Backend {
        match self.raw() {
            Raw::Postgres(_) => Backend::Postgres,
            Raw::Sqlite(_) => Backend::Sqlite,
        }
    }
}

pub(super) enum Tx {
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
}

impl Tx {
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        match self {
            Self::Postgres(tx) => tx.commit().await,
            Self::Sqlite(tx) => tx.commit().await,
        }
    }
}

impl Conn for Tx {
    fn raw(&mut self) -> Raw<'_> {
        match self {
            Self::Postgres(tx) => Raw::Postgres(tx),
            Self::Sqlite(tx) => Raw::Sqlite(tx),
        }
    }
}

pub(super) enum Pooled {
    Postgres(sqlx::pool::PoolConnection<sqlx::Postgres>),
    Sqlite(sqlx::pool::PoolConnection<sqlx::Sqlite>),
}

impl Conn for Pooled {
    fn raw(&mut self) -> Raw<'_> {
        match self {
            Self::Postgres(c) => Raw::Postgres(c),
            Self::Sqlite(c) => Raw::Sqlite(c),
        }
    }
}

/// A statement and its arguments; see the module docs.
#[must_use]
pub(super) struct Statement {
    text: Cow<'static, str>,
    args: Vec<Arg>,
}

pub(super) fn sql(text: impl Into<Cow<'static, str>>) -> Statement {
    Statement {
        text: text.into(),
        args: Vec::new(),
    }
}

fn encode_error(e: sqlx::error::BoxDynError) -> sqlx::Error {
    sqlx::Error::Encode(e)
}

/// A delivery's subscription is in the scope bound by [`Statement::bind_scope`].
pub const IN_SCOPE: &str = "subscription_id IN (SELECT id FROM subscriptions \
     WHERE tenant_id = $1 AND ($2 IS NULL OR id = $2))";

impl Statement {
    pub fn bind(mut self, arg: impl Into<Arg>) -> Self {
        self.args.push(arg.into());
        self
    }

    /// Binds a claim's `$1` owner, `$2` now, `$3` lease end and `$4` limit.
    pub fn bind_lease(self, lease: Lease, limit: u32) -> Self {
        self.bind(lease.owner)
            .bind(lease.now)
            .bind(lease.until)
            .bind(i64::from(limit))
    }

    /// Binds a delivery scope's `$1` tenant and `$2` subscription (null for any of the
    /// tenant's), as [`IN_SCOPE`] reads them.
    pub fn bind_scope(self, scope: DeliveryScope) -> Self {
        self.bind(scope.tenant).bind(scope.subscription)
    }

    /// Binds a flight's number, date and origin, in that order.
    pub fn bind_flight(self, key: &FlightKey) -> Self {
        self.bind(key.number.as_str())
            .bind(key.date)
            .bind(key.origin.as_str())
    }

    fn pg_args(args: Vec<Arg>) -> Result<PgArguments, sqlx::Error> {
        let mut out = PgArguments::default();
        for arg in args {
            arg.add_pg(&mut out).map_err(encode_error)?;
        }
        Ok(out)
    }

    fn sqlite_args(args: Vec<Arg>) -> Result<SqliteArguments<'static>, sqlx::Error> {
        let mut out = SqliteArguments::default();
        for arg in args {
            arg.add_sqlite(&mut out).map_err(encode_error)?;
        }
        Ok(out)
    }

    /// Runs it; returns the number of rows affected.
    pub async fn execute(self, on: &mut impl Conn) -> Result<u64, sqlx::Error> {
        let text: &str = &self.text;
        Ok(match on.raw() {
            Raw::Postgres(c) => sqlx::query_with(text, Self::pg_args(self.args)?)
                .execute(c)
                .await?
                .rows_affected(),
            Raw::Sqlite(c) => sqlx::query_with(text, Self::sqlite_args(self.args)?)
                .execute(c)
                .await?
                .rows_affected(),
        })
    }

    pub async fn fetch_all<R: FromRows>(self, on: &mut impl Conn) -> Result<Vec<R>, sqlx::Error> {
        let text: &str = &self.text;
        match on.raw() {
            Raw::Postgres(c) => {
                sqlx::query_as_with(text, Self::pg_args(self.args)?)
                    .fetch_all(c)
                    .await
            }
            Raw::Sqlite(c) => {
                sqlx::query_as_with(text, Self::sqlite_args(self.args)?)
                    .fetch_all(c)
                    .await
            }
        }
    }

    /// The first row, if any (for statements that return at most one).
    pub async fn fetch_optional<R: FromRows>(
        self,
        on: &mut impl Conn,
    ) -> Result<Option<R>, sqlx::Error> {
        Ok(self.fetch_all(on).await?.into_iter().next())
    }

    pub async fn fetch_one<R: FromRows>(self, on: &mut impl Conn) -> Result<R, sqlx::Error> {
        self.fetch_optional(on)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contains_patterns_match_like_wildcards_literally() {
        assert_eq!(contains_pattern("020-0800"), "%020-0800%");
        assert_eq!(contains_pattern("100%_off"), "%100\\%\\_off%");
        assert_eq!(contains_pattern(r"C:\tmp"), r"%C:\\tmp%");
        assert_eq!(contains_pattern(""), "%%");
    }

    #[test]
    fn hour_keys_name_the_utc_hour() {
        let t = DateTime::parse_from_rfc3339("2026-03-04T05:59:59.999999+00:00").unwrap();
        assert_eq!(hour_key(t.with_timezone(&Utc)), "2026-03-04T05");
    }
}
