//! Fraud report (staff): one order's score with its reasons, or the highest-scoring recent
//! orders.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Outcome, Run, Tool, ToolError};
use crate::clock::DAY;
use crate::ops::fraud;
use crate::policy::Rule;

/// Explain an order's fraud score, or list the riskiest recent orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FraudReport {
    /// One order to explain; leave out for the riskiest orders of the last days.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1))]
    pub order_id: Option<i64>,
    /// How many days back to scan when no order is given (1 to 30, default 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 30))]
    pub days: Option<i64>,
}

#[async_trait]
impl Tool for FraudReport {
    const NAME: &'static str = "fraud_report";
    const DESCRIPTION: &'static str =
        "Explain an order's fraud score, or list the riskiest recent orders (staff).";
    const RULE: Rule = Rule::Staff;
    const EFFECT: bool = false;

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
        let config = &run.config.fraud;
        if let Some(order_id) = self.order_id {
            let facts = fraud::facts(run.conn, order_id)
                .await?
                .ok_or_else(|| ToolError::NotFound(format!("There is no order #{order_id}.")))?;
            let history = fraud::History::load(run.conn, run.now).await?;
            let score = history.score(&facts, config);
            let verdict = verdict(score.score, config);
            return Ok(Outcome::done(
                format!("{} {verdict}", score.explain()),
                json!(score),
            ));
        }
        let days = self.days.unwrap_or(3);
        if !(1..=30).contains(&days) {
            return Err(ToolError::Invalid("Scan 1 to 30 days back.".into()));
        }
        let scores = fraud::scan(run.conn, config, run.now, run.now - days * DAY).await?;
        let flagged: Vec<_> = scores
            .iter()
            .filter(|s| s.score >= config.alert_score)
            .collect();
        let mut text = format!(
            "{} of {} orders in the last {days} days score {} or more (hold at {}):\n",
            flagged.len(),
            scores.len(),
            config.alert_score,
            config.hold_score
        );
        for s in flagged.iter().take(15) {
            text.push_str(&format!("  {}\n", s.explain()));
        }
        if flagged.len() > 15 {
            text.push_str(&format!("  … and {} more.\n", flagged.len() - 15));
        }
        Ok(Outcome::done(
            text.trim_end(),
            json!({"flagged": flagged.len(), "scanned": scores.len()}),
        ))
    }
}

fn verdict(score: i64, config: &crate::config::Fraud) -> &'static str {
    if score >= config.hold_score {
        "Above the hold threshold: hold it with /hold if it is not held yet."
    } else if score >= config.alert_score {
        "Above the alert threshold: worth a look."
    } else {
        "Below the alert threshold."
    }
}
