//! /order <id>: one order's status, items, tracking and delay.

use super::args::tool;
use super::{Args, Command, CommandSpec};
use crate::policy::Rule;
use crate::tools::{OrderLookup, ToolCall};

pub const SPEC: CommandSpec = CommandSpec {
    name: "order",
    usage: "/order <order number>",
    summary: "status, items and tracking of an order",
    rule: Rule::OwnerOrStaff,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    args.at_most(1)?;
    tool(ToolCall::OrderLookup(OrderLookup {
        order_id: args.order_id(0)?,
    }))
}
