//! /hold <order> <reason>: stop an order's fulfilment for a fraud review.

use super::args::tool;
use super::{Args, Command, CommandSpec};
use crate::policy::Rule;
use crate::tools::{FraudHold, ToolCall};

pub const SPEC: CommandSpec = CommandSpec {
    name: "hold",
    usage: "/hold <order number> <reason>",
    summary: "put an order on fraud hold",
    rule: Rule::Staff,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    let order_id = args.order_id(0)?;
    let reason = args.rest(1);
    if reason.is_empty() {
        return Err("missing the reason".into());
    }
    tool(ToolCall::FraudHold(FraudHold {
        order_id,
        reason,
        score: None,
    }))
}
