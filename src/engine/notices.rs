//! Incident notices: while an incident is open, a customer it affects sees its notice
//! before the answer, once per conversation, and the incident's timeline records it.

use serde_json::Value;
use sqlx::AnyConnection;

use crate::clock::Timestamp;
use crate::policy::{Actor, Role};
use crate::store::conversations::{self, Conversation};
use crate::store::{StoreError, incidents};

/// The notices this customer has not yet seen in this conversation, marked as seen.
pub async fn take_unseen(
    conn: &mut AnyConnection,
    actor: &Actor,
    conversation: &Conversation,
    now: Timestamp,
) -> Result<Vec<String>, StoreError> {
    let (Role::Customer, Some(customer)) = (actor.role, actor.customer_id) else {
        return Ok(Vec::new());
    };
    let open = incidents::open(conn).await?;
    if open.is_empty() {
        return Ok(Vec::new());
    }
    let mut state: Value =
        serde_json::from_str(&conversation.state).unwrap_or_else(|_| serde_json::json!({}));
    let seen: Vec<i64> = state["incident_notices"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_i64).collect())
        .unwrap_or_default();
    let mut notices = Vec::new();
    let mut now_seen = seen.clone();
    for incident in open.iter().filter(|i| !seen.contains(&i.id)) {
        if incidents::affects(conn, incident, customer).await? {
            notices.push(incident.notice.clone());
            now_seen.push(incident.id);
            incidents::log(
                conn,
                incident.id,
                "notice_shown",
                &format!("customer:{customer} on {}", actor.channel),
                now,
            )
            .await?;
        }
    }
    if now_seen.len() != seen.len() {
        state["incident_notices"] = serde_json::json!(now_seen);
        conversations::set_state(conn, conversation.id, &state.to_string()).await?;
    }
    Ok(notices)
}
