//! The engine's commands as Discord slash commands, and a slash command's options back as
//! the command line the engine reads.

use serenity::all::{CommandDataOption, CommandOptionType, CreateCommand, CreateCommandOption};
use shopdesk_port::CommandInfo;

/// Discord's limit on command and option descriptions.
const MAX_DESCRIPTION: usize = 100;

/// One slash command per engine command. Discord wants required options first; the
/// command line is rebuilt in the engine's order, so only the menu order changes.
pub fn slash_commands(commands: &[CommandInfo]) -> Vec<CreateCommand> {
    commands
        .iter()
        .map(|c| {
            let mut params: Vec<_> = c.params.iter().collect();
            params.sort_by_key(|p| !p.required);
            params.into_iter().fold(
                CreateCommand::new(&c.name).description(short(&c.summary)),
                |command, p| {
                    command.add_option(
                        CreateCommandOption::new(
                            CommandOptionType::String,
                            &p.name,
                            short(&p.description),
                        )
                        .required(p.required),
                    )
                },
            )
        })
        .collect()
}

/// `/restock` with options sku=SKU-7, reason="supplier delay" → `/restock SKU-7 "supplier delay"`.
/// The last parameter is the rest of the line and goes in as typed; earlier ones with
/// spaces are quoted.
pub fn command_line(name: &str, options: &[CommandDataOption], menu: &[CommandInfo]) -> String {
    let mut line = format!("/{name}");
    let Some(info) = menu.iter().find(|c| c.name == name) else {
        return line;
    };
    let last = info.params.len().saturating_sub(1);
    for (i, param) in info.params.iter().enumerate() {
        let Some(value) = options
            .iter()
            .find(|o| o.name == param.name)
            .and_then(|o| o.value.as_str())
        else {
            continue;
        };
        line.push(' ');
        if i == last {
            line.push_str(value);
        } else {
            line.push_str(&quoted(value));
        }
    }
    line
}

/// The value as one word for the engine's parser: quotes it when it has spaces, with a
/// quote pair the value does not contain.
fn quoted(value: &str) -> String {
    if !value.is_empty() && !value.chars().any(char::is_whitespace) {
        return value.to_string();
    }
    for (open, close) in [('"', '"'), ('“', '”'), ('「', '」'), ('\'', '\'')] {
        if !value.contains(open) && !value.contains(close) {
            return format!("{open}{value}{close}");
        }
    }
    value.split_whitespace().collect::<Vec<_>>().join("_")
}

fn short(text: &str) -> String {
    if text.chars().count() <= MAX_DESCRIPTION {
        return text.to_string();
    }
    let mut s: String = text.chars().take(MAX_DESCRIPTION - 1).collect();
    s.push('…');
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use shopdesk_port::CommandParam;

    fn param(name: &str, required: bool) -> CommandParam {
        CommandParam {
            name: name.into(),
            description: name.into(),
            required,
        }
    }

    fn option(name: &str, value: &str) -> CommandDataOption {
        serde_json::from_value(serde_json::json!({"name": name, "type": 3, "value": value}))
            .unwrap()
    }

    #[test]
    fn options_become_the_engine_command_line() {
        let menu = vec![CommandInfo {
            name: "restock".into(),
            summary: "s".into(),
            params: vec![
                param("sku", true),
                param("quantity", false),
                param("reason", true),
            ],
        }];
        let line = command_line(
            "restock",
            &[option("reason", "supplier delay"), option("sku", "SKU-7")],
            &menu,
        );
        assert_eq!(line, "/restock SKU-7 supplier delay");
        let line = command_line(
            "restock",
            &[
                option("sku", "SKU 7"),
                option("quantity", "40"),
                option("reason", "x"),
            ],
            &menu,
        );
        assert_eq!(line, "/restock \"SKU 7\" 40 x");
        assert_eq!(quoted("say \"hi\" now"), "“say \"hi\" now”");
    }
}
