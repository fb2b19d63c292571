//! Attempts to link a chat account to a customer, counted so proofs cannot be guessed.

use sqlx::AnyConnection;

use super::Result;
use crate::clock::Timestamp;

pub async fn record(
    conn: &mut AnyConnection,
    channel: &str,
    external_id: &str,
    order_id: i64,
    success: bool,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO link_attempts (channel, external_id, order_id, success, at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(channel)
    .bind(external_id)
    .bind(order_id)
    .bind(i64::from(success))
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Failed attempts since `since`: (count, earliest time) for one account.
pub async fn account_failures(
    conn: &mut AnyConnection,
    channel: &str,
    external_id: &str,
    since: Timestamp,
) -> Result<(i64, Option<Timestamp>)> {
    Ok(sqlx::query_as(
        "SELECT COUNT(*), MIN(at) FROM link_attempts WHERE channel = $1 AND external_id = $2 AND success = 0 AND at >= $3",
    )
    .bind(channel)
    .bind(external_id)
    .bind(since)
    .fetch_one(conn)
    .await?)
}

/// Failed attempts since `since` on one order number, from any account.
pub async fn order_failures(
    conn: &mut AnyConnection,
    order_id: i64,
    since: Timestamp,
) -> Result<(i64, Option<Timestamp>)> {
    Ok(sqlx::query_as(
        "SELECT COUNT(*), MIN(at) FROM link_attempts WHERE order_id = $1 AND success = 0 AND at >= $2",
    )
    .bind(order_id)
    .bind(since)
    .fetch_one(conn)
    .await?)
}
