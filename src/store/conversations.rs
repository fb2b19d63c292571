//! Conversations, their messages, and the record of inbound deliveries already taken.

use sqlx::AnyConnection;

use super::{Result, is_unique_violation};
use crate::clock::Timestamp;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct Conversation {
    pub id: i64,
    pub channel: String,
    pub external_id: String,
    pub customer_id: Option<i64>,
    pub owner: String,
    pub state: String,
}

pub async fn get_or_create(
    conn: &mut AnyConnection,
    channel: &str,
    external_id: &str,
    customer_id: Option<i64>,
    now: Timestamp,
) -> Result<Conversation> {
    sqlx::query(
        "INSERT INTO conversations (channel, external_id, customer_id, owner, state, created_at, updated_at) \
         VALUES ($1, $2, $3, 'bot', '{}', $4, $4) ON CONFLICT (channel, external_id) DO NOTHING",
    )
    .bind(channel)
    .bind(external_id)
    .bind(customer_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    Ok(sqlx::query_as(
        "SELECT id, channel, external_id, customer_id, owner, state FROM conversations WHERE channel = $1 AND external_id = $2",
    )
    .bind(channel)
    .bind(external_id)
    .fetch_one(conn)
    .await?)
}

pub async fn append_message(
    conn: &mut AnyConnection,
    conversation_id: i64,
    direction: &str,
    sender: &str,
    text: &str,
    event_id: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO messages (conversation_id, direction, sender, text, event_id, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(conversation_id)
    .bind(direction)
    .bind(sender)
    .bind(text)
    .bind(event_id)
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE conversations SET updated_at = $1 WHERE id = $2")
        .bind(now)
        .bind(conversation_id)
        .execute(conn)
        .await?;
    Ok(())
}

#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct StoredMessage {
    pub direction: String,
    pub sender: String,
    pub text: String,
}

pub async fn messages(
    conn: &mut AnyConnection,
    conversation_id: i64,
) -> Result<Vec<StoredMessage>> {
    Ok(sqlx::query_as(
        "SELECT direction, sender, text FROM messages WHERE conversation_id = $1 ORDER BY id",
    )
    .bind(conversation_id)
    .fetch_all(conn)
    .await?)
}

/// What became of an inbound delivery id.
#[derive(Debug, PartialEq, Eq)]
pub enum Delivery {
    /// First time seen: handle it.
    New,
    /// Left unfinished by an earlier process that died mid-way: handle it again; the
    /// effects' own idempotency keys keep anything it already did from happening twice.
    Unfinished,
    /// Being handled right now by this process (a concurrent copy of the delivery).
    InFlight,
    /// Already answered.
    Done,
}

/// Records that `handler` (this process) takes the delivery, or says why it should not.
pub async fn receive_event(
    conn: &mut AnyConnection,
    channel: &str,
    event_id: &str,
    handler: &str,
    now: Timestamp,
) -> Result<Delivery> {
    let inserted =
        sqlx::query("INSERT INTO processed_events (channel, event_id, handler, received_at) VALUES ($1, $2, $3, $4)")
            .bind(channel)
            .bind(event_id)
            .bind(handler)
            .bind(now)
        .execute(&mut *conn)
        .await;
    match inserted {
        Ok(_) => Ok(Delivery::New),
        Err(e) if is_unique_violation(&e) => {
            let (done_at, owner): (Option<i64>, String) =
                sqlx::query_as("SELECT done_at, handler FROM processed_events WHERE channel = $1 AND event_id = $2")
                    .bind(channel)
                    .bind(event_id)
                    .fetch_one(&mut *conn)
                    .await?;
            if done_at.is_some() {
                return Ok(Delivery::Done);
            }
            if owner == handler {
                return Ok(Delivery::InFlight);
            }
            let taken = sqlx::query(
                "UPDATE processed_events SET handler = $1 WHERE channel = $2 AND event_id = $3 AND handler = $4 AND done_at IS NULL",
            )
            .bind(handler)
            .bind(channel)
            .bind(event_id)
            .bind(&owner)
            .execute(conn)
            .await?;
            Ok(if taken.rows_affected() == 1 {
                Delivery::Unfinished
            } else {
                Delivery::InFlight
            })
        }
        Err(e) => Err(e.into()),
    }
}

/// Marks a delivery handled and keeps its answer until the adapter confirms it was shown.
/// `reply` is `None` when there is nothing to show, which counts as delivered.
pub async fn finish_event(
    conn: &mut AnyConnection,
    channel: &str,
    event_id: &str,
    reply: Option<&str>,
    now: Timestamp,
) -> Result<()> {
    let delivered_at = reply.is_none().then_some(now);
    sqlx::query(
        "UPDATE processed_events SET done_at = $1, reply = $2, delivered_at = $3 WHERE channel = $4 AND event_id = $5",
    )
    .bind(now)
    .bind(reply)
    .bind(delivered_at)
    .bind(channel)
    .bind(event_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// The stored answer of a handled delivery that never reached the user.
pub async fn undelivered_reply(
    conn: &mut AnyConnection,
    channel: &str,
    event_id: &str,
) -> Result<Option<String>> {
    let row: Option<(Option<String>,)> = sqlx::query_as(
        "SELECT reply FROM processed_events WHERE channel = $1 AND event_id = $2 \
         AND done_at IS NOT NULL AND delivered_at IS NULL",
    )
    .bind(channel)
    .bind(event_id)
    .fetch_optional(conn)
    .await?;
    Ok(row.and_then(|(reply,)| reply))
}

pub async fn mark_delivered(
    conn: &mut AnyConnection,
    channel: &str,
    event_id: &str,
    now: Timestamp,
) -> Result<()> {
    sqlx::query(
        "UPDATE processed_events SET delivered_at = $1 WHERE channel = $2 AND event_id = $3 AND delivered_at IS NULL",
    )
    .bind(now)
    .bind(channel)
    .bind(event_id)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn get(conn: &mut AnyConnection, id: i64) -> Result<Option<Conversation>> {
    Ok(sqlx::query_as(
        "SELECT id, channel, external_id, customer_id, owner, state FROM conversations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(conn)
    .await?)
}

pub async fn find(
    conn: &mut AnyConnection,
    channel: &str,
    external_id: &str,
) -> Result<Option<Conversation>> {
    Ok(sqlx::query_as(
        "SELECT id, channel, external_id, customer_id, owner, state FROM conversations WHERE channel = $1 AND external_id = $2",
    )
    .bind(channel)
    .bind(external_id)
    .fetch_optional(conn)
    .await?)
}

/// `bot`, `staff` (handed off, waiting for a person) or `staff:<name>`.
pub async fn set_owner(conn: &mut AnyConnection, id: i64, owner: &str) -> Result<()> {
    sqlx::query("UPDATE conversations SET owner = $1 WHERE id = $2")
        .bind(owner)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

pub async fn set_state(conn: &mut AnyConnection, conversation_id: i64, state: &str) -> Result<()> {
    sqlx::query("UPDATE conversations SET state = $1 WHERE id = $2")
        .bind(state)
        .bind(conversation_id)
        .execute(conn)
        .await?;
    Ok(())
}

/// Ties a conversation to the customer its account was just proven to belong to, so what
/// was said before linking joins the customer's history.
pub async fn set_customer(conn: &mut AnyConnection, id: i64, customer_id: i64) -> Result<()> {
    sqlx::query("UPDATE conversations SET customer_id = $1 WHERE id = $2")
        .bind(customer_id)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}

/// One message with the conversation it belongs to.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct HistoryMessage {
    pub channel: String,
    pub direction: String,
    pub sender: String,
    pub text: String,
    pub created_at: Timestamp,
}

/// The last `limit` messages of one conversation, oldest first.
pub async fn recent_messages(
    conn: &mut AnyConnection,
    conversation_id: i64,
    limit: i64,
) -> Result<Vec<HistoryMessage>> {
    let mut rows: Vec<HistoryMessage> = sqlx::query_as(
        "SELECT c.channel, m.direction, m.sender, m.text, m.created_at FROM messages m \
         JOIN conversations c ON c.id = m.conversation_id WHERE m.conversation_id = $1 \
         ORDER BY m.id DESC LIMIT $2",
    )
    .bind(conversation_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.reverse();
    Ok(rows)
}

/// The last `limit` messages across every conversation of a customer (all channels),
/// oldest first: one person, one history.
pub async fn recent_messages_of_customer(
    conn: &mut AnyConnection,
    customer_id: i64,
    limit: i64,
) -> Result<Vec<HistoryMessage>> {
    let mut rows: Vec<HistoryMessage> = sqlx::query_as(
        "SELECT c.channel, m.direction, m.sender, m.text, m.created_at FROM messages m \
         JOIN conversations c ON c.id = m.conversation_id WHERE c.customer_id = $1 \
         ORDER BY m.id DESC LIMIT $2",
    )
    .bind(customer_id)
    .bind(limit)
    .fetch_all(conn)
    .await?;
    rows.reverse();
    Ok(rows)
}
