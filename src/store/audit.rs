//! The append-only audit log: every tool call, allowed or not, leaves one entry. The
//! database refuses updates and deletes on it (triggers in the migrations).

use sqlx::AnyConnection;

use super::Result;
use crate::clock::Timestamp;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: Timestamp,
    pub actor: String,
    pub role: String,
    pub channel: String,
    pub tool: String,
    pub args: String,
    pub outcome: String,
    pub detail: String,
    pub idempotency_key: Option<String>,
}

/// What is written; the id and time are the store's.
#[derive(Debug, Clone)]
pub struct NewEntry<'a> {
    pub actor: &'a str,
    pub role: &'a str,
    pub channel: &'a str,
    pub tool: &'a str,
    pub args: &'a str,
    pub outcome: &'a str,
    pub detail: &'a str,
    pub idempotency_key: Option<&'a str>,
}

pub async fn append(conn: &mut AnyConnection, entry: &NewEntry<'_>, now: Timestamp) -> Result<()> {
    sqlx::query(
        "INSERT INTO audit_log (at, actor, role, channel, tool, args, outcome, detail, idempotency_key) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(now)
    .bind(entry.actor)
    .bind(entry.role)
    .bind(entry.channel)
    .bind(entry.tool)
    .bind(entry.args)
    .bind(entry.outcome)
    .bind(entry.detail)
    .bind(entry.idempotency_key)
    .execute(conn)
    .await?;
    Ok(())
}

/// The newest `limit` entries, newest first.
pub async fn recent(conn: &mut AnyConnection, limit: i64) -> Result<Vec<AuditEntry>> {
    Ok(sqlx::query_as(
        "SELECT id, at, actor, role, channel, tool, args, outcome, detail, idempotency_key \
         FROM audit_log ORDER BY id DESC LIMIT $1",
    )
    .bind(limit)
    .fetch_all(conn)
    .await?)
}
