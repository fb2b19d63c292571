//! Idempotency: an effect claims its key before it acts, in the same transaction. The
//! primary key on `effects` makes a second claim of the same key fail, whether it comes
//! from a redelivery, a restart or a concurrent delivery; the loser reads the winner's
//! result instead of acting again.

use sqlx::AnyConnection;

use super::{Result, is_unique_violation};
use crate::clock::Timestamp;

pub enum Claim {
    /// This call owns the key: act, then [`finish`].
    Claimed,
    /// The key was already used: here is what that call answered.
    Done(String),
}

/// Looks up a finished effect outside any transaction (a cheap early exit).
pub async fn finished(conn: &mut AnyConnection, key: &str) -> Result<Option<String>> {
    Ok(
        sqlx::query_as::<_, (String,)>("SELECT result FROM effects WHERE idempotency_key = $1")
            .bind(key)
            .fetch_optional(conn)
            .await?
            .map(|(r,)| r),
    )
}

/// Claims the key inside the caller's transaction. On PostgreSQL a concurrent claim of the
/// same key waits here until the first transaction ends.
pub async fn claim(
    conn: &mut AnyConnection,
    key: &str,
    tool: &str,
    now: Timestamp,
) -> Result<Claim> {
    let inserted = sqlx::query(
        "INSERT INTO effects (idempotency_key, tool, result, created_at) VALUES ($1, $2, '', $3)",
    )
    .bind(key)
    .bind(tool)
    .bind(now)
    .execute(&mut *conn)
    .await;
    match inserted {
        Ok(_) => Ok(Claim::Claimed),
        Err(e) if is_unique_violation(&e) => Ok(Claim::Done(String::new())),
        Err(e) => Err(e.into()),
    }
}

pub async fn finish(conn: &mut AnyConnection, key: &str, result: &str) -> Result<()> {
    sqlx::query("UPDATE effects SET result = $1 WHERE idempotency_key = $2")
        .bind(result)
        .bind(key)
        .execute(conn)
        .await?;
    Ok(())
}
