//! Configuration: one TOML file, `SHOPDESK_*` environment overrides, validated at start.
//!
//! Every setting has a default (see `shopdesk.example.toml`, which lists them all). The
//! environment variable for a setting is its dotted path in upper case with `_` for `.`:
//! `pricing.max_change_percent` is `SHOPDESK_PRICING_MAX_CHANGE_PERCENT`. Overrides are
//! matched against the known settings, so a typo in a variable name cannot go unnoticed
//! silently: it is reported as a warning at start.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// Where the SQLite database and other local state live.
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; empty means `sqlite://<data_dir>/shopdesk.db`.
    pub database_url: String,
    /// ISO 4217 code shown next to amounts; amounts are integer minor units (cents).
    pub currency: String,
    pub http: Http,
    pub model: Model,
    pub retrieval: Retrieval,
    pub orders: Orders,
    pub pricing: Pricing,
    pub restock: Restock,
    pub confirmations: Confirmations,
    pub fraud: Fraud,
    pub incidents: Incidents,
    pub telegram: Telegram,
    pub discord: Discord,
    pub web: Web,
    pub limits: Limits,
    pub handoff: Handoff,
    pub linking: Linking,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Http {
    /// The one listener for everything shopdesk serves (web chat, webhooks, /v1, health).
    pub listen: String,
    /// Bearer key the OpenAI-compatible /v1 endpoint requires. Required when `listen` is
    /// not a loopback address; empty on loopback: /v1 is open to local processes.
    pub api_key: String,
}

/// The language model behind free-text messages.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Model {
    /// `llama` (llama.cpp in process), `openai` (any OpenAI-compatible endpoint) or `none`
    /// (commands only; free text gets a pointer to /help).
    pub backend: String,
    /// The GGUF file for `llama`; scripts/fetch-models puts the default one here.
    pub path: PathBuf,
    /// Layers offloaded to the GPU: -1 means all of them in a `cuda` or `vulkan` build and
    /// none in the default CPU build.
    pub gpu_layers: i64,
    /// CPU threads for decoding; 0 means one per available core.
    pub threads: i64,
    /// Conversations decoded together in one batch.
    pub parallel: i64,
    /// Context tokens per conversation (history is trimmed, oldest turns first, to fit).
    pub context_tokens: i64,
    /// Requests that may wait for a free slot; beyond that callers hear "busy" at once.
    pub queue: i64,
    /// Longest model reply, in tokens.
    pub max_reply_tokens: i64,
    /// A llama.cpp chat template name (chatml, llama3, ...); empty: the GGUF's own.
    pub chat_template: String,
    /// For `openai`: the endpoint, including /v1.
    pub openai_base_url: String,
    /// For `openai`: the bearer key (empty for a local server without one).
    pub openai_api_key: String,
    /// For `openai`: the model name the endpoint knows.
    pub openai_model: String,
}

/// The knowledge index: policies and products, searched by meaning and by words.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Retrieval {
    /// A BERT-family model directory (model.safetensors, tokenizer.json, config.json);
    /// scripts/fetch-models puts all-MiniLM-L6-v2 here. Missing: retrieval is off.
    pub embedder_path: PathBuf,
    /// The Markdown policies and FAQ to ingest.
    pub knowledge_dir: PathBuf,
    /// An English passage is trusted when its cosine similarity with the question reaches
    /// this...
    pub min_dense_score: f64,
    /// ...or its BM25 score reaches this.
    pub min_bm25_score: f64,
    /// A Chinese passage is trusted when its BM25 score (words and character pairs)
    /// reaches this; the default embedder's Chinese similarities are not used.
    pub min_bm25_score_zh: f64,
}

impl Default for Retrieval {
    fn default() -> Self {
        Retrieval {
            embedder_path: PathBuf::from("models/all-MiniLM-L6-v2"),
            knowledge_dir: PathBuf::from("knowledge"),
            min_dense_score: 0.40,
            min_bm25_score: 7.0,
            min_bm25_score_zh: 30.0,
        }
    }
}

