//! Fraud scoring with explainable features. Each feature adds points and a sentence; the
//! score (0-100) is their capped sum, so staff see exactly why an order was flagged.
//!
//! The features look at how an order relates to others, because single traits are common
//! among honest customers (a family shares a card, an expat browses from home, a loyal
//! customer ships to a forwarder): a card or an address spread across many accounts, brand
//! new accounts, bursts of orders, the IP country against the shipping country, a large
//! first order, and rush shipping to a parcel forwarder.

use std::collections::{HashMap, HashSet};

use sqlx::AnyConnection;

use crate::clock::{DAY, Timestamp};
use crate::config::Fraud as FraudConfig;
use crate::money;
use crate::store::Result;

/// One feature's contribution to a score.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Reason {
    pub feature: &'static str,
    pub points: i64,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct FraudScore {
    pub order_id: i64,
    pub score: i64,
    pub reasons: Vec<Reason>,
}

impl FraudScore {
    pub fn explain(&self) -> String {
        if self.reasons.is_empty() {
            return format!(
                "Order #{}: score {} — nothing unusual.",
                self.order_id, self.score
            );
        }
        let reasons: Vec<String> = self
            .reasons
            .iter()
            .map(|r| format!("{} (+{})", r.text, r.points))
            .collect();
        format!(
            "Order #{}: score {} — {}.",
            self.order_id,
            self.score,
            reasons.join("; ")
        )
    }
}

/// The order fields scoring reads.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct OrderFacts {
    pub id: i64,
    pub customer_id: i64,
    pub status: String,
    pub card_fingerprint: Option<String>,
    pub shipping_address: String,
    pub shipping_country: String,
    pub ip_country: Option<String>,
    pub forwarder: i64,
    pub rush: i64,
    pub total: i64,
    pub created_at: Timestamp,
    pub customer_created_at: Timestamp,
}

/// What the recent order history says about cards, addresses and accounts.
#[derive(Debug, Default)]
pub struct History {
    card_accounts: HashMap<String, HashSet<i64>>,
    address_accounts: HashMap<String, HashSet<i64>>,
    /// Each customer's order times, oldest first, across the whole history.
    customer_orders: HashMap<i64, Vec<(Timestamp, i64)>>,
}

/// How far back cards and addresses are compared across accounts.
pub const LOOKBACK_DAYS: i64 = 90;

const FACTS: &str = "SELECT o.id, o.customer_id, o.status, o.card_fingerprint, o.shipping_address, o.shipping_country, \
                     o.ip_country, o.forwarder, o.rush, o.total, o.created_at, c.created_at AS customer_created_at \
                     FROM orders o JOIN customers c ON c.id = o.customer_id";

impl History {
    pub async fn load(conn: &mut AnyConnection, now: Timestamp) -> Result<History> {
        let since = now - LOOKBACK_DAYS * DAY;
        let rows: Vec<(i64, i64, Option<String>, String, Timestamp)> = sqlx::query_as(
            "SELECT id, customer_id, card_fingerprint, shipping_address, created_at FROM orders ORDER BY created_at, id",
        )
        .fetch_all(conn)
        .await?;
        let mut history = History::default();
        for (id, customer, card, address, at) in rows {
            history
                .customer_orders
                .entry(customer)
                .or_default()
                .push((at, id));
            if at < since {
                continue;
            }
            if let Some(card) = card {
                history
                    .card_accounts
                    .entry(card)
                    .or_default()
                    .insert(customer);
            }
            history
                .address_accounts
                .entry(normalise(&address))
                .or_default()
                .insert(customer);
        }
        Ok(history)
    }

    pub fn score(&self, o: &OrderFacts, config: &FraudConfig) -> FraudScore {
        let mut reasons = Vec::new();
        let mut add = |feature: &'static str, points: i64, text: String| {
            reasons.push(Reason {
                feature,
                points,
                text,
            })
        };

