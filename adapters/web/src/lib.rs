//! shopdesk's web chat: a WebSocket endpoint speaking a small JSON protocol (see
//! [`protocol`] and docs/WEB_CHAT.md), the embeddable widget (plain HTML, JS and CSS, no
//! build step) at /chat, and a demo shop page at / that shows it.
//!
//! Visitors start anonymous with a random id and get a signed resume token to continue the
//! conversation after a reconnect; they link to a customer record with /link like on any
//! other channel. Routes (to merge into the one shared listener): `/`, `/chat`,
//! `/chat/widget.js`, `/chat/widget.css`, `/chat/ws`.

mod assets;
mod outbox;
pub mod protocol;
mod session;
mod token;

use std::sync::Arc;

use axum::Router;
use axum::extract::{State, WebSocketUpgrade};
use axum::response::Response;
use axum::routing::get;
use shopdesk_port::Handler;

pub use outbox::WebOutbox;
pub use token::Signer;

pub const WS_PATH: &str = "/chat/ws";

#[derive(Debug, Clone)]
pub struct Settings {
    /// Signs resume tokens; tokens from another secret are refused.
    pub resume_secret: Vec<u8>,
    pub resume_max_age_secs: u64,
    /// Largest text frame answered normally; larger ones get a `too_large` error, and
    /// frames beyond four times this close the connection.
    pub max_frame_bytes: usize,
}

/// What every connection shares.
pub(crate) struct Shared {
    handler: Arc<dyn Handler>,
    outbox: Arc<WebOutbox>,
    signer: Signer,
    max_frame_bytes: usize,
}

/// The web chat's routes and its outbox (for the engine to register).
pub fn router(handler: Arc<dyn Handler>, settings: Settings) -> (Router, Arc<WebOutbox>) {
    let outbox = Arc::new(WebOutbox::default());
    let shared = Arc::new(Shared {
        handler,
        outbox: outbox.clone(),
        signer: Signer::new(settings.resume_secret, settings.resume_max_age_secs),
        max_frame_bytes: settings.max_frame_bytes,
    });
    let router = Router::new()
        .route(WS_PATH, get(upgrade))
        .with_state(shared)
        .merge(assets::router());
    (router, outbox)
}

async fn upgrade(State(shared): State<Arc<Shared>>, ws: WebSocketUpgrade) -> Response {
    let hard_limit = shared.max_frame_bytes * 4;
    ws.max_message_size(hard_limit)
        .max_frame_size(hard_limit)
        .on_upgrade(move |socket| session::run(socket, shared))
}
