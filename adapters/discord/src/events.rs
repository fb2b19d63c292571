//! Gateway events: slash commands are registered when the gateway is ready; messages in
//! the staff area and DMs, slash commands and button presses go to the engine, and its
//! reply is shown where the event came from.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use futures::StreamExt;
use serenity::all::{
    ChannelId, Command, Context, CreateInteractionResponse, CreateInteractionResponseMessage,
    EventHandler, Interaction, InteractionId, Message, Ready, User,
};
use serenity::builder::Builder;
use shopdesk_port::streaming::signal_if_slow;
use shopdesk_port::{Channel, CommandInfo, Handler, Identity, Inbound, Reply};

use crate::reply::{self, ChannelChat, InteractionChat};
use crate::{StaffThreads, commands};

/// How long a message waits for its answer before the channel shows "typing…".
const TYPING_AFTER: Duration = Duration::from_millis(250);

pub struct Events {
    pub handler: Arc<dyn Handler>,
    pub menu: Vec<CommandInfo>,
    pub staff_channel: Option<ChannelId>,
    pub threads: StaffThreads,
    pub edit_interval: Duration,
}

#[async_trait]
impl EventHandler for Events {
    async fn ready(&self, ctx: Context, ready: Ready) {
        tracing::info!(bot = %ready.user.name, "discord gateway ready");
        let slash = commands::slash_commands(&self.menu);
        match Command::set_global_commands(&ctx.http, slash).await {
            Ok(registered) => tracing::info!(count = registered.len(), "slash commands registered"),
            Err(e) => {
                tracing::warn!(error = %e, "could not register slash commands; text commands still work")
            }
        }
    }

    async fn message(&self, ctx: Context, msg: Message) {
        if msg.author.bot {
            return;
        }
        let Some(text) = self.text_for_engine(&ctx, &msg).await else {
            return;
        };
        let inbound = inbound(&msg.author, msg.channel_id, msg.id.to_string(), text);
        let event = msg.id.to_string();
        let typing = || async {
            if let Err(e) = msg.channel_id.broadcast_typing(&ctx.http).await {
                tracing::debug!(error = %e, "typing indicator failed");
            }
        };
        let handling = self.handler.handle(inbound);
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
        let mut chat = ChannelChat {
            http: ctx.http.clone(),
            channel: msg.channel_id,
        };
        match reply::show(&mut chat, stream, self.edit_interval).await {
            Ok(_) => self.handler.delivered(Channel::Discord, &event).await,
            Err(e) => {
                tracing::warn!(channel = %msg.channel_id, error = %e, "could not show the reply")
            }
        }
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let (id, token, user, channel, text) = match &interaction {
            Interaction::Command(c) => (
                c.id,
                c.token.clone(),
                c.user.clone(),
                c.channel_id,
                commands::command_line(&c.data.name, &c.data.options, &self.menu),
            ),
            Interaction::Component(c) => (
                c.id,
                c.token.clone(),
                c.user.clone(),
                c.channel_id,
                c.data.custom_id.clone(),
            ),
            _ => return,
        };
        self.answer_interaction(&ctx, id, token, &user, channel, text)
            .await;
    }
}

impl Events {
    /// Defers the response (Discord wants one within 3 seconds), then shows the engine's
    /// reply as the response; an empty reply removes the "thinking" placeholder.
    async fn answer_interaction(
        &self,
        ctx: &Context,
        id: InteractionId,
        token: String,
        user: &User,
        channel: ChannelId,
        text: String,
    ) {
        let defer = CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new());
        if let Err(e) = defer.execute(&*ctx.http, (id, &token)).await {
            tracing::warn!(error = %e, "could not acknowledge the interaction");
            return;
        }
        let event = id.to_string();
        let mut chat = InteractionChat::new(ctx.http.clone(), token.clone());
        let shown = match self
            .handler
            .handle(inbound(user, channel, event.clone(), text))
            .await
        {
            Reply::Stream(stream) => reply::show(&mut chat, stream, self.edit_interval).await,
            Reply::Duplicate => Ok(0),
        };
        match shown {
            Ok(_) if !chat.showed_anything() => {
                if let Err(e) = ctx.http.delete_original_interaction_response(&token).await {
                    tracing::debug!(error = %e, "could not remove the empty response");
                }
                self.handler.delivered(Channel::Discord, &event).await;
            }
            Ok(_) => self.handler.delivered(Channel::Discord, &event).await,
            Err(e) => tracing::warn!(error = %e, "could not show the interaction's reply"),
        }
    }

    /// The text the engine should read, or `None` for chatter it should not see: every
    /// DM; commands (`/x` or `!x`) in the staff channel; everything in its threads.
    async fn text_for_engine(&self, ctx: &Context, msg: &Message) -> Option<String> {
        let text = msg.content.trim();
        let as_command = || match text.strip_prefix('!') {
            Some(rest) => format!("/{rest}"),
            None => text.to_string(),
        };
        if msg.guild_id.is_none() {
            return Some(as_command());
        }
        let staff = self.staff_channel?;
        if msg.channel_id == staff {
            return (text.starts_with('/') || text.starts_with('!')).then(as_command);
        }
        self.is_staff_thread(ctx, msg.channel_id, staff)
            .await
            .then(as_command)
    }

    async fn is_staff_thread(&self, ctx: &Context, channel: ChannelId, staff: ChannelId) -> bool {
        let known = self
            .threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&channel)
            .copied();
        if let Some(known) = known {
            return known;
        }
        let is_thread = match ctx.http.get_channel(channel).await {
            Ok(serenity::all::Channel::Guild(c)) => {
                c.parent_id == Some(staff) && c.thread_metadata.is_some()
            }
            Ok(_) => false,
            Err(e) => {
                tracing::warn!(%channel, error = %e, "could not look up a channel");
                return false;
            }
        };
        self.threads
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(channel, is_thread);
        is_thread
    }
}

fn inbound(user: &User, channel: ChannelId, event: String, text: String) -> Inbound {
    let mut inbound = Inbound::text(
        Identity::new(Channel::Discord, user.id.to_string()),
        channel.to_string(),
        text,
    )
    .with_event_id(event);
    inbound.display_name = Some(user.name.clone());
    inbound
}
