//! The conversation engine: one turn per inbound message.
//!
//! A turn: take the delivery once (redeliveries get no second answer) → resolve who is
//! writing → persist the message → parse a command deterministically and run it through
//! the toolbox, or hand free text to the [`assistant`] (the language model) → persist and
//! return the reply, streamed when the model writes it. Adapters call it through
//! [`shopdesk_port::Handler`].
//!
//! Around that core: flood limits come first ([`limits`]); a handled delivery whose reply
//! never reached the user gets the stored reply again; a conversation handed to a person is
//! relayed instead of answered ([`handoff`]); the engine writes to other channels through
//! [`outboxes`].

mod approvals;
pub mod assistant;
pub mod commands;
mod delivery;
mod dialogue;
pub mod grounded;
pub mod handoff;
pub mod identity;
pub mod limits;
mod linking;
pub mod notices;
pub mod outboxes;
pub mod replies;
pub mod router;
pub mod triggers;

use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};
use shopdesk_port::{
    Button, Channel, CommandInfo, Handler, HistoryLine, Identity, Inbound, Reply, ReplyChunk,
};

use crate::clock::Clock;
use crate::policy::{Actor, Role};
use crate::store::conversations::Conversation;
use crate::store::{Store, conversations};
use crate::tools::{Outcome, Toolbox};
use assistant::Assistant;
use commands::{Command, Parsed};
pub use identity::ResolveError;
use limits::{Limits, Verdict};
use outboxes::Outboxes;
use replies::Replies;

/// Longest message the engine reads; longer ones get a polite refusal.
pub const MAX_MESSAGE_CHARS: usize = 4000;

pub struct Engine {
    toolbox: Toolbox,
    replies: Replies,
    /// Random per process start: tells a concurrent copy of a delivery from one a dead
    /// process left unfinished.
    instance: String,
    outboxes: Outboxes,
    limits: Limits,
    deliveries: delivery::Deliveries,
    /// The language model for free text, set once it has loaded (commands work before);
    /// without it free text gets a pointer to /help.
    assistant: std::sync::OnceLock<Assistant>,
    /// The store's indexed knowledge; free text about policies and products is answered
    /// from it, cited.
    knowledge: std::sync::OnceLock<Arc<crate::retrieval::Knowledge>>,
    /// The intent router; free text it places is answered without the model.
    router: std::sync::OnceLock<Arc<router::Router>>,
}

/// One turn's answer: complete, or streamed while the model writes it (the stream records
/// the reply in the store when it ends).
pub enum Turn {
    Whole(Answer),
    Streamed(BoxStream<'static, ReplyChunk>),
}

/// The answer to one turn before it is streamed. Empty text and no buttons: nothing to say.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Answer {
    pub text: String,
    pub buttons: Vec<Button>,
}

impl Answer {
    fn text(text: impl Into<String>) -> Self {
        Answer {
            text: text.into(),
            buttons: Vec::new(),
        }
    }

    /// No reply: a person has the conversation, or a flood was already answered.
    fn silent() -> Self {
        Answer::text("")
    }

    pub fn is_silent(&self) -> bool {
        self.text.is_empty() && self.buttons.is_empty()
    }
}

impl Engine {
    pub fn new(toolbox: Toolbox, replies: Replies) -> Self {
        let instance = format!("{:016x}", rand::random::<u64>());
        let limits = Limits::new(&toolbox.config.limits);
        Engine {
            toolbox,
            replies,
            instance,
            outboxes: Outboxes::default(),
            limits,
            deliveries: delivery::Deliveries::default(),
            assistant: std::sync::OnceLock::new(),
            knowledge: std::sync::OnceLock::new(),
            router: std::sync::OnceLock::new(),
        }
    }

    /// Free text goes to this model from now on. A model is set once; later calls are
    /// ignored.
    pub fn set_model(&self, model: Arc<dyn crate::llm::ChatModel>) {
        let tokens = self.toolbox.config.model.max_reply_tokens as u32;
        let _ = self.assistant.set(Assistant::new(model, tokens));
    }

