//! Chat commands, parsed deterministically (no model in the loop) and identical on every
//! channel. Each command lives in its own file as a [`CommandSpec`]: its name, usage, the
//! role rule that decides whether /help shows it, and a parser that turns its arguments
//! into a [`Command`] — usually a typed tool call, so the command and the model reach the
//! store through the same permission-checked path.

mod address;
mod args;
mod audit;
mod cancel;
mod confirm;
mod digest;
mod forgetme;
mod fraud;
mod handback;
mod help;
mod history;
mod hold;
mod human;
mod incident;
mod link;
mod menu;
mod mydata;
mod order;
mod orders;
mod prices;
mod queue;
mod release;
mod reprice;
mod restock;
mod return_;
mod search;
mod staff;
mod start;
mod stock;
mod whoami;

pub use args::Args;
pub use menu::menu;

use crate::policy::{Role, Rule};
use crate::tools::ToolCall;

/// What a command asks the engine to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Command {
    Start,
    Help,
    WhoAmI,
    Tool(ToolCall),
    /// Prove the account belongs to the customer of an order.
    Link {
        order_id: i64,
        proof: String,
    },
    /// Hand the conversation to a person.
    Human,
    /// Give a handed-off conversation back to the bot: the one in this thread, or by number.
    Handback(Option<i64>),
    /// A customer's history, by number, email or `channel:account`.
    History(String),
    /// Handoffs waiting for a person.
    Queue,
}

/// One chat command.
pub struct CommandSpec {
    pub name: &'static str,
    pub usage: &'static str,
    pub summary: &'static str,
    pub rule: Rule,
    /// Turns the arguments into a command, or says what was expected.
    pub parse: fn(&Args) -> Result<Command, String>,
}

/// Every command, in the order /help lists them.
pub const COMMANDS: &[&CommandSpec] = &[
    &start::SPEC,
    &help::SPEC,
    &whoami::SPEC,
    &link::SPEC,
    &human::SPEC,
    &orders::SPEC,
    &order::SPEC,
    &cancel::SPEC,
    &address::SPEC,
    &return_::SPEC,
    &stock::SPEC,
    &search::SPEC,
    &mydata::SPEC,
    &forgetme::SPEC,
    &restock::SPEC,
    &reprice::SPEC,
    &hold::SPEC,
    &release::SPEC,
    &fraud::SPEC,
    &digest::SPEC,
    &prices::SPEC,
    &incident::SPEC,
    &confirm::SPEC,
    &queue::SPEC,
    &history::SPEC,
    &handback::SPEC,
    &audit::SPEC,
    &staff::SPEC,
];

/// The outcome of reading a line that starts with `/`.
#[derive(Debug)]
pub enum Parsed {
    Ok(&'static CommandSpec, Command),
    /// No such command; the nearest one the role may use, if any is close.
    Unknown {
        name: String,
        suggestion: Option<&'static str>,
    },
    /// The command exists but the role may not use it. Nothing about data is revealed.
    Forbidden(&'static CommandSpec),
    /// Right command, wrong arguments: what was expected.
    Usage(&'static CommandSpec, String),
    /// The line could not be read as a command at all (an unclosed quote, a bare `/`).
    Malformed(String),
}

impl std::fmt::Debug for CommandSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "/{}", self.name)
    }
}

/// True when the text is a command rather than free text.
pub fn is_command(text: &str) -> bool {
    text.trim_start().starts_with('/')
}

/// Parses a command line for a user of `role`.
pub fn parse(text: &str, role: Role) -> Parsed {
    let args = match Args::split(text.trim_start().trim_start_matches('/')) {
        Ok(args) => args,
        Err(e) => return Parsed::Malformed(e),
    };
    let name = command_name(args.name());
    if name.is_empty() {
        return Parsed::Malformed("there is no command name after the /".into());
    }
    let Some(spec) = COMMANDS.iter().copied().find(|c| c.name == name) else {
        return Parsed::Unknown {
            suggestion: nearest(&name, role),
            name,
        };
    };
    if !spec.rule.allows(role) {
        return Parsed::Forbidden(spec);
    }
    match (spec.parse)(&args) {
        Ok(command) => Parsed::Ok(spec, command),
        Err(expected) => Parsed::Usage(spec, expected),
    }
}

