//! Statement arguments, each bound the way its backend stores it.

use crate::domain::{SubscriptionId, TenantId};
use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;
use sqlx::Arguments;
use sqlx::postgres::PgArguments;
use sqlx::sqlite::SqliteArguments;
use sqlx::types::Json;
use uuid::Uuid;

/// The one text form of a time on SQLite (and inside [`JsonRows`]): fixed width, so that
/// comparing texts compares times.
pub(in crate::store) fn ts(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// A statement argument, bound per backend.
#[derive(Debug, Clone)]
pub(in crate::store) enum Arg {
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

impl From<TenantId> for Arg {
    fn from(id: TenantId) -> Self {
        Self::Uuid(Some(id.as_uuid()))
    }
}

impl From<SubscriptionId> for Arg {
    fn from(id: SubscriptionId) -> Self {
        Self::Uuid(Some(id.as_uuid()))
    }
}

impl From<Option<SubscriptionId>> for Arg {
    fn from(id: Option<SubscriptionId>) -> Self {
        Self::Uuid(id.map(|id| id.as_uuid()))
    }
}

impl From<Vec<SubscriptionId>> for Arg {
    fn from(ids: Vec<SubscriptionId>) -> Self {
        Self::Uuids(ids.iter().map(SubscriptionId::as_uuid).collect())
    }
}

impl From<&String> for Arg {
    fn from(v: &String) -> Self {
        Self::Text(Some(v.clone()))
    }
}

impl<T: Serialize> From<Json<T>> for Arg {
    fn from(v: Json<T>) -> Self {
        Some(v).into()
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
pub(in crate::store) struct JsonRows(Vec<serde_json::Value>);

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

/// Text without its NUL characters. Postgres cannot store NUL in `text` or `jsonb` (a carrier
/// answer carrying one would fail every poll of its shipment), so no backend stores them: a
/// NUL carries no meaning in anything Skyhook keeps.
fn without_nul(text: String) -> String {
    if text.contains('\0') {
        text.replace('\0', "")
    } else {
        text
    }
}

/// [`without_nul`] for every string and key of a JSON value.
fn json_without_nul(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match value {
        Value::String(s) => Value::String(without_nul(s)),
        Value::Array(items) => Value::Array(items.into_iter().map(json_without_nul).collect()),
        Value::Object(map) => Value::Object(
            map.into_iter()
                .map(|(k, v)| (without_nul(k), json_without_nul(v)))
                .collect(),
        ),
        other => other,
    }
}

/// Adds `$arg` to `$args`: the same for both backends but for times, text lists and id
/// lists, which each backend takes its own way (`$time`, `$texts`, `$uuids`).
macro_rules! add_arg {
    ($arg:expr, $args:expr, time: $time:expr, texts: $texts:expr, uuids: $uuids:expr) => {
        match $arg {
            Arg::Uuid(v) => $args.add(v),
            Arg::Text(v) => $args.add(v.map(without_nul)),
            Arg::I32(v) => $args.add(v),
            Arg::I64(v) => $args.add(v),
            Arg::F64(v) => $args.add(v),
            Arg::Bool(v) => $args.add(v),
            Arg::Date(v) => $args.add(v),
            Arg::Json(v) => $args.add(v.map(|v| Json(json_without_nul(v)))),
            Arg::Time(v) => $args.add(v.map($time)),
            Arg::Texts(v) => $args.add($texts(v.into_iter().map(without_nul).collect::<Vec<_>>())),
            Arg::Uuids(v) => $args.add($uuids(v)),
        }
    };
}

impl Arg {
    pub(super) fn add_pg(self, args: &mut PgArguments) -> Result<(), sqlx::error::BoxDynError> {
        add_arg!(self, args,
            time: |t: DateTime<Utc>| t,
            texts: |v: Vec<String>| v,
            uuids: |v: Vec<Uuid>| v)
    }

    pub(super) fn add_sqlite(
        self,
        args: &mut SqliteArguments<'static>,
    ) -> Result<(), sqlx::error::BoxDynError> {
        let hex = |ids: Vec<Uuid>| {
            let hex: Vec<String> = ids.iter().map(|id| id.simple().to_string()).collect();
            Json(hex)
        };
        add_arg!(self, args, time: ts, texts: Json, uuids: hex)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nul_characters_are_left_out_of_texts_and_json() {
        assert_eq!(without_nul("FR\0A".to_owned()), "FRA");
        assert_eq!(without_nul("FRA".to_owned()), "FRA");
        let value = serde_json::json!({"a\u{0}": ["x\u{0}y", {"k": "\u{0}"}], "n": 1});
        assert_eq!(
            json_without_nul(value),
            serde_json::json!({"a": ["xy", {"k": ""}], "n": 1})
        );
    }
}
