//! Statements written once for both backends. A [`Statement`] is a text with `$N`
//! placeholders (sqlx's SQLite driver binds `$N` by number, as Postgres does) and a list of
//! [`Arg`]s, each bound the way its backend stores it: times as `timestamptz` on Postgres and
//! as fixed-width UTC text on SQLite (so that text order is time order), lists as arrays on
//! Postgres and as JSON on SQLite. It runs on any [`Conn`] of either backend, and rows decode
//! into the same `FromRow` structs.
//!
//! The few pieces of SQL that differ between the dialects are [`Backend`]'s methods; whole
//! statements that differ (claims, one-round-trip forms) live in `postgres.rs`/`sqlite.rs`.

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::postgres::{PgArguments, PgRow};
use sqlx::sqlite::{SqliteArguments, SqliteRow};
use sqlx::types::Json;
use sqlx::{Arguments, AssertSqlSafe, FromRow, PgConnection, SqliteConnection};
use std::borrow::Cow;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Backend {
    Postgres,
    Sqlite,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Self::Postgres => "postgres",
            Self::Sqlite => "sqlite",
        }
    }

    /// `= ANY($n)` for a text list bound as one argument.
    pub fn in_texts(self, n: u8) -> String {
        match self {
            Self::Postgres => format!("= ANY(${n})"),
            Self::Sqlite => format!("IN (SELECT value FROM json_each(${n}))"),
        }
    }

    /// `= ANY($n)` for a list of ids: SQLite stores a `Uuid` as a 16-byte blob and gets the
    /// list as hex text.
    pub fn in_uuids(self, n: u8) -> String {
        match self {
            Self::Postgres => format!("= ANY(${n})"),
            Self::Sqlite => format!("IN (SELECT unhex(value) FROM json_each(${n}))"),
        }
    }

    /// Locks the selected rows until commit on Postgres; SQLite's single writer already
    /// serialises every write transaction.
    pub fn for_update(self) -> &'static str {
        match self {
            Self::Postgres => " FOR UPDATE",
            Self::Sqlite => "",
        }
    }

    /// Locks the selected rows until commit on Postgres, passing over rows another
    /// transaction holds; SQLite's single writer has nobody to pass over.
    pub fn skip_locked(self) -> &'static str {
        match self {
            Self::Postgres => " FOR UPDATE SKIP LOCKED",
            Self::Sqlite => "",
        }
    }

    /// The statement that leases the rows `claim.due` selects; see [`Claim`].
    pub fn claim(self, claim: &Claim<'_>) -> String {
        match self {
            Self::Postgres => super::postgres::claim(claim),
            Self::Sqlite => super::sqlite::claim(claim),
        }
    }

    /// A JSON array of `expr` over `source` (`FROM … WHERE …`), in `order`; `[]` when empty.
    pub fn json_array(self, expr: &str, source: &str, order: &str) -> String {
        match self {
            Self::Postgres => {
                format!("(SELECT COALESCE(json_agg({expr} ORDER BY {order}), '[]'::json) {source})")
            }
            Self::Sqlite => format!(
                "(SELECT json_group_array(x) FROM (SELECT {expr} AS x {source} ORDER BY {order}))"
            ),
        }
    }

    /// The rows of a JSON array of objects bound as `$n` (see [`JsonRows`]), as a table `u`
    /// with the given columns: the bulk form both backends read in one statement.
    pub fn json_rows(self, n: u8, columns: &[(&str, Col)]) -> String {
        match self {
            Self::Postgres => {
                let list: Vec<String> = columns
                    .iter()
                    .map(|(name, col)| format!("{name} {}", col.pg_type()))
                    .collect();
                format!("jsonb_to_recordset(${n}) AS u({})", list.join(", "))
            }
            Self::Sqlite => {
                let list: Vec<String> = columns
                    .iter()
                    .map(|(name, col)| match col {
                        Col::Uuid => {
                            format!("unhex(replace(value ->> '{name}', '-', '')) AS {name}")
                        }
                        Col::Json => format!("value -> '{name}' AS {name}"),
                        _ => format!("value ->> '{name}' AS {name}"),
                    })
                    .collect();
                format!("(SELECT {} FROM json_each(${n})) AS u", list.join(", "))
            }
        }
    }
}

/// A claim: an UPDATE of `table` (setting `set`) of the rows whose `key` columns the query
/// `due` selects, returning `returning`. Postgres locks the due rows and skips those another
/// instance is claiming; SQLite's single writer serialises claims, so a plain UPDATE is one.
pub(super) struct Claim<'a> {
    pub table: &'a str,
    pub key: &'a [&'a str],
    pub due: &'a str,
    pub set: &'a str,
    pub returning: &'a [&'a str],
}

/// A column of [`Backend::json_rows`].
#[derive(Debug, Clone, Copy)]
pub(super) enum Col {
    Text,
    Uuid,
    Time,
    Bool,
    SmallInt,
    BigInt,
    Json,
}

impl Col {
    fn pg_type(self) -> &'static str {
        match self {
            Self::Text => "text",
            Self::Uuid => "uuid",
            Self::Time => "timestamptz",
            Self::Bool => "boolean",
            Self::SmallInt => "smallint",
            Self::BigInt => "bigint",
            Self::Json => "jsonb",
        }
    }
}

/// The one text form of a time on SQLite (and inside [`JsonRows`]): fixed width, so that
/// comparing texts compares times.
pub(super) fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// A statement argument, bound per backend.
#[derive(Debug, Clone)]
pub(super) enum Arg {
    Uuid(Option<Uuid>),
    Text(Option<String>),
    I32(Option<i32>),
    I64(Option<i64>),
    F64(Option<f64>),
    Bool(Option<bool>),
    Time(Option<DateTime<Utc>>),
    Date(Option<NaiveDate>),
    Json(Option<serde_json::Value>),
    Texts(Vec<String>),
    Uuids(Vec<Uuid>),
}

