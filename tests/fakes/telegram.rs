//! A fake Telegram Bot API (axum) that answers with Telegram's real JSON shapes, enough for
//! teloxide: getMe, getUpdates (offset confirms, timeout long-polls), sendMessage,
//! editMessageText, answerCallbackQuery, sendChatAction, setWebhook/deleteWebhook. Errors
//! are `{ok:false, error_code, description}` (429 with `parameters.retry_after`). Method
//! names match case-insensitively, as Telegram's do (teloxide sends `GetMe`).
//!
//! The test drives it directly: queue a user's message or button press as an update,
//! inject a failure, hold the acknowledgement of updates (to kill the bot before Telegram
//! hears it), and read what the bot sent.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{FromRequest, Multipart, Path, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use serde_json::{Value, json};
use tokio::sync::Notify;

use super::PATIENCE;

pub const BOT_ID: i64 = 424242;
pub const TOKEN: &str = "4242:fake-token";

/// A message the bot sent, with every text it showed (the first post, then each edit).
#[derive(Debug, Clone)]
pub struct Sent {
    pub chat: i64,
    pub id: i64,
    pub texts: Vec<String>,
    pub keyboard: Option<Value>,
}

impl Sent {
    pub fn text(&self) -> &str {
        self.texts.last().map(String::as_str).unwrap_or_default()
    }

    /// The callback data of the inline keyboard's buttons.
    pub fn buttons(&self) -> Vec<String> {
        self.keyboard
            .as_ref()
            .and_then(|k| k["inline_keyboard"].as_array())
            .map(|rows| {
                rows.iter()
                    .flat_map(|r| r.as_array().cloned().unwrap_or_default())
                    .filter_map(|b| b["callback_data"].as_str().map(String::from))
                    .collect()
            })
            .unwrap_or_default()
    }
}

struct Failure {
    method: String,
    code: u16,
    description: String,
    retry_after: Option<u32>,
}

#[derive(Default)]
pub struct Seen {
    next_update: i64,
    next_message: i64,
    /// Updates Telegram still holds: not yet confirmed by a higher offset.
    pending: Vec<(i64, Value)>,
    /// Every update ever queued, to deliver one again.
    all: Vec<(i64, Value)>,
    /// How many times getUpdates returned each update.
    pub deliveries: std::collections::HashMap<i64, usize>,
    /// Every call, method in lower case.
    pub calls: Vec<(String, Value)>,
    pub sent: Vec<Sent>,
    failures: VecDeque<Failure>,
    /// getUpdates calls whose offset would confirm an update above this one hang, and
    /// confirm nothing (as if the process died before Telegram heard them).
    hold_acks_above: Option<i64>,
    pub held_acks: usize,
    /// sendMessage calls hang without effect.
    hold_sends: bool,
    pub held_sends: usize,
    pub webhook: Option<String>,
}

impl Seen {
    pub fn to_chat(&self, chat: i64) -> Vec<&Sent> {
        self.sent.iter().filter(|m| m.chat == chat).collect()
    }

    pub fn pending_ids(&self) -> Vec<i64> {
        self.pending.iter().map(|(id, _)| *id).collect()
    }

    pub fn count(&self, method: &str) -> usize {
        self.calls.iter().filter(|(m, _)| m == method).count()
    }
}

struct Shared {
    state: Mutex<Seen>,
    changed: Notify,
}

#[derive(Clone)]
pub struct FakeTelegram {
    pub url: String,
    shared: Arc<Shared>,
}

impl FakeTelegram {
    pub async fn start() -> FakeTelegram {
        let shared = Arc::new(Shared {
            state: Mutex::new(Seen {
                next_update: 1000,
                next_message: 1,
                ..Seen::default()
            }),
            changed: Notify::new(),
        });
        let router = Router::new()
            .route("/{bot}/{method}", post(call))
            .with_state(shared.clone());
        let addr = super::serve(router).await;
        FakeTelegram {
            url: format!("http://{addr}"),
            shared,
        }
    }

    fn update(&self, f: impl FnOnce(&mut Seen)) {
        f(&mut self.shared.state.lock().unwrap());
        self.shared.changed.notify_waiters();
    }

    pub fn read<T>(&self, f: impl FnOnce(&Seen) -> T) -> T {
        f(&self.shared.state.lock().unwrap())
    }

    /// Queues a text message from a user in their private chat; returns its update id.
    pub fn say(&self, user: i64, text: &str, language: &str) -> i64 {
        let mut id = 0;
        self.update(|s| {
            id = s.next_update;
            s.next_update += 1;
            let mut message = json!({
                "message_id": 10_000 + id,
                "date": unix_now(),
                "chat": {"id": user, "type": "private", "first_name": format!("User {user}")},
                "from": {"id": user, "is_bot": false, "first_name": format!("User {user}"), "language_code": language},
                "text": text,
            });
            if text.starts_with('/') {
                let len = text.split_whitespace().next().unwrap_or_default().encode_utf16().count();
                message["entities"] = json!([{"type": "bot_command", "offset": 0, "length": len}]);
            }
            queue(s, id, json!({"update_id": id, "message": message}));
        });
        id
    }

