//! The OpenAI-compatible endpoint: `POST /v1/chat/completions` (plain, or streamed as
//! server-sent events) and `GET /v1/models`, answered by the local model. One GPU machine
//! running `shopdesk serve` can so serve many shopdesk instances (their `openai` backend),
//! and any OpenAI client can talk to it.
//!
//! Requests are read leniently (string or text-part content, `max_tokens` or
//! `max_completion_tokens`) and answered with OpenAI's error shape when they are wrong.
//! `tools` make the reply a tool choice, `response_format` a JSON schema; a full queue
//! answers 429 at once. A bearer key is checked whenever one is configured.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::sse::{Event as SseEvent, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::engine::Engine;
use crate::llm::{
    ChatModel, ChatRequest, Event, Finish, FinishReason, LlmError, Message, Output, Role, Sampling,
    ToolSpec,
};

#[derive(Clone)]
struct V1 {
    engine: Arc<Engine>,
    api_key: Arc<str>,
}

/// The `/v1` routes. An empty `api_key` leaves them open (the config allows that only
/// on a loopback listener).
pub fn router(engine: Arc<Engine>, api_key: &str) -> Router {
    Router::new()
        .route("/v1/models", get(models))
        .route("/v1/chat/completions", post(chat_completions))
        .with_state(V1 {
            engine,
            api_key: api_key.into(),
        })
}

async fn models(State(v1): State<V1>, headers: HeaderMap) -> Response {
    let model = match v1.ready(&headers) {
        Ok(model) => model,
        Err((status, message)) => return error(status, message, None),
    };
    axum::Json(json!({
        "object": "list",
        "data": [{"id": model.name(), "object": "model", "created": 0, "owned_by": "shopdesk"}]
    }))
    .into_response()
}

async fn chat_completions(State(v1): State<V1>, headers: HeaderMap, body: Bytes) -> Response {
    let model = match v1.ready(&headers) {
        Ok(model) => model,
        Err((status, message)) => return error(status, message, None),
    };
    let body: Value = match serde_json::from_slice(&body) {
        Ok(body) => body,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                &format!("the body is not valid JSON: {e}"),
                None,
            );
        }
    };
    let parsed = match parse_request(&body) {
        Ok(parsed) => parsed,
        Err((message, param)) => return error(StatusCode::BAD_REQUEST, &message, Some(param)),
    };
    let stream = match model.chat(parsed.request).await {
        Ok(stream) => stream,
        Err(LlmError::Busy) => {
            let mut response = error(
                StatusCode::TOO_MANY_REQUESTS,
                "the model is busy with other conversations; retry shortly",
                None,
            );
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
            return response;
        }
        Err(e) => return error(StatusCode::SERVICE_UNAVAILABLE, &e.to_string(), None),
    };
    let id = format!("chatcmpl-{:016x}", rand::random::<u64>());
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let meta = Meta {
        id,
        created,
        model: model.name().to_string(),
    };
    if parsed.stream {
        streamed(meta, stream, parsed.include_usage).into_response()
    } else {
        whole(meta, stream).await
    }
}

impl V1 {
    /// The model, once the caller is allowed and the model has loaded; else the status
    /// and message to refuse with.
    fn ready(&self, headers: &HeaderMap) -> Result<Arc<dyn ChatModel>, (StatusCode, &'static str)> {
        if !self.api_key.is_empty() {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            if given != Some(&*self.api_key) {
                return Err((
                    StatusCode::UNAUTHORIZED,
                    "missing or wrong API key: send Authorization: Bearer <http.api_key>",
                ));
            }
        }
        self.engine.model().cloned().ok_or((
            StatusCode::SERVICE_UNAVAILABLE,
            "the model is not loaded (still loading, or model.backend = none); see /readyz",
        ))
    }
}

struct Parsed {
    request: ChatRequest,
    stream: bool,
    include_usage: bool,
}

