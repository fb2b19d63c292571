//! Handing a conversation from the bot to a person, and back.
//!
//! /human (or the engine, when a customer asks for a person in words) opens a handoff: a
//! thread in the staff area (Discord's staff channel) starts with the customer's recent
//! messages and orders. While it is open the bot stays silent in that conversation: what
//! the customer writes is relayed into the thread, what staff write in the thread goes back
//! on the customer's own channel, and every line is kept in the customer's history. Staff
//! give it back with the thread's button or /handback.
//!
//! "Online" staff are those who wrote or pressed a button in the last
//! `handoff.online_minutes` (activity, not platform presence). With nobody online the
//! customer is told when to expect an answer, and the conversation waits in a queue that
//! staff are shown first when they come back.

use shopdesk_port::{Button, Channel, Inbound, Outbound};
use sqlx::AnyConnection;

use crate::clock::{self, Timestamp};
use crate::money;
use crate::policy::Actor;
use crate::store::conversations::{self, Conversation, HistoryMessage};
use crate::store::handoffs::{self, Handoff};
use crate::store::{StoreError, customers, orders, presence};

use super::{Answer, Engine, commands};

/// Words that, as whole words in free text, mean "let me talk to a person".
const PERSON_WORDS: &[&str] = &["human", "agent", "representative", "operator"];
/// Phrases (and Chinese words, which have no spaces) that mean the same.
const PERSON_PHRASES: &[&str] = &[
    "real person",
    "talk to a person",
    "speak to a person",
    "人工",
    "客服",
    "真人",
];

/// Longest line of history quoted into a staff thread or /history.
const QUOTE_CHARS: usize = 300;

/// True when free text asks for a person rather than for the bot.
pub fn asks_for_a_person(text: &str) -> bool {
    let lower = text.to_lowercase();
    lower
        .split(|c: char| !c.is_alphanumeric())
        .any(|word| PERSON_WORDS.contains(&word))
        || PERSON_PHRASES.iter().any(|p| lower.contains(p))
}

impl Engine {
    /// Routes a message in a handed-off conversation to the other side. `None`: the
    /// conversation is the bot's and the bot answers as usual.
    pub(super) async fn relay(
        &self,
        actor: &Actor,
        conversation: &Conversation,
        text: &str,
        inbound: &Inbound,
    ) -> Result<Option<Answer>, StoreError> {
        let mut conn = self.store().pool().acquire().await?;
        if actor.role.is_staff() {
            if commands::is_command(text) {
                return Ok(None);
            }
            let thread = handoffs::open_by_thread(
                &mut conn,
                inbound.identity.channel.as_str(),
                &inbound.conversation,
            )
            .await?;
            return match thread {
                Some(handoff) => self
                    .relay_to_customer(&mut conn, actor, &handoff, text)
                    .await
                    .map(Some),
                None => Ok(None),
            };
        }
        let Some(handoff) = handoffs::open_for_conversation(&mut conn, conversation.id).await?
        else {
            return Ok(None);
        };
        let who = self.customer_label(&mut conn, conversation).await?;
        if let (Some(channel), Some(thread)) = (&handoff.staff_channel, &handoff.staff_conversation)
        {
            self.post(channel, thread, format!("{who}: {text}"), Vec::new())
                .await;
        }
        Ok(Some(Answer::silent()))
    }

