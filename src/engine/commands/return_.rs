//! /return <order> [reason]: start a return inside the return window.

use super::args::tool;
use super::{Args, Command, CommandSpec};
use crate::policy::Rule;
use crate::tools::{StartReturn, ToolCall};

pub const SPEC: CommandSpec = CommandSpec {
    name: "return",
    usage: "/return <order number> [reason]",
    summary: "start a return for a delivered order",
    rule: Rule::OwnerOrStaff,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    let order_id = args.order_id(0)?;
    let reason = Some(args.rest(1))
        .filter(|r| !r.is_empty())
        .unwrap_or_else(|| "no reason given".into());
    tool(ToolCall::StartReturn(StartReturn { order_id, reason }))
}
