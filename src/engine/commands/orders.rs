//! /orders [customer]: recent orders (staff may name a customer).

use super::args::tool;
use super::{Args, Command, CommandSpec};
use crate::policy::Rule;
use crate::tools::{RecentOrders, ToolCall};

pub const SPEC: CommandSpec = CommandSpec {
    name: "orders",
    usage: "/orders [customer number]",
    summary: "your recent orders (staff: any customer's)",
    rule: Rule::OwnerOrStaff,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    args.at_most(1)?;
    let customer_id = args.optional_count(0, "customer number")?;
    tool(ToolCall::RecentOrders(RecentOrders {
        customer_id,
        limit: None,
    }))
}
