//! Staff management (admins): list, add and remove staff, and link their chat accounts.

use async_trait::async_trait;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::{Outcome, Run, Tool, ToolError};
use crate::policy::Rule;
use crate::store::{is_unique_violation, staff};

/// List, add, remove or link staff members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ManageStaff {
    pub action: StaffAction,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
pub enum StaffAction {
    List,
    Add {
        name: String,
        /// `staff` or `admin`.
        role: String,
    },
    Remove {
        name: String,
    },
    Link {
        name: String,
        /// `discord`, `telegram` or `web`.
        channel: String,
        /// The user's id on that platform.
        account: String,
    },
}

#[async_trait]
impl Tool for ManageStaff {
    const NAME: &'static str = "manage_staff";
    const DESCRIPTION: &'static str = "List, add, remove or link staff members (admins).";
    const RULE: Rule = Rule::Admin;
    const EFFECT: bool = true;

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
        match &self.action {
            StaffAction::List => {
                let all = staff::list(run.conn).await?;
                let mut text = format!("{} staff members:\n", all.len());
                for s in &all {
                    let links: Vec<String> = [
                        ("discord", &s.discord_id),
                        ("telegram", &s.telegram_id),
                        ("web", &s.web_id),
                    ]
                    .iter()
                    .filter_map(|(c, id)| id.as_ref().map(|id| format!("{c} {id}")))
                    .collect();
                    text.push_str(&format!(
                        "  {} ({}){}\n",
                        s.name,
                        s.role,
                        if links.is_empty() {
                            String::new()
                        } else {
                            format!(" · {}", links.join(", "))
                        }
                    ));
                }
                Ok(Outcome::done(
                    text.trim_end(),
                    json!({"staff": all.iter().map(|s| json!({"name": s.name, "role": s.role})).collect::<Vec<_>>()}),
                ))
            }
            StaffAction::Add { name, role } => {
                let name = valid_name(name)?;
                if role != "staff" && role != "admin" {
                    return Err(ToolError::Invalid(format!(
                        "`{role}` is not a role: use staff or admin."
                    )));
                }
                match staff::add(run.conn, &name, role, run.now).await {
                    Ok(s) => Ok(Outcome::done(
                        format!("Added {} as {}.", s.name, s.role),
                        json!({"name": s.name, "role": s.role}),
                    )),
                    Err(crate::store::StoreError::Sql(e)) if is_unique_violation(&e) => {
                        Err(ToolError::Rejected(format!(
                            "There is already a staff member named {name}."
                        )))
                    }
                    Err(e) => Err(e.into()),
                }
            }
            StaffAction::Remove { name } => {
                if Some(name.as_str()) == run.actor.staff_name.as_deref() {
                    return Err(ToolError::Rejected(
                        "You can't remove yourself; ask another admin.".into(),
                    ));
                }
                if staff::remove(run.conn, name).await? {
                    Ok(Outcome::done(
                        format!("Removed {name}."),
                        json!({"name": name}),
                    ))
                } else {
                    Err(ToolError::NotFound(format!(
                        "There is no staff member named {name}."
                    )))
                }
            }
            StaffAction::Link {
                name,
                channel,
                account,
            } => {
                let column = staff::link_column(channel).ok_or_else(|| {
                    ToolError::Invalid(format!(
                        "`{channel}` is not a channel staff can link: use discord, telegram or web."
                    ))
                })?;
                let account = account.trim();
                if account.is_empty() || account.len() > 64 {
                    return Err(ToolError::Invalid(
                        "Give the account id on that platform (up to 64 characters).".into(),
                    ));
                }
                match staff::link(run.conn, name, column, account).await {
                    Ok(true) => Ok(Outcome::done(
                        format!("Linked {name} to {channel} account {account}."),
                        json!({"name": name, "channel": channel}),
                    )),
                    Ok(false) => Err(ToolError::NotFound(format!(
                        "There is no staff member named {name}."
                    ))),
                    Err(crate::store::StoreError::Sql(e)) if is_unique_violation(&e) => {
                        Err(ToolError::Rejected(format!(
                            "That {channel} account is already linked to another staff member."
                        )))
                    }
                    Err(e) => Err(e.into()),
                }
            }
        }
    }
}

fn valid_name(name: &str) -> Result<String, ToolError> {
    let name = name.trim();
    let ok = (1..=32).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_' || c == '.');
    if ok {
        Ok(name.to_string())
    } else {
        Err(ToolError::Invalid(format!(
            "`{name}` is not a valid name: use 1-32 letters, digits, '-', '_' or '.'."
        )))
    }
}
