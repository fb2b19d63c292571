//! Telegram updates as the engine's [`Inbound`] messages: text messages and button presses
//! (callback queries, whose data is the command the button stands for). Other updates
//! (edits, channel posts, inline queries) and group chatter that is not a command are not
//! conversations with the store.

use shopdesk_port::{Channel, Identity, Inbound};
use teloxide::types::{ChatId, Update, UpdateKind, User};

/// A message or button press, ready for the engine.
pub struct Incoming {
    pub inbound: Inbound,
    pub chat: ChatId,
    /// Set for a button press, which Telegram wants answered to stop the spinner.
    pub callback_id: Option<String>,
}

pub fn incoming(update: &Update) -> Option<Incoming> {
    let event_id = update.id.0.to_string();
    match &update.kind {
        UpdateKind::Message(message) => {
            let from = message.from.as_ref()?;
            // Photos and stickers have no text: the engine answers that it reads text.
            let text = message
                .text()
                .or_else(|| message.caption())
                .unwrap_or_default();
            // In a group the bot reads only what is addressed to it: commands.
            if !message.chat.is_private() && !text.starts_with('/') {
                return None;
            }
            Some(Incoming {
                inbound: inbound(from, message.chat.id, text, event_id),
                chat: message.chat.id,
                callback_id: None,
            })
        }
        UpdateKind::CallbackQuery(query) => {
            let chat = query
                .message
                .as_ref()
                .map(|m| m.chat().id)
                .unwrap_or(ChatId(query.from.id.0 as i64));
            Some(Incoming {
                inbound: inbound(
                    &query.from,
                    chat,
                    query.data.as_deref().unwrap_or_default(),
                    event_id,
                ),
                chat,
                callback_id: Some(query.id.0.clone()),
            })
        }
        _ => None,
    }
}

fn inbound(from: &User, chat: ChatId, text: &str, event_id: String) -> Inbound {
    let mut inbound = Inbound::text(
        Identity::new(Channel::Telegram, from.id.0.to_string()),
        chat.0.to_string(),
        text,
    )
    .with_event_id(event_id);
    inbound.language = from.language_code.clone();
    inbound.display_name = Some(from.full_name());
    inbound
}
