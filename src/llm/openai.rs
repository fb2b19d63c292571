//! The remote backend: any OpenAI-compatible chat endpoint, through async-openai.
//!
//! Tools are offered natively (`tools`, `tool_choice: auto`) and JSON output is asked for
//! with `response_format: json_schema`; the reply streams. Prompts are trimmed with OpenAI's
//! tokenizer (tiktoken), exact for OpenAI's models and a close estimate for others.

use std::collections::BTreeMap;

use async_openai::Client;
use async_openai::config::OpenAIConfig;
use async_openai::types::chat::{
    ChatCompletionRequestAssistantMessage, ChatCompletionRequestMessage,
    ChatCompletionRequestSystemMessage, ChatCompletionRequestUserMessage,
    ChatCompletionStreamOptions, ChatCompletionTool, ChatCompletionTools,
    CreateChatCompletionRequest, FinishReason as ApiFinish, FunctionObject, ResponseFormat,
    ResponseFormatJsonSchema,
};
use async_trait::async_trait;
use futures::StreamExt;

use super::{
    ChatModel, ChatRequest, Event, EventStream, Finish, FinishReason, LlmError, Message, Output,
    Role, budget,
};

/// Context assumed for remote models when trimming history.
const CONTEXT_TOKENS: usize = 8192;

pub struct OpenAiChat {
    client: Client<OpenAIConfig>,
    model: String,
}

impl OpenAiChat {
    /// `base_url` includes `/v1` (`http://gpu-box:8080/v1`).
    pub fn new(base_url: &str, api_key: &str, model: &str) -> Self {
        // async-openai's TLS is rustls without a built-in provider: name ours once.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let config = OpenAIConfig::new()
            .with_api_base(base_url.trim_end_matches('/'))
            .with_api_key(api_key);
        OpenAiChat {
            client: Client::with_config(config),
            model: model.to_string(),
        }
    }

    fn request(&self, request: &ChatRequest) -> CreateChatCompletionRequest {
        let reserve = request.sampling.max_tokens as usize;
        let messages = budget::fit(
            &request.messages,
            CONTEXT_TOKENS,
            reserve,
            budget::openai_tokens,
        );
        let mut api = CreateChatCompletionRequest {
            model: self.model.clone(),
            messages: messages.iter().map(api_message).collect(),
            stream: Some(true),
            stream_options: Some(ChatCompletionStreamOptions {
                include_usage: Some(true),
                include_obfuscation: None,
            }),
            max_completion_tokens: Some(request.sampling.max_tokens),
            temperature: Some(request.sampling.temperature),
            top_p: Some(request.sampling.top_p),
            // Servers that cache prompts (OpenAI, shopdesk's /v1) keep a session's cache
            // under this key.
            prompt_cache_key: request.session.clone(),
            ..Default::default()
        };
        match &request.output {
            Output::Text => {}
            Output::ToolChoice => {
                api.tools = Some(
                    request
                        .tools
                        .iter()
                        .map(|t| {
                            ChatCompletionTools::Function(ChatCompletionTool {
                                function: FunctionObject {
                                    name: t.name.clone(),
                                    description: Some(t.description.clone()),
                                    parameters: Some(t.parameters.clone()),
                                    strict: None,
                                },
                            })
                        })
                        .collect(),
                );
            }
            Output::Json(schema) => {
                api.response_format = Some(ResponseFormat::JsonSchema {
                    json_schema: ResponseFormatJsonSchema {
                        description: None,
                        name: "output".into(),
                        schema: schema.clone(),
                        strict: Some(true),
                    },
                });
            }
        }
        api
    }
}

