//! Fraud hold: staff stop an order's fulfilment, recording the score and the reasons.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::order_lookup::status_words;
use super::{Outcome, Run, Tool, ToolError, reason, visible_order};
use crate::clock;
use crate::policy::Rule;
use crate::store::orders;

/// Put an order on fraud hold so it is not fulfilled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FraudHold {
    #[schemars(range(min = 1))]
    pub order_id: i64,
    #[schemars(length(min = 1, max = 500))]
    pub reason: String,
    /// Fraud score 0-100 when a detector placed the hold; staff holds leave it out.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 0, max = 100))]
    pub score: Option<i64>,
}

#[async_trait]
impl Tool for FraudHold {
    const NAME: &'static str = "fraud_hold";
    const DESCRIPTION: &'static str = "Put an order on fraud hold so it is not fulfilled (staff).";
    const RULE: Rule = Rule::Staff;
    const EFFECT: bool = true;

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
        let why = reason(&self.reason)?;
        let score = self.score.unwrap_or(0);
        if !(0..=100).contains(&score) {
            return Err(ToolError::Invalid(
                "The score must be from 0 to 100.".into(),
            ));
        }
        let order = visible_order(run, self.order_id).await?;
        if let Some(hold) = orders::active_hold(run.conn, order.id).await? {
            return Err(ToolError::Rejected(format!(
                "Order #{} is already on hold since {} by {}: {}",
                order.id,
                clock::datetime(hold.placed_at),
                hold.placed_by,
                hold.reasons
            )));
        }
        if !matches!(order.status.as_str(), "pending" | "paid") {
            return Err(ToolError::Rejected(format!(
                "Order #{} is {}: only orders not yet shipped can be held.",
                order.id,
                status_words(&order.status)
            )));
        }
        let hold_id =
            orders::place_hold(run.conn, &order, score, &why, &run.requester(), run.now).await?;
        Ok(Outcome::done(
            format!(
                "Order #{} is on hold and will not ship until released. Reason: {why}",
                order.id
            ),
            json!({"order_id": order.id, "hold_id": hold_id, "score": score}),
        ))
    }
}
