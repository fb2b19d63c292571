//! /cancel <order> [reason]: cancel an order that has not shipped.

use super::args::tool;
use super::{Args, Command, CommandSpec};
use crate::policy::Rule;
use crate::tools::{CancelOrder, ToolCall};

pub const SPEC: CommandSpec = CommandSpec {
    name: "cancel",
    usage: "/cancel <order number> [reason]",
    summary: "cancel an order before it ships",
    rule: Rule::OwnerOrStaff,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    let order_id = args.order_id(0)?;
    let reason = Some(args.rest(1)).filter(|r| !r.is_empty());
    tool(ToolCall::CancelOrder(CancelOrder { order_id, reason }))
}
