//! /whoami: who the store thinks you are, and with which role.

use super::{Command, CommandSpec};
use crate::policy::Rule;

pub const SPEC: CommandSpec = CommandSpec {
    name: "whoami",
    usage: "/whoami",
    summary: "show who you are to the store and your role",
    rule: Rule::Anyone,
    parse: |_| Ok(Command::WhoAmI),
};