macro_rules! arg_from {
    ($($ty:ty => $variant:ident),* $(,)?) => {$(
        impl From<$ty> for Arg {
            fn from(v: $ty) -> Self {
                Self::$variant(Some(v.into()))
            }
        }
        impl From<Option<$ty>> for Arg {
            fn from(v: Option<$ty>) -> Self {
                Self::$variant(v.map(Into::into))
            }
        }
    )*};
}

arg_from!(
    Uuid => Uuid,
    &str => Text,
    String => Text,
    i32 => I32,
    i64 => I64,
    f64 => F64,
    bool => Bool,
    DateTime<Utc> => Time,
    NaiveDate => Date,
);

impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Self::Text(Some(v.clone()))
    }
}

impl<T: Serialize> From<Json<T>> for Arg {
    fn from(v: Json<T>) -> Self {
        Self::Json(Some(
            serde_json::to_value(&v.0).expect("values serialise to JSON"),
        ))
    }
}

impl<T: Serialize> From<Option<Json<T>>> for Arg {
    fn from(v: Option<Json<T>>) -> Self {
        Self::Json(v.map(|v| serde_json::to_value(&v.0).expect("values serialise to JSON")))
    }
}

impl From<Vec<String>> for Arg {
    fn from(v: Vec<String>) -> Self {
        Self::Texts(v)
    }
}

impl From<&[String]> for Arg {
    fn from(v: &[String]) -> Self {
        Self::Texts(v.to_vec())
    }
}

impl From<Vec<Uuid>> for Arg {
    fn from(v: Vec<Uuid>) -> Self {
        Self::Uuids(v)
    }
}

/// Rows for [`Backend::json_rows`], one JSON object each; times go in as [`ts`] text.
#[derive(Debug, Default)]
pub(super) struct JsonRows(Vec<serde_json::Value>);

impl JsonRows {
    pub fn push(&mut self, row: serde_json::Value) {
        self.0.push(row);
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl From<JsonRows> for Arg {
    fn from(rows: JsonRows) -> Self {
        Self::Json(Some(serde_json::Value::Array(rows.0)))
    }
}

impl Arg {
    fn add_pg(self, args: &mut PgArguments) -> Result<(), sqlx::error::BoxDynError> {
        match self {
            Self::Uuid(v) => args.add(v),
            Self::Text(v) => args.add(v),
            Self::I32(v) => args.add(v),
            Self::I64(v) => args.add(v),
            Self::F64(v) => args.add(v),
            Self::Bool(v) => args.add(v),
            Self::Time(v) => args.add(v),
            Self::Date(v) => args.add(v),
            Self::Json(v) => args.add(v.map(Json)),
            Self::Texts(v) => args.add(v),
            Self::Uuids(v) => args.add(v),
        }
    }

    fn add_sqlite(self, args: &mut SqliteArguments) -> Result<(), sqlx::error::BoxDynError> {
        match self {
            Self::Uuid(v) => args.add(v),
            Self::Text(v) => args.add(v),
            Self::I32(v) => args.add(v),
            Self::I64(v) => args.add(v),
            Self::F64(v) => args.add(v),
            Self::Bool(v) => args.add(v),
            Self::Time(v) => args.add(v.map(ts)),
            Self::Date(v) => args.add(v),
            Self::Json(v) => args.add(v.map(Json)),
            Self::Texts(v) => args.add(Json(v)),
            Self::Uuids(v) => args.add(Json(
                v.iter()
                    .map(|id| id.simple().to_string())
                    .collect::<Vec<_>>(),
            )),
        }
    }
}

/// A row type both backends decode (`#[derive(sqlx::FromRow)]` structs and tuples).
pub(super) trait FromRows:
    for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin
{
}

impl<T> FromRows for T where
    T: for<'r> FromRow<'r, PgRow> + for<'r> FromRow<'r, SqliteRow> + Send + Unpin
{
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

impl Statement {
    pub fn bind(mut self, arg: impl Into<Arg>) -> Self {
        self.args.push(arg.into());
        self
    }

    fn pg_args(args: Vec<Arg>) -> Result<PgArguments, sqlx::Error> {
        let mut out = PgArguments::default();
        for arg in args {
            arg.add_pg(&mut out).map_err(encode_error)?;
        }
        Ok(out)
    }

    fn sqlite_args(args: Vec<Arg>) -> Result<SqliteArguments, sqlx::Error> {
        let mut out = SqliteArguments::default();
        for arg in args {
            arg.add_sqlite(&mut out).map_err(encode_error)?;
        }
        Ok(out)
    }

    /// Runs it; returns the number of rows affected.
    pub async fn execute(self, on: &mut impl Conn) -> Result<u64, sqlx::Error> {
        let text = AssertSqlSafe(self.text);
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
        let text = AssertSqlSafe(self.text);
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

    pub async fn fetch_optional<R: FromRows>(
        self,
        on: &mut impl Conn,
    ) -> Result<Option<R>, sqlx::Error> {
        let text = AssertSqlSafe(self.text);
        match on.raw() {
            Raw::Postgres(c) => {
                sqlx::query_as_with(text, Self::pg_args(self.args)?)
                    .fetch_optional(c)
                    .await
            }
            Raw::Sqlite(c) => {
                sqlx::query_as_with(text, Self::sqlite_args(self.args)?)
                    .fetch_optional(c)
                    .await
            }
        }
    }

    pub async fn fetch_one<R: FromRows>(self, on: &mut impl Conn) -> Result<R, sqlx::Error> {
        self.fetch_optional(on)
            .await?
            .ok_or(sqlx::Error::RowNotFound)
    }
}
