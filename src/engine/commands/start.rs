//! /start: a greeting in the user's language.

use super::{Command, CommandSpec};
use crate::policy::Rule;

pub const SPEC: CommandSpec = CommandSpec {
    name: "start",
    usage: "/start",
    summary: "say hello and see what I can do",
    rule: Rule::Anyone,
    parse: |_| Ok(Command::Start),
};
