//! Confirm a pending request by its code. It executes exactly once: the decision and the
//! effect commit together, and a second confirmation finds the request already decided.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::{Outcome, Run, Tool, ToolCall, ToolError};
use crate::clock;
use crate::policy::{Approval, Rule};
use crate::store::confirmations;

/// Confirm a pending request with its code.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Confirm {
    /// The six-character code from the request, e.g. K7QX2M.
    #[schemars(length(min = 6, max = 6))]
    pub code: String,
}

#[async_trait]
impl Tool for Confirm {
    const NAME: &'static str = "confirm";
    const DESCRIPTION: &'static str = "Confirm a pending request with its code.";
    const RULE: Rule = Rule::OwnerOrStaff;
    const EFFECT: bool = true;

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
        let code = self.code.trim().to_uppercase();
        let pending = confirmations::get(run.conn, &code).await?.ok_or_else(|| {
            ToolError::NotFound(format!("There is no pending request with code {code}."))
        })?;
        if let (Some(by), Some(at)) = (&pending.decided_by, pending.decided_at) {
            return Err(ToolError::Rejected(format!(
                "Request {code} was already confirmed by {by} at {}.",
                clock::datetime(at)
            )));
        }
        if run.now > pending.expires_at {
            return Err(ToolError::Rejected(format!(
                "Request {code} expired at {}. Ask again to get a new code.",
                clock::datetime(pending.expires_at)
            )));
        }
        let approval = Approval::parse(&pending.approval).unwrap_or(Approval::SecondPerson);
        if !approval.permits(
            run.actor,
            &pending.requested_by,
            pending.excluded_actor.as_deref(),
        ) {
            let needs = match approval {
                Approval::Requester => format!("only {} can confirm it", pending.requested_by),
                Approval::SecondPerson => "it needs a staff member other than the requester (or the hold's placer), or an admin".into(),
            };
            return Err(ToolError::Denied {
                shown: format!("You can't confirm request {code}: {needs}."),
                why: format!(
                    "{} may not decide {code} requested by {}",
                    run.actor.label(),
                    pending.requested_by
                ),
            });
        }
        let call = ToolCall::from_json(
            &pending.tool,
            serde_json::from_str(&pending.args).unwrap_or_default(),
        )?;
        if matches!(call, ToolCall::Confirm(_)) {
            return Err(ToolError::Invalid(
                "A confirmation cannot confirm another confirmation.".into(),
            ));
        }
        if !confirmations::decide(run.conn, &code, &run.actor.label(), run.now).await? {
            return Err(ToolError::Rejected(format!(
                "Request {code} was just confirmed by someone else."
            )));
        }
        let mut inner = Run {
            conn: &mut *run.conn,
            actor: run.actor,
            config: run.config,
            now: run.now,
            approved: Some(&pending),
        };
        call.run(&mut inner).await
    }
}
