//! /address <order> <country> <address>: redirect an order before it ships.

use super::args::tool;
use super::{Args, Command, CommandSpec};
use crate::policy::Rule;
use crate::tools::{ChangeAddress, ToolCall};

pub const SPEC: CommandSpec = CommandSpec {
    name: "address",
    usage: "/address <order number> <country code> <new address>",
    summary: "change the shipping address before an order ships",
    rule: Rule::OwnerOrStaff,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    let order_id = args.order_id(0)?;
    let country = args
        .require(1, "the two-letter country code (e.g. US)")?
        .to_string();
    let address = args.rest(2);
    if address.is_empty() {
        return Err("missing the new address".into());
    }
    tool(ToolCall::ChangeAddress(ChangeAddress {
        order_id,
        address,
        country,
    }))
}
