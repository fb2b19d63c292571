//! Staff members, their role and the platform accounts linked to them.

use sqlx::AnyConnection;

use super::Result;
use crate::clock::Timestamp;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Staff {
    pub id: i64,
    pub name: String,
    pub role: String,
    pub discord_id: Option<String>,
    pub telegram_id: Option<String>,
    pub web_id: Option<String>,
    pub created_at: Timestamp,
}

const COLUMNS: &str = "id, name, role, discord_id, telegram_id, web_id, created_at";

/// The platforms a staff account can be linked on, and the column that holds the link.
pub fn link_column(channel: &str) -> Option<&'static str> {
    match channel {
        "discord" => Some("discord_id"),
        "telegram" => Some("telegram_id"),
        "web" => Some("web_id"),
        _ => None,
    }
}

pub async fn by_name(conn: &mut AnyConnection, name: &str) -> Result<Option<Staff>> {
    let sql = format!("SELECT {COLUMNS} FROM staff WHERE name = $1 AND active = 1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(name)
        .fetch_optional(conn)
        .await?)
}

/// The staff member linked to a platform account, if any.
pub async fn by_account(
    conn: &mut AnyConnection,
    channel: &str,
    external_id: &str,
) -> Result<Option<Staff>> {
    let Some(column) = link_column(channel) else {
        return Ok(None);
    };
    let sql = format!("SELECT {COLUMNS} FROM staff WHERE {column} = $1 AND active = 1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(external_id)
        .fetch_optional(conn)
        .await?)
}

pub async fn list(conn: &mut AnyConnection) -> Result<Vec<Staff>> {
    let sql = format!("SELECT {COLUMNS} FROM staff WHERE active = 1 ORDER BY name");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await?)
}

pub async fn add(
    conn: &mut AnyConnection,
    name: &str,
    role: &str,
    now: Timestamp,
) -> Result<Staff> {
    let sql = format!(
        "INSERT INTO staff (name, role, active, created_at) VALUES ($1, $2, 1, $3) RETURNING {COLUMNS}"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(name)
        .bind(role)
        .bind(now)
        .fetch_one(conn)
        .await?)
}

/// Removes a staff member; returns false when there was none by that name.
pub async fn remove(conn: &mut AnyConnection, name: &str) -> Result<bool> {
    let done = sqlx::query("DELETE FROM staff WHERE name = $1")
        .bind(name)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Links a platform account to a staff member; returns false when there was none by that name.
pub async fn link(
    conn: &mut AnyConnection,
    name: &str,
    column: &'static str,
    external_id: &str,
) -> Result<bool> {
    let sql = format!("UPDATE staff SET {column} = $1 WHERE name = $2");
    let done = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(external_id)
        .bind(name)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() > 0)
}
