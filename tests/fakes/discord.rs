//! A fake Discord: the REST routes the bot calls (under /api/v10) and a gateway WebSocket
//! that does the real handshake (Hello, Identify, Ready, heartbeat ACKs) and then delivers
//! the events a test injects (MESSAGE_CREATE, INTERACTION_CREATE). serenity talks to it
//! through HttpBuilder's proxy with the rate limiter off; the gateway URL comes from the
//! fake's GET /api/v10/gateway, as serenity asks for it at start.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::extract::ws::{Message as WsMessage, WebSocket, WebSocketUpgrade};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, patch, post, put};
use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::sync::{Notify, mpsc};

use super::PATIENCE;

pub const APP_ID: u64 = 5_000;
pub const BOT_USER: u64 = 4_000;
pub const GUILD: u64 = 9_000;
pub const STAFF_CHANNEL: u64 = 7_000;
pub const TOKEN: &str = "fake-discord-token";
const TIMESTAMP: &str = "2026-11-01T00:00:00.000000+00:00";

/// A message the bot posted, or an interaction's response, with every content it showed.
#[derive(Debug, Clone)]
pub struct Posted {
    pub id: u64,
    pub channel: u64,
    pub contents: Vec<String>,
    pub components: Value,
    /// The interaction token, for responses and follow-ups.
    pub interaction: Option<String>,
}

impl Posted {
    pub fn content(&self) -> &str {
        self.contents.last().map(String::as_str).unwrap_or_default()
    }

    /// The custom ids of the message's buttons.
    pub fn buttons(&self) -> Vec<String> {
        self.components
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
            .filter_map(|b| b["custom_id"].as_str().map(String::from))
            .collect()
    }
}

#[derive(Default)]
pub struct Seen {
    next_id: u64,
    pub posted: Vec<Posted>,
    /// (thread id, parent channel, name)
    pub threads: Vec<(u64, u64, String)>,
    pub commands: Vec<Value>,
    /// (interaction id, response type)
    pub callbacks: Vec<(u64, u64)>,
    pub deleted_responses: Vec<String>,
    pub identified: bool,
    pub heartbeats: usize,
    /// The channel each interaction came from, by token.
    interaction_channels: std::collections::HashMap<String, u64>,
    gateway: Option<mpsc::UnboundedSender<String>>,
    seq: u64,
}

impl Seen {
    /// Messages the bot posted in `channel` (not interaction responses).
    pub fn in_channel(&self, channel: u64) -> Vec<&Posted> {
        self.posted
            .iter()
            .filter(|p| p.channel == channel && p.interaction.is_none())
            .collect()
    }

    pub fn response(&self, interaction_token: &str) -> Option<&Posted> {
        self.posted
            .iter()
            .find(|p| p.interaction.as_deref() == Some(interaction_token))
    }
}

struct Shared {
    state: Mutex<Seen>,
    changed: Notify,
    base: Mutex<String>,
}

#[derive(Clone)]
pub struct FakeDiscord {
    pub url: String,
    shared: Arc<Shared>,
}

impl FakeDiscord {
    pub async fn start() -> FakeDiscord {
        let shared = Arc::new(Shared {
            state: Mutex::new(Seen {
                next_id: 100_000,
                ..Seen::default()
            }),
            changed: Notify::new(),
            base: Mutex::new(String::new()),
        });
        let router = Router::new()
            .route("/api/v10/gateway", get(gateway_url))
            .route("/api/v10/gateway/bot", get(gateway_url))
            .route("/gateway", get(gateway))
            .route(
                "/api/v10/users/@me",
                get(|| async { Json(user(BOT_USER, "shopdesk", true)) }),
            )
            .route(
                "/api/v10/applications/{app}/commands",
                put(register_commands),
            )
            .route("/api/v10/channels/{channel}", get(get_channel))
            .route("/api/v10/channels/{channel}/messages", post(create_message))
            .route(
                "/api/v10/channels/{channel}/messages/{message}",
                patch(edit_message),
            )
            .route(
                "/api/v10/channels/{channel}/typing",
                post(|| async { StatusCode::NO_CONTENT }),
            )
            .route("/api/v10/channels/{channel}/threads", post(create_thread))
            .route(
                "/api/v10/interactions/{id}/{token}/callback",
                post(interaction_callback),
            )
            .route(
                "/api/v10/webhooks/{app}/{token}/messages/@original",
                patch(edit_original).delete(delete_original),
            )
            .route("/api/v10/webhooks/{app}/{token}", post(create_followup))
            .route(
                "/api/v10/webhooks/{app}/{token}/messages/{message}",
                patch(edit_followup),
            )
            .with_state(shared.clone());
        let addr = super::serve(router).await;
        *shared.base.lock().unwrap() = format!("{addr}");
        FakeDiscord {
            url: format!("http://{addr}"),
            shared,
        }
    }

