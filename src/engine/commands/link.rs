//! /link <order> <email or phone>: proves a chat account belongs to a customer, by an
//! order number together with that order's email or phone. Before this, the account sees
//! no private data.

use super::{Args, Command, CommandSpec};
use crate::policy::Rule;

pub const SPEC: CommandSpec = CommandSpec {
    name: "link",
    usage: "/link <order number> <email or phone>",
    summary: "link this chat to your customer account",
    rule: Rule::Anyone,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    args.at_most(2)?;
    let order_id = args.order_id(0)?;
    let proof = args.require(1, "the email or phone number of the order")?;
    Ok(Command::Link {
        order_id,
        proof: proof.to_string(),
    })
}