    /// Free text about policies and products is answered from this knowledge from now on.
    pub fn set_knowledge(&self, knowledge: Arc<crate::retrieval::Knowledge>) {
        let _ = self.knowledge.set(knowledge);
    }

    /// Free text is routed by intent from now on.
    pub fn set_router(&self, router: Arc<router::Router>) {
        let _ = self.router.set(router);
    }

    pub fn model(&self) -> Option<&Arc<dyn crate::llm::ChatModel>> {
        self.assistant.get().map(Assistant::model)
    }

    /// Where adapters register the channels the engine may write to.
    pub fn outboxes(&self) -> &Outboxes {
        &self.outboxes
    }

    pub fn store(&self) -> &Store {
        &self.toolbox.store
    }

    pub fn toolbox(&self) -> &Toolbox {
        &self.toolbox
    }

    /// Handles one message; `None` when it was a redelivery whose reply was already shown,
    /// or one in progress. A redelivery whose reply never reached the user gets the stored
    /// reply, without acting again.
    pub async fn turn(&self, inbound: &Inbound) -> Result<Option<Turn>, ResolveError> {
        let channel = inbound.identity.channel.as_str();
        let now = self.toolbox.clock.now();
        if let Some(refusal) = self.flood_refusal(inbound, now) {
            return Ok(Some(Turn::Whole(refusal)));
        }
        let mut conn = self.store().pool().acquire().await?;
        if let Some(event) = &inbound.event_id {
            match conversations::receive_event(&mut conn, channel, event, &self.instance, now)
                .await?
            {
                conversations::Delivery::New | conversations::Delivery::Unfinished => {}
                conversations::Delivery::Done => {
                    let stored =
                        conversations::undelivered_reply(&mut conn, channel, event).await?;
                    return Ok(stored
                        .and_then(|s| serde_json::from_str(&s).ok())
                        .map(Turn::Whole));
                }
                conversations::Delivery::InFlight => return Ok(None),
            }
        }
        let actor =
            identity::resolve(&mut conn, &inbound.identity, inbound.language.as_deref()).await?;
        let conversation = conversations::get_or_create(
            &mut conn,
            channel,
            &inbound.conversation,
            actor.customer_id,
            now,
        )
        .await?;
        let text = clean_text(&inbound.text);
        conversations::append_message(
            &mut conn,
            conversation.id,
            "in",
            &actor.label(),
            &text.stored,
            inbound.event_id.as_deref(),
            now,
        )
        .await?;
        let queue_first = self.staff_arrival(&mut conn, &actor, now).await?;
        drop(conn);

        let answered = match text.problem {
            Some(problem) => Answered::Now(Answer::text(problem)),
            None => match self
                .relay(&actor, &conversation, &text.stored, inbound)
                .await?
            {
                Some(relayed) => Answered::Now(relayed),
                None => {
                    self.answer(&actor, &text.stored, inbound, &conversation)
                        .await
                }
            },
        };
        let mut conn = self.store().pool().acquire().await?;
        let notices = notices::take_unseen(&mut conn, &actor, &conversation, now).await?;
        drop(conn);
        let mut before: Vec<String> = notices.iter().map(|n| format!("📢 {n}")).collect();
        let recorder = Recorder {
            store: self.store().clone(),
            clock: self.toolbox.clock.clone(),
            conversation_id: conversation.id,
            channel: channel.to_string(),
            event: inbound.event_id.clone(),
        };
        match answered {
            Answered::Now(answer) => {
                let answer = match queue_first {
                    // /queue itself: the answer already is the queue.
                    Some(queue) if answer.text.starts_with(&queue) => answer,
                    Some(queue) if answer.is_silent() => Answer::text(queue),
                    Some(queue) => Answer {
                        text: format!("{queue}\n\n{}", answer.text),
                        buttons: answer.buttons,
                    },
                    None => answer,
                };
                let answer = if before.is_empty() || answer.is_silent() {
                    answer
                } else {
                    before.push(answer.text);
                    Answer {
                        text: before.join("\n\n"),
                        buttons: answer.buttons,
                    }
                };
                recorder.record(&answer).await?;
                Ok(Some(Turn::Whole(answer)))
            }
            Answered::Streamed(pieces) => {
                before.extend(queue_first);
                Ok(Some(Turn::Streamed(recorder.stream(before, pieces))))
            }
        }
    }

