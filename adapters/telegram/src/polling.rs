//! Long polling with acknowledgement after handling.
//!
//! Telegram forgets updates below the `offset` of the next getUpdates call, so the offset
//! moves past a batch only once every update in it was handled and its reply shown. A
//! process killed mid-batch gets the batch again at its next start, and the engine's
//! record of each update id keeps the redelivery from acting or answering twice. Updates
//! of different chats in one batch are handled concurrently, one chat's in order.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use futures::future::join_all;
use shopdesk_port::Handler;
use teloxide::payloads::GetUpdatesSetters;
use teloxide::requests::Requester;
use teloxide::types::{AllowedUpdate, Update};
use teloxide::{Bot, RequestError};

use crate::{Context, Settings, handle::handle_update};

/// Longest pause after failed polls in a row.
const MAX_BACKOFF: Duration = Duration::from_secs(30);

/// Polls until the task is dropped. Removes any webhook first, as Telegram refuses
/// getUpdates while one is set.
pub async fn run_polling(bot: Bot, handler: Arc<dyn Handler>, settings: Settings) {
    if let Err(e) = bot.delete_webhook().await {
        tracing::warn!(error = %e, "deleteWebhook failed; polling anyway");
    }
    let ctx = Context {
        bot,
        handler,
        settings: Arc::new(settings),
    };
    let mut offset: Option<i32> = None;
    let mut backoff = Duration::from_secs(1);
    loop {
        let mut request = ctx
            .bot
            .get_updates()
            .timeout(ctx.settings.poll_timeout_secs)
            .allowed_updates([AllowedUpdate::Message, AllowedUpdate::CallbackQuery]);
        if let Some(offset) = offset {
            request = request.offset(offset);
        }
        match request.await {
            Ok(batch) => {
                backoff = Duration::from_secs(1);
                if let Some(last) = batch.iter().map(|u| u.id.0).max() {
                    handle_batch(&ctx, batch).await;
                    offset = Some(i32::try_from(last).unwrap_or(i32::MAX).saturating_add(1));
                }
            }
            Err(RequestError::RetryAfter(wait)) => tokio::time::sleep(wait.duration()).await,
            Err(e) => {
                tracing::warn!(error = %e, retry_in = ?backoff, "getUpdates failed");
                tokio::time::sleep(backoff).await;
                backoff = (backoff * 2).min(MAX_BACKOFF);
            }
        }
    }
}

async fn handle_batch(ctx: &Context, batch: Vec<Update>) {
    let mut by_chat: BTreeMap<Option<i64>, Vec<Update>> = BTreeMap::new();
    for update in batch {
        by_chat
            .entry(update.chat().map(|c| c.id.0))
            .or_default()
            .push(update);
    }
    join_all(by_chat.into_values().map(|updates| async move {
        for update in &updates {
            handle_update(ctx, update).await;
        }
    }))
    .await;
}
