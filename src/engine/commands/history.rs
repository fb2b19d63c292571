//! /history <customer>: a customer's recent messages on every channel, and their orders.

use super::{Args, Command, CommandSpec};
use crate::policy::Rule;

pub const SPEC: CommandSpec = CommandSpec {
    name: "history",
    usage: "/history <customer number, email or channel:account>",
    summary: "a customer's recent conversation on every channel",
    rule: Rule::Staff,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    args.at_most(1)?;
    let who = args.require(0, "the customer (number, email or channel:account)")?;
    Ok(Command::History(who.to_string()))
}
