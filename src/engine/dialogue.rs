//! Routed free text over several turns: the router's intent becomes an action, with its
//! slots filled from the message or asked for.
//!
//! - An order intent without an order number lists the customer's recent orders and asks
//!   which one; the answer may be a number, "the second one" or "第二个". The question
//!   waits in the conversation's state (in the store), so it survives a restart.
//! - "no, order 1043" after an order answer repeats the last intent with that order.
//! - Effects are never taken from free text: an intent that changes something answers
//!   with the exact command and a button to confirm it, which then runs through the
//!   toolbox like any typed command.
//!
//! Intents without a tool (policies, complaints) and messages the router does not place
//! fall through to the knowledge and the model.

use serde_json::{Value, json};
use shopdesk_port::{Button, Inbound};

use super::router::{Intent, Router};
use super::{Answer, Engine};
use crate::clock;
use crate::policy::{Actor, Role};
use crate::store::conversations::{self, Conversation};
use crate::store::orders;
use crate::tools::{ToolCall, specs_for};

/// Recent orders offered when a customer does not say which one.
const CHOICES: i64 = 5;

/// What the conversation waits for, kept in its state under `pending`.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
struct Pending {
    intent: String,
    options: Vec<i64>,
}

impl Engine {
    /// The routed answer to free text, or `None` to let knowledge and the model answer.
    pub(super) async fn dialogue(
        &self,
        router: &Router,
        actor: &Actor,
        text: &str,
        inbound: &Inbound,
        conversation: &Conversation,
    ) -> Option<Answer> {
        let mut state: Value =
            serde_json::from_str(&conversation.state).unwrap_or_else(|_| json!({}));
        let pending: Option<Pending> = state
            .get("pending")
            .and_then(|p| serde_json::from_value(p.clone()).ok());
        if let Some(pending) = pending {
            state.as_object_mut()?.remove("pending");
            self.save_state(conversation, &state).await;
            if is_never_mind(text) {
                return Some(Answer::text(self.replies.get(
                    &actor.language,
                    "never_mind",
                    &[],
                )));
            }
            let chosen = ordinal(text).and_then(|n| {
                let n = if n == usize::MAX {
                    pending.options.len().checked_sub(1)?
                } else {
                    n
                };
                pending.options.get(n).copied()
            });
            if let Some(order) = order_number(text).or(chosen) {
                let intent = router.intent(&pending.intent)?.clone();
                return Some(
                    self.act(&intent, actor, order, inbound, conversation, &mut state)
                        .await,
                );
            }
        }
        if let (Some(order), Some(last)) = (
            order_number(text),
            state.get("last").and_then(Value::as_str),
        ) && is_correction(text)
        {
            let intent = router.intent(last)?.clone();
            return Some(
                self.act(&intent, actor, order, inbound, conversation, &mut state)
                    .await,
            );
        }
        let routed = match router.route(text, &actor.language) {
            Ok(routed) => routed?,
            Err(e) => {
                tracing::warn!(error = %e, "the intent router failed");
                return None;
            }
        };
        let intent = router.intent(&routed.intent)?.clone();
        tracing::debug!(intent = %intent.name, score = routed.score, margin = routed.margin, "routed");
        if !intent.allows(actor.role) {
            return None;
        }
        let lang = actor.language.as_str();
        // Greetings and thanks are short; a longer message routed there is a misreading.
        let short = text.split_whitespace().count() <= 4 && text.chars().count() <= 24;
        match intent.name.as_str() {
            "greeting" if short => return Some(Answer::text(self.greeting(actor).await)),
            "thanks" if short => {
                return Some(Answer::text(self.replies.get(lang, "you_are_welcome", &[])));
            }
            _ => {}
        }
        if !intent.slots.iter().any(|s| s == "order_id") {
            return None;
        }
        let effect = is_effect(intent.tool.as_deref()?);
        match order_number(text) {
            Some(order) => Some(
                self.act(&intent, actor, order, inbound, conversation, &mut state)
                    .await,
            ),
            // A policy question ("can I return a worn jacket?") is not a request to act:
            // the knowledge answers it.
            None if effect => None,
            None => {
                self.ask_which_order(&intent, actor, inbound, conversation, &mut state)
                    .await
            }
        }
    }

    /// Runs the intent's tool for `order`: a read at once, an effect only as a command the
    /// person confirms.
    async fn act(
        &self,
        intent: &Intent,
        actor: &Actor,
        order: i64,
        inbound: &Inbound,
        conversation: &Conversation,
        state: &mut Value,
    ) -> Answer {
        let lang = actor.language.as_str();
        let Some(tool) = intent.tool.as_deref() else {
            return Answer::text(self.replies.get(lang, "see_help", &[]));
        };
        if let Some(map) = state.as_object_mut() {
            map.insert("last".into(), json!(intent.name));
        }
        self.save_state(conversation, state).await;
        if is_effect(tool) {
            let command = match tool {
                "cancel_order" => format!("/cancel {order}"),
                "start_return" => format!("/return {order}"),
                "release_hold" => format!("/release {order}"),
                _ => {
                    return Answer::text(self.replies.get(
                        lang,
                        "use_the_command",
                        &[("order", &order.to_string())],
                    ));
                }
            };
            return Answer {
                text: self
                    .replies
                    .get(lang, "confirm_command", &[("command", &command)]),
                buttons: vec![Button {
                    label: self.replies.get(lang, "confirm_button", &[]),
                    command,
                }],
            };
        }
        let call = match ToolCall::from_json(tool, json!({"order_id": order})) {
            Ok(call) => call,
            Err(e) => return Answer::text(e.to_string()),
        };
        let key = super::idempotency_key(inbound, 0);
        match self.toolbox.invoke(actor, &call, &key).await {
            Ok(outcome) => Answer::text(outcome.text()),
            Err(e) => Answer::text(e.to_string()),
        }
    }