    pub fn read<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        f(&self.shared.state.lock().unwrap())
    }

    /// Waits until `cond` holds, or fails the test with what the fake saw.
    pub async fn wait_for(&self, what: &str, cond: impl Fn(&Seen) -> bool) {
        let deadline = Instant::now() + PATIENCE;
        loop {
            let notified = self.shared.changed.notified();
            if self.read(&cond) {
                return;
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                let dump = self.read(|s| {
                    s.posted
                        .iter()
                        .map(|p| format!("channel {} #{}: {:?}", p.channel, p.id, p.contents))
                        .collect::<Vec<_>>()
                        .join("\n")
                });
                panic!("timed out waiting for {what}; the bot posted:\n{dump}");
            }
            let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), notified).await;
        }
    }

    fn next_id(&self) -> u64 {
        let mut s = self.shared.state.lock().unwrap();
        s.next_id += 1;
        s.next_id
    }

    fn remember(&self, token: &str, channel: u64) {
        self.shared
            .state
            .lock()
            .unwrap()
            .interaction_channels
            .insert(token.to_string(), channel);
    }

    /// Sends a dispatch event to the connected bot.
    fn dispatch(&self, event: &str, data: Value) {
        let mut s = self.shared.state.lock().unwrap();
        s.seq += 1;
        let frame = json!({"op": 0, "s": s.seq, "t": event, "d": data}).to_string();
        s.gateway
            .as_ref()
            .expect("the bot is connected to the gateway")
            .send(frame)
            .expect("the gateway socket is open");
    }

    /// A user writes `content` in a guild channel (or thread); returns the message id.
    pub fn message(&self, author: u64, name: &str, channel: u64, content: &str) -> u64 {
        let id = self.next_id();
        self.dispatch(
            "MESSAGE_CREATE",
            json!({
                "id": id.to_string(), "channel_id": channel.to_string(), "guild_id": GUILD.to_string(),
                "author": user(author, name, false), "content": content, "timestamp": TIMESTAMP,
                "edited_timestamp": null, "tts": false, "mention_everyone": false, "mentions": [],
                "mention_roles": [], "attachments": [], "embeds": [], "pinned": false, "type": 0,
                "member": {"roles": [], "joined_at": TIMESTAMP, "deaf": false, "mute": false, "flags": 0},
            }),
        );
        id
    }

    /// A user runs slash command `name` with string options; returns the interaction token.
    pub fn slash(&self, author: u64, name: &str, channel: u64, options: &[(&str, &str)]) -> String {
        let id = self.next_id();
        let token = format!("itok-{id}");
        let options: Vec<Value> = options
            .iter()
            .map(|(n, v)| json!({"name": n, "type": 3, "value": v}))
            .collect();
        let mut data = interaction_base(id, &token, author, channel);
        data["type"] = json!(2);
        data["data"] = json!({"id": "1", "name": name, "type": 1, "options": options});
        self.remember(&token, channel);
        self.dispatch("INTERACTION_CREATE", data);
        token
    }

    /// A user presses the button `custom_id` under message `message`; returns the token.
    pub fn press(&self, author: u64, message: &Posted, custom_id: &str) -> String {
        let id = self.next_id();
        let token = format!("itok-{id}");
        let mut data = interaction_base(id, &token, author, message.channel);
        data["type"] = json!(3);
        data["message"] = message_json(
            message.id,
            message.channel,
            message.content(),
            &message.components,
        );
        data["data"] = json!({"custom_id": custom_id, "component_type": 2});
        self.remember(&token, message.channel);
        self.dispatch("INTERACTION_CREATE", data);
        token
    }
}

fn interaction_base(id: u64, token: &str, author: u64, channel: u64) -> Value {
    json!({
        "id": id.to_string(), "application_id": APP_ID.to_string(), "token": token, "version": 1,
        "guild_id": GUILD.to_string(), "channel_id": channel.to_string(),
        "member": {"user": user(author, &format!("user{author}"), false), "roles": [], "joined_at": TIMESTAMP,
                   "deaf": false, "mute": false, "flags": 0, "permissions": "0"},
        "app_permissions": "0", "locale": "en-US", "guild_locale": "en-US", "entitlements": [],
        "authorizing_integration_owners": {}, "context": 0, "attachment_size_limit": 8388608,
    })
}

