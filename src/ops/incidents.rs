//! Incident detectors: they watch live signals against their own baseline and raise an
//! alert for staff with the evidence, once a day per subject.
//! - late shipments by carrier and region, against the same lane's late rate before;
//! - a spike of one intent ("where is my parcel") against its usual hourly rate;
//! - stock-outs of fast sellers;
//! - a burst of high fraud scores against the usual daily count.

use std::collections::HashMap;

use sqlx::AnyConnection;

use crate::clock::{DAY, Timestamp};
use crate::config::Fraud;
use crate::ops::fraud;
use crate::store::{Result, incidents};

const HOUR: i64 = 3600;

#[derive(Debug, Clone, PartialEq)]
pub struct Alert {
    pub kind: &'static str,
    pub subject: String,
    pub evidence: String,
}

impl Alert {
    fn key(&self, now: Timestamp) -> String {
        format!("{}:{}:{}", self.kind, self.subject, now / DAY)
    }

    pub fn render(&self) -> String {
        format!(
            "⚠ {} — {}: {}",
            self.kind.replace('_', " "),
            self.subject,
            self.evidence
        )
    }
}

/// Runs every detector and records the alerts not raised yet today; returns those.
pub async fn detect_and_raise(
    conn: &mut AnyConnection,
    fraud_config: &Fraud,
    now: Timestamp,
) -> Result<Vec<Alert>> {
    let mut all = late_shipments(conn, now).await?;
    all.extend(intent_spike(conn, "where_is_my_parcel", now).await?);
    all.extend(stockouts(conn, now).await?);
    all.extend(fraud_burst(conn, fraud_config, now).await?);
    let mut new = Vec::new();
    for alert in all {
        if incidents::raise_alert(
            conn,
            alert.kind,
            &alert.key(now),
            &alert.subject,
            &alert.evidence,
            now,
        )
        .await?
        {
            new.push(alert);
        }
    }
    Ok(new)
}

/// Open shipments of the last 10 days now estimated past their promise, by carrier and
/// region, against that lane's late rate over the two months before.
pub async fn late_shipments(conn: &mut AnyConnection, now: Timestamp) -> Result<Vec<Alert>> {
    let recent: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT carrier, region, CAST(COUNT(*) AS BIGINT), CAST(SUM(CASE WHEN estimated_at > promised_at + 86400 THEN 1 ELSE 0 END) AS BIGINT) \
         FROM shipments WHERE delivered_at IS NULL AND shipped_at >= $1 GROUP BY carrier, region",
    )
    .bind(now - 10 * DAY)
    .fetch_all(&mut *conn)
    .await?;
    let before: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT carrier, region, CAST(COUNT(*) AS BIGINT), CAST(SUM(CASE WHEN delivered_at > promised_at + 86400 THEN 1 ELSE 0 END) AS BIGINT) \
         FROM shipments WHERE delivered_at IS NOT NULL AND shipped_at >= $1 AND shipped_at < $2 GROUP BY carrier, region",
    )
    .bind(now - 70 * DAY)
    .bind(now - 10 * DAY)
    .fetch_all(&mut *conn)
    .await?;
    let baseline: HashMap<(String, String), f64> = before
        .into_iter()
        .map(|(c, r, n, late)| ((c, r), late as f64 / n.max(1) as f64))
        .collect();
    let mut alerts = Vec::new();
    for (carrier, region, open, late) in recent {
        let rate = late as f64 / open.max(1) as f64;
        let usual = baseline
            .get(&(carrier.clone(), region.clone()))
            .copied()
            .unwrap_or(0.0);
        if late >= 10 && rate >= 0.3 && rate >= 3.0 * usual {
            alerts.push(Alert {
                kind: "late_shipments",
                subject: format!("{carrier} in {region}"),
                evidence: format!(
                    "{late} of {open} open shipments from the last 10 days are estimated more than a day past their promise ({:.0}%, usually {:.0}%). Start an incident: /incident start \"{carrier} delays in {region}\" \"<notice for customers>\" carrier={carrier} region={region}",
                    rate * 100.0,
                    usual * 100.0
                ),
            });
        }
    }
    Ok(alerts)
}

