//! /stock <sku>: is it in stock, and at what price.

use super::args::tool;
use super::{Args, Command, CommandSpec};
use crate::policy::Rule;
use crate::tools::{StockCheck, ToolCall};

pub const SPEC: CommandSpec = CommandSpec {
    name: "stock",
    usage: "/stock <SKU>",
    summary: "check whether a product is in stock",
    rule: Rule::Anyone,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    args.at_most(1)?;
    tool(ToolCall::StockCheck(StockCheck {
        sku: args.require(0, "the SKU (e.g. SKU-0042)")?.to_string(),
    }))
}