fn user(id: u64, name: &str, bot: bool) -> Value {
    json!({"id": id.to_string(), "username": name, "discriminator": "0", "global_name": null,
           "avatar": null, "bot": bot})
}

fn message_json(id: u64, channel: u64, content: &str, components: &Value) -> Value {
    json!({
        "id": id.to_string(), "channel_id": channel.to_string(), "author": user(BOT_USER, "shopdesk", true),
        "content": content, "timestamp": TIMESTAMP, "edited_timestamp": null, "tts": false,
        "mention_everyone": false, "mentions": [], "mention_roles": [], "attachments": [],
        "embeds": [], "pinned": false, "type": 0, "components": components,
    })
}

fn channel_json(id: u64, parent: Option<u64>, name: &str) -> Value {
    let mut c = json!({"id": id.to_string(), "type": 0, "guild_id": GUILD.to_string(), "name": name,
                       "position": 0, "permission_overwrites": [], "nsfw": false});
    if let Some(parent) = parent {
        c["type"] = json!(11);
        c["parent_id"] = json!(parent.to_string());
        c["thread_metadata"] = json!({"archived": false, "auto_archive_duration": 1440,
                                      "archive_timestamp": TIMESTAMP, "locked": false});
    }
    c
}

fn changed<T>(shared: &Shared, f: impl FnOnce(&mut Seen) -> T) -> T {
    let out = f(&mut shared.state.lock().unwrap());
    shared.changed.notify_waiters();
    out
}

async fn gateway_url(State(shared): State<Arc<Shared>>) -> Json<Value> {
    let base = shared.base.lock().unwrap().clone();
    Json(json!({
        "url": format!("ws://{base}/gateway"),
        "shards": 1,
        "session_start_limit": {"total": 1000, "remaining": 1000, "reset_after": 0, "max_concurrency": 1},
    }))
}

async fn gateway(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    ws.on_upgrade(move |socket| run_gateway(socket, shared))
}

async fn run_gateway(socket: WebSocket, shared: Arc<Shared>) {
    let (mut sink, mut stream) = socket.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<String>();
    let hello = json!({"op": 10, "d": {"heartbeat_interval": 41250}}).to_string();
    if sink.send(WsMessage::Text(hello.into())).await.is_err() {
        return;
    }
    let writer = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if sink.send(WsMessage::Text(frame.into())).await.is_err() {
                break;
            }
        }
    });
    while let Some(Ok(WsMessage::Text(text))) = stream.next().await {
        let Ok(frame) = serde_json::from_str::<Value>(text.as_str()) else {
            continue;
        };
        match frame["op"].as_u64() {
            Some(2) => {
                let base = shared.base.lock().unwrap().clone();
                let ready = json!({"op": 0, "s": 1, "t": "READY", "d": {
                    "v": 10, "user": user(BOT_USER, "shopdesk", true), "guilds": [],
                    "session_id": "fake-session", "resume_gateway_url": format!("ws://{base}/gateway"),
                    "application": {"id": APP_ID.to_string(), "flags": 0},
                }});
                changed(&shared, |s| {
                    s.identified = true;
                    s.seq = 1;
                    s.gateway = Some(tx.clone());
                });
                let _ = tx.send(ready.to_string());
            }
            Some(1) => {
                changed(&shared, |s| s.heartbeats += 1);
                let _ = tx.send(json!({"op": 11}).to_string());
            }
            _ => {}
        }
    }
    writer.abort();
}

async fn register_commands(
    State(shared): State<Arc<Shared>>,
    Json(commands): Json<Vec<Value>>,
) -> Json<Vec<Value>> {
    let registered: Vec<Value> = commands
        .into_iter()
        .enumerate()
        .map(|(i, mut c)| {
            c["id"] = json!((1_000 + i).to_string());
            c["application_id"] = json!(APP_ID.to_string());
            c["version"] = json!("1");
            c["type"] = json!(1);
            c
        })
        .collect();
    changed(&shared, |s| s.commands = registered.clone());
    Json(registered)
}

async fn get_channel(State(shared): State<Arc<Shared>>, Path(channel): Path<u64>) -> Response {
    let thread = shared
        .state
        .lock()
        .unwrap()
        .threads
        .iter()
        .find(|t| t.0 == channel)
        .cloned();
    match thread {
        Some((id, parent, name)) => Json(channel_json(id, Some(parent), &name)).into_response(),
        None if channel == STAFF_CHANNEL => {
            Json(channel_json(channel, None, "staff")).into_response()
        }
        None => Json(channel_json(channel, None, "general")).into_response(),
    }
}

