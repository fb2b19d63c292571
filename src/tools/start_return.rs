//! Start a return for a delivered order inside the return window (a setting).

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::order_lookup::status_words;
use super::{Outcome, Run, Tool, ToolError, reason, visible_order};
use crate::clock::{self, DAY};
use crate::policy::Rule;
use crate::store::orders;

/// Start a return for a delivered order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartReturn {
    #[schemars(range(min = 1))]
    pub order_id: i64,
    #[schemars(length(min = 1, max = 500))]
    pub reason: String,
}

#[async_trait]
impl Tool for StartReturn {
    const NAME: &'static str = "start_return";
    const DESCRIPTION: &'static str =
        "Start a return for a delivered order inside the return window.";
    const RULE: Rule = Rule::OwnerOrStaff;
    const EFFECT: bool = true;

    /// A customer's free-text reason may name people or places: the log keeps its length.
    fn audit_args(&self) -> serde_json::Value {
        json!({"order_id": self.order_id, "reason_chars": self.reason_chars()})
    }

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
        let why = reason(&self.reason)?;
        let order = visible_order(run, self.order_id).await?;
        if order.status != "delivered" {
            return Err(ToolError::Rejected(format!(
                "Order #{} is {}: a return can start once it has been delivered.",
                order.id,
                status_words(&order.status)
            )));
        }
        let delivered_at = orders::shipments(run.conn, order.id)
            .await?
            .iter()
            .filter_map(|s| s.delivered_at)
            .max();
        let delivered_at = delivered_at.unwrap_or(order.created_at);
        let window = run.config.orders.return_window_days;
        let closes = delivered_at + window * DAY;
        if run.now > closes {
            return Err(ToolError::Rejected(format!(
                "Order #{} was delivered on {}; the {window}-day return window closed on {}.",
                order.id,
                clock::date(delivered_at),
                clock::date(closes)
            )));
        }
        if let Some(id) = orders::open_return(run.conn, order.id).await? {
            return Err(ToolError::Rejected(format!(
                "A return (R-{id}) is already open for order #{}.",
                order.id
            )));
        }
        let id = orders::create_return(run.conn, order.id, &why, &run.requester(), run.now).await?;
        Ok(Outcome::done(
            format!(
                "Return R-{id} started for order #{}. Pack the items with the order number; we'll send a prepaid label. The window is open until {}.",
                order.id,
                clock::date(closes)
            ),
            json!({"return_id": id, "order_id": order.id}),
        ))
    }
}

impl StartReturn {
    fn reason_chars(&self) -> usize {
        self.reason.chars().count()
    }
}
