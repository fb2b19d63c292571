//! /incident start "<title>" "<notice>" [carrier=X] [region=Y] | status | end [#id] <summary>.

use super::args::tool;
use super::{Args, Command, CommandSpec};
use crate::policy::Rule;
use crate::tools::{IncidentAction, ManageIncident, ToolCall};

pub const SPEC: CommandSpec = CommandSpec {
    name: "incident",
    usage: "/incident start \"<title>\" \"<notice for customers>\" [carrier=<name>] [region=<name>] | status | end [#id] <summary>",
    summary: "declare, follow and close an incident",
    rule: Rule::Staff,
    parse,
};

fn parse(args: &Args) -> Result<Command, String> {
    let action = match args.get(0).unwrap_or("status").to_lowercase().as_str() {
        "status" => IncidentAction::Status,
        "start" => {
            let title = args.require(1, "the title (in quotes)")?.to_string();
            let notice = args
                .require(2, "the notice for customers (in quotes)")?
                .to_string();
            let (mut carrier, mut region) = (None, None);
            for i in 3..=args.len() {
                let Some(option) = args.get(i) else { break };
                match option.split_once('=') {
                    Some(("carrier", v)) if !v.is_empty() => carrier = Some(v.to_string()),
                    Some(("region", v)) if !v.is_empty() => region = Some(v.to_string()),
                    _ => {
                        return Err(format!(
                            "`{option}` is not an option: use carrier=<name> or region=<name>"
                        ));
                    }
                }
            }
            IncidentAction::Start {
                title,
                notice,
                carrier,
                region,
            }
        }
        "end" => {
            let (id, from) = match args.get(1).and_then(|w| w.strip_prefix('#')) {
                Some(n) => (
                    Some(
                        n.parse()
                            .map_err(|_| format!("`#{n}` is not an incident number"))?,
                    ),
                    2,
                ),
                None => (None, 1),
            };
            let summary = args.rest(from);
            if summary.is_empty() {
                return Err("missing the summary of what happened".into());
            }
            IncidentAction::End { id, summary }
        }
        other => {
            return Err(format!(
                "`{other}` is not an incident action: use start, status or end"
            ));
        }
    };
    tool(ToolCall::ManageIncident(ManageIncident { action }))
}