fn record_post(shared: &Shared, channel: u64, body: &Value, interaction: Option<String>) -> Posted {
    changed(shared, |s| {
        s.next_id += 1;
        let posted = Posted {
            id: s.next_id,
            channel,
            contents: vec![body["content"].as_str().unwrap_or_default().to_string()],
            components: body.get("components").cloned().unwrap_or(json!([])),
            interaction,
        };
        s.posted.push(posted.clone());
        posted
    })
}

fn edit(shared: &Shared, find: impl Fn(&Posted) -> bool, body: &Value) -> Option<Posted> {
    changed(shared, |s| {
        let p = s.posted.iter_mut().find(|p| find(p))?;
        if let Some(content) = body["content"].as_str() {
            p.contents.push(content.to_string());
        }
        if let Some(c) = body.get("components") {
            p.components = c.clone();
        }
        Some(p.clone())
    })
}

fn reply(p: &Posted) -> Response {
    Json(message_json(p.id, p.channel, p.content(), &p.components)).into_response()
}

fn not_found() -> Response {
    (
        StatusCode::NOT_FOUND,
        Json(json!({"message": "Unknown Message", "code": 10008})),
    )
        .into_response()
}

async fn create_message(
    State(shared): State<Arc<Shared>>,
    Path(channel): Path<u64>,
    Json(body): Json<Value>,
) -> Response {
    reply(&record_post(&shared, channel, &body, None))
}

async fn edit_message(
    State(shared): State<Arc<Shared>>,
    Path((channel, message)): Path<(u64, u64)>,
    Json(body): Json<Value>,
) -> Response {
    match edit(&shared, |p| p.channel == channel && p.id == message, &body) {
        Some(p) => reply(&p),
        None => not_found(),
    }
}

async fn create_thread(
    State(shared): State<Arc<Shared>>,
    Path(parent): Path<u64>,
    Json(body): Json<Value>,
) -> Json<Value> {
    let name = body["name"].as_str().unwrap_or_default().to_string();
    let id = changed(&shared, |s| {
        s.next_id += 1;
        let id = s.next_id;
        s.threads.push((id, parent, name.clone()));
        id
    });
    Json(channel_json(id, Some(parent), &name))
}

async fn interaction_callback(
    State(shared): State<Arc<Shared>>,
    Path((id, _token)): Path<(u64, String)>,
    Json(body): Json<Value>,
) -> StatusCode {
    let kind = body["type"].as_u64().unwrap_or_default();
    changed(&shared, |s| s.callbacks.push((id, kind)));
    StatusCode::NO_CONTENT
}

/// The original response of an interaction: created by the first edit after a deferral.
async fn edit_original(
    State(shared): State<Arc<Shared>>,
    Path((_app, token)): Path<(u64, String)>,
    Json(body): Json<Value>,
) -> Response {
    let existing = edit(
        &shared,
        |p| p.interaction.as_deref() == Some(token.as_str()),
        &body,
    );
    let p = match existing {
        Some(p) => p,
        None => {
            let channel = interaction_channel(&shared, &token);
            record_post(&shared, channel, &body, Some(token))
        }
    };
    reply(&p)
}

async fn delete_original(
    State(shared): State<Arc<Shared>>,
    Path((_app, token)): Path<(u64, String)>,
) -> StatusCode {
    changed(&shared, |s| s.deleted_responses.push(token));
    StatusCode::NO_CONTENT
}

async fn create_followup(
    State(shared): State<Arc<Shared>>,
    Path((_app, token)): Path<(u64, String)>,
    Json(body): Json<Value>,
) -> Response {
    let channel = interaction_channel(&shared, &token);
    reply(&record_post(
        &shared,
        channel,
        &body,
        Some(format!("{token}/followup")),
    ))
}

async fn edit_followup(
    State(shared): State<Arc<Shared>>,
    Path((_app, _token, message)): Path<(u64, String, u64)>,
    Json(body): Json<Value>,
) -> Response {
    match edit(&shared, |p| p.id == message, &body) {
        Some(p) => reply(&p),
        None => not_found(),
    }
}

fn interaction_channel(shared: &Shared, token: &str) -> u64 {
    shared
        .state
        .lock()
        .unwrap()
        .interaction_channels
        .get(token)
        .copied()
        .unwrap_or_default()
}
