//! The engine writing first on Telegram (staff replies in a handoff, the handback notice).

use async_trait::async_trait;
use shopdesk_port::{Channel, Outbound, Outbox, OutboxError};
use std::future::IntoFuture;
use teloxide::payloads::SendMessageSetters;

use teloxide::requests::Requester;
use teloxide::types::ChatId;
use teloxide::{ApiError, Bot, RequestError};

use crate::reply::{retrying, with_keyboard};

pub struct TelegramOutbox {
    bot: Bot,
}

impl TelegramOutbox {
    pub fn new(bot: Bot) -> Self {
        TelegramOutbox { bot }
    }
}

#[async_trait]
impl Outbox for TelegramOutbox {
    fn channel(&self) -> Channel {
        Channel::Telegram
    }

    async fn send(&self, message: Outbound) -> Result<(), OutboxError> {
        let chat: i64 = message.conversation.parse().map_err(|_| {
            OutboxError::Unreachable(format!(
                "`{}` is not a Telegram chat id",
                message.conversation
            ))
        })?;
        let (text, keyboard) = with_keyboard(&message.text, &message.buttons);
        let sent = retrying(|| {
            let mut request = self.bot.send_message(ChatId(chat), text.clone());
            if let Some(k) = &keyboard {
                request = request.reply_markup(k.clone());
            }
            request.into_future()
        })
        .await;
        sent.map(|_| ()).map_err(|e| match e {
            RequestError::RetryAfter(wait) => OutboxError::Retry {
                after_secs: u64::from(wait.seconds()),
                reason: "Telegram flood control".into(),
            },
            RequestError::Network(e) => OutboxError::Retry {
                after_secs: 5,
                reason: e.to_string(),
            },
            RequestError::Api(
                e @ (ApiError::BotBlocked
                | ApiError::ChatNotFound
                | ApiError::UserDeactivated
                | ApiError::BotKicked),
            ) => OutboxError::Unreachable(e.to_string()),
            other => OutboxError::Unreachable(other.to_string()),
        })
    }
}
