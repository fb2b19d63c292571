//! Item-to-item recommendations from co-purchases: two products bought in the same orders
//! are similar by the cosine of their order sets. When a customer asks for something out of
//! stock, the in-stock products most often bought alongside it are the alternatives, with
//! the same category's best sellers as the fallback.

use std::collections::HashMap;

use sqlx::AnyConnection;

use crate::clock::{DAY, Timestamp};
use crate::store::Result;
use crate::store::catalog::{self, Product};

/// How far back co-purchases count.
pub const WINDOW_DAYS: i64 = 180;

/// Products similar to `product_id` with their cosine similarity, best first.
pub async fn similar(
    conn: &mut AnyConnection,
    product_id: i64,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<(i64, f64)>> {
    let since = now - WINDOW_DAYS * DAY;
    let together: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT b.product_id, CAST(COUNT(DISTINCT a.order_id) AS BIGINT) FROM order_items a \
         JOIN order_items b ON b.order_id = a.order_id AND b.product_id <> a.product_id \
         JOIN orders o ON o.id = a.order_id \
         WHERE a.product_id = $1 AND o.created_at >= $2 AND o.status <> 'cancelled' GROUP BY b.product_id",
    )
    .bind(product_id)
    .bind(since)
    .fetch_all(&mut *conn)
    .await?;
    if together.is_empty() {
        return Ok(Vec::new());
    }
    let counts = order_counts(conn, since).await?;
    let own = *counts.get(&product_id).unwrap_or(&1) as f64;
    let mut scored: Vec<(i64, f64)> = together
        .into_iter()
        .map(|(other, both)| {
            (
                other,
                both as f64 / (own * *counts.get(&other).unwrap_or(&1) as f64).sqrt(),
            )
        })
        .collect();
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.truncate(limit);
    Ok(scored)
}

async fn order_counts(conn: &mut AnyConnection, since: Timestamp) -> Result<HashMap<i64, i64>> {
    let rows: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT i.product_id, CAST(COUNT(DISTINCT i.order_id) AS BIGINT) FROM order_items i JOIN orders o ON o.id = i.order_id \
         WHERE o.created_at >= $1 AND o.status <> 'cancelled' GROUP BY i.product_id",
    )
    .bind(since)
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().collect())
}

/// In-stock alternatives to an out-of-stock product: co-purchased first, then the same
/// category's best sellers.
pub async fn alternatives(
    conn: &mut AnyConnection,
    product: &Product,
    now: Timestamp,
    limit: usize,
) -> Result<Vec<Product>> {
    let mut picks: Vec<Product> = Vec::new();
    for (id, _) in similar(conn, product.id, now, 50).await? {
        if picks.len() == limit {
            return Ok(picks);
        }
        if let Some(p) = catalog::by_id(conn, id)
            .await?
            .filter(|p| p.available() > 0)
        {
            picks.push(p);
        }
    }
    let best_sellers: Vec<(i64,)> = sqlx::query_as(
        "SELECT p.id FROM products p JOIN order_items i ON i.product_id = p.id JOIN orders o ON o.id = i.order_id \
         WHERE p.category = $1 AND p.id <> $2 AND p.stock - p.reserved > 0 AND o.created_at >= $3 \
         GROUP BY p.id ORDER BY SUM(i.quantity) DESC, p.id LIMIT $4",
    )
    .bind(&product.category)
    .bind(product.id)
    .bind(now - WINDOW_DAYS * DAY)
    .bind(limit as i64 * 2)
    .fetch_all(&mut *conn)
    .await?;
    for (id,) in best_sellers {
        if picks.len() == limit {
            break;
        }
        if picks.iter().all(|p| p.id != id)
            && let Some(p) = catalog::by_id(conn, id).await?
        {
            picks.push(p);
        }
    }
    Ok(picks)
}
