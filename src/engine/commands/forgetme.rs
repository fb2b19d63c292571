//! /forgetme: ask for your personal data to be deleted (a staff member confirms).

use super::args::tool;
use super::{Args, Command, CommandSpec};
use crate::policy::Rule;
use crate::tools::{ForgetMe, ToolCall};

pub const SPEC: CommandSpec = CommandSpec {
    name: "forgetme",
    usage: "/forgetme",
    summary: "ask us to delete your personal data",
    rule: Rule::OwnerOrStaff,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    args.at_most(1)?;
    let customer_id = args.optional_count(0, "customer number")?;
    tool(ToolCall::ForgetMe(ForgetMe { customer_id }))
}