    /// Delivers an update again, as Telegram does when it did not hear the confirmation.
    pub fn redeliver(&self, update: i64) {
        self.update(|s| {
            let copy = s.all.iter().find(|(id, _)| *id == update).cloned();
            s.pending.push(copy.expect("an update queued earlier"));
        });
    }

    /// Queues a press on an inline button of message `message_id`; returns the update id.
    pub fn press(&self, user: i64, message_id: i64, data: &str) -> i64 {
        let mut id = 0;
        self.update(|s| {
            id = s.next_update;
            s.next_update += 1;
            let sent = s.sent.iter().find(|m| m.id == message_id).cloned();
            let sent = sent.expect("pressing a button on a message the bot sent");
            let message = message_json(&sent);
            queue(
                s,
                id,
                json!({"update_id": id, "callback_query": {
                    "id": format!("cb-{id}"),
                    "from": {"id": user, "is_bot": false, "first_name": format!("User {user}"), "language_code": "en"},
                    "message": message,
                    "chat_instance": format!("ci-{}", sent.chat),
                    "data": data,
                }}),
            );
        });
        id
    }

    /// The next call of `method` fails with this Telegram error.
    pub fn fail_next(&self, method: &str, code: u16, description: &str, retry_after: Option<u32>) {
        self.update(|s| {
            s.failures.push_back(Failure {
                method: method.to_lowercase(),
                code,
                description: description.into(),
                retry_after,
            })
        });
    }

    pub fn hold_acks_above(&self, update: Option<i64>) {
        self.update(|s| s.hold_acks_above = update);
    }

    pub fn hold_sends(&self, hold: bool) {
        self.update(|s| s.hold_sends = hold);
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
                    s.sent
                        .iter()
                        .map(|m| format!("{} #{}: {:?}", m.chat, m.id, m.texts))
                        .collect::<Vec<_>>()
                        .join("\n")
                });
                panic!("timed out waiting for {what}; the bot sent:\n{dump}");
            }
            let _ = tokio::time::timeout(left.min(Duration::from_millis(200)), notified).await;
        }
    }

    /// The final text of each message sent to `chat`, in order.
    pub fn texts_to(&self, chat: i64) -> Vec<String> {
        self.read(|s| {
            s.to_chat(chat)
                .iter()
                .map(|m| m.text().to_string())
                .collect()
        })
    }

    /// Messages sent to `chat` so far.
    pub fn sent_to(&self, chat: i64) -> usize {
        self.read(|s| s.to_chat(chat).len())
    }
}

async fn call(
    State(shared): State<Arc<Shared>>,
    Path((bot, method)): Path<(String, String)>,
    request: Request,
) -> Response {
    if bot != format!("bot{TOKEN}") {
        return error(401, "Unauthorized", None);
    }
    let method = method.to_lowercase();
    let Some(params) = params(request).await else {
        return error(400, "Bad Request: invalid request body", None);
    };
    let injected = {
        let mut s = shared.state.lock().unwrap();
        s.calls.push((method.clone(), params.clone()));
        match s.failures.iter().position(|f| f.method == method) {
            Some(i) => s.failures.remove(i),
            None => None,
        }
    };
    shared.changed.notify_waiters();
    if let Some(f) = injected {
        return error(f.code, &f.description, f.retry_after);
    }
    match method.as_str() {
        "getme" => ok(json!({
            "id": BOT_ID, "is_bot": true, "first_name": "Demo Shop", "username": "demo_shop_bot",
            "can_join_groups": true, "can_read_all_group_messages": false,
            "supports_inline_queries": false, "can_connect_to_business": false,
            "has_main_web_app": false,
        })),
        "getupdates" => get_updates(&shared, &params).await,
        "sendmessage" => send_message(&shared, &params).await,
        "editmessagetext" => edit_message_text(&shared, &params),
        "answercallbackquery" | "sendchataction" | "deletewebhook" => ok(json!(true)),
        "setwebhook" => {
            shared.state.lock().unwrap().webhook = params["url"].as_str().map(String::from);
            ok(json!(true))
        }
        _ => error(404, "Not Found: method not found", None),
    }
}

/// A method's parameters: Telegram takes JSON or a multipart form (teloxide sends
/// setWebhook as a form, since it can carry a certificate file).
async fn params(request: Request) -> Option<Value> {
    let multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    if multipart {
        let mut form = Multipart::from_request(request, &()).await.ok()?;
        let mut params = serde_json::Map::new();
        while let Ok(Some(field)) = form.next_field().await {
            let name = field.name()?.to_string();
            let text = field.text().await.ok()?;
            let value = serde_json::from_str(&text).unwrap_or(Value::String(text));
            params.insert(name, value);
        }
        return Some(Value::Object(params));
    }
    let body = Bytes::from_request(request, &()).await.ok()?;
    if body.is_empty() {
        return Some(json!({}));
    }
    serde_json::from_slice(&body).ok()
}

