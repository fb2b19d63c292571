//! /release <order>: release a fraud hold (not by the one who placed it).

use super::args::tool;
use super::{Args, Command, CommandSpec};
use crate::policy::Rule;
use crate::tools::{ReleaseHold, ToolCall};

pub const SPEC: CommandSpec = CommandSpec {
    name: "release",
    usage: "/release <order number>",
    summary: "release an order from fraud hold",
    rule: Rule::Staff,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    args.at_most(1)?;
    tool(ToolCall::ReleaseHold(ReleaseHold {
        order_id: args.order_id(0)?,
    }))
}
