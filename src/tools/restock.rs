//! Restock: staff create a purchase order with a reason. Without a quantity, one is
//! suggested from recent sales velocity and the supplier's lead time, with the arithmetic
//! shown. Large orders wait for the requester's confirmation.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Outcome, Run, Tool, ToolError, product, reason};
use crate::clock::{self, DAY};
use crate::policy::{Approval, Rule};
use crate::store::catalog;

/// Create a purchase order to restock a product.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Restock {
    #[schemars(length(min = 1, max = 64))]
    pub sku: String,
    /// Units to order; leave out to have one suggested from sales velocity and lead time.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 1000000))]
    pub quantity: Option<i64>,
    #[schemars(length(min = 1, max = 500))]
    pub reason: String,
}

#[async_trait]
impl Tool for Restock {
    const NAME: &'static str = "restock";
    const DESCRIPTION: &'static str = "Create a purchase order to restock a product (staff).";
    const RULE: Rule = Rule::Staff;
    const EFFECT: bool = true;

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
        let why = reason(&self.reason)?;
        let p = product(run, &self.sku).await?;
        let (quantity, how) = match self.quantity {
            Some(q) if !(1..=1_000_000).contains(&q) => {
                return Err(ToolError::Invalid(
                    "The quantity must be a whole number from 1 to 1000000.".into(),
                ));
            }
            Some(q) => (q, String::new()),
            None => suggest(run, &p).await?,
        };
        if run.approved.is_none() && quantity > run.config.restock.confirm_above {
            return Ok(Outcome::NeedsApproval {
                resolved: None,
                approval: Approval::Requester,
                excluded: None,
                summary: format!(
                    "Restock {quantity} × {} ({}) is above the {}-unit limit.{how}",
                    p.title, p.sku, run.config.restock.confirm_above
                ),
            });
        }
        let po =
            catalog::create_purchase_order(run.conn, &p, quantity, &why, &run.requester(), run.now)
                .await?;
        Ok(Outcome::done(
            format!(
                "Purchase order PO-{} created: {quantity} × {} ({}), expected {} ({} days lead time).{how}{}",
                po.id,
                p.title,
                p.sku,
                clock::date(po.expected_at),
                p.lead_time_days,
                run.approval_note()
            ),
            json!({"purchase_order_id": po.id, "sku": p.sku, "quantity": quantity, "expected_at": po.expected_at}),
        ))
    }
}

/// Enough units to cover the lead time plus the configured cover period at the recent sales
/// rate, less what is available and already on order.
async fn suggest(run: &mut Run<'_>, p: &catalog::Product) -> Result<(i64, String), ToolError> {
    let window = run.config.restock.velocity_window_days;
    let cover = run.config.restock.cover_days;
    let sold = catalog::units_sold_since(run.conn, p.id, run.now - window * DAY).await?;
    let on_order = catalog::units_on_order(run.conn, p.id).await?;
    let horizon = p.lead_time_days + cover;
    // Integer arithmetic rounded up: sold/window units a day over the horizon.
    let demand = (sold * horizon + window - 1) / window;
    let need = demand - p.available() - on_order;
    let how = format!(
        "\nHow: sold {sold} in the last {window} days ({:.1}/day) × ({} days lead time + {cover} days cover) = {demand}, minus {} available and {on_order} on order.",
        sold as f64 / window as f64,
        p.lead_time_days,
        p.available()
    );
    if need <= 0 {
        return Err(ToolError::Rejected(format!(
            "{} ({}) does not need a restock now.{how}\nGive a quantity to order anyway: /restock {} <qty> <reason>.",
            p.title, p.sku, p.sku
        )));
    }
    Ok((need, how))
}
