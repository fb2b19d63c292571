//! Free text, answered with the language model.
//!
//! Two steps. First the model chooses, in grammar-constrained JSON, one of the read-only
//! tools the asker's role may use, or "answer in words". A chosen call is validated against
//! the tool's argument type, must use only values the person wrote (a small model invents
//! order numbers and SKUs), and then goes through the toolbox like any command, so the
//! permission layer, not the model, decides what the asker may see. Tools that change
//! anything are never offered: effects start from a command the person typed. Otherwise
//! the model answers in words, streamed, from the store facts in its system prompt.
//!
//! When the store's knowledge is indexed, the engine has already looked there first
//! ([`super::grounded`]); if it found nothing confident and the model would answer in
//! words, the assistant says it is not sure and offers a person instead of guessing.
//!
//! Each step keeps its own llama session per conversation, so a follow-up turn only
//! evaluates what is new. The default 135M model writes poor Chinese, so Chinese speakers
//! get a templated answer instead of the model's words.

use std::sync::Arc;

use futures::StreamExt;
use futures::stream::BoxStream;
use shopdesk_port::Inbound;

use super::Answer;
use crate::llm::{self, ChatModel, ChatRequest, Event, LlmError, Message, Output, Sampling};
use crate::policy::Actor;
use crate::store::conversations::{self, Conversation};
use crate::tools::{Outcome, ToolCall, Toolbox, specs_for};

/// Earlier messages the model sees; the token budget trims further if they do not fit.
const HISTORY_MESSAGES: i64 = 8;
/// Enough for the longest valid tool choice; a choice that runs past it is discarded.
const CHOICE_TOKENS: u32 = 128;

/// What the assistant answers: complete now, or streamed as the model writes.
pub enum Reply {
    Whole(Answer),
    Streamed(BoxStream<'static, String>),
}

pub struct Assistant {
    model: Arc<dyn ChatModel>,
    max_reply_tokens: u32,
}

impl Assistant {
    pub fn new(model: Arc<dyn ChatModel>, max_reply_tokens: u32) -> Self {
        Assistant {
            model,
            max_reply_tokens,
        }
    }

    pub fn model(&self) -> &Arc<dyn ChatModel> {
        &self.model
    }

    pub async fn reply(
        &self,
        engine: &super::Engine,
        actor: &Actor,
        text: &str,
        inbound: &Inbound,
        conversation: &Conversation,
        knowledge_checked: bool,
    ) -> Reply {
        let (toolbox, replies) = (&engine.toolbox, &engine.replies);
        let lang = actor.language.as_str();
        let system = replies.get(
            lang,
            "assistant_system",
            &[
                ("role", actor.role.as_str()),
                (
                    "return_window",
                    &toolbox.config.orders.return_window_days.to_string(),
                ),
            ],
        );
        let mut messages = vec![Message::new(llm::Role::System, system)];
        messages.extend(self.history(toolbox, conversation, text).await);
        messages.push(Message::new(llm::Role::User, text));

        match self.choose_tool(actor, conversation, &messages).await {
            Ok(Some(call)) => {
                let key = super::idempotency_key(inbound, 0);
                return Reply::Whole(match toolbox.invoke(actor, &call, &key).await {
                    Ok(Outcome::Done { text, .. }) => Answer::text(text),
                    Ok(other) => Answer::text(other.text()),
                    Err(e) => Answer::text(e.to_string()),
                });
            }
            Ok(None) => {}
            Err(LlmError::Busy) => {
                return Reply::Whole(Answer::text(replies.get(lang, "assistant_busy", &[])));
            }
            Err(e) => {
                tracing::warn!(error = %e, "the model could not choose; answering in words");
            }
        }
        // The knowledge had nothing confident to say: rather than let the model invent
        // policy, say so and offer a person.
        if knowledge_checked {
            return Reply::Whole(Answer {
                text: replies.get(lang, "not_sure", &[]),
                buttons: vec![shopdesk_port::Button {
                    label: replies.get(lang, "human_button", &[]),
                    command: "/human".into(),
                }],
            });
        }
        if lang != "en" {
            return Reply::Whole(Answer::text(replies.get(lang, "assistant_commands", &[])));
        }
        let request = ChatRequest {
            session: Some(format!("conversation-{}-answer", conversation.id)),
            messages,
            tools: Vec::new(),
            sampling: Sampling {
                max_tokens: self.max_reply_tokens,
                ..Sampling::default()
            },
            output: Output::Text,
        };
        match self.model.chat(request).await {
            Ok(stream) => Reply::Streamed(text_only(stream)),
            Err(LlmError::Busy) => {
                Reply::Whole(Answer::text(replies.get(lang, "assistant_busy", &[])))
            }
            Err(e) => {
                tracing::error!(error = %e, "the model failed");
                Reply::Whole(Answer::text(replies.get(
                    lang,
                    "assistant_unavailable",
                    &[],
                )))
            }
        }
    }