/// OpenAI's request JSON → our request; the error names the offending parameter.
fn parse_request(body: &Value) -> Result<Parsed, (String, String)> {
    let bad = |message: &str, param: &str| (message.to_string(), param.to_string());
    let messages = body
        .get("messages")
        .and_then(Value::as_array)
        .filter(|m| !m.is_empty())
        .ok_or_else(|| bad("`messages` must be a non-empty array", "messages"))?
        .iter()
        .map(parse_message)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|m| bad(&m, "messages"))?;
    let tools: Vec<ToolSpec> = match body.get("tools") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(tools)) => tools
            .iter()
            .map(|t| {
                let f = t.get("function").unwrap_or(t);
                Some(ToolSpec {
                    name: f.get("name")?.as_str()?.to_string(),
                    description: f
                        .get("description")
                        .and_then(Value::as_str)
                        .unwrap_or_default()
                        .to_string(),
                    parameters: f
                        .get("parameters")
                        .cloned()
                        .unwrap_or(json!({"type": "object"})),
                })
            })
            .collect::<Option<_>>()
            .ok_or_else(|| bad("every tool needs a function with a name", "tools"))?,
        Some(_) => return Err(bad("`tools` must be an array", "tools")),
    };
    let tool_choice_none = body.get("tool_choice").and_then(Value::as_str) == Some("none");
    let output = match body.get("response_format") {
        Some(format) if format.get("type").and_then(Value::as_str) == Some("json_schema") => {
            let schema = format
                .pointer("/json_schema/schema")
                .cloned()
                .ok_or_else(|| bad("json_schema needs a schema", "response_format"))?;
            Output::Json(schema)
        }
        Some(format) if format.get("type").and_then(Value::as_str) == Some("json_object") => {
            Output::Json(json!({"type": "object"}))
        }
        _ if !tools.is_empty() && !tool_choice_none => Output::ToolChoice,
        _ => Output::Text,
    };
    let defaults = Sampling::default();
    let number = |key: &str| body.get(key).and_then(Value::as_f64);
    let max_tokens = number("max_completion_tokens")
        .or_else(|| number("max_tokens"))
        .map(|n| n.clamp(1.0, 32_768.0) as u32)
        .unwrap_or(defaults.max_tokens);
    let sampling = Sampling {
        temperature: number("temperature").map_or(defaults.temperature, |t| t as f32),
        top_p: number("top_p").map_or(defaults.top_p, |p| p as f32),
        max_tokens,
        seed: number("seed").map_or(defaults.seed, |s| s as u32),
    };
    Ok(Parsed {
        request: ChatRequest {
            session: ["prompt_cache_key", "user"]
                .iter()
                .find_map(|key| body.get(*key).and_then(Value::as_str))
                .map(str::to_string),
            messages,
            tools,
            sampling,
            output,
        },
        stream: body.get("stream").and_then(Value::as_bool).unwrap_or(false),
        include_usage: body
            .pointer("/stream_options/include_usage")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

fn parse_message(m: &Value) -> Result<Message, String> {
    let role = match m.get("role").and_then(Value::as_str) {
        Some("system" | "developer") => Role::System,
        Some("user") => Role::User,
        Some("assistant") => Role::Assistant,
        Some("tool" | "function") => Role::Tool,
        other => return Err(format!("unknown message role {other:?}")),
    };
    let mut content = match m.get("content") {
        Some(Value::String(text)) => text.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    };
    if let Some(calls) = m.get("tool_calls").and_then(Value::as_array) {
        for call in calls {
            content.push_str(&call["function"].to_string());
        }
    }
    Ok(Message::new(role, content))
}

struct Meta {
    id: String,
    created: u64,
    model: String,
}

impl Meta {
    fn chunk(&self, choices: Value, usage: Option<Value>) -> Value {
        let mut chunk = json!({
            "id": self.id, "object": "chat.completion.chunk", "created": self.created,
            "model": self.model, "choices": choices,
        });
        if let Some(usage) = usage {
            chunk["usage"] = usage;
        }
        chunk
    }
}

async fn whole(meta: Meta, stream: crate::llm::EventStream) -> Response {
    let (text, call, finish) = match crate::llm::collect(stream).await {
        Ok(reply) => reply,
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string(), None),
    };
    let mut message = json!({"role": "assistant", "content": text});
    if let Some((name, arguments)) = call {
        message["content"] = Value::Null;
        message["tool_calls"] = json!([tool_call(&meta, &name, &arguments)]);
    }
    let reason = finish.as_ref().map_or(FinishReason::Stop, |f| f.reason);
    axum::Json(json!({
        "id": meta.id, "object": "chat.completion", "created": meta.created, "model": meta.model,
        "choices": [{"index": 0, "message": message, "finish_reason": reason}],
        "usage": usage(finish.as_ref()),
    }))
    .into_response()
}

fn streamed(
    meta: Meta,
    stream: crate::llm::EventStream,
    include_usage: bool,
) -> Sse<impl futures::Stream<Item = Result<SseEvent, std::convert::Infallible>>> {
    let meta = Arc::new(meta);
    let first = meta.chunk(
        json!([{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": null}]),
        None,
    );
    let body_meta = meta.clone();
    let body = stream.flat_map(move |event| {
        let m = &body_meta;
        let chunks: Vec<Value> = match event {
            Ok(Event::Text(text)) => vec![m.chunk(
                json!([{"index": 0, "delta": {"content": text}, "finish_reason": null}]),
                None,
            )],
            Ok(Event::ToolCall { name, arguments }) => {
                let mut call = tool_call(m, &name, &arguments);
                call["index"] = json!(0);
                vec![m.chunk(
                    json!([{"index": 0, "delta": {"tool_calls": [call]}, "finish_reason": null}]),
                    None,
                )]
            }
            Ok(Event::Done(finish)) => {
                let mut out = vec![m.chunk(
                    json!([{"index": 0, "delta": {}, "finish_reason": finish.reason}]),
                    None,
                )];
                if include_usage {
                    out.push(m.chunk(json!([]), Some(usage(Some(&finish)))));
                }
                out
            }
            Err(e) => vec![json!({"error": {"message": e.to_string(), "type": "server_error"}})],
        };
        futures::stream::iter(chunks)
    });
    let events = futures::stream::iter([first])
        .chain(body)
        .map(|chunk| Ok(SseEvent::default().data(chunk.to_string())))
        .chain(futures::stream::once(async {
            Ok(SseEvent::default().data("[DONE]"))
        }));
    Sse::new(events).keep_alive(KeepAlive::default())
}

fn tool_call(meta: &Meta, name: &str, arguments: &Value) -> Value {
    json!({
        "id": format!("call_{}", &meta.id[meta.id.len().saturating_sub(12)..]),
        "type": "function",
        "function": {"name": name, "arguments": arguments.to_string()},
    })
}

fn usage(finish: Option<&Finish>) -> Value {
    let (prompt, cached, completion) = finish.map_or((0, 0, 0), |f| {
        (f.prompt_tokens, f.cached_tokens, f.completion_tokens)
    });
    json!({
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    })
}

/// OpenAI's error shape, which OpenAI clients turn into their own exceptions.
fn error(status: StatusCode, message: &str, param: Option<String>) -> Response {
    let kind = match status {
        StatusCode::UNAUTHORIZED => "authentication_error",
        StatusCode::TOO_MANY_REQUESTS => "rate_limit_exceeded",
        StatusCode::BAD_REQUEST => "invalid_request_error",
        _ => "server_error",
    };
    (
        status,
        axum::Json(
            json!({"error": {"message": message, "type": kind, "param": param, "code": null}}),
        ),
    )
        .into_response()
}
