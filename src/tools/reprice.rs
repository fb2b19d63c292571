//! Reprice: staff set a new price with a reason, never below the floor or cost plus the
//! minimum margin, never above the ceiling. A change beyond the per-change limit waits for
//! a second person. Every change lands in the price history.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Outcome, Run, Tool, ToolError, product, reason};
use crate::money;
use crate::policy::{Approval, Rule};
use crate::store::catalog;

/// Change a product's price.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reprice {
    #[schemars(length(min = 1, max = 64))]
    pub sku: String,
    /// The new price as a decimal amount, e.g. "19.99".
    #[schemars(regex(pattern = r"^[0-9]{1,9}(\.[0-9]{1,2})?$"))]
    pub price: String,
    #[schemars(length(min = 1, max = 500))]
    pub reason: String,
}

#[async_trait]
impl Tool for Reprice {
    const NAME: &'static str = "reprice";
    const DESCRIPTION: &'static str = "Change a product's price within its guardrails (staff).";
    const RULE: Rule = Rule::Staff;
    const EFFECT: bool = true;

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
        let why = reason(&self.reason)?;
        let new_price = money::parse(&self.price).map_err(ToolError::Invalid)?;
        let p = product(run, &self.sku).await?;
        let currency = &run.config.currency;
        let margin = run.config.pricing.min_margin_percent;
        let cost_floor = (p.cost * (100 + margin) + 99) / 100;
        let lowest = p.floor_price.max(cost_floor);
        if new_price < lowest {
            return Err(ToolError::Rejected(format!(
                "{} would be below the lowest allowed price for {}: {} (floor {}, cost {} + {margin}% margin = {}).",
                money::format(new_price, currency),
                p.sku,
                money::format(lowest, currency),
                money::plain(p.floor_price),
                money::plain(p.cost),
                money::plain(cost_floor)
            )));
        }
        if new_price > p.ceiling_price {
            return Err(ToolError::Rejected(format!(
                "{} would be above the ceiling for {}: {}.",
                money::format(new_price, currency),
                p.sku,
                money::format(p.ceiling_price, currency)
            )));
        }
        if new_price == p.price {
            return Err(ToolError::Rejected(format!(
                "{} already costs {}.",
                p.sku,
                money::format(p.price, currency)
            )));
        }
        let change_pct = (new_price - p.price).abs() as f64 * 100.0 / p.price as f64;
        let limit = run.config.pricing.max_change_percent;
        if run.approved.is_none() && change_pct > limit as f64 {
            return Ok(Outcome::NeedsApproval {
                resolved: None,
                approval: Approval::SecondPerson,
                excluded: None,
                summary: format!(
                    "Reprice {} from {} to {} ({:+.1}%) is beyond the {limit}% per-change limit.",
                    p.sku,
                    money::plain(p.price),
                    money::format(new_price, currency),
                    (new_price - p.price) as f64 * 100.0 / p.price as f64
                ),
            });
        }
        catalog::set_price(run.conn, &p, new_price, &why, &run.requester(), run.now).await?;
        Ok(Outcome::done(
            format!(
                "{} ({}) now costs {} (was {}).{}",
                p.title,
                p.sku,
                money::format(new_price, currency),
                money::plain(p.price),
                run.approval_note()
            ),
            json!({"sku": p.sku, "old_price": p.price, "new_price": new_price}),
        ))
    }
}
