//! Order lookup: status, items, shipment events, promised vs estimated delivery and the delay.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Outcome, Run, Tool, ToolError, visible_order};
use crate::clock::{self, DAY};
use crate::money;
use crate::policy::Rule;
use crate::store::orders;

/// Look up one order: status, items, shipment tracking and delivery dates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OrderLookup {
    /// The order number, e.g. 1042.
    #[schemars(range(min = 1))]
    pub order_id: i64,
}

#[async_trait]
impl Tool for OrderLookup {
    const NAME: &'static str = "order_lookup";
    const DESCRIPTION: &'static str =
        "Look up an order's status, items, shipment tracking and delivery dates.";
    const RULE: Rule = Rule::OwnerOrStaff;
    const EFFECT: bool = false;

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
        let order = visible_order(run, self.order_id).await?;
        let items = orders::items(run.conn, order.id).await?;
        let shipments = orders::shipments(run.conn, order.id).await?;
        let currency = &run.config.currency;

        let mut text = format!(
            "Order #{} — {} (placed {})\n",
            order.id,
            status_words(&order.status),
            clock::date(order.created_at)
        );
        for item in &items {
            text.push_str(&format!(
                "  {} × {} ({}) at {}\n",
                item.quantity,
                item.title,
                item.sku,
                money::format(item.unit_price, currency)
            ));
        }
        text.push_str(&format!(
            "Total: {}\n",
            money::format(order.total, currency)
        ));
        let mut shipment_data = Vec::new();
        for s in &shipments {
            let delay_days = delay_days(s.promised_at, s.delivered_at.unwrap_or(s.estimated_at));
            text.push_str(&format!(
                "Shipment: {} {} ({})\n",
                s.carrier, s.tracking_number, s.region
            ));
            match s.delivered_at {
                Some(at) => text.push_str(&format!(
                    "  delivered {} (promised {})",
                    clock::date(at),
                    clock::date(s.promised_at)
                )),
                None => text.push_str(&format!(
                    "  promised {}, now estimated {}",
                    clock::date(s.promised_at),
                    clock::date(s.estimated_at)
                )),
            }
            if delay_days > 0 {
                text.push_str(&format!(
                    " — {delay_days} day{} late",
                    if delay_days == 1 { "" } else { "s" }
                ));
            }
            text.push('\n');
            let events = orders::shipment_events(run.conn, s.id).await?;
            for e in &events {
                text.push_str(&format!(
                    "  {} {}: {}\n",
                    clock::date(e.at),
                    e.location,
                    e.description
                ));
            }
            shipment_data.push(json!({
                "carrier": s.carrier, "tracking_number": s.tracking_number, "region": s.region,
                "promised_at": s.promised_at, "estimated_at": s.estimated_at, "delivered_at": s.delivered_at,
                "delay_days": delay_days,
                "events": events.iter().map(|e| json!({"at": e.at, "location": e.location, "description": e.description})).collect::<Vec<_>>(),
            }));
        }
        if run.actor.role.is_staff() {
            text.push_str(&format!(
                "Customer #{} · paid by {} · ships to {} ({})\n",
                order.customer_id,
                order.payment_method,
                order.shipping_country,
                order.shipping_name
            ));
        }
        let data = json!({
            "order_id": order.id, "status": order.status, "created_at": order.created_at, "total": order.total,
            "items": items.iter().map(|i| json!({"sku": i.sku, "title": i.title, "quantity": i.quantity, "unit_price": i.unit_price})).collect::<Vec<_>>(),
            "shipments": shipment_data,
        });
        Ok(Outcome::done(text.trim_end(), data))
    }
}

/// Whole days between the promise and the (actual or estimated) delivery; 0 when on time.
fn delay_days(promised: i64, actual: i64) -> i64 {
    ((actual - promised) as f64 / DAY as f64).ceil().max(0.0) as i64
}

pub fn status_words(status: &str) -> &str {
    match status {
        "pending" => "awaiting payment",
        "paid" => "paid, being prepared",
        "shipped" => "shipped",
        "delivered" => "delivered",
        "cancelled" => "cancelled",
        "returned" => "returned",
        "on_hold" => "on hold for review",
        other => other,
    }
}
