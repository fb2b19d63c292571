//! The port between channel adapters and the engine.
//!
//! Adapters (Telegram, Discord, the web chat, the terminal) turn platform events into
//! [`Inbound`] messages and hand them to a [`Handler`]; the engine implements `Handler`
//! and answers with a stream of [`ReplyChunk`]s. To reach a user who did not just write
//! (handoff, incident broadcasts, approvals), the engine writes through an [`Outbox`] that
//! each adapter implements. This crate knows nothing about any platform or about the
//! engine, so a new channel is one new crate that depends on this one only.
//!
//! [`streaming`] holds the one piece of behaviour every chat platform shares: showing a
//! reply stream as a message that is edited as chunks arrive, within the platform's limits.

pub mod streaming;

use std::fmt;
use std::str::FromStr;

use async_trait::async_trait;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

/// Where a message came from or goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    Telegram,
    Discord,
    Web,
    /// The local terminal (`shopdesk chat`): whoever runs it owns the machine.
    Cli,
}

impl Channel {
    pub const ALL: [Channel; 4] = [
        Channel::Telegram,
        Channel::Discord,
        Channel::Web,
        Channel::Cli,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Telegram => "telegram",
            Channel::Discord => "discord",
            Channel::Web => "web",
            Channel::Cli => "cli",
        }
    }
}

impl fmt::Display for Channel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Channel {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Channel::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| {
                format!("unknown channel `{s}` (expected telegram, discord, web or cli)")
            })
    }
}

/// A person as one platform knows them: the channel plus that platform's user id.
/// The engine maps identities to customers and staff; adapters never decide roles.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Identity {
    pub channel: Channel,
    pub external_id: String,
}

impl Identity {
    pub fn new(channel: Channel, external_id: impl Into<String>) -> Self {
        Identity {
            channel,
            external_id: external_id.into(),
        }
    }
}

impl fmt::Display for Identity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.channel, self.external_id)
    }
}

/// One message from a user, already stripped of platform detail.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Inbound {
    pub identity: Identity,
    /// The platform's conversation (Telegram chat id, Discord channel or thread, web session).
    pub conversation: String,
    /// The platform's id for this delivery (Telegram update id, Discord message id, web frame
    /// id). The engine handles each id once, so redeliveries never act twice.
    pub event_id: Option<String>,
    pub text: String,
    /// The user's language as the platform reports it (`en`, `zh-CN`, ...), if it does.
    pub language: Option<String>,
    pub display_name: Option<String>,
}

impl Inbound {
    pub fn text(
        identity: Identity,
        conversation: impl Into<String>,
        text: impl Into<String>,
    ) -> Self {
        Inbound {
            identity,
            conversation: conversation.into(),
            event_id: None,
            text: text.into(),
            language: None,
            display_name: None,
        }
    }

    pub fn with_event_id(mut self, id: impl Into<String>) -> Self {
        self.event_id = Some(id.into());
        self
    }
}

/// A choice the user can tap instead of typing (inline keyboard, Discord button).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Button {
    pub label: String,
    /// The text the engine receives when the button is pressed, e.g. `/confirm K7QX2M`.
    pub command: String,
}

/// One piece of a streamed reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReplyChunk {
    /// More text to append to the reply being shown.
    Text { text: String },
    /// Choices to show under the reply.
    Buttons { buttons: Vec<Button> },
}

/// What the engine answers: a stream of chunks, or nothing when the inbound event was a
/// redelivery of one already handled. An empty stream means the engine has nothing to say
/// (a person has taken the conversation over): the adapter shows nothing.
pub enum Reply {
    Stream(BoxStream<'static, ReplyChunk>),
    Duplicate,
}

impl Reply {
    /// A reply that is complete at once (commands answer this way).
    pub fn whole(text: impl Into<String>, buttons: Vec<Button>) -> Self {
        let mut chunks = vec![ReplyChunk::Text { text: text.into() }];
        if !buttons.is_empty() {
            chunks.push(ReplyChunk::Buttons { buttons });
        }
        Reply::Stream(Box::pin(futures::stream::iter(chunks)))
    }

