//! The language model behind free-text turns, as one trait with two backends.
//!
//! [`ChatModel`] takes messages, the tools on offer and sampling settings, and returns a
//! stream of [`Event`]s: text pieces (always whole UTF-8 characters), at most one tool
//! call, and a final [`Finish`]. Dropping the stream cancels the request and frees what it
//! held. A backend that cannot take more work answers [`LlmError::Busy`] at once instead of
//! queueing without bound.
//!
//! - [`llama`]: llama.cpp in process (llama-cpp-2), many conversations batched together.
//! - [`openai`]: any OpenAI-compatible endpoint (OpenAI, vLLM, llama-server, Ollama, or
//!   another shopdesk's `/v1`).
//!
//! This module knows nothing of the store's tools: callers pass plain [`ToolSpec`]s and
//! validate whatever comes back before anything acts on it.

pub mod budget;
pub mod grammar;
pub mod llama;
pub mod openai;
mod template;
mod utf8;

use std::pin::Pin;
use std::sync::Arc;

use async_trait::async_trait;
use futures::Stream;
use serde::{Deserialize, Serialize};

use crate::config::Config;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    System,
    User,
    Assistant,
    /// A tool's result, shown to the model on the next turn.
    Tool,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: String,
}

impl Message {
    pub fn new(role: Role, content: impl Into<String>) -> Self {
        Message {
            role,
            content: content.into(),
        }
    }
}

/// A tool as the model is offered it: name, what it does, JSON schema of its arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolSpec {
    pub name: String,
    pub description: String,
    pub parameters: serde_json::Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Sampling {
    /// 0 picks the most likely token every time (what tool choice uses).
    pub temperature: f32,
    pub top_p: f32,
    /// Longest reply in tokens; the reply ends with [`FinishReason::Length`] there.
    pub max_tokens: u32,
    pub seed: u32,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling {
            temperature: 0.7,
            top_p: 0.9,
            max_tokens: 256,
            seed: 0x5EED,
        }
    }
}

/// What shape the output must take.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Output {
    /// Free text, streamed as it is generated.
    #[default]
    Text,
    /// Either one call of one of the offered tools, or "answer in words" (the stream then
    /// ends with no tool call). The llama backend enforces the shape with a grammar.
    ToolChoice,
    /// JSON matching this schema (slot extraction, classification).
    Json(serde_json::Value),
}

#[derive(Debug, Clone, PartialEq)]
pub struct ChatRequest {
    /// Keeps the conversation's state (the llama KV cache) between its turns; requests of
    /// the same session are served one at a time, in order.
    pub session: Option<String>,
    pub messages: Vec<Message>,
    pub tools: Vec<ToolSpec>,
    pub sampling: Sampling,
    pub output: Output,
}

impl ChatRequest {
    pub fn text(messages: Vec<Message>) -> Self {
        ChatRequest {
            session: None,
            messages,
            tools: Vec::new(),
            sampling: Sampling::default(),
            output: Output::Text,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    /// The next piece of the reply: whole characters only, never half a UTF-8 sequence.
    Text(String),
    /// The model chose a tool. The arguments are unvalidated JSON from the model.
    ToolCall {
        name: String,
        arguments: serde_json::Value,
    },
    Done(Finish),
}

/// Serialised as OpenAI names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    Stop,
    Length,
    #[serde(rename = "tool_calls")]
    ToolCall,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Finish {
    pub reason: FinishReason,
    pub prompt_tokens: usize,
    /// Prompt tokens that were already in the cache and not evaluated again.
    pub cached_tokens: usize,
    pub completion_tokens: usize,
}

#[derive(Debug, thiserror::Error)]
pub enum LlmError {
    /// Every slot and queue place is taken; try again shortly or answer without the model.
    #[error("the assistant is busy with other conversations")]
    Busy,
    #[error("the model is not available: {0}")]
    Unavailable(String),
    #[error("the model failed: {0}")]
    Failed(String),
}

pub type EventStream = Pin<Box<dyn Stream<Item = Result<Event, LlmError>> + Send>>;

#[async_trait]
pub trait ChatModel: Send + Sync {
    /// The model's name as `/v1/models` lists it.
    fn name(&self) -> &str;

    /// Starts one request. Returns [`LlmError::Busy`] at once when the queue is full.
    async fn chat(&self, request: ChatRequest) -> Result<EventStream, LlmError>;
}

/// The configured backend, loaded and ready; `None` when `model.backend` is `none`.
pub async fn load(config: &Config) -> anyhow::Result<Option<Arc<dyn ChatModel>>> {
    let model = &config.model;
    Ok(match model.backend.as_str() {
        "llama" => {
            let settings = llama::Settings::from_config(model);
            Some(Arc::new(llama::LlamaChat::load(settings).await?))
        }
        "openai" => Some(Arc::new(openai::OpenAiChat::new(
            &model.openai_base_url,
            &model.openai_api_key,
            &model.openai_model,
        ))),
        _ => None,
    })
}

/// Collects a whole reply: its text, the tool call if any, and how it finished.
pub async fn collect(
    mut stream: EventStream,
) -> Result<(String, Option<(String, serde_json::Value)>, Option<Finish>), LlmError> {
    use futures::StreamExt;
    let mut text = String::new();
    let mut call = None;
    let mut finish = None;
    while let Some(event) = stream.next().await {
        match event? {
            Event::Text(piece) => text.push_str(&piece),
            Event::ToolCall { name, arguments } => call = Some((name, arguments)),
            Event::Done(f) => finish = Some(f),
        }
    }
    Ok((text, call, finish))
}
