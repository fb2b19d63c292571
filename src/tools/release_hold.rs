//! Release a fraud hold. The person who placed a hold cannot release it alone: another
//! staff member or an admin must, either directly or by confirming the request.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Outcome, Run, Tool, ToolError, visible_order};
use crate::policy::{Approval, Role, Rule};
use crate::store::orders;

/// Release an order from fraud hold so it can be fulfilled.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReleaseHold {
    #[schemars(range(min = 1))]
    pub order_id: i64,
}

#[async_trait]
impl Tool for ReleaseHold {
    const NAME: &'static str = "release_hold";
    const DESCRIPTION: &'static str =
        "Release an order from fraud hold (staff; not by the person who placed it).";
    const RULE: Rule = Rule::Staff;
    const EFFECT: bool = true;

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
        let order = visible_order(run, self.order_id).await?;
        let hold = orders::active_hold(run.conn, order.id)
            .await?
            .ok_or_else(|| ToolError::Rejected(format!("Order #{} is not on hold.", order.id)))?;
        let me = run.actor.label();
        if run.approved.is_none() && run.actor.role != Role::Admin && hold.placed_by == me {
            return Ok(Outcome::NeedsApproval {
                resolved: None,
                approval: Approval::SecondPerson,
                excluded: Some(hold.placed_by.clone()),
                summary: format!(
                    "You placed the hold on order #{}, so someone else must release it.",
                    order.id
                ),
            });
        }
        orders::release_hold(run.conn, &order, &me, run.now).await?;
        Ok(Outcome::done(
            format!(
                "Order #{} is released from hold (placed by {}) and back in fulfilment.{}",
                order.id,
                hold.placed_by,
                run.approval_note()
            ),
            json!({"order_id": order.id, "released_by": me}),
        ))
    }
}
