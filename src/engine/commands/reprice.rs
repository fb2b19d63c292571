//! /reprice <sku> <price> <reason>: a new price inside the guardrails.

use super::args::tool;
use super::{Args, Command, CommandSpec};
use crate::money;
use crate::policy::Rule;
use crate::tools::{Reprice, ToolCall};

pub const SPEC: CommandSpec = CommandSpec {
    name: "reprice",
    usage: "/reprice <SKU> <price> <reason>",
    summary: "change a product's price (large changes need a second person)",
    rule: Rule::Staff,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    let sku = args.require(0, "the SKU")?.to_string();
    let raw = args.require(1, "the new price")?;
    money::parse(raw)?;
    let reason = args.rest(2);
    if reason.is_empty() {
        return Err("missing the reason".into());
    }
    let price = raw.trim_start_matches(['$', '¥', '€', '£']).to_string();
    tool(ToolCall::Reprice(Reprice { sku, price, reason }))
}
