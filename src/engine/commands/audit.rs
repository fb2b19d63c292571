//! /audit [n]: the newest audit entries (admins).

use super::args::tool;
use super::{Args, Command, CommandSpec};
use crate::policy::Rule;
use crate::tools::{AuditLog, ToolCall};

pub const SPEC: CommandSpec = CommandSpec {
    name: "audit",
    usage: "/audit [how many, up to 100]",
    summary: "show the newest audit log entries",
    rule: Rule::Admin,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    args.at_most(1)?;
    let limit = args
        .optional_count(0, "number of entries")?
        .map(|n| n.min(100));
    tool(ToolCall::AuditLog(AuditLog { limit }))
}
