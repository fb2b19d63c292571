//! Repricing suggestions (staff): overstocked slow sellers and scarce rising ones, inside
//! the guardrails, each with the `/reprice` that approves it.

use std::collections::HashMap;

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Outcome, Run, Tool, ToolError};
use crate::clock::DAY;
use crate::ops::{forecast, pricing};
use crate::policy::Rule;
use crate::store::{catalog, incidents};

/// Suggest price changes from stock cover, sales velocity and price history.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PriceSuggestions {
    /// How many suggestions, 1 to 50 (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 50))]
    pub limit: Option<i64>,
}

#[async_trait]
impl Tool for PriceSuggestions {
    const NAME: &'static str = "price_suggestions";
    const DESCRIPTION: &'static str =
        "Suggest price changes from stock cover and sales velocity, within the guardrails (staff).";
    const RULE: Rule = Rule::Staff;
    const EFFECT: bool = false;

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
        let limit = self.limit.unwrap_or(10).clamp(1, 50) as usize;
        if let Some(frozen) = incidents::open(run.conn)
            .await?
            .into_iter()
            .find(|i| i.freeze_repricing != 0)
        {
            return Ok(Outcome::done(
                format!(
                    "Repricing suggestions are frozen while incident #{} ({}) is open.",
                    frozen.id, frozen.title
                ),
                json!({"suggestions": [], "frozen_by": frozen.id}),
            ));
        }
        let forecasts = forecast::forecasts(run.conn, run.now, 28).await?;
        let recent = forecast::daily_units(run.conn, run.now, 35).await?;
        let changed: HashMap<i64, i64> = catalog::last_price_changes(run.conn)
            .await?
            .into_iter()
            .collect();
        let mut suggestions = Vec::new();
        for p in catalog::all(run.conn).await? {
            let Some(f) = forecasts.get(&p.id) else {
                continue;
            };
            let days = recent.get(&p.id).cloned().unwrap_or_else(|| vec![0.0; 35]);
            let demand = pricing::Demand {
                per_day: f.per_day(),
                recent_per_day: days[28..].iter().sum::<f64>() / 7.0,
                earlier_per_day: days[..28].iter().sum::<f64>() / 28.0,
                days_since_change: changed.get(&p.id).map(|at| (run.now - at) / DAY),
            };
            suggestions.extend(pricing::suggest(&p, demand, &run.config.pricing));
        }
        if suggestions.is_empty() {
            return Ok(Outcome::done(
                "No price changes to suggest today.",
                json!({"suggestions": []}),
            ));
        }
        suggestions.sort_by_key(|s| std::cmp::Reverse(s.stake));
        let mut text = format!(
            "{} price suggestions (approve one by running its command):\n",
            suggestions.len()
        );
        for s in suggestions.iter().take(limit) {
            text.push_str(&format!("  {}\n", s.render(&run.config.currency)));
        }
        let data = json!({"suggestions": suggestions.iter().map(|s| json!({"sku": s.sku, "old_price": s.old_price, "new_price": s.new_price})).collect::<Vec<_>>()});
        Ok(Outcome::done(text.trim_end(), data))
    }
}
