//! One update, start to finish: to the engine, the reply shown in the chat, the delivery
//! confirmed to the engine. Polling and the webhook both come through here.

use shopdesk_port::{Channel, Reply};
use teloxide::requests::Requester;
use teloxide::types::{CallbackQueryId, ChatAction, Update};

use crate::{Context, reply, updates};

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
    if let Err(e) = ctx
        .bot
        .send_chat_action(incoming.chat, ChatAction::Typing)
        .await
    {
        tracing::debug!(error = %e, "sendChatAction failed");
    }
    let event_id = incoming.inbound.event_id.clone();
    let Reply::Stream(stream) = ctx.handler.handle(incoming.inbound).await else {
        return;
    };
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