    /// The polite answer to the first message of a flood, silence for the rest of it.
    fn flood_refusal(&self, inbound: &Inbound, now: crate::clock::Timestamp) -> Option<Answer> {
        let lang = identity::language_of(inbound.language.as_deref());
        let (key, first) = match self.limits.check(&inbound.identity, now) {
            Verdict::Pass => return None,
            Verdict::PersonFlood { first } => ("rate_limited", first),
            Verdict::ChannelBusy { first } => ("channel_busy", first),
        };
        tracing::warn!(identity = %inbound.identity, limit = key, "message refused by the flood limit");
        Some(if first {
            Answer::text(self.replies.get(lang, key, &[]))
        } else {
            Answer::silent()
        })
    }

    async fn answer(
        &self,
        actor: &Actor,
        text: &str,
        inbound: &Inbound,
        conversation: &Conversation,
    ) -> Answered {
        if commands::is_command(text) {
            return Answered::Now(self.command(actor, text, inbound, conversation).await);
        }
        let lang = actor.language.as_str();
        if !actor.role.is_staff() && handoff::asks_for_a_person(text) {
            return Answered::Now(
                self.hand_off(actor, conversation, "asked for a person")
                    .await,
            );
        }
        if let Some(router) = self.router.get()
            && let Some(answer) = self
                .dialogue(router, actor, text, inbound, conversation)
                .await
        {
            return Answered::Now(answer);
        }
        let knowledge = self.knowledge.get();
        if let Some(knowledge) = knowledge
            && !grounded::mentions_an_order(text)
        {
            let found = grounded::answer(
                knowledge,
                self.model(),
                &self.toolbox,
                &self.replies,
                actor,
                text,
            )
            .await;
            match found {
                grounded::Grounded::Whole(answer) => return Answered::Now(answer),
                grounded::Grounded::Streamed(pieces) => return Answered::Streamed(pieces),
                grounded::Grounded::Unsure => {}
            }
        }
        if let Some(assistant) = self.assistant.get() {
            let reply = assistant
                .reply(
                    self,
                    actor,
                    text,
                    inbound,
                    conversation,
                    knowledge.is_some(),
                )
                .await;
            return match reply {
                assistant::Reply::Whole(answer) => Answered::Now(answer),
                assistant::Reply::Streamed(pieces) => Answered::Streamed(pieces),
            };
        }
        if actor.role.is_staff() {
            return Answered::Now(Answer::text(self.replies.get(lang, "free_text", &[])));
        }
        let key = if knowledge.is_some() {
            "not_sure"
        } else {
            "free_text"
        };
        Answered::Now(Answer {
            text: self.replies.get(lang, key, &[]),
            buttons: vec![Button {
                label: self.replies.get(lang, "human_button", &[]),
                command: "/human".into(),
            }],
        })
    }

