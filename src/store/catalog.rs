//! Products, their prices and price history, stock, and purchase orders (restocks).

use sqlx::AnyConnection;

use super::Result;
use crate::clock::Timestamp;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Product {
    pub id: i64,
    pub sku: String,
    pub title: String,
    pub title_zh: Option<String>,
    pub description: String,
    pub category: String,
    pub price: i64,
    pub cost: i64,
    pub floor_price: i64,
    pub ceiling_price: i64,
    pub stock: i64,
    pub reserved: i64,
    pub reorder_point: i64,
    pub lead_time_days: i64,
}

impl Product {
    /// Units that can still be sold: on hand minus those promised to open orders.
    pub fn available(&self) -> i64 {
        (self.stock - self.reserved).max(0)
    }
}

const COLUMNS: &str = "id, sku, title, title_zh, description, category, price, cost, floor_price, ceiling_price, \
                       stock, reserved, reorder_point, lead_time_days";

pub async fn by_sku(conn: &mut AnyConnection, sku: &str) -> Result<Option<Product>> {
    let sql = format!("SELECT {COLUMNS} FROM products WHERE UPPER(sku) = UPPER($1)");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(sku)
        .fetch_optional(conn)
        .await?)
}

pub async fn by_id(conn: &mut AnyConnection, id: i64) -> Result<Option<Product>> {
    let sql = format!("SELECT {COLUMNS} FROM products WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

/// Every product, by SKU.
pub async fn all(conn: &mut AnyConnection) -> Result<Vec<Product>> {
    let sql = format!("SELECT {COLUMNS} FROM products ORDER BY sku");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await?)
}

/// Days since each product's last price change, by product id.
pub async fn last_price_changes(conn: &mut AnyConnection) -> Result<Vec<(i64, Timestamp)>> {
    Ok(
        sqlx::query_as("SELECT product_id, MAX(changed_at) FROM price_history GROUP BY product_id")
            .fetch_all(conn)
            .await?,
    )
}

/// Products whose SKU or title (English or Chinese) contains the query, best-stocked first.
pub async fn search(conn: &mut AnyConnection, query: &str, limit: i64) -> Result<Vec<Product>> {
    // LIKE wildcards in the query are taken literally by dropping them.
    let words = query.to_lowercase().replace(['%', '_'], "");
    if words.trim().is_empty() {
        return Ok(Vec::new());
    }
    let pattern = format!("%{words}%");
    let sql = format!(
        "SELECT {COLUMNS} FROM products \
         WHERE LOWER(sku) LIKE $1 OR LOWER(title) LIKE $1 OR title_zh LIKE $1 \
         ORDER BY (stock - reserved) DESC, sku LIMIT $2"
    );
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(pattern)
        .bind(limit)
        .fetch_all(conn)
        .await?)
}

/// Sets a new price and records the change in the price history.
pub async fn set_price(
    conn: &mut AnyConnection,
    product: &Product,
    new_price: i64,
    reason: &str,
    changed_by: &str,
    now: Timestamp,
) -> Result<()> {
    sqlx::query("UPDATE products SET price = $1, updated_at = $2 WHERE id = $3")
        .bind(new_price)
        .bind(now)
        .bind(product.id)
        .execute(&mut *conn)
        .await?;
    sqlx::query(
        "INSERT INTO price_history (product_id, old_price, new_price, reason, changed_by, changed_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(product.id)
    .bind(product.price)
    .bind(new_price)
    .bind(reason)
    .bind(changed_by)
    .bind(now)
    .execute(conn)
    .await?;
    Ok(())
}

/// Units sold (in orders that were not cancelled) since `since`.
pub async fn units_sold_since(
    conn: &mut AnyConnection,
    product_id: i64,
    since: Timestamp,
) -> Result<i64> {
    let (units,): (Option<i64>,) = sqlx::query_as(
        "SELECT CAST(SUM(i.quantity) AS BIGINT) FROM order_items i JOIN orders o ON o.id = i.order_id \
         WHERE i.product_id = $1 AND o.created_at >= $2 AND o.status <> 'cancelled'",
    )
    .bind(product_id)
    .bind(since)
    .fetch_one(conn)
    .await?;
    Ok(units.unwrap_or(0))
}

/// Units already on order from suppliers and not yet received.
pub async fn units_on_order(conn: &mut AnyConnection, product_id: i64) -> Result<i64> {
    let (units,): (Option<i64>,) =
        sqlx::query_as("SELECT CAST(SUM(quantity) AS BIGINT) FROM purchase_orders WHERE product_id = $1 AND status = 'open'")
            .bind(product_id)
            .fetch_one(conn)
            .await?;
    Ok(units.unwrap_or(0))
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PurchaseOrder {
    pub id: i64,
    pub product_id: i64,
    pub quantity: i64,
    pub reason: String,
    pub created_by: String,
    pub expected_at: Timestamp,
}

pub async fn create_purchase_order(
    conn: &mut AnyConnection,
    product: &Product,
    quantity: i64,
    reason: &str,
    created_by: &str,
    now: Timestamp,
) -> Result<PurchaseOrder> {
    Ok(sqlx::query_as(
        "INSERT INTO purchase_orders (product_id, quantity, reason, status, created_by, created_at, expected_at) \
         VALUES ($1, $2, $3, 'open', $4, $5, $6) RETURNING id, product_id, quantity, reason, created_by, expected_at",
    )
    .bind(product.id)
    .bind(quantity)
    .bind(reason)
    .bind(created_by)
    .bind(now)
    .bind(now + product.lead_time_days * crate::clock::DAY)
    .fetch_one(conn)
    .await?)
}
