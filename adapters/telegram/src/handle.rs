//! One update, start to finish: to the engine, the reply shown in the chat, the delivery
//! confirmed to the engine. Polling and the webhook both come through here.

use std::time::Duration;

use futures::StreamExt;
use shopdesk_port::streaming::signal_if_slow;
use shopdesk_port::{Channel, Reply};
use teloxide::Bot;
use teloxide::requests::Requester;
use teloxide::types::{CallbackQueryId, ChatAction, ChatId, Update};

use crate::{Context, reply, updates};

/// How long the user waits before the chat shows "typing…".
const TYPING_AFTER: Duration = Duration::from_millis(250);

pub async fn handle_update(ctx: &Context, update: &Update) {
    let Some(incoming) = updates::incoming(update) else {
        tracing::debug!(
            update = update.id.0,
            "ignoring an update that is not a message"
        );
        return;
    };
    if let Some(id) = incoming.callback_id {
        // Stops the button's spinner; the answer itself comes as a message.
        if let Err(e) = ctx.bot.answer_callback_query(CallbackQueryId(id)).await {
            tracing::debug!(error = %e, "answerCallbackQuery failed");
        }
    }
    let event_id = incoming.inbound.event_id.clone();
    let handling = ctx.handler.handle(incoming.inbound);
    let typing = || typing(&ctx.bot, incoming.chat);
    let Reply::Stream(stream) = signal_if_slow(handling, TYPING_AFTER, typing()).await else {
        return;
    };
    let mut stream = stream.peekable();
    signal_if_slow(
        std::pin::Pin::new(&mut stream).peek(),
        TYPING_AFTER,
        typing(),
    )
    .await;
    let stream = stream.boxed();
    match reply::show(&ctx.bot, incoming.chat, stream, ctx.settings.edit_interval).await {
        Ok(updates) => {
            tracing::debug!(chat = incoming.chat.0, updates, "reply shown");
            if let Some(event) = event_id {
                ctx.handler.delivered(Channel::Telegram, &event).await;
            }
        }
        Err(e) => {
            tracing::warn!(chat = incoming.chat.0, error = %e, "could not show the reply; a redelivery of the update will show it again")
        }
    }
}

async fn typing(bot: &Bot, chat: ChatId) {
    if let Err(e) = bot.send_chat_action(chat, ChatAction::Typing).await {
        tracing::debug!(error = %e, "sendChatAction failed");
    }
}
