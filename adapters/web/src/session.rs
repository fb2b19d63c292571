//! One WebSocket connection: hello or resume first, then messages answered in order, each
//! answer streamed as token frames and closed by a done frame.
//!
//! A writer task owns the socket's sending half, so answers, pushed messages and errors
//! never interleave inside a frame. An answer keeps being read to its end even when the
//! socket closes mid-stream, so the engine finishes (and stores) it; it is confirmed as
//! delivered only when its done frame went out, so a client that sends the same message
//! id again after reconnecting gets it.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures::{SinkExt, StreamExt};
use shopdesk_port::{Channel, Identity, Inbound, Reply, ReplyChunk};
use tokio::sync::{Mutex, mpsc, oneshot};

use crate::Shared;
use crate::outbox::Registration;
use crate::protocol::{self, ClientFrame, ErrorCode, ServerFrame};
use crate::token::Signer;

/// Error frames one connection may cause before it is closed as misbehaving.
const MAX_ERRORS: u32 = 20;
/// History lines sent with welcome.
const HISTORY_LINES: usize = 50;
/// Frames queued for a slow client before the answer waits for it.
const QUEUE: usize = 64;
/// WebSocket close codes: policy violation, and message too big.
const CLOSE_POLICY: u16 = 1008;
const CLOSE_TOO_BIG: u16 = 1009;

/// What the writer task sends.
enum Out {
    Frame(ServerFrame),
    /// A frame whose sender wants to know it was written to the socket.
    Confirmed(ServerFrame, oneshot::Sender<()>),
    Close(u16, &'static str),
}

struct Visitor {
    id: String,
    identity: Identity,
    language: Option<String>,
    _live: Registration,
}

pub async fn run(socket: WebSocket, shared: Arc<Shared>) {
    let (mut sink, mut incoming) = socket.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Out>(QUEUE);
    let (push_tx, mut push_rx) = mpsc::channel::<ServerFrame>(QUEUE);
    let writer = tokio::spawn(async move {
        loop {
            let out = tokio::select! {
                Some(out) = out_rx.recv() => out,
                Some(pushed) = push_rx.recv() => Out::Frame(pushed),
                else => break,
            };
            let sent = match out {
                Out::Frame(frame) => sink.send(text_frame(&frame)).await,
                Out::Confirmed(frame, written) => {
                    let sent = sink.send(text_frame(&frame)).await;
                    if sent.is_ok() {
                        let _ = written.send(());
                    }
                    sent
                }
                Out::Close(code, reason) => {
                    let close = CloseFrame {
                        code,
                        reason: Utf8Bytes::from_static(reason),
                    };
                    let _ = sink.send(Message::Close(Some(close))).await;
                    break;
                }
            };
            if sent.is_err() {
                break;
            }
        }
    });
    let mut session = Session {
        shared,
        out: out_tx,
        push: push_tx,
        visitor: None,
        errors: 0,
        turns: Arc::new(Mutex::new(())),
    };
    while let Some(received) = incoming.next().await {
        let keep_going = match received {
            Ok(Message::Text(text)) => session.on_text(text.as_str()).await,
            Ok(Message::Binary(_)) => {
                session
                    .error(ServerFrame::error(
                        ErrorCode::BinaryNotSupported,
                        "binary frames are not part of the protocol: send JSON text frames",
                    ))
                    .await
            }
            Ok(Message::Close(_)) => false,
            Ok(Message::Ping(_) | Message::Pong(_)) => true,
            Err(e) => {
                tracing::debug!(error = %e, "web chat socket failed");
                session
                    .close(CLOSE_TOO_BIG, "frame too large or malformed")
                    .await;
                false
            }
        };
        if !keep_going {
            break;
        }
    }
    drop(session);
    let _ = writer.await;
}

struct Session {
    shared: Arc<Shared>,
    out: mpsc::Sender<Out>,
    push: mpsc::Sender<ServerFrame>,
    visitor: Option<Visitor>,
    errors: u32,
    /// Answers to one connection's messages go out one after another, in order.
    turns: Arc<Mutex<()>>,
}

impl Session {
    /// Handles one text frame; false when the connection should end.
    async fn on_text(&mut self, text: &str) -> bool {
        if text.len() > self.shared.max_frame_bytes {
            return self
                .error(ServerFrame::error(
                    ErrorCode::TooLarge,
                    format!(
                        "frame of {} bytes is over the limit of {} bytes",
                        text.len(),
                        self.shared.max_frame_bytes
                    ),
                ))
                .await;
        }
        let frame = match protocol::parse(text) {
            Ok(frame) => frame,
            Err(error) => return self.error(error).await,
        };
        match (frame, self.visitor.is_some()) {
            (ClientFrame::Hello { language }, false) => {
                self.start(Signer::new_visitor(), language).await;
                true
            }
            (ClientFrame::Resume { token }, false) => {
                match self.shared.signer.verify(&token, unix_now()) {
                    Some(visitor) => {
                        self.start(visitor, None).await;
                        true
                    }
                    None => {
                        self.error(ServerFrame::error(
                            ErrorCode::BadToken,
                            "this resume token is not valid any more: send hello to start again",
                        ))
                        .await
                    }
                }
            }
            (ClientFrame::Hello { .. } | ClientFrame::Resume { .. }, true) => {
                self.error(ServerFrame::error(
                    ErrorCode::AlreadyStarted,
                    "this connection has already started",
                ))
                .await
            }
            (ClientFrame::Message { .. } | ClientFrame::Typing, false) => {
                self.error(ServerFrame::error(
                    ErrorCode::HelloFirst,
                    "send hello (or resume) before anything else",
                ))
                .await
            }
            (ClientFrame::Typing, true) => true,
            (ClientFrame::Message { id, text }, true) => self.message(id, text).await,
        }
    }

