//! Stock check: anyone may ask whether a product is available; staff also see the numbers.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Outcome, Run, Tool, ToolError, product};
use crate::money;
use crate::ops::recommend;
use crate::policy::Rule;

/// Check whether a product is in stock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StockCheck {
    /// The product's SKU, e.g. SKU-0042.
    #[schemars(length(min = 1, max = 64))]
    pub sku: String,
}

#[async_trait]
impl Tool for StockCheck {
    const NAME: &'static str = "stock_check";
    const DESCRIPTION: &'static str =
        "Check whether a product (by SKU) is in stock, and its price.";
    const RULE: Rule = Rule::Anyone;
    const EFFECT: bool = false;

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
        let p = product(run, &self.sku).await?;
        let available = p.available();
        let price = money::format(p.price, &run.config.currency);
        let mut text = match available {
            0 => format!(
                "{} ({}) is out of stock right now. Price {price}.",
                p.title, p.sku
            ),
            n if n <= p.reorder_point.max(5) => format!(
                "{} ({}) is in stock, only a few left. Price {price}.",
                p.title, p.sku
            ),
            _ => format!("{} ({}) is in stock. Price {price}.", p.title, p.sku),
        };
        let mut data = json!({"sku": p.sku, "in_stock": available > 0, "price": p.price});
        if available == 0 {
            let alternatives = recommend::alternatives(run.conn, &p, run.now, 3).await?;
            if !alternatives.is_empty() {
                let names: Vec<String> = alternatives
                    .iter()
                    .map(|a| {
                        format!(
                            "{} ({}, {})",
                            a.title,
                            a.sku,
                            money::format(a.price, &run.config.currency)
                        )
                    })
                    .collect();
                text.push_str(&format!(
                    "
In stock and often bought by the same customers: {}.",
                    names.join("; ")
                ));
                data["alternatives"] =
                    json!(alternatives.iter().map(|a| &a.sku).collect::<Vec<_>>());
            }
        }
        if run.actor.role.is_staff() {
            text.push_str(&format!(
                "\nOn hand {}, reserved {}, available {}, reorder point {}, lead time {} days.",
                p.stock, p.reserved, available, p.reorder_point, p.lead_time_days
            ));
            data["stock"] = json!(p.stock);
            data["reserved"] = json!(p.reserved);
        }
        Ok(Outcome::done(text, data))
    }
}
