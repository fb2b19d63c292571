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

/// Everything the store holds about a customer, as JSON: the export a customer may ask for.
pub async fn export(conn: &mut AnyConnection, id: i64) -> Result<Option<serde_json::Value>> {
    use serde_json::json;
    let Some(c) = get(conn, id).await? else {
        return Ok(None);
    };
    let identities: Vec<(String, String, i64)> =
        sqlx::query_as("SELECT channel, external_id, verified_at FROM customer_identities WHERE customer_id = $1 ORDER BY channel")
            .bind(id)
            .fetch_all(&mut *conn)
            .await?;
    let orders: Vec<(i64, String, String, String, i64, i64)> = sqlx::query_as(
        "SELECT id, status, shipping_name, shipping_address, total, created_at FROM orders WHERE customer_id = $1 ORDER BY id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let returns: Vec<(i64, i64, String, String)> = sqlx::query_as(
        "SELECT r.id, r.order_id, r.reason, r.status FROM returns r JOIN orders o ON o.id = r.order_id WHERE o.customer_id = $1 ORDER BY r.id",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    let messages: Vec<(String, String, String, i64)> = sqlx::query_as(
        "SELECT c.channel, m.direction, m.text, m.created_at FROM messages m JOIN conversations c ON c.id = m.conversation_id \
         WHERE c.customer_id = $1 ORDER BY m.id",
    )
    .bind(id)
    .fetch_all(conn)
    .await?;
    Ok(Some(json!({
        "customer": {"id": c.id, "name": c.name, "email": c.email, "phone": c.phone, "language": c.language,
                     "contact_opt_out": c.contact_opt_out != 0, "created_at": c.created_at},
        "linked_accounts": identities.iter().map(|(ch, ext, at)| json!({"channel": ch, "account": ext, "verified_at": at})).collect::<Vec<_>>(),
        "orders": orders.iter().map(|(oid, status, name, address, total, at)| json!({"id": oid, "status": status, "ship_to": name, "address": address, "total_minor": total, "created_at": at})).collect::<Vec<_>>(),
        "returns": returns.iter().map(|(rid, oid, reason, status)| json!({"id": rid, "order_id": oid, "reason": reason, "status": status})).collect::<Vec<_>>(),
        "messages": messages.iter().map(|(ch, dir, text, at)| json!({"channel": ch, "direction": dir, "text": text, "at": at})).collect::<Vec<_>>(),
    })))
}

/// Removes a customer's personal data everywhere it is stored, keeping the records that the
/// business must keep (orders, for tax law) under a pseudonymous id. The audit log never
/// held personal data, so it needs no change (and refuses any).
pub async fn forget(conn: &mut AnyConnection, id: i64) -> Result<bool> {
    let Some(c) = get(conn, id).await? else {
        return Ok(false);
    };
    let addresses: Vec<(String, String)> = sqlx::query_as(
        "SELECT DISTINCT shipping_name, shipping_address FROM orders WHERE customer_id = $1",
    )
    .bind(id)
    .fetch_all(&mut *conn)
    .await?;
    // Stored answers of past effects may quote the customer (an address change): drop them.
    let mut quoted: Vec<String> = [Some(c.name.clone()), c.email.clone(), c.phone.clone()]
        .into_iter()
        .flatten()
        .collect();
    for (name, address) in addresses {
        quoted.push(name);
        quoted.push(address);
    }
    for text in quoted.iter().filter(|t| t.chars().count() >= 4) {
        let pattern = format!("%{}%", text.replace(['%', '_'], ""));
        sqlx::query("DELETE FROM effects WHERE result LIKE $1")
            .bind(&pattern)
            .execute(&mut *conn)
            .await?;
        sqlx::query("UPDATE processed_events SET reply = '[deleted]' WHERE reply LIKE $1")
            .bind(&pattern)
            .execute(&mut *conn)
            .await?;
    }
    let statements: &[&str] = &[
        "UPDATE customers SET name = 'deleted customer', email = NULL, phone = NULL, contact_opt_out = 1 WHERE id = $1",
        "DELETE FROM customer_identities WHERE customer_id = $1",
        "UPDATE orders SET shipping_name = 'deleted', shipping_address = 'deleted', card_fingerprint = NULL WHERE customer_id = $1",
        "UPDATE returns SET reason = 'deleted' WHERE order_id IN (SELECT id FROM orders WHERE customer_id = $1)",
        "UPDATE messages SET text = '[deleted]' WHERE conversation_id IN (SELECT id FROM conversations WHERE customer_id = $1)",
        "UPDATE handoffs SET reason = '[deleted]' WHERE conversation_id IN (SELECT id FROM conversations WHERE customer_id = $1)",
        "DELETE FROM link_attempts WHERE order_id IN (SELECT id FROM orders WHERE customer_id = $1)",
        "UPDATE conversations SET external_id = 'deleted-' || CAST(id AS TEXT), state = '{}' WHERE customer_id = $1",
    ];
    for sql in statements {
        sqlx::query(*sql).bind(id).execute(&mut *conn).await?;
    }
    Ok(true)
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