    async fn command(
        &self,
        actor: &Actor,
        text: &str,
        inbound: &Inbound,
        conversation: &Conversation,
    ) -> Answer {
        let lang = actor.language.as_str();
        match commands::parse(text, actor.role) {
            Parsed::Ok(_, command) => self.run(actor, command, inbound, conversation).await,
            Parsed::Unknown { name, suggestion } => {
                let mut reply = self
                    .replies
                    .get(lang, "unknown_command", &[("name", &name)]);
                reply.push(' ');
                reply.push_str(&match suggestion {
                    Some(s) => {
                        self.replies
                            .get(lang, "did_you_mean", &[("suggestion", &format!("/{s}"))])
                    }
                    None => self.replies.get(lang, "see_help", &[]),
                });
                Answer::text(reply)
            }
            Parsed::Forbidden(spec) => {
                if let Err(e) = self.toolbox.record_denied(actor, spec.name).await {
                    tracing::error!(error = %e, "could not write the audit entry for a refused command");
                }
                Answer::text(
                    self.replies
                        .get(lang, "not_allowed", &[("name", spec.name)]),
                )
            }
            Parsed::Malformed(problem) => Answer::text(self.replies.get(
                lang,
                "malformed",
                &[("problem", &problem)],
            )),
            Parsed::Usage(spec, expected) => {
                let usage = self.replies.get(lang, "usage", &[("usage", spec.usage)]);
                Answer::text(format!("{}. {usage}", capitalise_first(&expected)))
            }
        }
    }

    async fn run(
        &self,
        actor: &Actor,
        command: Command,
        inbound: &Inbound,
        conversation: &Conversation,
    ) -> Answer {
        match command {
            Command::Start => Answer::text(self.greeting(actor).await),
            Command::Help => Answer::text(self.help(actor)),
            Command::WhoAmI => Answer::text(self.whoami(actor).await),
            Command::Link { order_id, proof } => {
                self.link(actor, conversation, order_id, &proof).await
            }
            Command::Human => {
                self.hand_off(actor, conversation, "asked with /human")
                    .await
            }
            Command::Handback(number) => self.hand_back(actor, inbound, number).await,
            Command::History(who) => self.customer_history(actor, &who).await,
            Command::Queue => self.queue(actor).await,
            Command::Tool(call) => {
                let key = idempotency_key(inbound, 0);
                match self.toolbox.invoke(actor, &call, &key).await {
                    Ok(Outcome::Pending {
                        text,
                        code,
                        approval,
                        ..
                    }) => {
                        self.announce_pending(actor, inbound, &approval, &text, &code)
                            .await;
                        Answer {
                            text,
                            buttons: vec![Button {
                                label: format!("Confirm {code}"),
                                command: format!("/confirm {code}"),
                            }],
                        }
                    }
                    Ok(outcome) => Answer::text(outcome.text()),
                    Err(e) => {
                        if matches!(e, crate::tools::ToolError::Store(_)) {
                            tracing::error!(error = %e, tool = call.name(), "tool failed");
                        }
                        Answer::text(e.to_string())
                    }
                }
            }
        }
    }

    async fn greeting(&self, actor: &Actor) -> String {
        let lang = actor.language.as_str();
        match (actor.role, actor.customer_id, &actor.staff_name) {
            (crate::policy::Role::Customer, Some(id), _) => {
                let name = match self.store().pool().acquire().await {
                    Ok(mut conn) => crate::store::customers::get(&mut conn, id)
                        .await
                        .ok()
                        .flatten()
                        .map(|c| c.name),
                    Err(_) => None,
                };
                self.replies.get(
                    lang,
                    "greeting_customer",
                    &[("name", &name.unwrap_or_default())],
                )
            }
            (_, _, Some(name)) => self.replies.get(
                lang,
                "greeting_staff",
                &[("name", name), ("role", actor.role.as_str())],
            ),
            _ => self.replies.get(lang, "greeting_guest", &[]),
        }
    }

    fn help(&self, actor: &Actor) -> String {
        let lang = actor.language.as_str();
        let mut text = self.replies.get(lang, "help_header", &[]);
        text.push('\n');
        for spec in commands::visible_to(actor.role) {
            text.push_str(&format!("  {} — {}\n", spec.usage, spec.summary));
        }
        text.push_str(&self.replies.get(lang, "help_footer", &[]));
        text
    }

