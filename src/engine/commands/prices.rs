//! /prices: repricing suggestions inside the guardrails, each approvable with its /reprice.

use super::args::tool;
use super::{Args, Command, CommandSpec};
use crate::policy::Rule;
use crate::tools::{PriceSuggestions, ToolCall};

pub const SPEC: CommandSpec = CommandSpec {
    name: "prices",
    usage: "/prices [how many]",
    summary: "suggested price changes from stock cover and sales velocity",
    rule: Rule::Staff,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    args.at_most(1)?;
    let limit = args
        .optional_count(0, "number of suggestions")?
        .map(|n| n.min(50));
    tool(ToolCall::PriceSuggestions(PriceSuggestions { limit }))
}