fn queue(s: &mut Seen, id: i64, update: Value) {
    s.all.push((id, update.clone()));
    s.pending.push((id, update));
}

async fn get_updates(shared: &Shared, params: &Value) -> Response {
    let offset = params["offset"].as_i64();
    let timeout = Duration::from_secs(params["timeout"].as_u64().unwrap_or(0));
    let hold = {
        let mut s = shared.state.lock().unwrap();
        match offset {
            Some(offset) => {
                let confirms_held = s.hold_acks_above.is_some_and(|held| {
                    s.pending.iter().any(|(id, _)| *id >= held && *id < offset)
                });
                if confirms_held {
                    s.held_acks += 1;
                } else {
                    s.pending.retain(|(id, _)| *id >= offset);
                }
                confirms_held
            }
            None => false,
        }
    };
    if hold {
        shared.changed.notify_waiters();
        return std::future::pending().await;
    }
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let notified = shared.changed.notified();
        let ready: Vec<Value> = {
            let mut s = shared.state.lock().unwrap();
            let ready: Vec<(i64, Value)> = s.pending.clone();
            for (id, _) in &ready {
                *s.deliveries.entry(*id).or_default() += 1;
            }
            ready.into_iter().map(|(_, u)| u).collect()
        };
        if !ready.is_empty() || tokio::time::Instant::now() >= deadline {
            return ok(Value::Array(ready));
        }
        let _ = tokio::time::timeout_at(deadline, notified).await;
    }
}

async fn send_message(shared: &Shared, params: &Value) -> Response {
    let text = params["text"].as_str().unwrap_or_default().to_string();
    if text.trim().is_empty() {
        return error(400, "Bad Request: message text is empty", None);
    }
    if text.encode_utf16().count() > 4096 {
        return error(400, "Bad Request: message is too long", None);
    }
    let Some(chat) = params["chat_id"].as_i64() else {
        return error(400, "Bad Request: chat not found", None);
    };
    let hold = {
        let mut s = shared.state.lock().unwrap();
        if s.hold_sends {
            s.held_sends += 1;
        }
        s.hold_sends
    };
    if hold {
        shared.changed.notify_waiters();
        return std::future::pending().await;
    }
    let sent = {
        let mut s = shared.state.lock().unwrap();
        let sent = Sent {
            chat,
            id: s.next_message,
            texts: vec![text],
            keyboard: params.get("reply_markup").cloned(),
        };
        s.next_message += 1;
        s.sent.push(sent.clone());
        sent
    };
    shared.changed.notify_waiters();
    ok(message_json(&sent))
}

fn edit_message_text(shared: &Shared, params: &Value) -> Response {
    let text = params["text"].as_str().unwrap_or_default().to_string();
    let (chat, id) = (params["chat_id"].as_i64(), params["message_id"].as_i64());
    let edited = {
        let mut s = shared.state.lock().unwrap();
        let Some(m) = s
            .sent
            .iter_mut()
            .find(|m| Some(m.chat) == chat && Some(m.id) == id)
        else {
            return error(400, "Bad Request: message to edit not found", None);
        };
        let keyboard = params.get("reply_markup").cloned();
        if m.text() == text && m.keyboard == keyboard {
            return error(
                400,
                "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message",
                None,
            );
        }
        m.texts.push(text);
        m.keyboard = keyboard;
        m.clone()
    };
    shared.changed.notify_waiters();
    let mut json = message_json(&edited);
    json["edit_date"] = json!(unix_now());
    ok(json)
}

fn message_json(m: &Sent) -> Value {
    let mut json = json!({
        "message_id": m.id,
        "date": unix_now(),
        "chat": {"id": m.chat, "type": "private", "first_name": format!("User {}", m.chat)},
        "from": {"id": BOT_ID, "is_bot": true, "first_name": "Demo Shop", "username": "demo_shop_bot"},
        "text": m.text(),
    });
    if let Some(k) = &m.keyboard {
        json["reply_markup"] = k.clone();
    }
    json
}

fn ok(result: Value) -> Response {
    Json(json!({"ok": true, "result": result})).into_response()
}

fn error(code: u16, description: &str, retry_after: Option<u32>) -> Response {
    let mut body = json!({"ok": false, "error_code": code, "description": description});
    if let Some(secs) = retry_after {
        body["parameters"] = json!({"retry_after": secs});
    }
    (
        StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST),
        Json(body),
    )
        .into_response()
}

fn unix_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}
