//! When each staff member was last active, which is what "online" means for handoffs:
//! someone who wrote or pressed a button in the last few minutes.

use sqlx::AnyConnection;

use super::Result;
use crate::clock::Timestamp;

/// Records activity by `staff` and returns when they were last seen before it.
pub async fn touch(
    conn: &mut AnyConnection,
    staff: &str,
    now: Timestamp,
) -> Result<Option<Timestamp>> {
    let before: Option<(Timestamp,)> =
        sqlx::query_as("SELECT last_seen_at FROM staff_presence WHERE staff = $1")
            .bind(staff)
            .fetch_optional(&mut *conn)
            .await?;
    sqlx::query(
        "INSERT INTO staff_presence (staff, last_seen_at) VALUES ($1, $2) \
         ON CONFLICT (staff) DO UPDATE SET last_seen_at = excluded.last_seen_at",
    )
    .bind(staff)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(before.map(|(at,)| at))
}

/// Staff seen at or after `since`, most recent first.
pub async fn seen_since(conn: &mut AnyConnection, since: Timestamp) -> Result<Vec<String>> {
    let rows: Vec<(String,)> = sqlx::query_as(
        "SELECT staff FROM staff_presence WHERE last_seen_at >= $1 ORDER BY last_seen_at DESC",
    )
    .bind(since)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(s,)| s).collect())
}
