//! The audit log, newest first (admins).

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Outcome, Run, Tool, ToolError};
use crate::clock;
use crate::policy::Rule;
use crate::store::audit;

/// Show the newest audit log entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AuditLog {
    /// How many entries, 1 to 100 (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schemars(range(min = 1, max = 100))]
    pub limit: Option<i64>,
}

#[async_trait]
impl Tool for AuditLog {
    const NAME: &'static str = "audit_log";
    const DESCRIPTION: &'static str = "Show the newest audit log entries (admins).";
    const RULE: Rule = Rule::Admin;
    const EFFECT: bool = false;

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
        let limit = self.limit.unwrap_or(10);
        if !(1..=100).contains(&limit) {
            return Err(ToolError::Invalid(
                "Ask for 1 to 100 entries, e.g. /audit 20.".into(),
            ));
        }
        let entries = audit::recent(run.conn, limit).await?;
        let mut text = format!("Last {} audit entries:\n", entries.len());
        for e in &entries {
            text.push_str(&format!(
                "  {} {} via {} · {} {} → {} ({})\n",
                clock::datetime(e.at),
                e.actor,
                e.channel,
                e.tool,
                e.args,
                e.outcome,
                e.detail
            ));
        }
        let data = json!({"entries": entries.iter().map(|e| json!({"id": e.id, "at": e.at, "actor": e.actor, "tool": e.tool, "outcome": e.outcome})).collect::<Vec<_>>()});
        Ok(Outcome::done(text.trim_end(), data))
    }
}