    async fn start(&mut self, visitor: String, language: Option<String>) {
        let identity = Identity::new(Channel::Web, &visitor);
        let history = self
            .shared
            .handler
            .history(&identity, &visitor, HISTORY_LINES)
            .await;
        let live = self.shared.outbox.register(&visitor, self.push.clone());
        let resume_token = self.shared.signer.issue(&visitor, unix_now());
        self.send(ServerFrame::Welcome {
            visitor: visitor.clone(),
            resume_token,
            history,
        })
        .await;
        self.visitor = Some(Visitor {
            id: visitor,
            identity,
            language,
            _live: live,
        });
    }

    async fn message(&mut self, id: Option<String>, text: String) -> bool {
        let id = id.unwrap_or_else(|| format!("s{:016x}", rand::random::<u64>()));
        if !protocol::valid_id(&id) {
            return self
                .error(ServerFrame::Error {
                    code: ErrorCode::BadId,
                    message: "a message id is 1 to 64 letters, digits, - or _".into(),
                    id: None,
                })
                .await;
        }
        let Some(visitor) = &self.visitor else {
            return true;
        };
        let mut inbound = Inbound::text(visitor.identity.clone(), &visitor.id, text)
            .with_event_id(format!("{}:{id}", visitor.id));
        inbound.language = visitor.language.clone();
        let turn = Turn {
            handler: self.shared.handler.clone(),
            out: self.out.clone(),
            turns: self.turns.clone(),
        };
        // The answer runs on its own task so this connection keeps reading (a close, a
        // typing frame) while it streams.
        tokio::spawn(turn.run(id, inbound));
        true
    }

    /// Sends an error frame; closes the connection after too many.
    async fn error(&mut self, frame: ServerFrame) -> bool {
        self.errors += 1;
        self.send(frame).await;
        if self.errors >= MAX_ERRORS {
            self.close(CLOSE_POLICY, "too many invalid frames").await;
            return false;
        }
        true
    }

    async fn send(&self, frame: ServerFrame) {
        let _ = self.out.send(Out::Frame(frame)).await;
    }

    async fn close(&self, code: u16, reason: &'static str) {
        let _ = self.out.send(Out::Close(code, reason)).await;
    }
}

/// One message's answer.
struct Turn {
    handler: Arc<dyn shopdesk_port::Handler>,
    out: mpsc::Sender<Out>,
    turns: Arc<Mutex<()>>,
}

impl Turn {
    async fn run(self, id: String, inbound: Inbound) {
        let _in_order = self.turns.lock().await;
        let event = inbound.event_id.clone().unwrap_or_default();
        let mut connected = self.send(ServerFrame::Typing).await;
        let reply = self.handler.handle(inbound).await;
        let Reply::Stream(mut stream) = reply else {
            self.send(ServerFrame::Done {
                id,
                text: String::new(),
                buttons: Vec::new(),
                duplicate: true,
            })
            .await;
            return;
        };
        let mut text = String::new();
        let mut buttons = Vec::new();
        while let Some(chunk) = stream.next().await {
            match chunk {
                ReplyChunk::Text { text: piece } => {
                    text.push_str(&piece);
                    if connected {
                        connected = self
                            .send(ServerFrame::Token {
                                id: id.clone(),
                                text: piece,
                            })
                            .await;
                    }
                }
                ReplyChunk::Buttons { buttons: more } => buttons.extend(more),
            }
        }
        if !connected {
            return;
        }
        let (written, confirmation) = oneshot::channel();
        let done = ServerFrame::Done {
            id,
            text,
            buttons,
            duplicate: false,
        };
        if self.out.send(Out::Confirmed(done, written)).await.is_ok() && confirmation.await.is_ok()
        {
            self.handler.delivered(Channel::Web, &event).await;
        }
    }

    /// False once the connection is gone.
    async fn send(&self, frame: ServerFrame) -> bool {
        self.out.send(Out::Frame(frame)).await.is_ok()
    }
}

fn text_frame(frame: &ServerFrame) -> Message {
    Message::Text(serde_json::to_string(frame).unwrap_or_default().into())
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or_default()
}
