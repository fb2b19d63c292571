//! /help: the commands the asker's role may use, and nothing else.

use super::{Command, CommandSpec};
use crate::policy::Rule;

pub const SPEC: CommandSpec = CommandSpec {
    name: "help",
    usage: "/help",
    summary: "list the commands you can use",
    rule: Rule::Anyone,
    parse: |_| Ok(Command::Help),
};
