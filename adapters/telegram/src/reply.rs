//! Showing one reply in a Telegram chat: streamed by message edits within Telegram's
//! limits, buttons as an inline keyboard, and Telegram's own answers handled: RetryAfter
//! waits as long as Telegram asks, MessageNotModified means the text is already shown.

use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use shopdesk_port::streaming::{self, EditableChat, Pace};
use shopdesk_port::{Button, ReplyChunk};
use teloxide::payloads::{EditMessageTextSetters, SendMessageSetters};
use teloxide::requests::Requester;
use teloxide::types::{ChatId, InlineKeyboardButton, InlineKeyboardMarkup, MessageId};
use teloxide::{ApiError, Bot, RequestError};

use crate::MAX_MESSAGE_CHARS;

/// Telegram's limit on callback data; longer commands are shown as text to type.
const MAX_CALLBACK_BYTES: usize = 64;
/// How often one request is retried after RetryAfter or a network error.
const ATTEMPTS: u32 = 5;

pub struct TelegramChat {
    pub bot: Bot,
    pub chat: ChatId,
}

#[async_trait]
impl EditableChat for TelegramChat {
    type Id = MessageId;
    type Error = RequestError;

    async fn post(&mut self, text: &str, buttons: &[Button]) -> Result<MessageId, RequestError> {
        let (text, keyboard) = with_keyboard(text, buttons);
        retrying(|| {
            let mut request = self.bot.send_message(self.chat, text.clone());
            if let Some(k) = &keyboard {
                request = request.reply_markup(k.clone());
            }
            async move { request.await.map(|m| m.id) }
        })
        .await
    }

    async fn edit(
        &mut self,
        id: &MessageId,
        text: &str,
        buttons: &[Button],
    ) -> Result<(), RequestError> {
        let (text, keyboard) = with_keyboard(text, buttons);
        let edited = retrying(|| {
            let mut request = self.bot.edit_message_text(self.chat, *id, text.clone());
            if let Some(k) = &keyboard {
                request = request.reply_markup(k.clone());
            }
            async move { request.await.map(|_| ()) }
        })
        .await;
        match edited {
            Err(RequestError::Api(ApiError::MessageNotModified)) => Ok(()),
            other => other,
        }
    }
}

/// Shows `reply` in `chat`; returns the number of updates (posts and edits) the user saw.
pub async fn show(
    bot: &Bot,
    chat: ChatId,
    reply: BoxStream<'static, ReplyChunk>,
    edit_interval: Duration,
) -> Result<usize, RequestError> {
    let mut target = TelegramChat {
        bot: bot.clone(),
        chat,
    };
    let pace = Pace {
        max_chars: MAX_MESSAGE_CHARS,
        edit_interval,
    };
    streaming::show(&mut target, reply, &pace)
        .await
        .map(|shown| shown.updates)
}

/// Runs a request again while Telegram says to wait (RetryAfter) or the network fails.
pub async fn retrying<T, F, Fut>(mut request: F) -> Result<T, RequestError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<T, RequestError>>,
{
    let mut attempt = 1;
    loop {
        match request().await {
            Err(RequestError::RetryAfter(wait)) if attempt < ATTEMPTS => {
                tracing::info!(seconds = wait.seconds(), "telegram asked to retry later");
                tokio::time::sleep(wait.duration()).await;
            }
            Err(RequestError::Network(e)) if attempt < ATTEMPTS => {
                tracing::warn!(error = %e, attempt, "telegram request failed; retrying");
                tokio::time::sleep(Duration::from_millis(500 * u64::from(attempt))).await;
            }
            other => return other,
        }
        attempt += 1;
    }
}

/// The inline keyboard for `buttons`, one button per row. A command too long for
/// Telegram's callback data is appended to the text for the user to type instead.
pub fn with_keyboard(text: &str, buttons: &[Button]) -> (String, Option<InlineKeyboardMarkup>) {
    let mut text = text.to_string();
    let mut rows = Vec::new();
    for b in buttons {
        if b.command.len() <= MAX_CALLBACK_BYTES {
            rows.push(vec![InlineKeyboardButton::callback(
                b.label.clone(),
                b.command.clone(),
            )]);
        } else {
            text.push_str(&format!("\n{}: {}", b.label, b.command));
        }
    }
    let keyboard = (!rows.is_empty()).then(|| InlineKeyboardMarkup::new(rows));
    (text, keyboard)
}
