//! /restock <sku> [qty] <reason>: a purchase order; without a quantity one is suggested.

use super::args::tool;
use super::{Args, Command, CommandSpec};
use crate::policy::Rule;
use crate::tools::{Restock, ToolCall};

pub const SPEC: CommandSpec = CommandSpec {
    name: "restock",
    usage: "/restock <SKU> [quantity] <reason>",
    summary: "order more stock from the supplier (no quantity: I suggest one)",
    rule: Rule::Staff,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    let sku = args.require(0, "the SKU")?.to_string();
    let second = args.require(1, "the reason")?;
    let looks_numeric = second.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == '+');
    let (quantity, reason_from) = if looks_numeric {
        (Some(args.count(1, "quantity")?), 2)
    } else {
        (None, 1)
    };
    let reason = args.rest(reason_from);
    if reason.is_empty() {
        return Err("missing the reason".into());
    }
    tool(ToolCall::Restock(Restock {
        sku,
        quantity,
        reason,
    }))
}
