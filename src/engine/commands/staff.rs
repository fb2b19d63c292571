//! /staff list | add <name> [staff|admin] | remove <name> | link <name> <channel> <account>.

use super::args::tool;
use super::{Args, Command, CommandSpec};
use crate::policy::Rule;
use crate::tools::{ManageStaff, StaffAction, ToolCall};

pub const SPEC: CommandSpec = CommandSpec {
    name: "staff",
    usage: "/staff list | add <name> [staff|admin] | remove <name> | link <name> <discord|telegram|web> <account id>",
    summary: "manage staff and link their chat accounts",
    rule: Rule::Admin,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    let action = match args.get(0).unwrap_or("list").to_lowercase().as_str() {
        "list" => StaffAction::List,
        "add" => {
            args.at_most(3)?;
            StaffAction::Add {
                name: args.require(1, "the name")?.to_string(),
                role: args.get(2).unwrap_or("staff").to_lowercase(),
            }
        }
        "remove" => {
            args.at_most(2)?;
            StaffAction::Remove {
                name: args.require(1, "the name")?.to_string(),
            }
        }
        "link" => {
            args.at_most(4)?;
            StaffAction::Link {
                name: args.require(1, "the name")?.to_string(),
                channel: args
                    .require(2, "the channel (discord, telegram or web)")?
                    .to_lowercase(),
                account: args.require(3, "the account id")?.to_string(),
            }
        }
        other => {
            return Err(format!(
                "`{other}` is not a staff action: use list, add, remove or link"
            ));
        }
    };
    tool(ToolCall::ManageStaff(ManageStaff { action }))
}
