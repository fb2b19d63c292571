//! Orders, their items and shipments, returns and fraud holds.

use sqlx::AnyConnection;

use super::Result;
use crate::clock::Timestamp;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Order {
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
    pub held_from_status: Option<String>,
    pub payment_method: String,
    pub card_fingerprint: Option<String>,
    pub shipping_name: String,
    pub shipping_address: String,
    pub shipping_country: String,
    pub ip_country: Option<String>,
    pub forwarder: i64,
    pub rush: i64,
    pub total: i64,
    pub created_at: Timestamp,
}

impl Order {
    /// Before it leaves the warehouse an order can still be cancelled or redirected.
    pub fn is_before_shipping(&self) -> bool {
        matches!(self.status.as_str(), "pending" | "paid")
    }
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct OrderItem {
    pub product_id: i64,
    pub sku: String,
    pub title: String,
    pub quantity: i64,
    pub unit_price: i64,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Shipment {
    pub id: i64,
    pub carrier: String,
    pub tracking_number: String,
    pub region: String,
    pub shipped_at: Option<Timestamp>,
    pub promised_at: Timestamp,
    pub estimated_at: Timestamp,
    pub delivered_at: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct ShipmentEvent {
    pub at: Timestamp,
    pub location: String,
    pub description: String,
}

const COLUMNS: &str = "id, customer_id, status, held_from_status, payment_method, card_fingerprint, shipping_name, \
                       shipping_address, shipping_country, ip_country, forwarder, rush, total, created_at";

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<Order>> {
    let sql = format!("SELECT {COLUMNS} FROM orders WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

pub async fn recent_for_customer(
    conn: &mut AnyConnection,
    customer_id: i64,
    limit: i64,
) -> Result<Vec<Order>> {
    let sql = format!(
        "SELECT {COLUMNS} FROM orders WHERE customer_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(customer_id)
        .bind(limit)
        .fetch_all(conn)
        .await?)
}

pub async fn items(conn: &mut AnyConnection, order_id: i64) -> Result<Vec<OrderItem>> {
    Ok(sqlx::query_as(
        "SELECT i.product_id, p.sku, p.title, i.quantity, i.unit_price FROM order_items i \
         JOIN products p ON p.id = i.product_id WHERE i.order_id = $1 ORDER BY i.id",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await?)
}

pub async fn shipments(conn: &mut AnyConnection, order_id: i64) -> Result<Vec<Shipment>> {
    Ok(sqlx::query_as(
        "SELECT id, carrier, tracking_number, region, shipped_at, promised_at, estimated_at, delivered_at \
         FROM shipments WHERE order_id = $1 ORDER BY id",
    )
    .bind(order_id)
    .fetch_all(conn)
    .await?)
}

pub async fn shipment_events(
    conn: &mut AnyConnection,
    shipment_id: i64,
) -> Result<Vec<ShipmentEvent>> {
    Ok(sqlx::query_as("SELECT at, location, description FROM shipment_events WHERE shipment_id = $1 ORDER BY at, id")
        .bind(shipment_id)
        .fetch_all(conn)
        .await?)
}

pub async fn set_status(
    conn: &mut AnyConnection,
    id: i64,
    status: &str,
    now: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE orders SET status = $1, updated_at = $2 WHERE id = $3")
        .bind(status)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Gives the units of a cancelled, unshipped order back to the sellable stock.
pub async fn unreserve_items(conn: &mut AnyConnection, order_id: i64) -> Result<()> {
    sqlx::query(
        "UPDATE products SET reserved = CASE WHEN reserved > q.qty THEN reserved - q.qty ELSE 0 END \
         FROM (SELECT product_id, SUM(quantity) AS qty FROM order_items WHERE order_id = $1 GROUP BY product_id) q \
         WHERE products.id = q.product_id",
    )
    .bind(order_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn set_address(
    conn: &mut AnyConnection,
    id: i64,
    address: &str,
    country: &str,
    now: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE orders SET shipping_address = $1, shipping_country = $2, updated_at = $3 WHERE id = $4")
        .bind(address)
        .bind(country)
        .bind(now)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn create_return(
    conn: &mut AnyConnection,
    order_id: i64,
    reason: &str,
    requested_by: &str,
    now: Timestamp,
) -> Result<i64> {
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO returns (order_id, reason, status, requested_by, created_at) VALUES ($1, $2, 'requested', $3, $4) RETURNING id",
    )
    .bind(order_id)
    .bind(reason)
    .bind(requested_by)
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

pub async fn open_return(conn: &mut AnyConnection, order_id: i64) -> Result<Option<i64>> {
    Ok(sqlx::query_as::<_, (i64,)>(
        "SELECT id FROM returns WHERE order_id = $1 AND status = 'requested'",
    )
    .bind(order_id)
    .fetch_optional(conn)
    .await?
    .map(|(id,)| id))
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct FraudHold {
    pub id: i64,
    pub order_id: i64,
    pub score: i64,
    pub reasons: String,
    pub placed_by: String,
    pub placed_at: Timestamp,
}

pub async fn active_hold(conn: &mut AnyConnection, order_id: i64) -> Result<Option<FraudHold>> {
    Ok(sqlx::query_as(
        "SELECT id, order_id, score, reasons, placed_by, placed_at FROM fraud_holds WHERE order_id = $1 AND released_at IS NULL",
    )
    .bind(order_id)
    .fetch_optional(conn)
    .await?)
}

/// Holds an order: it leaves fulfilment until released, and remembers the status to return to.
pub async fn place_hold(
    conn: &mut AnyConnection,
    order: &Order,
    score: i64,
    reasons: &str,
    placed_by: &str,
    now: Timestamp,
) -> Result<i64> {
    sqlx::query("UPDATE orders SET status = 'on_hold', held_from_status = $1, updated_at = $2 WHERE id = $3")
        .bind(&order.status)
        .bind(now)
        .bind(order.id)
        .execute(&mut *conn)
        .await?;
    let (id,): (i64,) = sqlx::query_as(
        "INSERT INTO fraud_holds (order_id, score, reasons, placed_by, placed_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
    )
    .bind(order.id)
    .bind(score)
    .bind(reasons)
    .bind(placed_by)
    .bind(now)
    .fetch_one(conn)
    .await?;
    Ok(id)
}

pub async fn release_hold(
    conn: &mut AnyConnection,
    order: &Order,
    released_by: &str,
    now: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE fraud_holds SET released_by = $1, released_at = $2 WHERE order_id = $3 AND released_at IS NULL")
        .bind(released_by)
        .bind(now)
        .bind(order.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "UPDATE orders SET status = COALESCE(held_from_status, 'paid'), held_from_status = NULL, updated_at = $1 WHERE id = $2",
    )
    .bind(now)
    .bind(order.id)
    .execute(conn)
    .await?;
    Ok(())
}
