//! Customers and the platform accounts proven to be theirs.

use sqlx::AnyConnection;

use super::Result;
use crate::clock::Timestamp;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: String,
    pub contact_opt_out: i64,
    pub created_at: Timestamp,
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<Customer>> {
    Ok(sqlx::query_as("SELECT id, name, email, phone, language, contact_opt_out, created_at FROM customers WHERE id = $1")
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// The customer a verified platform account belongs to.
pub async fn by_identity(
    conn: &mut AnyConnection,
    channel: &str,
    external_id: &str,
) -> Result<Option<Customer>> {
    Ok(sqlx::query_as(
        "SELECT c.id, c.name, c.email, c.phone, c.language, c.contact_opt_out, c.created_at \
         FROM customer_identities i JOIN customers c ON c.id = i.customer_id \
         WHERE i.channel = $1 AND i.external_id = $2",
    )
    .bind(channel)
    .bind(external_id)
    .fetch_optional(conn)
    .await?)
}

pub async fn link_identity(
    conn: &mut AnyConnection,
    channel: &str,
    external_id: &str,
    customer_id: i64,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO customer_identities (channel, external_id, customer_id, verified_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (channel, external_id) DO UPDATE SET customer_id = excluded.customer_id, verified_at = excluded.verified_at",
    )
    .bind(channel)
    .bind(external_id)
    .bind(customer_id)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn by_email(conn: &mut AnyConnection, email: &str) -> Result<Option<Customer>> {
    Ok(sqlx::query_as(
        "SELECT id, name, email, phone, language, contact_opt_out, created_at FROM customers WHERE LOWER(email) = LOWER($1)",
    )
    .bind(email.trim())
    .fetch_optional(conn)
    .await?)
}

/// The platform accounts proven to be the customer's, as `channel:account`.
pub async fn identities(conn: &mut AnyConnection, customer_id: i64) -> Result<Vec<String>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT channel, external_id FROM customer_identities WHERE customer_id = $1 ORDER BY channel, external_id",
    )
    .bind(customer_id)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(c, e)| format!("{c}:{e}")).collect())
}
