//! /human: hands the conversation to a person on the store's staff.

use super::{Command, CommandSpec};
use crate::policy::Rule;

pub const SPEC: CommandSpec = CommandSpec {
    name: "human",
    usage: "/human",
    summary: "talk to a person from our team",
    rule: Rule::Anyone,
    parse: |args| {
        args.at_most(0)?;
        Ok(Command::Human)
    },
};
