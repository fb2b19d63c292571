//! /handback [handoff number]: staff give a handed-off conversation back to the bot. In a
//! handoff thread the number is not needed.

use super::{Args, Command, CommandSpec};
use crate::policy::Rule;

pub const SPEC: CommandSpec = CommandSpec {
    name: "handback",
    usage: "/handback [handoff number]",
    summary: "give a handed-off conversation back to the bot",
    rule: Rule::Staff,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    args.at_most(1)?;
    let id = match args.get(0) {
        Some(_) => Some(args.count(0, "handoff number")?),
        None => None,
    };
    Ok(Command::Handback(id))
}
