//! The command list as platforms with a command menu show it (Discord slash commands):
//! each usage line's `<required>` and `[optional]` words become named parameters.

use shopdesk_port::{CommandInfo, CommandParam};

use super::COMMANDS;

pub fn menu() -> Vec<CommandInfo> {
    COMMANDS
        .iter()
        .map(|spec| CommandInfo {
            name: spec.name.to_string(),
            summary: spec.summary.to_string(),
            params: params(spec.usage),
        })
        .collect()
}

/// `/restock <SKU> [quantity] <reason>` → sku (required), quantity, reason (required).
/// Usage lines with alternatives (`a | b`) become one free-form `arguments` parameter.
fn params(usage: &str) -> Vec<CommandParam> {
    let rest = usage.split_once(' ').map(|(_, r)| r).unwrap_or_default();
    if rest.contains('|') {
        return vec![CommandParam {
            name: "arguments".into(),
            description: rest.to_string(),
            required: true,
        }];
    }
    let mut out = Vec::new();
    let mut chars = rest.chars();
    while let Some(c) = chars.next() {
        let (close, required) = match c {
            '<' => ('>', true),
            '[' => (']', false),
            _ => continue,
        };
        let description: String = chars.by_ref().take_while(|&ch| ch != close).collect();
        out.push(CommandParam {
            name: param_name(&description),
            description,
            required,
        });
    }
    out
}

/// Discord's rule for option names: lower case letters, digits, `-` and `_`, 1 to 32.
fn param_name(description: &str) -> String {
    let name: String = description
        .split(',')
        .next()
        .unwrap_or_default()
        .to_lowercase()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("_")
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == '_' || *c == '-')
        .take(32)
        .collect();
    if name.is_empty() {
        "value".into()
    } else {
        name
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_lines_become_parameters() {
        let p = params("/restock <SKU> [quantity] <reason>");
        let names: Vec<_> = p.iter().map(|p| (p.name.as_str(), p.required)).collect();
        assert_eq!(
            names,
            [("sku", true), ("quantity", false), ("reason", true)]
        );
        assert_eq!(params("/audit [how many, up to 100]")[0].name, "how_many");
        assert_eq!(params("/staff list | add <name>")[0].name, "arguments");
        assert!(params("/help").is_empty());
        assert_eq!(
            params("/history <customer number, email or channel:account>")[0].name,
            "customer_number"
        );
    }

    #[test]
    fn every_command_is_in_the_menu_with_valid_names() {
        let menu = menu();
        assert_eq!(menu.len(), COMMANDS.len());
        for c in &menu {
            for p in &c.params {
                assert!(
                    !p.name.is_empty()
                        && p.name.len() <= 32
                        && p.name
                            .chars()
                            .all(|ch| ch.is_lowercase() || ch.is_ascii_digit() || ch == '_'),
                    "/{}: {}",
                    c.name,
                    p.name
                );
            }
        }
    }
}