    async fn whoami(&self, actor: &Actor) -> String {
        match (actor.customer_id, &actor.staff_name) {
            (Some(id), _) => format!(
                "You are customer #{id} on {}, role customer.",
                actor.channel
            ),
            (_, Some(name)) => format!(
                "You are {name} on {}, role {}.",
                actor.channel,
                actor.role.as_str()
            ),
            _ => format!(
                "You are a guest on {} (account {}): not linked to a customer record yet.",
                actor.channel, actor.external_id
            ),
        }
    }
}

#[async_trait]
impl Handler for Engine {
    async fn handle(&self, inbound: Inbound) -> Reply {
        let claim = match &inbound.event_id {
            Some(event) => match self.deliveries.claim(inbound.identity.channel, event) {
                Some(claim) => Some(claim),
                None => return Reply::Duplicate,
            },
            None => None,
        };
        let reply = match self.turn(&inbound).await {
            Ok(Some(Turn::Whole(answer))) if answer.is_silent() => {
                Reply::Stream(Box::pin(futures::stream::empty()))
            }
            Ok(Some(Turn::Whole(answer))) => Reply::whole(answer.text, answer.buttons),
            Ok(Some(Turn::Streamed(stream))) => Reply::Stream(stream),
            Ok(None) => Reply::Duplicate,
            Err(ResolveError::Store(e)) => {
                tracing::error!(error = %e, identity = %inbound.identity, "turn failed");
                Reply::whole(
                    "Sorry, something went wrong on our side. Please try again in a moment.",
                    Vec::new(),
                )
            }
            Err(e) => Reply::whole(e.to_string(), Vec::new()),
        };
        match (reply, claim) {
            (Reply::Stream(stream), Some(claim)) => Reply::Stream(claim.until_shown(stream)),
            (reply, _) => reply,
        }
    }

    async fn delivered(&self, channel: Channel, event_id: &str) {
        let now = self.toolbox.clock.now();
        let marked = match self.store().pool().acquire().await {
            Ok(mut conn) => {
                conversations::mark_delivered(&mut conn, channel.as_str(), event_id, now).await
            }
            Err(e) => Err(e.into()),
        };
        if let Err(e) = marked {
            tracing::error!(error = %e, %channel, event_id, "could not record a delivered reply");
        }
    }

    fn commands(&self) -> Vec<CommandInfo> {
        commands::menu()
    }

    async fn history(
        &self,
        identity: &Identity,
        conversation: &str,
        limit: usize,
    ) -> Vec<HistoryLine> {
        match self.history_lines(identity, conversation, limit).await {
            Ok(lines) => lines,
            Err(e) => {
                tracing::error!(error = %e, %identity, "could not read the history");
                Vec::new()
            }
        }
    }
}

impl Engine {
    /// A linked customer's history on every channel; a guest's in this conversation.
    async fn history_lines(
        &self,
        identity: &Identity,
        conversation: &str,
        limit: usize,
    ) -> Result<Vec<HistoryLine>, ResolveError> {
        let mut conn = self.store().pool().acquire().await?;
        let actor = identity::resolve(&mut conn, identity, None).await?;
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let messages = match (actor.role, actor.customer_id) {
            (Role::Customer, Some(id)) => {
                conversations::recent_messages_of_customer(&mut conn, id, limit).await?
            }
            _ => match conversations::find(&mut conn, identity.channel.as_str(), conversation)
                .await?
            {
                Some(c) => conversations::recent_messages(&mut conn, c.id, limit).await?,
                None => Vec::new(),
            },
        };
        Ok(messages
            .into_iter()
            .map(|m| HistoryLine {
                from: match (m.direction.as_str(), m.sender.as_str()) {
                    ("in", _) => shopdesk_port::Author::User,
                    (_, "bot") => shopdesk_port::Author::Bot,
                    _ => shopdesk_port::Author::Staff,
                },
                text: m.text,
            })
            .collect())
    }
}

