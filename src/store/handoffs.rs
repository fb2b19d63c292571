//! Conversations handed from the bot to a person: the queue staff work from, and the link
//! between a customer's conversation and the staff thread that mirrors it.

use sqlx::AnyConnection;

use super::{Result, is_unique_violation};
use crate::clock::Timestamp;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Handoff {
    pub id: i64,
    pub conversation_id: i64,
    pub reason: String,
    pub staff_channel: Option<String>,
    pub staff_conversation: Option<String>,
}

const COLUMNS: &str = "id, conversation_id, reason, staff_channel, staff_conversation";

/// Opens a handoff; `None` when the conversation already has an open one.
pub async fn open(
    conn: &mut AnyConnection,
    conversation_id: i64,
    reason: &str,
    now: Timestamp,
) -> Result<Option<Handoff>> {
    let sql = format!(
        "INSERT INTO handoffs (conversation_id, reason, status, opened_at) VALUES ($1, $2, 'open', $3) RETURNING {COLUMNS}"
    );
    match sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(conversation_id)
        .bind(reason)
        .bind(now)
        .fetch_one(conn)
        .await
    {
        Ok(handoff) => Ok(Some(handoff)),
        Err(e) if is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub async fn open_for_conversation(
    conn: &mut AnyConnection,
    conversation_id: i64,
) -> Result<Option<Handoff>> {
    let sql =
        format!("SELECT {COLUMNS} FROM handoffs WHERE conversation_id = $1 AND status = 'open'");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(conversation_id)
        .fetch_optional(conn)
        .await?)
}

/// The open handoff a staff thread belongs to.
pub async fn open_by_thread(
    conn: &mut AnyConnection,
    staff_channel: &str,
    staff_conversation: &str,
) -> Result<Option<Handoff>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM handoffs WHERE staff_channel = $1 AND staff_conversation = $2 AND status = 'open'"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(staff_channel)
        .bind(staff_conversation)
        .fetch_optional(conn)
        .await?)
}

pub async fn open_by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<Handoff>> {
    let sql = format!("SELECT {COLUMNS} FROM handoffs WHERE id = $1 AND status = 'open'");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

pub async fn set_thread(
    conn: &mut AnyConnection,
    id: i64,
    staff_channel: &str,
    staff_conversation: &str,
) -> Result<()> {
    sqlx::query("UPDATE handoffs SET staff_channel = $1, staff_conversation = $2 WHERE id = $3")
        .bind(staff_channel)
        .bind(staff_conversation)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Records the first staff member to answer; false when someone already had.
pub async fn claim(conn: &mut AnyConnection, id: i64, staff: &str, now: Timestamp) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE handoffs SET claimed_by = $1, claimed_at = $2 WHERE id = $3 AND claimed_by IS NULL AND status = 'open'",
    )
    .bind(staff)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Closes an open handoff; false when it was not open any more.
pub async fn close(conn: &mut AnyConnection, id: i64, by: &str, now: Timestamp) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE handoffs SET status = 'closed', closed_by = $1, closed_at = $2 WHERE id = $3 AND status = 'open'",
    )
    .bind(by)
    .bind(now)
    .bind(id)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// A handoff waiting for a person, with who is waiting.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Waiting {
    pub id: i64,
    pub channel: String,
    pub customer_name: Option<String>,
    pub reason: String,
    pub staff_conversation: Option<String>,
    pub opened_at: Timestamp,
}

/// Open handoffs nobody has answered yet, longest-waiting first.
pub async fn queue(conn: &mut AnyConnection) -> Result<Vec<Waiting>> {
    Ok(sqlx::query_as(
        "SELECT h.id, c.channel, cu.name AS customer_name, h.reason, h.staff_conversation, h.opened_at \
         FROM handoffs h JOIN conversations c ON c.id = h.conversation_id \
         LEFT JOIN customers cu ON cu.id = c.customer_id \
         WHERE h.status = 'open' AND h.claimed_by IS NULL ORDER BY h.opened_at, h.id",
    )
    .fetch_all(conn)
    .await?)
}

/// Open handoffs that have no staff thread yet (no staff channel was running).
pub async fn without_thread(conn: &mut AnyConnection) -> Result<Vec<Handoff>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM handoffs WHERE status = 'open' AND staff_conversation IS NULL ORDER BY id"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await?)
}
