//! Change an order's shipping address before it ships.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::order_lookup::status_words;
use super::{Outcome, Run, Tool, ToolError, visible_order};
use crate::policy::Rule;
use crate::store::orders;

/// Change the shipping address of an order that has not shipped yet.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeAddress {
    #[schemars(range(min = 1))]
    pub order_id: i64,
    /// The full new address on one line.
    #[schemars(length(min = 5, max = 300))]
    pub address: String,
    /// Two-letter country code, e.g. US or CN.
    #[schemars(length(min = 2, max = 2))]
    pub country: String,
}

#[async_trait]
impl Tool for ChangeAddress {
    const NAME: &'static str = "change_address";
    const DESCRIPTION: &'static str =
        "Change the shipping address of an order that has not shipped yet.";
    const RULE: Rule = Rule::OwnerOrStaff;
    const EFFECT: bool = true;
    const PERSONAL_OUTPUT: bool = true;

    fn audit_args(&self) -> serde_json::Value {
        json!({"order_id": self.order_id, "address": "[personal data]", "country": self.country})
    }

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
        let address = self.address.trim();
        let country = self.country.trim().to_uppercase();
        if address.chars().count() < 5 || address.chars().count() > 300 {
            return Err(ToolError::Invalid(
                "Give the full new address (5 to 300 characters).".into(),
            ));
        }
        if country.len() != 2 || !country.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(ToolError::Invalid(format!(
                "`{}` is not a two-letter country code such as US or CN.",
                self.country
            )));
        }
        let order = visible_order(run, self.order_id).await?;
        if !order.is_before_shipping() {
            return Err(ToolError::Rejected(format!(
                "The address of order #{} can no longer be changed: it is {}.",
                order.id,
                status_words(&order.status)
            )));
        }
        orders::set_address(run.conn, order.id, address, &country, run.now).await?;
        Ok(Outcome::done(
            format!("Order #{} will ship to: {address}, {country}.", order.id),
            json!({"order_id": order.id, "country": country}),
        ))
    }
}
