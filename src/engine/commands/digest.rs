//! /digest: today's restock digest, each line approvable with its /restock.

use super::args::tool;
use super::{Args, Command, CommandSpec};
use crate::policy::Rule;
use crate::tools::{RestockDigest, ToolCall};

pub const SPEC: CommandSpec = CommandSpec {
    name: "digest",
    usage: "/digest [how many lines]",
    summary: "products that need a restock, with suggested quantities",
    rule: Rule::Staff,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    args.at_most(1)?;
    let limit = args
        .optional_count(0, "number of lines")?
        .map(|n| n.min(50));
    tool(ToolCall::RestockDigest(RestockDigest { limit }))
}
