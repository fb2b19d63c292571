//! /fraud [order]: an order's fraud score and reasons, or the riskiest recent orders.

use super::args::tool;
use super::{Args, Command, CommandSpec};
use crate::policy::Rule;
use crate::tools::{FraudReport, ToolCall};

pub const SPEC: CommandSpec = CommandSpec {
    name: "fraud",
    usage: "/fraud [order number]",
    summary: "explain an order's fraud score, or list the riskiest recent orders",
    rule: Rule::Staff,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    args.at_most(1)?;
    let order_id = if args.is_empty() {
        None
    } else {
        Some(args.order_id(0)?)
    };
    tool(ToolCall::FraudReport(FraudReport {
        order_id,
        days: None,
    }))
}
