//! shopdesk's Discord channel, for staff, on serenity.
//!
//! Every store command is a slash command (registered from the engine's command list when
//! the gateway is ready), and the same commands work as text (`/order 1042` or
//! `!order 1042`) in the configured staff channel. Threads under the staff channel are
//! handoff threads: everything written there goes to the engine, which relays it to the
//! customer. Buttons (approvals, handing a conversation back) are message components whose
//! id is the command they stand for. Replies stream by editing one message.

mod commands;
mod events;
mod outbox;
mod reply;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serenity::all::ClientBuilder;
use serenity::all::{ApplicationId, ChannelId, GatewayIntents, HttpBuilder};
use shopdesk_port::Handler;
use tokio::task::JoinHandle;

pub use outbox::DiscordOutbox;

#[derive(Debug, Clone)]
pub struct Settings {
    pub token: String,
    pub application_id: Option<u64>,
    /// Where staff type text commands and where handoff threads open.
    pub staff_channel: Option<u64>,
    /// The REST origin to use instead of discord.com (a local fake in tests). The gateway
    /// URL comes from its `/api/v10/gateway` answer.
    pub api_url: Option<String>,
    pub edit_interval: Duration,
}

/// Channels known to be (true) or not to be (false) threads under the staff channel:
/// threads we opened, and channels looked up once.
pub(crate) type StaffThreads = Arc<Mutex<HashMap<ChannelId, bool>>>;

/// Connects to Discord and runs the client until the task is dropped. The outbox works as
/// soon as this returns (it uses REST only).
pub async fn start(
    settings: Settings,
    handler: Arc<dyn Handler>,
) -> Result<(JoinHandle<()>, Arc<DiscordOutbox>), String> {
    let mut http = HttpBuilder::new(&settings.token);
    if let Some(api) = &settings.api_url {
        // The proxy only applies to requests that skip the rate limiter (serenity builds
        // rate-limited requests without it), so a local API needs the limiter off.
        http = http
            .proxy(api.trim_end_matches('/'))
            .ratelimiter_disabled(true);
    }
    if let Some(id) = settings.application_id {
        http = http.application_id(ApplicationId::new(id));
    }
    let intents = GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT;
    let threads: StaffThreads = Arc::default();
    let staff_channel = settings.staff_channel.map(ChannelId::new);
    let events = events::Events {
        menu: handler.commands(),
        handler,
        staff_channel,
        threads: threads.clone(),
        edit_interval: settings.edit_interval,
    };
    let mut client = ClientBuilder::new_with_http(http.build(), intents)
        .event_handler(events)
        .await
        .map_err(|e| format!("cannot build the Discord client: {e}"))?;
    let outbox = Arc::new(DiscordOutbox::new(
        client.http.clone(),
        staff_channel,
        threads,
    ));
    let task = tokio::spawn(async move {
        if let Err(e) = client.start().await {
            tracing::error!(error = %e, "the Discord client stopped");
        }
    });
    Ok((task, outbox))
}
