//! /confirm <code>: confirm or approve a pending request.

use super::args::tool;
use super::{Args, Command, CommandSpec};
use crate::policy::Rule;
use crate::tools::{Confirm, ToolCall};

pub const SPEC: CommandSpec = CommandSpec {
    name: "confirm",
    usage: "/confirm <code>",
    summary: "confirm or approve a pending request",
    rule: Rule::OwnerOrStaff,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    args.at_most(1)?;
    let code = args.require(0, "the six-character code")?;
    if code.chars().count() != 6 || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Err(format!(
            "`{code}` is not a confirmation code: expected six letters and digits such as K7QX2M"
        ));
    }
    tool(ToolCall::Confirm(Confirm {
        code: code.to_uppercase(),
    }))
}
