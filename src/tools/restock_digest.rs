//! The restock digest (staff): products at or below their forecast reorder point, most
//! urgent first, each line with the `/restock` that approves it.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Outcome, Run, Tool, ToolError};
use crate::ops::forecast;
use crate::policy::Rule;
use crate::store::catalog;

/// List the products that need a restock, with suggested quantities.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RestockDigest {
    /// How many lines, 1 to 50 (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 50))]
    pub limit: Option<i64>,
}

#[async_trait]
impl Tool for RestockDigest {
    const NAME: &'static str = "restock_digest";
    const DESCRIPTION: &'static str =
        "List products at or below their reorder point with suggested restock quantities (staff).";
    const RULE: Rule = Rule::Staff;
    const EFFECT: bool = false;

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
        let limit = self.limit.unwrap_or(10).clamp(1, 50) as usize;
        let cover = run.config.restock.cover_days;
        let horizon = 90 + cover as usize;
        let forecasts = forecast::forecasts(run.conn, run.now, horizon).await?;
        let mut lines = Vec::new();
        for p in catalog::all(run.conn).await? {
            let Some(f) = forecasts.get(&p.id) else {
                continue;
            };
            let on_order = catalog::units_on_order(run.conn, p.id).await?;
            if let Some(line) = forecast::restock_line(&p, on_order, f, cover) {
                lines.push((line, p.lead_time_days));
            }
        }
        lines.sort_by(|a, b| {
            a.0.days_of_cover
                .total_cmp(&b.0.days_of_cover)
                .then(a.0.sku.cmp(&b.0.sku))
        });
        if lines.is_empty() {
            return Ok(Outcome::done(
                "Nothing needs a restock today.",
                json!({"lines": []}),
            ));
        }
        let mut text = format!(
            "Restock digest: {} products at or below their reorder point.\n",
            lines.len()
        );
        for (line, lead) in lines.iter().take(limit) {
            text.push_str(&format!("  {}\n", line.render(*lead)));
        }
        let data = json!({"lines": lines.iter().map(|(l, _)| json!({"sku": l.sku, "suggested": l.suggested, "available": l.available})).collect::<Vec<_>>()});
        Ok(Outcome::done(text.trim_end(), data))
    }
}
