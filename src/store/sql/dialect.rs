//! The pieces of SQL that differ between the dialects, and the shape of a claim.

use super::{Conn, FromRows, sql};
use crate::store::Lease;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(in crate::store) enum Backend {
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

    /// The smaller of two values: `LEAST(a, b)` on Postgres, SQLite's two-argument `MIN`.
    pub fn least(self) -> &'static str {
        match self {
            Self::Postgres => "LEAST",
            Self::Sqlite => "MIN",
        }
    }

    /// The UTC hour a stored time `col` falls in, as text `YYYY-MM-DDTHH` (what
    /// [`super::hour_key`] writes for an hour's start).
    pub fn utc_hour(self, col: &str) -> String {
        match self {
            Self::Postgres => format!("to_char({col} AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24')"),
            // Stored as fixed-width UTC text (see `ts`): the hour is its first 13 characters.
            Self::Sqlite => format!("substr({col}, 1, 13)"),
        }
    }

    /// The statement that leases the rows `claim.due` selects; see [`Claim`].
    pub fn claim(self, claim: &Claim<'_>) -> String {
        match self {
            Self::Postgres => crate::store::postgres::claim(claim),
            Self::Sqlite => crate::store::sqlite::claim(claim),
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

/// A claim: the rows of `table` whose `key` columns the query `due` selects (`$2` is now, `$4`
/// the limit) are leased (`lease_owner`, `lease_expires_at`) and returned as `returning`.
/// Postgres locks the due rows and skips those another instance is claiming; SQLite's single
/// writer serialises claims, so a plain UPDATE is one.
pub(in crate::store) struct Claim<'a> {
    pub table: &'a str,
    pub key: &'a [&'a str],
    pub due: &'a str,
    pub returning: &'a [&'a str],
}

impl Claim<'_> {
    /// The lease's `SET` clause, bound by [`super::Statement::bind_lease`].
    pub const SET: &'static str = "lease_owner = $1, lease_expires_at = $3";

    /// Leases up to `limit` due rows on `conn`.
    pub async fn run<R: FromRows>(
        &self,
        conn: &mut impl Conn,
        lease: Lease,
        limit: u32,
    ) -> Result<Vec<R>, sqlx::Error> {
        let text = conn.backend().claim(self);
        sql(text).bind_lease(lease, limit).fetch_all(conn).await
    }
}

/// A column of [`Backend::json_rows`].
#[derive(Debug, Clone, Copy)]
pub(in crate::store) enum Col {
    Text,
    Uuid,
    Time,
    Date,
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
            Self::Date => "date",
            Self::Bool => "boolean",
            Self::SmallInt => "smallint",
            Self::BigInt => "bigint",
            Self::Json => "jsonb",
        }
    }
}
