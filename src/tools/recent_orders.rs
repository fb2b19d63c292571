//! A customer's recent orders: customers see their own, staff anyone's.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::order_lookup::status_words;
use super::{Outcome, Run, Tool, ToolError};
use crate::policy::{Role, Rule};
use crate::store::{customers, orders};
use crate::{clock, money};

/// List a customer's most recent orders.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecentOrders {
    /// The customer (staff only; customers always get their own).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<i64>,
    /// How many orders, 1 to 20 (default 5).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 20))]
    pub limit: Option<i64>,
}

#[async_trait]
impl Tool for RecentOrders {
    const NAME: &'static str = "recent_orders";
    const DESCRIPTION: &'static str = "List a customer's most recent orders with their status.";
    const RULE: Rule = Rule::OwnerOrStaff;
    const EFFECT: bool = false;

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
        let customer_id = match (run.actor.role, self.customer_id) {
            (Role::Customer, Some(other)) if Some(other) != run.actor.customer_id => {
                return Err(ToolError::Denied {
                    shown: "I can only show you your own orders.".into(),
                    why: format!("customer asked for customer:{other}'s orders"),
                });
            }
            (Role::Customer, _) => run
                .actor
                .customer_id
                .ok_or_else(|| ToolError::denied_for_role("customer"))?,
            (_, Some(id)) => id,
            (_, None) => {
                return Err(ToolError::Invalid(
                    "Which customer? Give a customer number.".into(),
                ));
            }
        };
        let limit = self.limit.unwrap_or(5).clamp(1, 20);
        if customers::get(run.conn, customer_id).await?.is_none() {
            return Err(ToolError::NotFound(format!(
                "There is no customer #{customer_id}."
            )));
        }
        let list = orders::recent_for_customer(run.conn, customer_id, limit).await?;
        if list.is_empty() {
            return Ok(Outcome::done("No orders yet.", json!({"orders": []})));
        }
        let mut text = String::from("Recent orders:\n");
        for o in &list {
            text.push_str(&format!(
                "  #{} · {} · {} · {}\n",
                o.id,
                clock::date(o.created_at),
                status_words(&o.status),
                money::format(o.total, &run.config.currency)
            ));
        }
        let data = json!({"orders": list.iter().map(|o| json!({"order_id": o.id, "status": o.status, "total": o.total, "created_at": o.created_at})).collect::<Vec<_>>()});
        Ok(Outcome::done(text.trim_end(), data))
    }
}