    /// The model's choice of a read-only tool, validated; `None`: answer in words (also
    /// when the choice does not validate: a wrong guess must not become an error message).
    async fn choose_tool(
        &self,
        actor: &Actor,
        conversation: &Conversation,
        messages: &[Message],
    ) -> Result<Option<ToolCall>, LlmError> {
        let tools: Vec<llm::ToolSpec> = specs_for(actor)
            .into_iter()
            .filter(|s| !s.effect)
            .map(|s| llm::ToolSpec {
                name: s.name.to_string(),
                description: s.description.to_string(),
                parameters: s.parameters,
            })
            .collect();
        if tools.is_empty() {
            return Ok(None);
        }
        let request = ChatRequest {
            session: Some(format!("conversation-{}-choose", conversation.id)),
            messages: messages.to_vec(),
            tools,
            sampling: Sampling {
                temperature: 0.0,
                max_tokens: CHOICE_TOKENS,
                ..Sampling::default()
            },
            output: Output::ToolChoice,
        };
        let (_, call, _) = llm::collect(self.model.chat(request).await?).await?;
        let asked = messages
            .last()
            .map(|m| m.content.to_lowercase())
            .unwrap_or_default();
        // A small model invents arguments ("SKU 1234567890" for "hello"): a call is only
        // taken when every value in it was written by the person.
        let call = call.filter(|(name, arguments)| {
            let grounded = written_by_the_person(arguments, &asked);
            if !grounded {
                tracing::info!(tool = %name, %arguments, "model's tool choice has invented arguments");
            }
            grounded
        });
        Ok(call.and_then(|(name, arguments)| {
            ToolCall::from_json(&name, arguments)
                .inspect_err(
                    |e| tracing::info!(tool = %name, error = %e, "model's tool choice rejected"),
                )
                .ok()
        }))
    }

    async fn history(
        &self,
        toolbox: &Toolbox,
        conversation: &Conversation,
        text: &str,
    ) -> Vec<Message> {
        let Ok(mut conn) = toolbox.store.pool().acquire().await else {
            return Vec::new();
        };
        let mut lines =
            conversations::recent_messages(&mut conn, conversation.id, HISTORY_MESSAGES + 1)
                .await
                .unwrap_or_default();
        // The message being answered is already stored; it goes last, on its own.
        if lines
            .last()
            .is_some_and(|m| m.direction == "in" && m.text == text)
        {
            lines.pop();
        }
        lines
            .into_iter()
            .map(|m| {
                let role = if m.direction == "in" {
                    llm::Role::User
                } else {
                    llm::Role::Assistant
                };
                Message::new(role, m.text)
            })
            .collect()
    }
}

/// Whether every string and number in `arguments` appears in the person's message.
fn written_by_the_person(arguments: &serde_json::Value, asked: &str) -> bool {
    use serde_json::Value;
    match arguments {
        Value::String(s) => s.trim().is_empty() || asked.contains(&s.trim().to_lowercase()),
        Value::Number(n) => asked.contains(&n.to_string()),
        Value::Array(items) => items.iter().all(|v| written_by_the_person(v, asked)),
        Value::Object(map) => map.values().all(|v| written_by_the_person(v, asked)),
        Value::Bool(_) | Value::Null => true,
    }
}

/// The reply's text pieces; a failure mid-stream ends the reply with an apology.
fn text_only(stream: llm::EventStream) -> BoxStream<'static, String> {
    stream
        .filter_map(|event| async move {
            match event {
                Ok(Event::Text(piece)) => Some(piece),
                Ok(_) => None,
                Err(e) => {
                    tracing::error!(error = %e, "the model failed mid-reply");
                    Some(" (Sorry, I was cut off. Type /human to reach a person.)".into())
                }
            }
        })
        .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn invented_arguments_are_refused() {
        let asked = "is sku-0042 in stock?";
        assert!(written_by_the_person(&json!({"sku": "SKU-0042"}), asked));
        assert!(!written_by_the_person(
            &json!({"sku": "1234567890"}),
            "hello! how are you?"
        ));
        assert!(written_by_the_person(
            &json!({"order_id": 1042}),
            "where is order 1042"
        ));
        assert!(!written_by_the_person(
            &json!({"order_id": 1}),
            "where is my order"
        ));
    }
}
