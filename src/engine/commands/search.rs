//! /search <words>: find products by title or SKU.

use super::args::tool;
use super::{Args, Command, CommandSpec};
use crate::policy::Rule;
use crate::tools::{ProductSearch, ToolCall};

pub const SPEC: CommandSpec = CommandSpec {
    name: "search",
    usage: "/search <words>",
    summary: "find products by title or SKU",
    rule: Rule::Anyone,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    let query = args.rest(0);
    if query.is_empty() {
        return Err("missing the words to search for".into());
    }
    tool(ToolCall::ProductSearch(ProductSearch {
        query,
        limit: None,
    }))
}
