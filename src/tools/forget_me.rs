//! Deletion: a customer asks for their personal data to be removed; a staff member confirms,
//! and the store anonymises it everywhere (orders stay, under a pseudonymous id).

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::export_my_data::whose;
use super::{Outcome, Run, Tool, ToolError};
use crate::policy::{Approval, Rule};
use crate::store::customers;

/// Delete (anonymise) a customer's personal data, after a staff member confirms.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ForgetMe {
    /// Staff only: whose data; customers always ask for their own.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_id: Option<i64>,
}

#[async_trait]
impl Tool for ForgetMe {
    const NAME: &'static str = "forget_me";
    const DESCRIPTION: &'static str =
        "Delete the customer's personal data (a staff member confirms).";
    const RULE: Rule = Rule::OwnerOrStaff;
    const EFFECT: bool = true;

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
        let id = match run.approved {
            // Confirmed: the request named its customer when it was made.
            Some(_) => self
                .customer_id
                .ok_or_else(|| ToolError::Invalid("The request names no customer.".into()))?,
            None => whose(run, self.customer_id)?,
        };
        if customers::get(run.conn, id).await?.is_none() {
            return Err(ToolError::NotFound(format!("There is no customer #{id}.")));
        }
        if run.approved.is_none() {
            return Ok(Outcome::NeedsApproval {
                resolved: Some(json!({"customer_id": id})),
                approval: Approval::SecondPerson,
                excluded: None,
                summary: format!(
                    "Deletion of customer #{id}'s personal data was requested; a staff member will confirm it within 30 days."
                ),
            });
        }
        customers::forget(run.conn, id).await?;
        Ok(Outcome::done(
            format!(
                "Customer #{id}'s personal data is deleted: name, email, phone, addresses, linked accounts and messages.{}",
                run.approval_note()
            ),
            json!({"customer_id": id}),
        ))
    }
}