    async fn relay_to_customer(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        handoff: &Handoff,
        text: &str,
    ) -> Result<Answer, StoreError> {
        let now = self.toolbox.clock.now();
        let Some(customer_side) = conversations::get(conn, handoff.conversation_id).await? else {
            return Ok(Answer::text(
                "The customer's conversation no longer exists.",
            ));
        };
        let lang = self.customer_language(conn, &customer_side).await?;
        let name = actor.staff_name.clone().unwrap_or_default();
        let said = self
            .replies
            .get(&lang, "staff_says", &[("name", &name), ("text", text)]);
        conversations::append_message(
            conn,
            customer_side.id,
            "out",
            &actor.label(),
            &said,
            None,
            now,
        )
        .await?;
        if handoffs::claim(conn, handoff.id, &actor.label(), now).await? {
            conversations::set_owner(conn, customer_side.id, &actor.label()).await?;
        }
        let delivered = match customer_side.channel.parse::<Channel>() {
            Ok(channel) => {
                self.outboxes
                    .send(
                        channel,
                        Outbound {
                            conversation: customer_side.external_id.clone(),
                            text: said,
                            buttons: Vec::new(),
                        },
                    )
                    .await
            }
            Err(e) => Err(shopdesk_port::OutboxError::Unreachable(e)),
        };
        Ok(match delivered {
            Ok(()) => Answer::silent(),
            Err(e) => Answer::text(format!(
                "Not delivered to the customer right now ({e}). It is kept in their history and shown when they come back."
            )),
        })
    }

    /// /human, or the engine deciding the customer needs a person.
    pub(super) async fn hand_off(
        &self,
        actor: &Actor,
        conversation: &Conversation,
        reason: &str,
    ) -> Answer {
        match self.try_hand_off(actor, conversation, reason).await {
            Ok(answer) => answer,
            Err(e) => {
                tracing::error!(error = %e, "handoff failed");
                Answer::text(self.replies.get(&actor.language, "store_unavailable", &[]))
            }
        }
    }

    async fn try_hand_off(
        &self,
        actor: &Actor,
        conversation: &Conversation,
        reason: &str,
    ) -> Result<Answer, StoreError> {
        let lang = actor.language.as_str();
        if actor.role.is_staff() {
            return Ok(Answer::text(self.replies.get(lang, "handoff_staff", &[])));
        }
        let now = self.toolbox.clock.now();
        let mut conn = self.store().pool().acquire().await?;
        let Some(handoff) = handoffs::open(&mut conn, conversation.id, reason, now).await? else {
            return Ok(Answer::text(self.replies.get(lang, "handoff_already", &[])));
        };
        conversations::set_owner(&mut conn, conversation.id, "staff").await?;
        let online = self.online_staff(&mut conn, now).await?;
        self.open_thread(&mut conn, &handoff, &online).await?;
        if !online.is_empty() {
            return Ok(Answer::text(self.replies.get(lang, "handoff_online", &[])));
        }
        let queue = handoffs::queue(&mut conn).await?;
        let position = queue
            .iter()
            .position(|w| w.id == handoff.id)
            .map_or(queue.len(), |i| i + 1);
        let expected = now + self.toolbox.config.handoff.expected_reply_hours * 3600;
        Ok(Answer::text(self.replies.get(
            lang,
            "handoff_offline",
            &[
                ("position", &position.to_string()),
                ("time", &clock::datetime(expected)),
            ],
        )))
    }

    /// Opens handoffs' staff threads that could not be opened when they started (no staff
    /// channel was running). Called when a staff channel starts.
    pub async fn open_missing_threads(&self) -> Result<(), StoreError> {
        let mut conn = self.store().pool().acquire().await?;
        let now = self.toolbox.clock.now();
        let online = self.online_staff(&mut conn, now).await?;
        for handoff in handoffs::without_thread(&mut conn).await? {
            self.open_thread(&mut conn, &handoff, &online).await?;
        }
        Ok(())
    }

    async fn open_thread(
        &self,
        conn: &mut AnyConnection,
        handoff: &Handoff,
        online: &[String],
    ) -> Result<(), StoreError> {
        let Some((outbox, area)) = self.outboxes.staff_area() else {
            tracing::warn!(
                handoff = handoff.id,
                "no staff channel is running: the handoff waits in the queue without a thread"
            );
            return Ok(());
        };
        let Some(conversation) = conversations::get(conn, handoff.conversation_id).await? else {
            return Ok(());
        };
        let who = self.customer_label(conn, &conversation).await?;
        let intro = self
            .thread_intro(conn, handoff, &conversation, &who, online)
            .await?;
        let title = format!("#{} {who} ({})", handoff.id, conversation.channel);
        let first = Outbound {
            conversation: area,
            text: intro,
            buttons: vec![hand_back_button()],
        };
        match outbox.open_thread(&title, first).await {
            Ok(thread) => {
                handoffs::set_thread(conn, handoff.id, outbox.channel().as_str(), &thread).await?
            }
            Err(e) => {
                tracing::warn!(handoff = handoff.id, error = %e, "could not open the staff thread")
            }
        }
        Ok(())
    }

