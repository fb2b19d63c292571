//! Webhook mode: Telegram posts each update to `/telegram/webhook` on the one shared
//! listener. The response is sent only after the update was handled and its reply shown,
//! so Telegram retries an update whose handling did not finish; the secret header keeps
//! anyone else from posting updates.

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use shopdesk_port::Handler;
use teloxide::Bot;
use teloxide::types::Update;

use crate::{Context, Settings, handle::handle_update};

pub const WEBHOOK_PATH: &str = "/telegram/webhook";
const SECRET_HEADER: &str = "x-telegram-bot-api-secret-token";

/// The webhook route, to merge into the shared listener's router.
pub fn router(bot: Bot, handler: Arc<dyn Handler>, settings: Settings) -> Router {
    let ctx = Context {
        bot,
        handler,
        settings: Arc::new(settings),
    };
    Router::new()
        .route(WEBHOOK_PATH, post(receive))
        .with_state(ctx)
}

async fn receive(State(ctx): State<Context>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let secret = headers
        .get(SECRET_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if ctx.settings.webhook_secret.is_empty() || secret != ctx.settings.webhook_secret {
        return StatusCode::UNAUTHORIZED;
    }
    match serde_json::from_slice::<Update>(&body) {
        Ok(update) => {
            handle_update(&ctx, &update).await;
            StatusCode::OK
        }
        Err(e) => {
            tracing::warn!(error = %e, "the webhook received something that is not an update");
            // Telegram would retry a failure forever; a body it cannot have sent is dropped.
            StatusCode::OK
        }
    }
}