/// `/Order@shop_bot` → `order`: Telegram appends the bot's name in groups.
fn command_name(raw: &str) -> String {
    raw.split('@').next().unwrap_or_default().to_lowercase()
}

/// The closest command the role may use, when it is close enough to be a typo.
fn nearest(name: &str, role: Role) -> Option<&'static str> {
    COMMANDS
        .iter()
        .filter(|c| c.rule.allows(role))
        .map(|c| (strsim::damerau_levenshtein(name, c.name), c.name))
        .filter(|(d, _)| *d <= 2.max(name.chars().count() / 3))
        .min()
        .map(|(_, n)| n)
}

/// The commands a role may use, for /help.
pub fn visible_to(role: Role) -> impl Iterator<Item = &'static CommandSpec> {
    COMMANDS
        .iter()
        .copied()
        .filter(move |c| c.rule.allows(role))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tools::{Reprice, Restock};

    fn ok(text: &str, role: Role) -> Command {
        match parse(text, role) {
            Parsed::Ok(_, c) => c,
            other => panic!("{text}: {other:?}"),
        }
    }

    #[test]
    fn quoted_and_chinese_reasons() {
        assert_eq!(
            ok("/restock SKU-7 40 \"supplier delay\"", Role::Staff),
            Command::Tool(ToolCall::Restock(Restock {
                sku: "SKU-7".into(),
                quantity: Some(40),
                reason: "supplier delay".into()
            }))
        );
        assert_eq!(
            ok("/reprice SKU-7 19.99 供应商 涨价", Role::Staff),
            Command::Tool(ToolCall::Reprice(Reprice {
                sku: "SKU-7".into(),
                price: "19.99".into(),
                reason: "供应商 涨价".into()
            }))
        );
        assert_eq!(
            ok("/restock SKU-7 “旺季 备货”", Role::Admin),
            Command::Tool(ToolCall::Restock(Restock {
                sku: "SKU-7".into(),
                quantity: None,
                reason: "旺季 备货".into()
            }))
        );
    }

    #[test]
    fn typos_get_the_nearest_allowed_command() {
        assert!(matches!(
            parse("/ordr 1042", Role::Customer),
            Parsed::Unknown {
                suggestion: Some("order"),
                ..
            }
        ));
        assert!(matches!(
            parse("/restok SKU-1 5 x", Role::Staff),
            Parsed::Unknown {
                suggestion: Some("restock"),
                ..
            }
        ));
        // A customer is not pointed at a staff command.
        assert!(matches!(
            parse("/restok SKU-1 5 x", Role::Customer),
            Parsed::Unknown {
                suggestion: None,
                ..
            }
        ));
        assert!(matches!(
            parse("/zzzzzzzz", Role::Admin),
            Parsed::Unknown {
                suggestion: None,
                ..
            }
        ));
    }

    #[test]
    fn bad_numbers_say_what_was_expected() {
        let Parsed::Usage(_, msg) = parse("/order 10x4", Role::Customer) else {
            panic!()
        };
        assert!(msg.contains("order number"), "{msg}");
        let Parsed::Usage(_, msg) = parse("/restock SKU-1 -5 x", Role::Staff) else {
            panic!()
        };
        assert!(msg.contains("quantity"), "{msg}");
        let Parsed::Usage(_, msg) = parse("/reprice SKU-1 abc reason", Role::Staff) else {
            panic!()
        };
        assert!(msg.contains("19.99"), "{msg}");
    }

    #[test]
    fn forbidden_commands_are_refused_before_parsing() {
        assert!(matches!(
            parse("/reprice SKU-1 1 x", Role::Customer),
            Parsed::Forbidden(_)
        ));
        assert!(matches!(parse("/audit", Role::Staff), Parsed::Forbidden(_)));
        assert!(matches!(
            parse("/order 1", Role::Guest),
            Parsed::Forbidden(_)
        ));
    }

    #[test]
    fn bot_suffix_and_case_are_ignored() {
        assert!(matches!(
            parse("/Order@shop_bot 1042", Role::Customer),
            Parsed::Ok(_, _)
        ));
    }
}