        let card_accounts = o
            .card_fingerprint
            .as_ref()
            .and_then(|c| self.card_accounts.get(c))
            .map_or(0, HashSet::len);
        if card_accounts >= 6 {
            add(
                "card_many_accounts",
                35,
                format!("the card was used by {card_accounts} accounts in {LOOKBACK_DAYS} days"),
            );
        } else if card_accounts >= 3 {
            add(
                "card_shared",
                10,
                format!("the card is shared by {card_accounts} accounts"),
            );
        }
        let address_accounts = self
            .address_accounts
            .get(&normalise(&o.shipping_address))
            .map_or(0, HashSet::len);
        if address_accounts >= 5 {
            add(
                "address_many_accounts",
                20,
                format!("{address_accounts} accounts ship to this address"),
            );
        } else if address_accounts >= 3 {
            add(
                "address_shared",
                5,
                format!("{address_accounts} accounts ship to this address"),
            );
        }
        let account_age = o.created_at - o.customer_created_at;
        if account_age < 14 * DAY {
            add(
                "new_account",
                15,
                format!(
                    "the account was opened {} days before the order",
                    account_age / DAY
                ),
            );
        }
        let previous = self.orders_before(o.customer_id, o.created_at, o.id);
        let last_day = previous
            .iter()
            .filter(|at| o.created_at - **at < DAY)
            .count();
        if last_day >= 2 {
            add(
                "velocity",
                15,
                format!("{} orders from this account within 24 hours", last_day + 1),
            );
        }
        if let Some(ip) = o
            .ip_country
            .as_deref()
            .filter(|ip| *ip != o.shipping_country)
        {
            add(
                "ip_country_mismatch",
                20,
                format!("placed from {ip} but shipping to {}", o.shipping_country),
            );
        }
        if previous.is_empty() && o.total >= config.high_first_order_minor {
            add(
                "high_first_order",
                20,
                format!("a first order of {}", money::plain(o.total)),
            );
        }
        match (o.forwarder != 0, o.rush != 0) {
            (true, true) => add(
                "rush_to_forwarder",
                30,
                "rush shipping to a parcel forwarder".into(),
            ),
            (true, false) => add("forwarder", 5, "ships to a parcel forwarder".into()),
            _ => {}
        }
        let score = reasons.iter().map(|r| r.points).sum::<i64>().min(100);
        FraudScore {
            order_id: o.id,
            score,
            reasons,
        }
    }

    fn orders_before(&self, customer: i64, at: Timestamp, id: i64) -> Vec<Timestamp> {
        self.customer_orders
            .get(&customer)
            .map(|v| {
                v.iter()
                    .filter(|(t, oid)| (*t, *oid) < (at, id))
                    .map(|(t, _)| *t)
                    .collect()
            })
            .unwrap_or_default()
    }
}

fn normalise(address: &str) -> String {
    address
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// The facts of one order, for scoring it.
pub async fn facts(conn: &mut AnyConnection, order_id: i64) -> Result<Option<OrderFacts>> {
    let sql = format!("{FACTS} WHERE o.id = $1");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(order_id)
        .fetch_optional(conn)
        .await?)
}

/// The facts of every order placed since `since`, oldest first.
pub async fn recent_facts(conn: &mut AnyConnection, since: Timestamp) -> Result<Vec<OrderFacts>> {
    let sql = format!("{FACTS} WHERE o.created_at >= $1 ORDER BY o.created_at, o.id");
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(sql))
        .bind(since)
        .fetch_all(conn)
        .await?)
}

/// Scores every order placed since `since`, highest first.
pub async fn scan(
    conn: &mut AnyConnection,
    config: &FraudConfig,
    now: Timestamp,
    since: Timestamp,
) -> Result<Vec<FraudScore>> {
    let history = History::load(conn, now).await?;
    let mut scores: Vec<FraudScore> = recent_facts(conn, since)
        .await?
        .iter()
        .map(|o| history.score(o, config))
        .collect();
    scores.sort_by(|a, b| b.score.cmp(&a.score).then(a.order_id.cmp(&b.order_id)));
    Ok(scores)
}

/// The detector's identity in the audit log: holds it places are released by any staff
/// member, since the placer is not a person.
pub fn detector() -> crate::policy::Actor {
    crate::policy::Actor {
        role: crate::policy::Role::Staff,
        customer_id: None,
        staff_name: Some("fraud-detector".into()),
        channel: shopdesk_port::Channel::Cli,
        external_id: "fraud-detector".into(),
        language: "en".into(),
    }
}

/// Holds every unshipped order placed since `since` that scores at or above the hold
/// threshold, through the fraud_hold tool (so the hold is permission-checked, audited and
/// idempotent per order). Returns the scores of the orders it held.
pub async fn hold_high_scores(
    toolbox: &crate::tools::Toolbox,
    since: Timestamp,
) -> Result<Vec<FraudScore>, crate::tools::ToolError> {
    use crate::tools::{FraudHold, ToolCall};
    let config = &toolbox.config.fraud;
    let now = toolbox.clock.now();
    let mut conn = toolbox.store.pool().acquire().await?;
    let history = History::load(&mut conn, now).await?;
    let candidates: Vec<OrderFacts> = recent_facts(&mut conn, since).await?;
    drop(conn);
    let actor = detector();
    let mut held = Vec::new();
    for facts in candidates
        .iter()
        .filter(|o| matches!(o.status.as_str(), "pending" | "paid"))
    {
        let score = history.score(facts, config);
        if score.score < config.hold_score {
            continue;
        }
        let reasons: Vec<&str> = score.reasons.iter().map(|r| r.text.as_str()).collect();
        let call = ToolCall::FraudHold(FraudHold {
            order_id: facts.id,
            reason: format!("automatic: {}", reasons.join("; ")),
            score: Some(score.score),
        });
        match toolbox
            .invoke(&actor, &call, &format!("ops:fraud-hold:{}:0", facts.id))
            .await
        {
            Ok(_) => held.push(score),
            Err(crate::tools::ToolError::Store(e)) => {
                return Err(crate::tools::ToolError::Store(e));
            }
            Err(e) => tracing::info!(order = facts.id, reason = %e, "automatic hold skipped"),
        }
    }
    Ok(held)
}