    /// Lists the customer's recent orders and waits for a choice.
    async fn ask_which_order(
        &self,
        intent: &Intent,
        actor: &Actor,
        inbound: &Inbound,
        conversation: &Conversation,
        state: &mut Value,
    ) -> Option<Answer> {
        let lang = actor.language.as_str();
        let customer = match (actor.role, actor.customer_id) {
            (Role::Customer, Some(id)) => id,
            // Guests must link first; staff name the order they mean.
            _ => {
                return Some(Answer::text(self.replies.get(
                    lang,
                    "which_order_number",
                    &[],
                )));
            }
        };
        // Only tools the asker may use are offered as choices.
        let tool = intent.tool.as_deref()?;
        if !specs_for(actor).iter().any(|s| s.name == tool) {
            return None;
        }
        let mut conn = self.store().pool().acquire().await.ok()?;
        let recent = orders::recent_for_customer(&mut conn, customer, CHOICES)
            .await
            .ok()?;
        drop(conn);
        match recent.as_slice() {
            [] => Some(Answer::text(self.replies.get(lang, "no_orders", &[]))),
            [only] => Some(
                self.act(intent, actor, only.id, inbound, conversation, state)
                    .await,
            ),
            several => {
                let mut text = self.replies.get(lang, "which_order", &[]);
                for (i, o) in several.iter().enumerate() {
                    text.push_str(&format!(
                        "\n{}. #{} · {} · {}",
                        i + 1,
                        o.id,
                        clock::date(o.created_at),
                        crate::tools::status_words(&o.status)
                    ));
                }
                let pending = Pending {
                    intent: intent.name.clone(),
                    options: several.iter().map(|o| o.id).collect(),
                };
                if let Some(map) = state.as_object_mut() {
                    map.insert("pending".into(), json!(pending));
                }
                self.save_state(conversation, state).await;
                Some(Answer {
                    text,
                    buttons: several
                        .iter()
                        .map(|o| Button {
                            label: format!("#{}", o.id),
                            command: o.id.to_string(),
                        })
                        .collect(),
                })
            }
        }
    }

    async fn save_state(&self, conversation: &Conversation, state: &Value) {
        let saved = match self.store().pool().acquire().await {
            Ok(mut conn) => {
                conversations::set_state(&mut conn, conversation.id, &state.to_string()).await
            }
            Err(e) => Err(e.into()),
        };
        if let Err(e) = saved {
            tracing::error!(error = %e, "could not save the conversation state");
        }
    }
}

fn is_effect(tool: &str) -> bool {
    ToolCall::specs().iter().any(|s| s.name == tool && s.effect)
}

/// An order number: a run of four to six digits, with or without `#`.
pub fn order_number(text: &str) -> Option<i64> {
    text.split(|c: char| !c.is_ascii_digit())
        .find(|run| (4..=6).contains(&run.len()))
        .and_then(|run| run.parse().ok())
}

/// "the second one", "2", "2nd", "第二个", "last" → a 0-based position.
fn ordinal(text: &str) -> Option<usize> {
    let t = text.trim().to_lowercase();
    let words = [
        ("first", 0),
        ("1st", 0),
        ("second", 1),
        ("2nd", 1),
        ("third", 2),
        ("3rd", 2),
        ("fourth", 3),
        ("4th", 3),
        ("fifth", 4),
        ("5th", 4),
        ("第一", 0),
        ("第二", 1),
        ("第三", 2),
        ("第四", 3),
        ("第五", 4),
    ];
    if let Some((_, n)) = words.iter().find(|(w, _)| t.contains(w)) {
        return Some(*n);
    }
    if t.contains("last") || t.contains("最后") {
        return Some(usize::MAX);
    }
    let digits: String = t.chars().filter(char::is_ascii_digit).collect();
    match digits.parse::<usize>() {
        Ok(n @ 1..=9) if digits.len() == 1 => Some(n - 1),
        _ => None,
    }
}

fn is_correction(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    [
        "no", "nope", "not that", "wrong", "i meant", "actually", "不是", "不对", "错了",
    ]
    .iter()
    .any(|w| t.starts_with(w))
}

fn is_never_mind(text: &str) -> bool {
    let t = text.trim().to_lowercase();
    [
        "never mind",
        "nevermind",
        "forget it",
        "cancel",
        "stop",
        "算了",
        "不用了",
        "取消",
    ]
    .iter()
    .any(|w| t.starts_with(w))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn choices_are_understood_in_words_and_numbers() {
        assert_eq!(ordinal("the second one"), Some(1));
        assert_eq!(ordinal("2"), Some(1));
        assert_eq!(ordinal("第三个"), Some(2));
        assert_eq!(ordinal("hello"), None);
        assert_eq!(order_number("no, order #1043 please"), Some(1043));
        assert!(is_correction("No, order 1043"));
        assert!(is_correction("不是，是1043"));
        assert!(is_never_mind("never mind"));
    }
}
