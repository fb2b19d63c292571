//! Showing one reply on Discord: as a channel message edited while the reply streams, or
//! as an interaction's response (the deferred original, then follow-ups when the text
//! outgrows one message). Buttons are message components whose custom id is the command.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::stream::BoxStream;
use serenity::all::{
    ButtonStyle, ChannelId, CreateActionRow, CreateButton, CreateInteractionResponseFollowup,
    CreateMessage, EditInteractionResponse, EditMessage, Http, MessageId,
};
use serenity::builder::Builder;
use shopdesk_port::streaming::{self, EditableChat, Pace};
use shopdesk_port::{Button, ReplyChunk};

/// Discord's limit on message content.
const MAX_MESSAGE_CHARS: usize = 2000;
/// Discord's limit on a component's custom id.
const MAX_CUSTOM_ID: usize = 100;
/// Buttons per action row, and rows per message.
const PER_ROW: usize = 5;
const MAX_ROWS: usize = 5;

pub fn pace(edit_interval: Duration) -> Pace {
    Pace {
        max_chars: MAX_MESSAGE_CHARS,
        edit_interval,
    }
}

/// A channel (or thread) the reply is posted into.
pub struct ChannelChat {
    pub http: Arc<Http>,
    pub channel: ChannelId,
}

#[async_trait]
impl EditableChat for ChannelChat {
    type Id = MessageId;
    type Error = serenity::Error;

    async fn post(&mut self, text: &str, buttons: &[Button]) -> Result<MessageId, serenity::Error> {
        let (text, rows) = components(text, buttons);
        let message = CreateMessage::new().content(text).components(rows);
        self.channel
            .send_message(&*self.http, message)
            .await
            .map(|m| m.id)
    }

    async fn edit(
        &mut self,
        id: &MessageId,
        text: &str,
        buttons: &[Button],
    ) -> Result<(), serenity::Error> {
        let (text, rows) = components(text, buttons);
        let edit = EditMessage::new().content(text).components(rows);
        self.channel
            .edit_message(&*self.http, *id, edit)
            .await
            .map(|_| ())
    }
}

/// An interaction whose response was deferred: the first message is the original
/// response, any further ones are follow-ups.
pub struct InteractionChat {
    http: Arc<Http>,
    token: String,
    original_shown: bool,
}

impl InteractionChat {
    pub fn new(http: Arc<Http>, token: String) -> Self {
        InteractionChat {
            http,
            token,
            original_shown: false,
        }
    }

    /// True once something was shown; a deferred response left empty must be deleted.
    pub fn showed_anything(&self) -> bool {
        self.original_shown
    }
}

#[derive(Clone)]
pub enum ResponseId {
    Original,
    Followup(MessageId),
}

#[async_trait]
impl EditableChat for InteractionChat {
    type Id = ResponseId;
    type Error = serenity::Error;

    async fn post(
        &mut self,
        text: &str,
        buttons: &[Button],
    ) -> Result<ResponseId, serenity::Error> {
        let (text, rows) = components(text, buttons);
        if self.original_shown {
            let followup = CreateInteractionResponseFollowup::new()
                .content(text)
                .components(rows);
            let message = followup.execute(&*self.http, (None, &self.token)).await?;
            return Ok(ResponseId::Followup(message.id));
        }
        EditInteractionResponse::new()
            .content(text)
            .components(rows)
            .execute(&*self.http, &self.token)
            .await?;
        self.original_shown = true;
        Ok(ResponseId::Original)
    }

    async fn edit(
        &mut self,
        id: &ResponseId,
        text: &str,
        buttons: &[Button],
    ) -> Result<(), serenity::Error> {
        let (text, rows) = components(text, buttons);
        match id {
            ResponseId::Original => {
                EditInteractionResponse::new()
                    .content(text)
                    .components(rows)
                    .execute(&*self.http, &self.token)
                    .await?;
            }
            ResponseId::Followup(mid) => {
                CreateInteractionResponseFollowup::new()
                    .content(text)
                    .components(rows)
                    .execute(&*self.http, (Some(*mid), &self.token))
                    .await?;
            }
        }
        Ok(())
    }
}

/// Shows `reply` in `chat`; returns how many updates the user saw.
pub async fn show<C: EditableChat<Error = serenity::Error>>(
    chat: &mut C,
    reply: BoxStream<'static, ReplyChunk>,
    edit_interval: Duration,
) -> Result<usize, serenity::Error> {
    streaming::show(chat, reply, &pace(edit_interval))
        .await
        .map(|shown| shown.updates)
}

/// The buttons as component rows. A command too long for a custom id, or beyond
/// Discord's 25 buttons, is appended to the text for the user to type.
pub fn components(text: &str, buttons: &[Button]) -> (String, Vec<CreateActionRow>) {
    let mut text = text.to_string();
    let mut fitting = Vec::new();
    for b in buttons {
        if b.command.len() <= MAX_CUSTOM_ID && fitting.len() < PER_ROW * MAX_ROWS {
            fitting.push(
                CreateButton::new(b.command.clone())
                    .label(b.label.clone())
                    .style(ButtonStyle::Primary),
            );
        } else {
            text.push_str(&format!("\n{}: `{}`", b.label, b.command));
        }
    }
    let rows = fitting
        .chunks(PER_ROW)
        .map(|row| CreateActionRow::Buttons(row.to_vec()))
        .collect();
    (text, rows)
}
