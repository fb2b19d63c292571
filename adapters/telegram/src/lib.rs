//! shopdesk's Telegram channel, for customers (and linked staff), on teloxide.
//!
//! Updates arrive by long polling (the default) or by webhook. Each update is handed to the
//! engine with its `update_id` as the event id, and acknowledged to Telegram only after it
//! was handled and its reply shown: the engine records the update id with the handling, so
//! a redelivery after a crash is answered from the record instead of acting twice, and a
//! reply that never reached the user is sent again. Replies stream by editing one message,
//! throttled; inline keyboards carry buttons; RetryAfter and MessageNotModified are
//! handled where Telegram returns them.

mod handle;
mod outbox;
mod polling;
mod reply;
mod updates;
mod webhook;

use std::sync::Arc;
use std::time::Duration;

use shopdesk_port::Handler;
use teloxide::Bot;
use teloxide::requests::Requester;

pub use outbox::TelegramOutbox;
pub use polling::run_polling;
pub use webhook::{WEBHOOK_PATH, router as webhook_router};

/// How the channel talks to Telegram.
#[derive(Debug, Clone)]
pub struct Settings {
    pub token: String,
    /// The Bot API origin (`https://api.telegram.org`, or a local fake in tests).
    pub api_url: String,
    /// Seconds one long poll waits.
    pub poll_timeout_secs: u32,
    /// Shortest time between two edits of a streamed reply.
    pub edit_interval: Duration,
    /// Webhook mode: the secret Telegram sends in `X-Telegram-Bot-Api-Secret-Token`.
    pub webhook_secret: String,
}

/// Telegram's limit is 4096 UTF-16 code units; characters outside the BMP count twice,
/// so a margin keeps split messages inside it.
const MAX_MESSAGE_CHARS: usize = 4000;

/// A bot client for the configured API server.
pub fn bot(settings: &Settings) -> Result<Bot, String> {
    let url = teloxide::net::default_reqwest_settings()
        .build()
        .map_err(|e| format!("cannot build the HTTP client: {e}"))
        .map(|client| Bot::with_client(&settings.token, client))?;
    let api = settings
        .api_url
        .parse()
        .map_err(|e| format!("telegram.api_url `{}`: {e}", settings.api_url))?;
    Ok(url.set_api_url(api))
}

/// Checks the token with getMe; returns the bot's username.
pub async fn check(bot: &Bot) -> Result<String, String> {
    bot.get_me()
        .await
        .map(|me| me.username().to_string())
        .map_err(|e| format!("getMe failed: {e}"))
}

/// Sets Telegram's webhook to `url` (webhook mode).
pub async fn set_webhook(bot: &Bot, url: &str, secret: &str) -> Result<(), String> {
    use teloxide::payloads::SetWebhookSetters;
    let url = url
        .parse()
        .map_err(|e| format!("telegram.webhook_url `{url}`: {e}"))?;
    bot.set_webhook(url)
        .secret_token(secret)
        .await
        .map(|_| ())
        .map_err(|e| format!("setWebhook failed: {e}"))
}

/// What the polling loop and the webhook share.
#[derive(Clone)]
pub(crate) struct Context {
    pub bot: Bot,
    pub handler: Arc<dyn Handler>,
    pub settings: Arc<Settings>,
}