/// How `answer` answered: now, or as a stream of text pieces from the model.
enum Answered {
    Now(Answer),
    Streamed(BoxStream<'static, String>),
}

/// Records a turn's reply: the outgoing message, and the handled event with the reply to
/// show again if it never reached the user. Owned, so a streamed reply can record itself
/// when it ends.
struct Recorder {
    store: Store,
    clock: Arc<dyn Clock>,
    conversation_id: i64,
    channel: String,
    event: Option<String>,
}

impl Recorder {
    async fn record(&self, answer: &Answer) -> Result<(), ResolveError> {
        let mut conn = self.store.pool().acquire().await?;
        let now = self.clock.now();
        if !answer.is_silent() {
            conversations::append_message(
                &mut conn,
                self.conversation_id,
                "out",
                "bot",
                &answer.text,
                None,
                now,
            )
            .await?;
        }
        if let Some(event) = &self.event {
            let stored =
                (!answer.is_silent()).then(|| serde_json::to_string(answer).unwrap_or_default());
            conversations::finish_event(&mut conn, &self.channel, event, stored.as_deref(), now)
                .await?;
        }
        Ok(())
    }

    /// `before` (notices) first, then the model's pieces as they come; the whole reply is
    /// recorded once the last piece has gone out.
    fn stream(
        self,
        before: Vec<String>,
        pieces: BoxStream<'static, String>,
    ) -> BoxStream<'static, ReplyChunk> {
        let shown = Arc::new(Mutex::new(String::new()));
        let heading = (!before.is_empty()).then(|| format!("{}\n\n", before.join("\n\n")));
        let kept = shown.clone();
        let body = futures::stream::iter(heading)
            .chain(pieces)
            .map(move |text| {
                kept.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .push_str(&text);
                ReplyChunk::Text { text }
            });
        let end = futures::stream::once(async move {
            let text = std::mem::take(&mut *shown.lock().unwrap_or_else(|p| p.into_inner()));
            if let Err(e) = self.record(&Answer::text(text)).await {
                tracing::error!(error = %e, "could not record a streamed reply");
            }
            None
        })
        .filter_map(futures::future::ready);
        body.chain(end).boxed()
    }
}

/// Channel + platform message id + position of the call in the turn. A message without a
/// platform id (the terminal) gets a fresh random one: it cannot be redelivered.
pub fn idempotency_key(inbound: &Inbound, position: usize) -> String {
    let event = inbound
        .event_id
        .clone()
        .unwrap_or_else(|| format!("local-{:016x}", rand::random::<u64>()));
    format!("{}:{}:{}", inbound.identity.channel, event, position)
}

/// The text as stored, and the reason to refuse it, if any.
struct CleanText {
    stored: String,
    problem: Option<String>,
}

/// Refuses binary and over-long input politely; stores a bounded, printable copy.
fn clean_text(raw: &str) -> CleanText {
    let control = raw
        .chars()
        .filter(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
        .count();
    let stored: String = raw
        .chars()
        .filter(|c| !c.is_control() || matches!(c, '\n' | '\t'))
        .take(MAX_MESSAGE_CHARS)
        .collect();
    let chars = raw.chars().count();
    let problem = if control > 0 {
        Some("I can only read text messages; this one contains binary data. Please type your question.".to_string())
    } else if chars > MAX_MESSAGE_CHARS {
        Some(format!(
            "Your message is too long ({chars} characters). Please keep it under {MAX_MESSAGE_CHARS} characters."
        ))
    } else if raw.trim().is_empty() {
        Some("Your message was empty. Type /help to see what I can do.".to_string())
    } else {
        None
    };
    CleanText { stored, problem }
}

fn capitalise_first(text: &str) -> String {
    let mut chars = text.chars();
    chars
        .next()
        .map(|c| c.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}