    async fn thread_intro(
        &self,
        conn: &mut AnyConnection,
        handoff: &Handoff,
        conversation: &Conversation,
        who: &str,
        online: &[String],
    ) -> Result<String, StoreError> {
        let mut text = format!(
            "Handoff #{} · {who} on {} · {}\n",
            handoff.id, conversation.channel, handoff.reason
        );
        text.push_str(&if online.is_empty() {
            "Nobody was online: the customer was told when to expect an answer.\n".to_string()
        } else {
            format!("Online now: {}.\n", online.join(", "))
        });
        let limit = self.toolbox.config.handoff.history_messages;
        let history = conversations::recent_messages(conn, conversation.id, limit).await?;
        text.push_str("Recent messages:\n");
        text.push_str(&quote_history(&history, who, false));
        if let Some(customer_id) = conversation.customer_id {
            text.push_str(&self.orders_summary(conn, customer_id).await?);
        } else {
            text.push_str("Not linked to a customer account yet (they can use /link).\n");
        }
        text.push_str(&format!(
            "Write here to answer: the customer reads it on {}. Hand back with the button or /handback.",
            conversation.channel
        ));
        Ok(text)
    }

    /// /handback: closes the handoff in this thread (or the numbered one) and tells the
    /// customer the assistant is back.
    pub(super) async fn hand_back(
        &self,
        actor: &Actor,
        inbound: &Inbound,
        number: Option<i64>,
    ) -> Answer {
        match self.try_hand_back(actor, inbound, number).await {
            Ok(answer) => answer,
            Err(e) => {
                tracing::error!(error = %e, "handback failed");
                Answer::text(self.replies.get(&actor.language, "store_unavailable", &[]))
            }
        }
    }

