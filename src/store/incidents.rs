//! Alerts, incidents and their timelines.

use sqlx::AnyConnection;

use super::{Result, is_unique_violation};
use crate::clock::Timestamp;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Incident {
    pub id: i64,
    pub title: String,
    pub notice: String,
    pub carrier: Option<String>,
    pub region: Option<String>,
    pub freeze_repricing: i64,
    pub started_by: String,
    pub started_at: Timestamp,
    pub ended_at: Option<Timestamp>,
    pub summary: Option<String>,
}

impl Incident {
    pub fn scope(&self) -> String {
        match (&self.carrier, &self.region) {
            (Some(c), Some(r)) => format!("{c} in {r}"),
            (Some(c), None) => c.clone(),
            (None, Some(r)) => r.clone(),
            (None, None) => "all customers".into(),
        }
    }
}

const COLUMNS: &str = "id, title, notice, carrier, region, freeze_repricing, started_by, started_at, ended_at, summary";

/// Records an alert unless one with the same key exists; returns whether it is new.
pub async fn raise_alert(
    conn: &mut AnyConnection,
    kind: &str,
    key: &str,
    subject: &str,
    evidence: &str,
    now: Timestamp,
) -> Result<bool> {
    let inserted = sqlx::query("INSERT INTO alerts (kind, dedupe_key, subject, evidence, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(kind)
        .bind(key)
        .bind(subject)
        .bind(evidence)
        .bind(now)
        .execute(conn)
        .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub async fn open(conn: &mut AnyConnection) -> Result<Vec<Incident>> {
    let sql = format!("SELECT {COLUMNS} FROM incidents WHERE ended_at IS NULL ORDER BY id");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .fetch_all(conn)
        .await?)
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<Incident>> {
    let sql = format!("SELECT {COLUMNS} FROM incidents WHERE id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(id)
        .fetch_optional(conn)
        .await?)
}

#[allow(clippy::too_many_arguments)]
pub async fn start(
    conn: &mut AnyConnection,
    title: &str,
    notice: &str,
    carrier: Option<&str>,
    region: Option<&str>,
    freeze_repricing: bool,
    started_by: &str,
    now: Timestamp,
) -> Result<Option<Incident>> {
    let sql = format!(
        "INSERT INTO incidents (title, notice, carrier, region, freeze_repricing, started_by, started_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING {COLUMNS}"
    );
    let inserted = sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(title)
        .bind(notice)
        .bind(carrier)
        .bind(region)
        .bind(i64::from(freeze_repricing))
        .bind(started_by)
        .bind(now)
        .fetch_one(conn)
        .await;
    match inserted {
        Ok(incident) => Ok(Some(incident)),
        Err(e) if is_unique_violation(&e) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

pub async fn end(
    conn: &mut AnyConnection,
    id: i64,
    ended_by: &str,
    summary: &str,
    now: Timestamp,
) -> Result<bool> {
    let done = sqlx::query("UPDATE incidents SET ended_by = $1, ended_at = $2, summary = $3 WHERE id = $4 AND ended_at IS NULL")
        .bind(ended_by)
        .bind(now)
        .bind(summary)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn log(
    conn: &mut AnyConnection,
    incident_id: i64,
    kind: &str,
    text: &str,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO incident_events (incident_id, at, kind, text) VALUES ($1, $2, $3, $4)",
    )
    .bind(incident_id)
    .bind(now)
    .bind(kind)
    .bind(text)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn timeline(
    conn: &mut AnyConnection,
    incident_id: i64,
) -> Result<Vec<(Timestamp, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT at, kind, text FROM incident_events WHERE incident_id = $1 ORDER BY at, id",
    )
    .bind(incident_id)
    .fetch_all(conn)
    .await?)
}

/// Customers with an open (undelivered) shipment in the incident's scope.
pub async fn affected_customers(conn: &mut AnyConnection, incident: &Incident) -> Result<Vec<i64>> {
    let rows: Vec<(i64,)> = sqlx::query_as(
        "SELECT DISTINCT o.customer_id FROM shipments s JOIN orders o ON o.id = s.order_id \
         WHERE s.delivered_at IS NULL AND o.status = 'shipped' \
         AND ($1 IS NULL OR s.carrier = $1) AND ($2 IS NULL OR s.region = $2) ORDER BY o.customer_id",
    )
    .bind(incident.carrier.as_deref())
    .bind(incident.region.as_deref())
    .fetch_all(conn)
    .await?;
    Ok(rows.into_iter().map(|(c,)| c).collect())
}

/// Whether a customer has an open shipment the incident is about.
pub async fn affects(
    conn: &mut AnyConnection,
    incident: &Incident,
    customer_id: i64,
) -> Result<bool> {
    if incident.carrier.is_none() && incident.region.is_none() {
        return Ok(true);
    }
    let (n,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM shipments s JOIN orders o ON o.id = s.order_id \
         WHERE o.customer_id = $1 AND s.delivered_at IS NULL AND ($2 IS NULL OR s.carrier = $2) AND ($3 IS NULL OR s.region = $3)",
    )
    .bind(customer_id)
    .bind(incident.carrier.as_deref())
    .bind(incident.region.as_deref())
    .fetch_one(conn)
    .await?;
    Ok(n > 0)
}

/// Records that a customer was told; false when they already were.
pub async fn mark_notified(
    conn: &mut AnyConnection,
    incident_id: i64,
    customer_id: i64,
    channel: &str,
    now: Timestamp,
) -> Result<bool> {
    let inserted = sqlx::query("INSERT INTO incident_notifications (incident_id, customer_id, channel, sent_at) VALUES ($1, $2, $3, $4)")
        .bind(incident_id)
        .bind(customer_id)
        .bind(channel)
        .bind(now)
        .execute(conn)
        .await;
    match inserted {
        Ok(_) => Ok(true),
        Err(e) if is_unique_violation(&e) => Ok(false),
        Err(e) => Err(e.into()),
    }
}

pub async fn notified_count(conn: &mut AnyConnection, incident_id: i64) -> Result<i64> {
    let (n,): (i64,) =
        sqlx::query_as("SELECT COUNT(*) FROM incident_notifications WHERE incident_id = $1")
            .bind(incident_id)
            .fetch_one(conn)
            .await?;
    Ok(n)
}
