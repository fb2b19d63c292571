//! Cancel an order before it ships: customers their own, staff anyone's.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::order_lookup::status_words;
use super::{Outcome, Run, Tool, ToolError, visible_order};
use crate::policy::Rule;
use crate::store::orders;

/// Cancel an order that has not shipped yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CancelOrder {
    #[schemars(range(min = 1))]
    pub order_id: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(length(max = 500))]
    pub reason: Option<String>,
}

#[async_trait]
impl Tool for CancelOrder {
    const NAME: &'static str = "cancel_order";
    const DESCRIPTION: &'static str = "Cancel an order that has not shipped yet.";
    const RULE: Rule = Rule::OwnerOrStaff;
    const EFFECT: bool = true;

    /// A customer's free-text reason may name people or places: the log keeps its length.
    fn audit_args(&self) -> serde_json::Value {
        json!({"order_id": self.order_id, "reason_chars": self.reason_chars()})
    }

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
        let order = visible_order(run, self.order_id).await?;
        if order.status == "cancelled" {
            return Err(ToolError::Rejected(format!(
                "Order #{} is already cancelled.",
                order.id
            )));
        }
        if !order.is_before_shipping() {
            return Err(ToolError::Rejected(format!(
                "Order #{} can no longer be cancelled: it is {}. {}",
                order.id,
                status_words(&order.status),
                if order.status == "delivered" {
                    "You can start a return with /return instead."
                } else {
                    "Reply here if you need help with it."
                }
            )));
        }
        orders::set_status(run.conn, order.id, "cancelled", run.now).await?;
        orders::unreserve_items(run.conn, order.id).await?;
        Ok(Outcome::done(
            format!(
                "Order #{} is cancelled. Any payment is refunded to the original method within 5–10 business days.",
                order.id
            ),
            json!({"order_id": order.id, "status": "cancelled"}),
        ))
    }
}

impl CancelOrder {
    fn reason_chars(&self) -> usize {
        self.reason.as_deref().map_or(0, |r| r.chars().count())
    }
}
