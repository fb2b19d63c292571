//! Data export: a customer's own personal data as JSON (staff may export any customer's).

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Outcome, Run, Tool, ToolError};
use crate::policy::{Role, Rule};
use crate::store::customers;

/// Export everything the store holds about a customer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportMyData {
    /// Staff only: whose data; customers always get their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<i64>,
}

#[async_trait]
impl Tool for ExportMyData {
    const NAME: &'static str = "export_my_data";
    const DESCRIPTION: &'static str =
        "Export everything the store holds about the customer, as JSON.";
    const RULE: Rule = Rule::OwnerOrStaff;
    const EFFECT: bool = false;
    const PERSONAL_OUTPUT: bool = true;

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
        let id = whose(run, self.customer_id)?;
        let export = customers::export(run.conn, id)
            .await?
            .ok_or_else(|| ToolError::NotFound(format!("There is no customer #{id}.")))?;
        let text = format!(
            "Here is all the data we hold about you (customer #{id}), as JSON:\n{}",
            serde_json::to_string_pretty(&export).unwrap_or_default()
        );
        Ok(Outcome::done(text, export))
    }
}

/// The customer a privacy request is about: customers only themselves, staff anyone named.
pub fn whose(run: &Run<'_>, asked: Option<i64>) -> Result<i64, ToolError> {
    match (run.actor.role, asked) {
        (Role::Customer, Some(other)) if Some(other) != run.actor.customer_id => {
            Err(ToolError::Denied {
                shown: "I can only do that for your own account.".into(),
                why: format!("customer asked about customer:{other}"),
            })
        }
        (Role::Customer, _) => run
            .actor
            .customer_id
            .ok_or_else(|| ToolError::denied_for_role("customer")),
        (_, Some(id)) => Ok(id),
        (_, None) => Err(ToolError::Invalid(
            "Which customer? Give a customer number.".into(),
        )),
    }
}