impl Default for Model {
    fn default() -> Self {
        Model {
            backend: "llama".into(),
            path: PathBuf::from("models/SmolLM2-135M-Instruct.Q4_1.gguf"),
            gpu_layers: -1,
            threads: 0,
            parallel: 8,
            context_tokens: 2048,
            queue: 64,
            max_reply_tokens: 256,
            chat_template: String::new(),
            openai_base_url: "http://127.0.0.1:8080/v1".into(),
            openai_api_key: String::new(),
            openai_model: "SmolLM2-135M-Instruct.Q4_1".into(),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Orders {
    /// Days after delivery in which a customer may start a return.
    pub return_window_days: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Pricing {
    /// A reprice that moves the price by more than this percentage needs a second person.
    pub max_change_percent: i64,
    /// No price may go below cost plus this margin (percent of cost).
    pub min_margin_percent: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Restock {
    /// A purchase order above this quantity waits for its requester's confirmation.
    pub confirm_above: i64,
    /// Days of demand a suggested purchase order should cover after it arrives.
    pub cover_days: i64,
    /// Days of sales history used to measure velocity for suggestions.
    pub velocity_window_days: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Confirmations {
    /// Minutes before a pending confirmation or approval code expires.
    pub expiry_minutes: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Fraud {
    /// Score (0-100) at or above which staff are alerted.
    pub alert_score: i64,
    /// Score (0-100) at or above which an order is held automatically.
    pub hold_score: i64,
    /// A first order at or above this amount (minor units) counts as high value.
    pub high_first_order_minor: i64,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Incidents {
    /// While an incident is open, repricing suggestions are withheld.
    pub freeze_repricing: bool,
}

impl Default for Incidents {
    fn default() -> Self {
        Incidents {
            freeze_repricing: true,
        }
    }
}

/// The Telegram channel (customers). Started when `token` is set.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Telegram {
    /// The bot token from @BotFather; empty: the channel is not started.
    pub token: String,
    /// `polling` (long polling, the default) or `webhook`.
    pub mode: String,
    /// The Bot API server; tests point it at a local fake.
    pub api_url: String,
    /// Webhook mode: the public HTTPS URL Telegram posts updates to (it must reach
    /// `/telegram/webhook` on http.listen).
    pub webhook_url: String,
    /// Webhook mode: the secret Telegram sends with each update, so nobody else can post.
    pub webhook_secret: String,
    /// Seconds a long poll waits for updates (under the HTTP client's 17-second timeout).
    pub poll_timeout_secs: i64,
    /// Shortest time between two edits of a streamed reply (Telegram allows about one
    /// message update per second per chat).
    pub edit_interval_ms: i64,
}

/// The Discord channel (staff). Started when `token` is set.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Discord {
    /// The bot token; empty: the channel is not started.
    pub token: String,
    /// The application id for slash commands; empty: learnt from the gateway at start.
    pub application_id: String,
    /// The channel where staff type commands as text and where handoff threads open.
    pub staff_channel_id: String,
    /// The REST API origin; empty: discord.com. Tests point it at a local fake, whose
    /// /api/v10/gateway answer also names the gateway to connect to.
    pub api_url: String,
    /// Shortest time between two edits of a streamed reply.
    pub edit_interval_ms: i64,
}

/// The web chat: a WebSocket at /chat/ws, the widget at /chat, a demo shop page at /.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Web {
    pub enabled: bool,
    /// Signs resume tokens. Empty: a random secret per start (visitors cannot resume a
    /// conversation across a restart). Use at least 32 random characters.
    pub resume_secret: String,
    /// Days a resume token stays valid.
    pub resume_days: i64,
    /// Largest WebSocket frame accepted; larger ones get an error frame.
    pub max_frame_bytes: i64,
}

/// Flood protection: per person and per channel, answered politely once per flood.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Messages one person may send per minute (bursts up to this many).
    pub per_identity_per_minute: i64,
    /// Messages one channel (all its users together) may bring per minute.
    pub per_channel_per_minute: i64,
}

/// Handing a conversation from the bot to a person.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Handoff {
    /// A staff member counts as online for this many minutes after their last message or
    /// button press.
    pub online_minutes: i64,
    /// When nobody is online, the customer is told to expect an answer within this many hours.
    pub expected_reply_hours: i64,
    /// How many recent messages the staff thread opens with.
    pub history_messages: i64,
}

/// Linking a chat account to a customer with /link <order> <email or phone>.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Linking {
    /// Failed attempts one chat account may make per window.
    pub max_failures: i64,
    /// Failed attempts on one order number (from any account) per window.
    pub max_failures_per_order: i64,
    pub window_minutes: i64,
}

impl Default for Telegram {
    fn default() -> Self {
        Telegram {
            token: String::new(),
            mode: "polling".into(),
            api_url: "https://api.telegram.org".into(),
            webhook_url: String::new(),
            webhook_secret: String::new(),
            poll_timeout_secs: 10,
            edit_interval_ms: 1000,
        }
    }
}

impl Default for Discord {
    fn default() -> Self {
        Discord {
            token: String::new(),
            application_id: String::new(),
            staff_channel_id: String::new(),
            api_url: String::new(),
            edit_interval_ms: 1000,
        }
    }
}

impl Default for Web {
    fn default() -> Self {
        Web {
            enabled: true,
            resume_secret: String::new(),
            resume_days: 30,
            max_frame_bytes: 16_384,
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            per_identity_per_minute: 20,
            per_channel_per_minute: 600,
        }
    }
}

impl Default for Handoff {
    fn default() -> Self {
        Handoff {
            online_minutes: 15,
            expected_reply_hours: 4,
            history_messages: 10,
        }
    }
}

impl Default for Linking {
    fn default() -> Self {
        Linking {
            max_failures: 5,
            max_failures_per_order: 10,
            window_minutes: 60,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            data_dir: PathBuf::from("data"),
            database_url: String::new(),
            currency: "USD".into(),
            http: Http::default(),
            model: Model::default(),
            retrieval: Retrieval::default(),
            orders: Orders::default(),
            pricing: Pricing::default(),
            restock: Restock::default(),
            confirmations: Confirmations::default(),
            fraud: Fraud::default(),
            incidents: Incidents::default(),
            telegram: Telegram::default(),
            discord: Discord::default(),
            web: Web::default(),
            limits: Limits::default(),
            handoff: Handoff::default(),
            linking: Linking::default(),
        }
    }
}

impl Default for Http {
    fn default() -> Self {
        Http {
            listen: "127.0.0.1:8080".into(),
            api_key: String::new(),
        }
    }
}

impl Default for Orders {
    fn default() -> Self {
        Orders {
            return_window_days: 30,
        }
    }
}

impl Default for Pricing {
    fn default() -> Self {
        Pricing {
            max_change_percent: 15,
            min_margin_percent: 10,
        }
    }
}

impl Default for Restock {
    fn default() -> Self {
        Restock {
            confirm_above: 500,
            cover_days: 30,
            velocity_window_days: 28,
        }
    }
}

impl Default for Confirmations {
    fn default() -> Self {
        Confirmations { expiry_minutes: 15 }
    }
}

impl Default for Fraud {
    fn default() -> Self {
        Fraud {
            alert_score: 50,
            hold_score: 70,
            high_first_order_minor: 50_000,
        }
    }
}

/// A configuration problem, phrased so the user can fix it without reading code.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("invalid setting `{key}` = {value}: {fix}")]
pub struct ConfigError {
    pub key: String,
    pub value: String,
    pub fix: String,
}

impl ConfigError {
    fn new(key: &str, value: impl ToString, fix: impl Into<String>) -> Self {
        ConfigError {
            key: key.into(),
            value: value.to_string(),
            fix: fix.into(),
        }
    }
}

impl Config {
    /// Loads the file (if given), applies `SHOPDESK_*` overrides from `env`, and validates.
    /// `env` is passed in so tests need not touch the process environment.
    pub fn load(
        path: Option<&Path>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut tree = toml::Value::try_from(Config::default()).expect("defaults serialize");
        if let Some(path) = path {
            let text = std::fs::read_to_string(path).map_err(|e| {
                ConfigError::new(
                    "config file",
                    path.display(),
                    format!("cannot read it ({e}); check the path given to --config"),
                )
            })?;
            let file: toml::Table = text.parse().map_err(|e: toml::de::Error| {
                ConfigError::new(
                    "config file",
                    path.display(),
                    format!("not valid TOML: {}", e.message().trim()),
                )
            })?;
            merge(&mut tree, toml::Value::Table(file));
        }
        apply_env(&mut tree, env)?;
        let config: Config = tree.try_into().map_err(|e: toml::de::Error| {
            ConfigError::new(
                "config file",
                "",
                format!(
                    "{}; see shopdesk.example.toml for every setting",
                    e.message().trim()
                ),
            )
        })?;
        config.validate()?;
        Ok(config)
    }

    /// The database URL with the SQLite default filled in.
    pub fn database_url(&self) -> String {
        if self.database_url.is_empty() {
            format!("sqlite://{}/shopdesk.db?mode=rwc", self.data_dir.display())
        } else {
            self.database_url.clone()
        }
    }

    pub fn confirmation_expiry_secs(&self) -> i64 {
        self.confirmations.expiry_minutes * 60
    }

    fn validate(&self) -> Result<(), ConfigError> {
        let url = self.database_url();
        if !(url.starts_with("sqlite:")
            || url.starts_with("postgres://")
            || url.starts_with("postgresql://"))
        {
            return Err(ConfigError::new(
                "database_url",
                &self.database_url,
                "use sqlite://path/to/file.db or postgres://user@host:5432/dbname",
            ));
        }
        if self.http.listen.parse::<SocketAddr>().is_err() {
            return Err(ConfigError::new(
                "http.listen",
                &self.http.listen,
                "use an address and port such as 127.0.0.1:8080",
            ));
        }
        self.validate_model()?;
        if self.currency.len() != 3 || !self.currency.chars().all(|c| c.is_ascii_uppercase()) {
            return Err(ConfigError::new(
                "currency",
                &self.currency,
                "use a three-letter ISO 4217 code such as USD or CNY",
            ));
        }
        positive("orders.return_window_days", self.orders.return_window_days)?;
        percent(
            "pricing.max_change_percent",
            self.pricing.max_change_percent,
        )?;
        percent(
            "pricing.min_margin_percent",
            self.pricing.min_margin_percent,
        )?;
        positive("restock.confirm_above", self.restock.confirm_above)?;
        positive("restock.cover_days", self.restock.cover_days)?;
        positive(
            "restock.velocity_window_days",
            self.restock.velocity_window_days,
        )?;
        positive(
            "confirmations.expiry_minutes",
            self.confirmations.expiry_minutes,
        )?;
        percent("fraud.alert_score", self.fraud.alert_score)?;
        percent("fraud.hold_score", self.fraud.hold_score)?;
        positive(
            "fraud.high_first_order_minor",
            self.fraud.high_first_order_minor,
        )?;
        self.validate_channels()?;
        if self.fraud.hold_score < self.fraud.alert_score {
            return Err(ConfigError::new(
                "fraud.hold_score",
                self.fraud.hold_score,
                format!(
                    "must be at least fraud.alert_score ({}): staff are alerted before an order is held",
                    self.fraud.alert_score
                ),
            ));
        }
        Ok(())
    }
}

impl Config {
    fn validate_model(&self) -> Result<(), ConfigError> {
        let listen: SocketAddr = self.http.listen.parse().map_err(|_| {
            ConfigError::new(
                "http.listen",
                &self.http.listen,
                "use an address and port such as 127.0.0.1:8080",
            )
        })?;
        if !listen.ip().is_loopback() && self.http.api_key.is_empty() {
            return Err(ConfigError::new(
                "http.api_key",
                "\"\"",
                format!(
                    "set a key (SHOPDESK_HTTP_API_KEY): http.listen ({listen}) is reachable from other machines, and /v1 must not be open to them"
                ),
            ));
        }
        let m = &self.model;
        if !matches!(m.backend.as_str(), "llama" | "openai" | "none") {
            return Err(ConfigError::new(
                "model.backend",
                &m.backend,
                "use llama (local GGUF), openai (an OpenAI-compatible endpoint) or none",
            ));
        }
        if m.gpu_layers < -1 {
            return Err(ConfigError::new(
                "model.gpu_layers",
                m.gpu_layers,
                "use -1 (all layers on a GPU build), 0 (CPU only) or a layer count",
            ));
        }
        if m.threads < 0 {
            return Err(ConfigError::new(
                "model.threads",
                m.threads,
                "use 0 (one per core) or a thread count",
            ));
        }
        if !(1..=256).contains(&m.parallel) {
            return Err(ConfigError::new(
                "model.parallel",
                m.parallel,
                "use 1 to 256 conversations",
            ));
        }
        if !(256..=131_072).contains(&m.context_tokens) {
            return Err(ConfigError::new(
                "model.context_tokens",
                m.context_tokens,
                "use 256 to 131072 tokens per conversation",
            ));
        }
        positive("model.queue", m.queue)?;
        if !(1..m.context_tokens).contains(&m.max_reply_tokens) {
            return Err(ConfigError::new(
                "model.max_reply_tokens",
                m.max_reply_tokens,
                format!(
                    "use 1 to {} (less than model.context_tokens)",
                    m.context_tokens - 1
                ),
            ));
        }
        if m.backend == "openai"
            && !(m.openai_base_url.starts_with("http://")
                || m.openai_base_url.starts_with("https://"))
        {
            return Err(ConfigError::new(
                "model.openai_base_url",
                &m.openai_base_url,
                "use the endpoint's URL including /v1, such as http://gpu-box:8080/v1",
            ));
        }
        Ok(())
    }

    fn validate_channels(&self) -> Result<(), ConfigError> {
        let tg = &self.telegram;
        match tg.mode.as_str() {
            "polling" => {}
            "webhook" if !tg.token.is_empty() => {
                if !tg.webhook_url.starts_with("https://") && !tg.webhook_url.starts_with("http://")
                {
                    return Err(ConfigError::new(
                        "telegram.webhook_url",
                        &tg.webhook_url,
                        "webhook mode needs the public URL Telegram posts to, e.g. https://shop.example.com/telegram/webhook",
                    ));
                }
                if tg.webhook_secret.len() < 16
                    || !tg
                        .webhook_secret
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
                {
                    return Err(ConfigError::new(
                        "telegram.webhook_secret",
                        "(hidden)",
                        "webhook mode needs a secret of 16 to 256 letters, digits, _ or -",
                    ));
                }
            }
            "webhook" => {}
            other => {
                return Err(ConfigError::new(
                    "telegram.mode",
                    other,
                    "use polling or webhook",
                ));
            }
        }
        if !tg.api_url.starts_with("http://") && !tg.api_url.starts_with("https://") {
            return Err(ConfigError::new(
                "telegram.api_url",
                &tg.api_url,
                "use the Bot API origin, e.g. https://api.telegram.org",
            ));
        }
        if !(1..=15).contains(&tg.poll_timeout_secs) {
            return Err(ConfigError::new(
                "telegram.poll_timeout_secs",
                tg.poll_timeout_secs,
                "must be from 1 to 15 (the HTTP client gives up after 17 seconds)",
            ));
        }
        non_negative("telegram.edit_interval_ms", tg.edit_interval_ms)?;
        let dc = &self.discord;
        for (key, value) in [
            ("discord.application_id", &dc.application_id),
            ("discord.staff_channel_id", &dc.staff_channel_id),
        ] {
            if !value.is_empty() && value.parse::<u64>().map_or(true, |n| n == 0) {
                return Err(ConfigError::new(
                    key,
                    value,
                    "use the numeric id Discord shows with developer mode on",
                ));
            }
        }
        if !dc.api_url.is_empty()
            && !dc.api_url.starts_with("http://")
            && !dc.api_url.starts_with("https://")
        {
            return Err(ConfigError::new(
                "discord.api_url",
                &dc.api_url,
                "leave it empty for discord.com, or give an origin such as http://127.0.0.1:9000",
            ));
        }
        non_negative("discord.edit_interval_ms", dc.edit_interval_ms)?;
        positive("web.resume_days", self.web.resume_days)?;
        if !(1024..=1_048_576).contains(&self.web.max_frame_bytes) {
            return Err(ConfigError::new(
                "web.max_frame_bytes",
                self.web.max_frame_bytes,
                "must be from 1024 to 1048576",
            ));
        }
        positive(
            "limits.per_identity_per_minute",
            self.limits.per_identity_per_minute,
        )?;
        positive(
            "limits.per_channel_per_minute",
            self.limits.per_channel_per_minute,
        )?;
        positive("handoff.online_minutes", self.handoff.online_minutes)?;
        positive(
            "handoff.expected_reply_hours",
            self.handoff.expected_reply_hours,
        )?;
        positive("handoff.history_messages", self.handoff.history_messages)?;
        positive("linking.max_failures", self.linking.max_failures)?;
        positive(
            "linking.max_failures_per_order",
            self.linking.max_failures_per_order,
        )?;
        positive("linking.window_minutes", self.linking.window_minutes)
    }
}

fn non_negative(key: &str, value: i64) -> Result<(), ConfigError> {
    if value >= 0 {
        Ok(())
    } else {
        Err(ConfigError::new(key, value, "must be 0 or more"))
    }
}

fn positive(key: &str, value: i64) -> Result<(), ConfigError> {
    if value > 0 {
        Ok(())
    } else {
        Err(ConfigError::new(
            key,
            value,
            "must be a whole number greater than 0",
        ))
    }
}

fn percent(key: &str, value: i64) -> Result<(), ConfigError> {
    if (0..=100).contains(&value) {
        Ok(())
    } else {
        Err(ConfigError::new(
            key,
            value,
            "must be a whole number from 0 to 100",
        ))
    }
}

/// Overlays `from` onto `into`, table by table.
fn merge(into: &mut toml::Value, from: toml::Value) {
    match (into, from) {
        (toml::Value::Table(into), toml::Value::Table(from)) => {
            for (key, value) in from {
                match into.get_mut(&key) {
                    Some(existing) if existing.is_table() && value.is_table() => {
                        merge(existing, value)
                    }
                    _ => {
                        into.insert(key, value);
                    }
                }
            }
        }
        (into, from) => *into = from,
    }
}

/// Replaces each known leaf setting whose `SHOPDESK_*` variable is set, parsed as the
/// default's type.
fn apply_env(
    tree: &mut toml::Value,
    env: impl IntoIterator<Item = (String, String)>,
) -> Result<(), ConfigError> {
    let vars: Vec<(String, String)> = env
        .into_iter()
        .filter(|(k, _)| k.starts_with("SHOPDESK_"))
        .collect();
    let mut known = Vec::new();
    for_each_leaf(tree, String::new(), &mut |path, leaf| {
        let var = format!("SHOPDESK_{}", path.replace('.', "_").to_uppercase());
        known.push(var.clone());
        let Some((_, raw)) = vars.iter().find(|(k, _)| *k == var) else {
            return Ok(());
        };
        *leaf = match leaf {
            toml::Value::Integer(_) => toml::Value::Integer(raw.trim().parse().map_err(|_| {
                ConfigError::new(&path, raw, format!("{var} must be a whole number"))
            })?),
            toml::Value::Boolean(_) => toml::Value::Boolean(raw.trim().parse().map_err(|_| {
                ConfigError::new(&path, raw, format!("{var} must be true or false"))
            })?),
            _ => toml::Value::String(raw.clone()),
        };
        Ok(())
    })?;
    for (var, _) in &vars {
        if !known.contains(var) && !NON_SETTING_VARS.contains(&var.as_str()) {
            tracing::warn!(variable = %var, "ignoring unknown SHOPDESK_ variable; see shopdesk.example.toml for setting names");
        }
    }
    Ok(())
}

/// Variables read by the CLI itself rather than by the settings tree.
const NON_SETTING_VARS: &[&str] = &["SHOPDESK_CONFIG", "SHOPDESK_LOG"];

fn for_each_leaf(
    value: &mut toml::Value,
    path: String,
    f: &mut dyn FnMut(String, &mut toml::Value) -> Result<(), ConfigError>,
) -> Result<(), ConfigError> {
    match value {
        toml::Value::Table(table) => {
            for (key, child) in table.iter_mut() {
                let child_path = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                for_each_leaf(child, child_path, f)?;
            }
            Ok(())
        }
        leaf => f(path, leaf),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn defaults_are_valid() {
        assert_eq!(Config::load(None, env(&[])).unwrap(), Config::default());
    }

    #[test]
    fn env_overrides_nested_settings() {
        let c = Config::load(
            None,
            env(&[
                ("SHOPDESK_PRICING_MAX_CHANGE_PERCENT", "20"),
                ("SHOPDESK_HTTP_LISTEN", "0.0.0.0:9000"),
                ("SHOPDESK_HTTP_API_KEY", "sk-local"),
            ]),
        )
        .unwrap();
        assert_eq!(c.pricing.max_change_percent, 20);
        assert_eq!(c.http.listen, "0.0.0.0:9000");
    }

    #[test]
    fn a_listener_beyond_loopback_needs_an_api_key() {
        let e = Config::load(None, env(&[("SHOPDESK_HTTP_LISTEN", "0.0.0.0:9000")])).unwrap_err();
        assert_eq!(e.key, "http.api_key");
        assert!(e.fix.contains("SHOPDESK_HTTP_API_KEY"), "{}", e.fix);
    }

    #[test]
    fn bad_values_name_key_value_and_fix() {
        let e = Config::load(
            None,
            env(&[("SHOPDESK_PRICING_MAX_CHANGE_PERCENT", "lots")]),
        )
        .unwrap_err();
        assert_eq!(e.key, "pricing.max_change_percent");
        assert_eq!(e.value, "lots");
        assert!(e.fix.contains("whole number"));

        let e = Config::load(None, env(&[("SHOPDESK_HTTP_LISTEN", "localhost")])).unwrap_err();
        assert_eq!(e.key, "http.listen");
        assert!(e.to_string().contains("127.0.0.1:8080"));

        let e = Config::load(None, env(&[("SHOPDESK_FRAUD_HOLD_SCORE", "30")])).unwrap_err();
        assert_eq!(e.key, "fraud.hold_score");
    }

    #[test]
    fn file_settings_merge_with_defaults_and_unknown_keys_fail() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("s.toml");
        std::fs::write(
            &path,
            "currency = \"CNY\"\n[orders]\nreturn_window_days = 14\n",
        )
        .unwrap();
        let c = Config::load(Some(&path), env(&[])).unwrap();
        assert_eq!(c.currency, "CNY");
        assert_eq!(c.orders.return_window_days, 14);
        assert_eq!(c.pricing, Config::default().pricing);

        std::fs::write(&path, "[orders]\nreturn_windw_days = 14\n").unwrap();
        let e = Config::load(Some(&path), env(&[])).unwrap_err();
        assert!(e.fix.contains("return_windw_days"), "{e}");
    }

    #[test]
    fn channel_settings_are_checked() {
        let e = Config::load(
            None,
            env(&[
                ("SHOPDESK_TELEGRAM_TOKEN", "1:x"),
                ("SHOPDESK_TELEGRAM_MODE", "webhook"),
            ]),
        )
        .unwrap_err();
        assert_eq!(e.key, "telegram.webhook_url");
        let e = Config::load(None, env(&[("SHOPDESK_TELEGRAM_MODE", "push")])).unwrap_err();
        assert_eq!(e.key, "telegram.mode");
        let e = Config::load(
            None,
            env(&[("SHOPDESK_DISCORD_STAFF_CHANNEL_ID", "#staff")]),
        )
        .unwrap_err();
        assert_eq!(e.key, "discord.staff_channel_id");
        let e = Config::load(None, env(&[("SHOPDESK_WEB_MAX_FRAME_BYTES", "10")])).unwrap_err();
        assert_eq!(e.key, "web.max_frame_bytes");
        let c = Config::load(
            None,
            env(&[
                ("SHOPDESK_TELEGRAM_TOKEN", "1:x"),
                ("SHOPDESK_TELEGRAM_MODE", "webhook"),
                (
                    "SHOPDESK_TELEGRAM_WEBHOOK_URL",
                    "https://shop.example.com/telegram/webhook",
                ),
                ("SHOPDESK_TELEGRAM_WEBHOOK_SECRET", "0123456789abcdef"),
                ("SHOPDESK_WEB_ENABLED", "false"),
            ]),
        )
        .unwrap();
        assert!(!c.web.enabled);
    }

    #[test]
    fn example_file_matches_defaults() {
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("shopdesk.example.toml");
        assert_eq!(
            Config::load(Some(&path), env(&[])).unwrap(),
            Config::default()
        );
    }
}
