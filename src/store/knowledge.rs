//! The record of what the vector index holds: which chunk (point id) was ingested with
//! which content hash. The index itself can lose unflushed writes; this record cannot.

use std::collections::HashMap;

use sqlx::AnyConnection;

use super::Result;
use crate::clock::Timestamp;

/// point id → content hash of every ingested chunk.
pub async fn recorded(conn: &mut AnyConnection) -> Result<HashMap<u64, String>> {
    let rows: Vec<(i64, String)> = sqlx::query_as("SELECT point_id, hash FROM knowledge_chunks")
        .fetch_all(conn)
        .await?;
    Ok(rows
        .into_iter()
        .map(|(id, hash)| (id as u64, hash))
        .collect())
}

pub async fn record(
    conn: &mut AnyConnection,
    point_id: u64,
    doc: &str,
    language: &str,
    hash: &str,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO knowledge_chunks (point_id, doc, language, hash, ingested_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (point_id) DO UPDATE SET doc = excluded.doc, language = excluded.language, \
         hash = excluded.hash, ingested_at = excluded.ingested_at",
    )
    .bind(point_id as i64)
    .bind(doc)
    .bind(language)
    .bind(hash)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn forget(conn: &mut AnyConnection, point_id: u64) -> Result<()> {
    sqlx::query("DELETE FROM knowledge_chunks WHERE point_id = $1")
        .bind(point_id as i64)
        .execute(conn)
        .await?;
    Ok(())
}