    /// Collects the whole reply: for callers that cannot stream (tests, the CLI in a pipe).
    pub async fn collect(self) -> Option<CollectedReply> {
        use futures::StreamExt;
        let Reply::Stream(mut stream) = self else {
            return None;
        };
        let mut out = CollectedReply::default();
        while let Some(chunk) = stream.next().await {
            match chunk {
                ReplyChunk::Text { text } => out.text.push_str(&text),
                ReplyChunk::Buttons { buttons } => out.buttons.extend(buttons),
            }
        }
        Some(out)
    }
}

/// A reply read to its end.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CollectedReply {
    pub text: String,
    pub buttons: Vec<Button>,
}

/// One command as a platform's command menu shows it (Discord slash commands).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandInfo {
    /// Without the slash: `order`.
    pub name: String,
    pub summary: String,
    /// The arguments in the order the command line takes them.
    pub params: Vec<CommandParam>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandParam {
    /// Lower case, words joined by `_`: `order_number`.
    pub name: String,
    /// As the usage line says it: `order number`.
    pub description: String,
    pub required: bool,
}

/// Who wrote a line of a conversation's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Author {
    /// The person the history is shown to.
    User,
    Bot,
    Staff,
}

/// One earlier message, for a client that reconnects (the web chat's resume).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryLine {
    pub from: Author,
    pub text: String,
}

/// The engine, as adapters see it.
#[async_trait]
pub trait Handler: Send + Sync {
    async fn handle(&self, inbound: Inbound) -> Reply;

    /// The adapter showed the whole reply to `event_id`. Until this is called, a redelivery
    /// of the event (after a crash or a reconnect) gets the stored reply again instead of
    /// nothing, so a reply is never lost between the engine and the user.
    async fn delivered(&self, _channel: Channel, _event_id: &str) {}

    /// The commands the engine understands, for platforms with a command menu.
    fn commands(&self) -> Vec<CommandInfo> {
        Vec::new()
    }

    /// The most recent `limit` lines of what `identity` and the store said to each other,
    /// oldest first, for a client that reconnects to `conversation`.
    async fn history(
        &self,
        _identity: &Identity,
        _conversation: &str,
        _limit: usize,
    ) -> Vec<HistoryLine> {
        Vec::new()
    }
}

/// A message the engine sends on its own initiative.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Outbound {
    /// The platform conversation to write into.
    pub conversation: String,
    pub text: String,
    pub buttons: Vec<Button>,
}

/// Why an adapter could not deliver an [`Outbound`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutboxError {
    /// The platform refused for now (rate limit, outage): try again later.
    Retry { after_secs: u64, reason: String },
    /// The recipient cannot be reached on this channel (blocked the bot, chat deleted).
    Unreachable(String),
}

impl fmt::Display for OutboxError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            OutboxError::Retry { after_secs, reason } => {
                write!(f, "retry in {after_secs}s: {reason}")
            }
            OutboxError::Unreachable(reason) => write!(f, "unreachable: {reason}"),
        }
    }
}

impl std::error::Error for OutboxError {}

/// A channel the engine can write to. Each adapter implements it for its platform.
#[async_trait]
pub trait Outbox: Send + Sync {
    fn channel(&self) -> Channel;
    async fn send(&self, message: Outbound) -> Result<(), OutboxError>;

    /// The conversation where staff work (Discord's staff channel), on a channel that has
    /// one: handoffs and approval requests are posted there.
    fn staff_area(&self) -> Option<String> {
        None
    }

    /// Opens a thread titled `title` in the staff area, posts `first` in it, and returns
    /// the thread's conversation id. Channels without threads cannot host a handoff.
    async fn open_thread(&self, title: &str, first: Outbound) -> Result<String, OutboxError> {
        let _ = (title, first);
        Err(OutboxError::Unreachable(format!(
            "{} has no threads",
            self.channel()
        )))
    }
}