fn api_message(message: &Message) -> ChatCompletionRequestMessage {
    let content = message.content.clone();
    match message.role {
        Role::System => ChatCompletionRequestMessage::System(ChatCompletionRequestSystemMessage {
            content: content.into(),
            name: None,
        }),
        Role::User => ChatCompletionRequestMessage::User(ChatCompletionRequestUserMessage {
            content: content.into(),
            name: None,
        }),
        Role::Assistant => {
            ChatCompletionRequestMessage::Assistant(ChatCompletionRequestAssistantMessage {
                content: Some(content.into()),
                ..Default::default()
            })
        }
        // Our tool results carry no call id (they come from deterministic paths too), so
        // they travel as user turns, which every endpoint accepts.
        Role::Tool => ChatCompletionRequestMessage::User(ChatCompletionRequestUserMessage {
            content: format!("Tool result:\n{content}").into(),
            name: None,
        }),
    }
}

#[async_trait]
impl ChatModel for OpenAiChat {
    fn name(&self) -> &str {
        &self.model
    }

    async fn chat(&self, request: ChatRequest) -> Result<EventStream, LlmError> {
        let api = self.request(&request);
        let stream = self
            .client
            .chat()
            .create_stream(api)
            .await
            .map_err(|e| unavailable(&e))?;
        Ok(Box::pin(events(stream)))
    }
}

fn unavailable(e: &async_openai::error::OpenAIError) -> LlmError {
    let text = e.to_string();
    if text.contains("429") || text.to_lowercase().contains("busy") {
        LlmError::Busy
    } else {
        LlmError::Unavailable(text)
    }
}

/// Text deltas pass through as they come; tool-call fragments are joined and sent whole
/// at the end, with the usage the endpoint reports.
fn events(
    stream: async_openai::types::chat::ChatCompletionResponseStream,
) -> impl futures::Stream<Item = Result<Event, LlmError>> + Send {
    struct State {
        stream: async_openai::types::chat::ChatCompletionResponseStream,
        calls: BTreeMap<u32, (String, String)>,
        reason: FinishReason,
        usage: (usize, usize, usize),
        done: bool,
    }
    let state = State {
        stream,
        calls: BTreeMap::new(),
        reason: FinishReason::Stop,
        usage: (0, 0, 0),
        done: false,
    };
    futures::stream::unfold(state, |mut st| async move {
        if st.done {
            return None;
        }
        loop {
            match st.stream.next().await {
                Some(Err(e)) => {
                    st.done = true;
                    return Some((Err(LlmError::Failed(e.to_string())), st));
                }
                Some(Ok(chunk)) => {
                    if let Some(usage) = chunk.usage {
                        let cached = usage
                            .prompt_tokens_details
                            .and_then(|d| d.cached_tokens)
                            .unwrap_or(0);
                        st.usage = (
                            usage.prompt_tokens as usize,
                            cached as usize,
                            usage.completion_tokens as usize,
                        );
                    }
                    let mut text = String::new();
                    for choice in chunk.choices {
                        if let Some(piece) = choice.delta.content {
                            text.push_str(&piece);
                        }
                        for call in choice.delta.tool_calls.unwrap_or_default() {
                            let entry = st.calls.entry(call.index).or_default();
                            if let Some(f) = call.function {
                                entry.0.push_str(&f.name.unwrap_or_default());
                                entry.1.push_str(&f.arguments.unwrap_or_default());
                            }
                        }
                        match choice.finish_reason {
                            Some(ApiFinish::Length) => st.reason = FinishReason::Length,
                            Some(ApiFinish::ToolCalls) => st.reason = FinishReason::ToolCall,
                            _ => {}
                        }
                    }
                    if !text.is_empty() {
                        return Some((Ok(Event::Text(text)), st));
                    }
                }
                None => {
                    if let Some((_, (name, arguments))) = st.calls.pop_first() {
                        st.reason = FinishReason::ToolCall;
                        let arguments = serde_json::from_str(&arguments)
                            .unwrap_or(serde_json::Value::String(arguments));
                        return Some((Ok(Event::ToolCall { name, arguments }), st));
                    }
                    st.done = true;
                    let (prompt_tokens, cached_tokens, completion_tokens) = st.usage;
                    let finish = Finish {
                        reason: st.reason,
                        prompt_tokens,
                        cached_tokens,
                        completion_tokens,
                    };
                    return Some((Ok(Event::Done(finish)), st));
                }
            }
        }
    })
}
