//! Starting the channels whose settings are present: Telegram and Discord when their
//! tokens are set, the web chat unless switched off. Each channel's outbox is registered
//! with the engine, and every HTTP surface a channel has (the web chat, the Telegram
//! webhook) comes back as routes for the one shared listener. What started, and why the
//! others did not, is logged and returned.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use shopdesk_port::{Channel, Handler};
use tokio::task::JoinHandle;

use crate::config::Config;
use crate::engine::Engine;

/// The running channels.
pub struct Channels {
    /// Routes to serve on the shared listener.
    pub router: Router,
    /// Background tasks (polling, the Discord gateway); abort them to stop.
    pub tasks: Vec<JoinHandle<()>>,
    pub report: Vec<Started>,
}

/// Whether a channel started, and how or why not.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Started {
    pub channel: Channel,
    pub running: bool,
    pub detail: String,
}

impl Channels {
    pub fn is_running(&self, channel: Channel) -> bool {
        self.report
            .iter()
            .any(|s| s.channel == channel && s.running)
    }
}

/// Starts the configured channels with the engine as their handler.
pub async fn start(config: &Config, engine: Arc<Engine>) -> Channels {
    start_with(config, engine.clone(), &engine).await
}

/// Starts the configured channels with `handler` in front of the engine (tests put a
/// scripted stream there); outboxes are registered with `engine`.
pub async fn start_with(config: &Config, handler: Arc<dyn Handler>, engine: &Engine) -> Channels {
    let mut channels = Channels {
        router: Router::new(),
        tasks: Vec::new(),
        report: Vec::new(),
    };
    let telegram = start_telegram(config, handler.clone(), engine, &mut channels).await;
    channels.report.push(telegram);
    let discord = start_discord(config, handler.clone(), engine, &mut channels).await;
    channels.report.push(discord);
    let web = start_web(config, handler, engine, &mut channels);
    channels.report.push(web);
    for s in &channels.report {
        if s.running {
            tracing::info!(channel = %s.channel, "started: {}", s.detail);
        } else {
            tracing::info!(channel = %s.channel, "not started: {}", s.detail);
        }
    }
    if channels.is_running(Channel::Discord)
        && let Err(e) = engine.open_missing_threads().await
    {
        tracing::warn!(error = %e, "could not open threads for handoffs still waiting");
    }
    channels
}

fn started(channel: Channel, detail: impl Into<String>) -> Started {
    Started {
        channel,
        running: true,
        detail: detail.into(),
    }
}

fn not_started(channel: Channel, detail: impl Into<String>) -> Started {
    Started {
        channel,
        running: false,
        detail: detail.into(),
    }
}

async fn start_telegram(
    config: &Config,
    handler: Arc<dyn Handler>,
    engine: &Engine,
    channels: &mut Channels,
) -> Started {
    let tg = &config.telegram;
    if tg.token.is_empty() {
        return not_started(
            Channel::Telegram,
            "no token (set telegram.token or SHOPDESK_TELEGRAM_TOKEN)",
        );
    }
    let settings = shopdesk_telegram::Settings {
        token: tg.token.clone(),
        api_url: tg.api_url.clone(),
        poll_timeout_secs: u32::try_from(tg.poll_timeout_secs).unwrap_or(10),
        edit_interval: Duration::from_millis(u64::try_from(tg.edit_interval_ms).unwrap_or(0)),
        webhook_secret: tg.webhook_secret.clone(),
    };
    let bot = match shopdesk_telegram::bot(&settings) {
        Ok(bot) => bot,
        Err(e) => return not_started(Channel::Telegram, e),
    };
    let username = match shopdesk_telegram::check(&bot).await {
        Ok(name) => name,
        Err(e) => return not_started(Channel::Telegram, format!("{e}; check telegram.token")),
    };
    let outbox = Arc::new(shopdesk_telegram::TelegramOutbox::new(bot.clone()));
    if tg.mode == "webhook" {
        if let Err(e) =
            shopdesk_telegram::set_webhook(&bot, &tg.webhook_url, &tg.webhook_secret).await
        {
            return not_started(Channel::Telegram, e);
        }
        let routes = shopdesk_telegram::webhook_router(bot, handler, settings);
        channels.router = std::mem::take(&mut channels.router).merge(routes);
        engine.outboxes().register(outbox);
        return started(
            Channel::Telegram,
            format!(
                "@{username}, webhook at {} (served on {})",
                tg.webhook_url,
                shopdesk_telegram::WEBHOOK_PATH
            ),
        );
    }
    channels
        .tasks
        .push(tokio::spawn(shopdesk_telegram::run_polling(
            bot, handler, settings,
        )));
    engine.outboxes().register(outbox);
    started(Channel::Telegram, format!("@{username}, long polling"))
}

async fn start_discord(
    config: &Config,
    handler: Arc<dyn Handler>,
    engine: &Engine,
    channels: &mut Channels,
) -> Started {
    let dc = &config.discord;
    if dc.token.is_empty() {
        return not_started(
            Channel::Discord,
            "no token (set discord.token or SHOPDESK_DISCORD_TOKEN)",
        );
    }
    let settings = shopdesk_discord::Settings {
        token: dc.token.clone(),
        application_id: dc.application_id.parse().ok(),
        staff_channel: dc.staff_channel_id.parse().ok(),
        api_url: (!dc.api_url.is_empty()).then(|| dc.api_url.clone()),
        edit_interval: Duration::from_millis(u64::try_from(dc.edit_interval_ms).unwrap_or(0)),
    };
    let has_staff_channel = settings.staff_channel.is_some();
    match shopdesk_discord::start(settings, handler).await {
        Ok((task, outbox)) => {
            channels.tasks.push(task);
            engine.outboxes().register(outbox);
            started(
                Channel::Discord,
                if has_staff_channel {
                    format!(
                        "slash commands, text commands and handoff threads in channel {}",
                        dc.staff_channel_id
                    )
                } else {
                    "slash commands and DMs only: set discord.staff_channel_id for text commands and handoff threads".into()
                },
            )
        }
        Err(e) => not_started(Channel::Discord, e),
    }
}

fn start_web(
    config: &Config,
    handler: Arc<dyn Handler>,
    engine: &Engine,
    channels: &mut Channels,
) -> Started {
    let web = &config.web;
    if !web.enabled {
        return not_started(Channel::Web, "switched off (web.enabled = false)");
    }
    let (secret, note) = if web.resume_secret.is_empty() {
        (
            rand::random::<[u8; 32]>().to_vec(),
            "; resume tokens last until restart (set web.resume_secret to keep them)",
        )
    } else {
        (web.resume_secret.as_bytes().to_vec(), "")
    };
    let settings = shopdesk_web::Settings {
        resume_secret: secret,
        resume_max_age_secs: u64::try_from(web.resume_days * 86_400).unwrap_or(u64::MAX),
        max_frame_bytes: usize::try_from(web.max_frame_bytes).unwrap_or(16_384),
    };
    let (routes, outbox) = shopdesk_web::router(handler, settings);
    channels.router = std::mem::take(&mut channels.router).merge(routes);
    engine.outboxes().register(outbox);
    started(
        Channel::Web,
        format!(
            "widget at /chat, WebSocket at {}{note}",
            shopdesk_web::WS_PATH
        ),
    )
}
