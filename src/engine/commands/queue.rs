//! /queue: conversations waiting for a person, longest-waiting first.

use super::{Command, CommandSpec};
use crate::policy::Rule;

pub const SPEC: CommandSpec = CommandSpec {
    name: "queue",
    usage: "/queue",
    summary: "conversations waiting for a person",
    rule: Rule::Staff,
    parse: |args| {
        args.at_most(0)?;
        Ok(Command::Queue)
    },
};
