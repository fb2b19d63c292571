//! /mydata: everything the store holds about you, as JSON.

use super::args::tool;
use super::{Args, Command, CommandSpec};
use crate::policy::Rule;
use crate::tools::{ExportMyData, ToolCall};

pub const SPEC: CommandSpec = CommandSpec {
    name: "mydata",
    usage: "/mydata",
    summary: "export everything we hold about you",
    rule: Rule::OwnerOrStaff,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    args.at_most(1)?;
    let customer_id = args.optional_count(0, "customer number")?;
    tool(ToolCall::ExportMyData(ExportMyData { customer_id }))
}