/// Messages routed to `intent` in the last hour against its average hour over the week before.
pub async fn intent_spike(
    conn: &mut AnyConnection,
    intent: &str,
    now: Timestamp,
) -> Result<Vec<Alert>> {
    let count = |since: Timestamp, until: Timestamp| {
        sqlx::query_as::<_, (i64,)>("SELECT COUNT(*) FROM messages WHERE intent = $1 AND created_at >= $2 AND created_at < $3")
            .bind(intent.to_string())
            .bind(since)
            .bind(until)
    };
    let (last_hour,) = count(now - HOUR, now + 1).fetch_one(&mut *conn).await?;
    let (week,) = count(now - 7 * DAY - HOUR, now - HOUR)
        .fetch_one(&mut *conn)
        .await?;
    let usual = week as f64 / (7.0 * 24.0);
    if last_hour >= 10 && last_hour as f64 >= 3.0 * usual.max(1.0) {
        return Ok(vec![Alert {
            kind: "intent_spike",
            subject: intent.to_string(),
            evidence: format!(
                "{last_hour} messages in the last hour, usually {usual:.1} an hour over the past week"
            ),
        }]);
    }
    Ok(Vec::new())
}

/// Fast sellers (the top tenth by units sold in 28 days) with nothing left to sell.
pub async fn stockouts(conn: &mut AnyConnection, now: Timestamp) -> Result<Vec<Alert>> {
    let sold: Vec<(String, String, i64, i64)> = sqlx::query_as(
        "SELECT p.sku, p.title, p.stock - p.reserved, CAST(SUM(i.quantity) AS BIGINT) FROM products p \
         JOIN order_items i ON i.product_id = p.id JOIN orders o ON o.id = i.order_id \
         WHERE o.created_at >= $1 AND o.status <> 'cancelled' GROUP BY p.sku, p.title, p.stock, p.reserved ORDER BY 4 DESC",
    )
    .bind(now - 28 * DAY)
    .fetch_all(conn)
    .await?;
    let top = sold.len().div_ceil(10);
    Ok(sold
        .into_iter()
        .take(top)
        .filter(|(_, _, available, _)| *available <= 0)
        .map(|(sku, title, _, units)| Alert {
            kind: "stockout",
            subject: sku.clone(),
            evidence: format!("{title} is out of stock and sold {units} units in 28 days (a top-10% seller). Restock: /restock {sku} <qty> \"stock-out\""),
        })
        .collect())
}

/// Orders scoring at or above the alert threshold in the last day, against the daily
/// average over the week before.
pub async fn fraud_burst(
    conn: &mut AnyConnection,
    config: &Fraud,
    now: Timestamp,
) -> Result<Vec<Alert>> {
    let scores = fraud::scan(conn, config, now, now - 8 * DAY).await?;
    let facts_at: HashMap<i64, Timestamp> = fraud::recent_facts(conn, now - 8 * DAY)
        .await?
        .into_iter()
        .map(|f| (f.id, f.created_at))
        .collect();
    let (mut today, mut week) = (0, 0);
    for s in scores.iter().filter(|s| s.score >= config.alert_score) {
        match facts_at.get(&s.order_id) {
            Some(at) if *at >= now - DAY => today += 1,
            Some(_) => week += 1,
            None => {}
        }
    }
    let usual = week as f64 / 7.0;
    if today >= 5 && today as f64 >= 3.0 * usual.max(1.0) {
        return Ok(vec![Alert {
            kind: "fraud_burst",
            subject: "orders".into(),
            evidence: format!(
                "{today} orders scored {} or more in the last 24 hours, usually {usual:.1} a day. See /fraud",
                config.alert_score
            ),
        }]);
    }
    Ok(Vec::new())
}
