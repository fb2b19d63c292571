//! Pending confirmations and approvals: a risky effect waits here under a short code
//! until the right person confirms it or it expires.

use sqlx::AnyConnection;

use super::Result;
use crate::clock::Timestamp;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Pending {
    pub code: String,
    pub tool: String,
    pub args: String,
    pub requested_by: String,
    pub requester_role: String,
    pub approval: String,
    pub excluded_actor: Option<String>,
    pub summary: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
    pub decided_by: Option<String>,
    pub decided_at: Option<Timestamp>,
    pub idempotency_key: String,
}

pub async fn create(conn: &mut AnyConnection, p: &Pending) -> Result<()> {
    sqlx::query(
        "INSERT INTO pending_confirmations (code, tool, args, requested_by, requester_role, approval, excluded_actor, \
         summary, created_at, expires_at, idempotency_key) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(&p.code)
    .bind(&p.tool)
    .bind(&p.args)
    .bind(&p.requested_by)
    .bind(&p.requester_role)
    .bind(&p.approval)
    .bind(&p.excluded_actor)
    .bind(&p.summary)
    .bind(p.created_at)
    .bind(p.expires_at)
    .bind(&p.idempotency_key)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, code: &str) -> Result<Option<Pending>> {
    Ok(sqlx::query_as(
        "SELECT code, tool, args, requested_by, requester_role, approval, excluded_actor, summary, created_at, \
         expires_at, decided_by, decided_at, idempotency_key FROM pending_confirmations WHERE code = $1",
    )
    .bind(code)
    .fetch_optional(conn)
    .await?)
}

/// Marks the request decided; returns false when someone else decided it first, which is
/// what makes `/confirm` act exactly once.
pub async fn decide(
    conn: &mut AnyConnection,
    code: &str,
    decided_by: &str,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE pending_confirmations SET decided_by = $1, decided_at = $2 WHERE code = $3 AND decided_at IS NULL",
    )
    .bind(decided_by)
    .bind(now)
    .bind(code)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}
