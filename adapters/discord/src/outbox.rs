//! The engine writing first on Discord: relays into handoff threads, approval requests in
//! the staff channel, and opening a handoff's thread.

use std::sync::Arc;

use async_trait::async_trait;
use serenity::all::{ChannelId, ChannelType, CreateThread, Http};
use shopdesk_port::streaming::EditableChat;
use shopdesk_port::{Channel, Outbound, Outbox, OutboxError};

use crate::StaffThreads;
use crate::reply::ChannelChat;

/// Discord's limit on a thread name.
const MAX_THREAD_NAME: usize = 100;

pub struct DiscordOutbox {
    http: Arc<Http>,
    staff_channel: Option<ChannelId>,
    threads: StaffThreads,
}

impl DiscordOutbox {
    pub(crate) fn new(
        http: Arc<Http>,
        staff_channel: Option<ChannelId>,
        threads: StaffThreads,
    ) -> Self {
        DiscordOutbox {
            http,
            staff_channel,
            threads,
        }
    }

    async fn post(&self, channel: ChannelId, message: &Outbound) -> Result<(), OutboxError> {
        let mut chat = ChannelChat {
            http: self.http.clone(),
            channel,
        };
        chat.post(&message.text, &message.buttons)
            .await
            .map(|_| ())
            .map_err(unreachable)
    }
}

#[async_trait]
impl Outbox for DiscordOutbox {
    fn channel(&self) -> Channel {
        Channel::Discord
    }

    async fn send(&self, message: Outbound) -> Result<(), OutboxError> {
        let channel = parse_channel(&message.conversation)?;
        self.post(channel, &message).await
    }

    fn staff_area(&self) -> Option<String> {
        self.staff_channel.map(|c| c.to_string())
    }

    async fn open_thread(&self, title: &str, first: Outbound) -> Result<String, OutboxError> {
        let parent = parse_channel(&first.conversation)?;
        let name: String = title.chars().take(MAX_THREAD_NAME).collect();
        let thread = parent
            .create_thread(
                &*self.http,
                CreateThread::new(name).kind(ChannelType::PublicThread),
            )
            .await
            .map_err(unreachable)?;
        self.threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(thread.id, true);
        self.post(thread.id, &first).await?;
        Ok(thread.id.to_string())
    }
}

fn parse_channel(conversation: &str) -> Result<ChannelId, OutboxError> {
    conversation
        .parse::<u64>()
        .ok()
        .filter(|id| *id != 0)
        .map(ChannelId::new)
        .ok_or_else(|| {
            OutboxError::Unreachable(format!("`{conversation}` is not a Discord channel id"))
        })
}

fn unreachable(e: serenity::Error) -> OutboxError {
    OutboxError::Unreachable(e.to_string())
}