    async fn try_hand_back(
        &self,
        actor: &Actor,
        inbound: &Inbound,
        number: Option<i64>,
    ) -> Result<Answer, StoreError> {
        let now = self.toolbox.clock.now();
        let mut conn = self.store().pool().acquire().await?;
        let handoff = match number {
            Some(id) => handoffs::open_by_id(&mut conn, id).await?,
            None => {
                handoffs::open_by_thread(
                    &mut conn,
                    inbound.identity.channel.as_str(),
                    &inbound.conversation,
                )
                .await?
            }
        };
        let closed = match &handoff {
            Some(h) => handoffs::close(&mut conn, h.id, &actor.label(), now).await?,
            None => false,
        };
        let (Some(handoff), true) = (handoff, closed) else {
            return Ok(Answer::text(
                "There is no open handoff here. /queue lists the waiting ones; /handback <number> gives one back by number.",
            ));
        };
        let Some(customer_side) = conversations::get(&mut conn, handoff.conversation_id).await?
        else {
            return Ok(Answer::text(
                "The customer's conversation no longer exists.",
            ));
        };
        conversations::set_owner(&mut conn, customer_side.id, "bot").await?;
        let lang = self.customer_language(&mut conn, &customer_side).await?;
        let back = self.replies.get(&lang, "handback_customer", &[]);
        conversations::append_message(&mut conn, customer_side.id, "out", "bot", &back, None, now)
            .await?;
        let who = self.customer_label(&mut conn, &customer_side).await?;
        let told = match customer_side.channel.parse::<Channel>() {
            Ok(channel) => self
                .outboxes
                .send(
                    channel,
                    Outbound {
                        conversation: customer_side.external_id.clone(),
                        text: back,
                        buttons: Vec::new(),
                    },
                )
                .await
                .map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        Ok(Answer::text(match told {
            Ok(()) => format!(
                "Handed back to the bot: handoff #{} ({who}). The customer was told.",
                handoff.id
            ),
            Err(e) => format!(
                "Handed back to the bot: handoff #{} ({who}). The customer could not be told right now ({e}); they will see it in their history.",
                handoff.id
            ),
        }))
    }

    /// Records a staff member's activity; when they were offline until now, returns the
    /// queue to show them first.
    pub(super) async fn staff_arrival(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        now: Timestamp,
    ) -> Result<Option<String>, StoreError> {
        if !actor.role.is_staff() || actor.channel == Channel::Cli {
            return Ok(None);
        }
        let before = presence::touch(conn, &actor.label(), now).await?;
        let window = self.toolbox.config.handoff.online_minutes * 60;
        if before.is_some_and(|at| now - at <= window) {
            return Ok(None);
        }
        self.queue_text(conn, now).await
    }

    /// /queue.
    pub(super) async fn queue(&self, actor: &Actor) -> Answer {
        let now = self.toolbox.clock.now();
        let text = match self.store().pool().acquire().await {
            Ok(mut conn) => self.queue_text(&mut conn, now).await,
            Err(e) => Err(e.into()),
        };
        match text {
            Ok(Some(text)) => Answer::text(text),
            Ok(None) => Answer::text("Nobody is waiting for a person."),
            Err(e) => {
                tracing::error!(error = %e, "reading the queue failed");
                Answer::text(self.replies.get(&actor.language, "store_unavailable", &[]))
            }
        }
    }

    async fn queue_text(
        &self,
        conn: &mut AnyConnection,
        now: Timestamp,
    ) -> Result<Option<String>, StoreError> {
        let waiting = handoffs::queue(conn).await?;
        if waiting.is_empty() {
            return Ok(None);
        }
        let mut text = format!("Waiting for a person ({}):\n", waiting.len());
        for w in &waiting {
            let who = w.customer_name.as_deref().unwrap_or("a visitor");
            let thread = w
                .staff_conversation
                .as_deref()
                .map(|t| format!(" · thread {t}"))
                .unwrap_or_default();
            text.push_str(&format!(
                "  #{} · {who} on {} · waiting {} min · {}{thread}\n",
                w.id,
                w.channel,
                (now - w.opened_at).max(0) / 60,
                w.reason
            ));
        }
        text.push_str("Answer in the thread; /handback <number> gives one back to the bot.");
        Ok(Some(text))
    }

    /// /history <customer>.
    pub(super) async fn customer_history(&self, actor: &Actor, who: &str) -> Answer {
        let text = match self.store().pool().acquire().await {
            Ok(mut conn) => self.history_text(&mut conn, who).await,
            Err(e) => Err(e.into()),
        };
        match text {
            Ok(text) => Answer::text(text),
            Err(e) => {
                tracing::error!(error = %e, "reading history failed");
                Answer::text(self.replies.get(&actor.language, "store_unavailable", &[]))
            }
        }
    }

    async fn history_text(
        &self,
        conn: &mut AnyConnection,
        who: &str,
    ) -> Result<String, StoreError> {
        let Some(customer) = find_customer(conn, who).await? else {
            return Ok(format!(
                "There is no customer matching `{who}`. Use a customer number, an email, or channel:account (e.g. telegram:7001)."
            ));
        };
        let accounts = customers::identities(conn, customer.id).await?;
        let mut text = format!(
            "Customer #{} {} · {} · {} · {}\nLinked accounts: {}\n",
            customer.id,
            customer.name,
            customer.email.as_deref().unwrap_or("no email"),
            customer.phone.as_deref().unwrap_or("no phone"),
            customer.language,
            if accounts.is_empty() {
                "none".to_string()
            } else {
                accounts.join(", ")
            }
        );
        let history = conversations::recent_messages_of_customer(conn, customer.id, 20).await?;
        text.push_str("Recent messages (every channel):\n");
        text.push_str(&quote_history(&history, &customer.name, true));
        text.push_str(&self.orders_summary(conn, customer.id).await?);
        Ok(text.trim_end().to_string())
    }

    async fn orders_summary(
        &self,
        conn: &mut AnyConnection,
        customer_id: i64,
    ) -> Result<String, StoreError> {
        let recent = orders::recent_for_customer(conn, customer_id, 5).await?;
        if recent.is_empty() {
            return Ok("No orders.\n".into());
        }
        let mut text = String::from("Recent orders:\n");
        for o in recent {
            text.push_str(&format!(
                "  #{} · {} · {} · {}\n",
                o.id,
                clock::date(o.created_at),
                o.status,
                money::format(o.total, &self.toolbox.config.currency)
            ));
        }
        Ok(text)
    }

    async fn online_staff(
        &self,
        conn: &mut AnyConnection,
        now: Timestamp,
    ) -> Result<Vec<String>, StoreError> {
        let window = self.toolbox.config.handoff.online_minutes * 60;
        presence::seen_since(conn, now - window).await
    }

    /// "Ann Lee (customer #1)", or "a visitor (web:abc...)" before linking.
    async fn customer_label(
        &self,
        conn: &mut AnyConnection,
        conversation: &Conversation,
    ) -> Result<String, StoreError> {
        Ok(match conversation.customer_id {
            Some(id) => match customers::get(conn, id).await? {
                Some(c) => format!("{} (customer #{id})", c.name),
                None => format!("customer #{id}"),
            },
            None => format!(
                "a visitor ({}:{})",
                conversation.channel, conversation.external_id
            ),
        })
    }

    async fn customer_language(
        &self,
        conn: &mut AnyConnection,
        conversation: &Conversation,
    ) -> Result<String, StoreError> {
        Ok(match conversation.customer_id {
            Some(id) => customers::get(conn, id)
                .await?
                .map(|c| c.language)
                .unwrap_or_else(|| "en".into()),
            None => "en".into(),
        })
    }

    /// Writes into a staff thread (or any conversation) on a channel named by the store;
    /// a failure is logged, since the message is kept in the history either way.
    async fn post(&self, channel: &str, conversation: &str, text: String, buttons: Vec<Button>) {
        let Ok(channel) = channel.parse::<Channel>() else {
            tracing::warn!(channel, "a handoff names a channel that does not exist");
            return;
        };
        let message = Outbound {
            conversation: conversation.to_string(),
            text,
            buttons,
        };
        if let Err(e) = self.outboxes.send(channel, message).await {
            tracing::warn!(%channel, conversation, error = %e, "could not post into the staff thread");
        }
    }
}

fn hand_back_button() -> Button {
    Button {
        label: "Hand back to the bot".into(),
        command: "/handback".into(),
    }
}

/// A customer by number, email, or `channel:account`.
async fn find_customer(
    conn: &mut AnyConnection,
    who: &str,
) -> Result<Option<customers::Customer>, StoreError> {
    let who = who.trim().trim_start_matches('#');
    if let Ok(id) = who.parse::<i64>() {
        return customers::get(conn, id).await;
    }
    if who.contains('@') {
        return customers::by_email(conn, who).await;
    }
    match who.split_once(':') {
        Some((channel, account)) => customers::by_identity(conn, channel, account).await,
        None => Ok(None),
    }
}

/// Lines such as `  Ann Lee: where is my order?`, one per message, shortened.
fn quote_history(history: &[HistoryMessage], who: &str, with_channel: bool) -> String {
    if history.is_empty() {
        return "  (none)\n".into();
    }
    let mut text = String::new();
    for m in history {
        let sender = if m.direction == "in" {
            who
        } else {
            m.sender.as_str()
        };
        let line: String = m
            .text
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" / ")
            .chars()
            .take(QUOTE_CHARS)
            .collect();
        if with_channel {
            text.push_str(&format!(
                "  {} · {} · {sender}: {line}\n",
                clock::datetime(m.created_at),
                m.channel
            ));
        } else {
            text.push_str(&format!("  {sender}: {line}\n"));
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asking_for_a_person_in_words() {
        assert!(asks_for_a_person("Can I talk to a HUMAN please"));
        assert!(asks_for_a_person("我要人工客服"));
        assert!(!asks_for_a_person("where is my parcel?"));
        assert!(!asks_for_a_person(
            "is this a personal gift? any agentic features?"
        ));
    }
}
