//! Direct access to a test database, around the store: to set up or break things on purpose.

use sqlx::Connection;
use uuid::Uuid;

/// Runs one statement on a test database, outside the store (to set up or break things).
pub async fn execute(url: &str, sql: &'static str) {
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(sql).execute(&mut conn).await.unwrap();
    }
}

pub async fn count(url: &str, sql: &'static str) -> i64 {
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_one(&mut conn).await.unwrap()
    }
}

/// The texts one column of a query returns, in its order.
pub async fn texts(url: &str, sql: &'static str) -> Vec<String> {
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query_scalar(sql).fetch_all(&mut conn).await.unwrap()
    }
}

/// Records a flight as if Skyhook had learned of it, returning its `flightUUID`.
pub async fn insert_flight(url: &str, number: &str, date: &str, origin: &str) -> Uuid {
    let id = Uuid::new_v4();
    if url.starts_with("sqlite:") {
        let mut conn = sqlx::SqliteConnection::connect(url).await.unwrap();
        sqlx::query(
            "INSERT INTO flights (id, number, date, origin, created_at, updated_at) \
             VALUES (?1, ?2, ?3, ?4, '2026-01-01T00:00:00.000000Z', '2026-01-01T00:00:00.000000Z')",
        )
        .bind(id)
        .bind(number)
        .bind(date)
        .bind(origin)
        .execute(&mut conn)
        .await
        .unwrap();
    } else {
        let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
        sqlx::query(
            "INSERT INTO flights (id, number, date, origin, created_at, updated_at) \
             VALUES ($1, $2, $3::date, $4, now(), now())",
        )
        .bind(id)
        .bind(number)
        .bind(date)
        .bind(origin)
        .execute(&mut conn)
        .await
        .unwrap();
    }
    id
}
