//! /link: a chat account proves it belongs to a customer with an order number and that
//! order's email or phone. Attempts are counted per account and per order, so neither can
//! be guessed; every attempt leaves an audit entry. A failure never says which half was
//! wrong.

use crate::clock;
use crate::policy::{Actor, Role};
use crate::store::conversations::Conversation;
use crate::store::customers::Customer;
use crate::store::{StoreError, audit, conversations, customers, link_attempts, orders};
use shopdesk_port::Channel;

use super::{Answer, Engine};

impl Engine {
    pub(super) async fn link(
        &self,
        actor: &Actor,
        conversation: &Conversation,
        order_id: i64,
        proof: &str,
    ) -> Answer {
        match self.try_link(actor, conversation, order_id, proof).await {
            Ok(answer) => answer,
            Err(e) => {
                tracing::error!(error = %e, "linking failed");
                Answer::text(self.replies.get(&actor.language, "store_unavailable", &[]))
            }
        }
    }

    async fn try_link(
        &self,
        actor: &Actor,
        conversation: &Conversation,
        order_id: i64,
        proof: &str,
    ) -> Result<Answer, StoreError> {
        let lang = actor.language.as_str();
        if actor.role.is_staff() || actor.channel == Channel::Cli {
            return Ok(Answer::text(self.replies.get(
                lang,
                "link_not_for_you",
                &[],
            )));
        }
        let settings = &self.toolbox.config.linking;
        let now = self.toolbox.clock.now();
        let window = settings.window_minutes * 60;
        let channel = actor.channel.as_str();
        let mut tx = self.store().begin_write().await?;
        let (account_failures, account_first) =
            link_attempts::account_failures(&mut tx, channel, &actor.external_id, now - window)
                .await?;
        let (order_failures, order_first) =
            link_attempts::order_failures(&mut tx, order_id, now - window).await?;
        let locked_until = [
            (account_failures >= settings.max_failures).then_some(account_first),
            (order_failures >= settings.max_failures_per_order).then_some(order_first),
        ]
        .into_iter()
        .flatten()
        .flatten()
        .map(|first| first + window)
        .max();
        if let Some(until) = locked_until {
            self.audit_link(
                &mut tx,
                actor,
                order_id,
                "denied",
                "too many failed attempts",
            )
            .await?;
            tx.commit().await?;
            return Ok(Answer::text(self.replies.get(
                lang,
                "link_locked",
                &[("time", &clock::datetime(until))],
            )));
        }
        let customer = match orders::get(&mut tx, order_id).await? {
            Some(order) => customers::get(&mut tx, order.customer_id)
                .await?
                .filter(|c| proof_matches(c, proof)),
            None => None,
        };
        link_attempts::record(
            &mut tx,
            channel,
            &actor.external_id,
            order_id,
            customer.is_some(),
            now,
        )
        .await?;
        let Some(customer) = customer else {
            self.audit_link(
                &mut tx,
                actor,
                order_id,
                "rejected",
                "order and proof do not match",
            )
            .await?;
            tx.commit().await?;
            let left = settings.max_failures - account_failures - 1;
            return Ok(Answer::text(if left > 0 {
                self.replies
                    .get(lang, "link_failed", &[("left", &left.to_string())])
            } else {
                self.replies.get(
                    lang,
                    "link_locked",
                    &[("time", &clock::datetime(now + window))],
                )
            }));
        };
        if actor.role == Role::Customer && actor.customer_id == Some(customer.id) {
            tx.commit().await?;
            return Ok(Answer::text(self.replies.get(
                &customer.language,
                "link_already",
                &[("name", &customer.name)],
            )));
        }
        customers::link_identity(&mut tx, channel, &actor.external_id, customer.id, now).await?;
        conversations::set_customer(&mut tx, conversation.id, customer.id).await?;
        self.audit_link(
            &mut tx,
            actor,
            order_id,
            "ok",
            &format!("linked to customer:{}", customer.id),
        )
        .await?;
        tx.commit().await?;
        Ok(Answer::text(self.replies.get(
            &customer.language,
            "link_done",
            &[("name", &customer.name)],
        )))
    }

    async fn audit_link(
        &self,
        conn: &mut sqlx::AnyConnection,
        actor: &Actor,
        order_id: i64,
        outcome: &str,
        detail: &str,
    ) -> Result<(), StoreError> {
        let args = serde_json::json!({ "order_id": order_id }).to_string();
        let entry = audit::NewEntry {
            actor: &actor.label(),
            role: actor.role.as_str(),
            channel: actor.channel.as_str(),
            tool: "link_account",
            args: &args,
            outcome,
            detail,
            idempotency_key: None,
        };
        audit::append(conn, &entry, self.toolbox.clock.now()).await
    }
}

/// The order's email (any case), or its phone number: the same digits, or the last seven
/// or more of them (people leave out the country code).
fn proof_matches(customer: &Customer, proof: &str) -> bool {
    let proof = proof.trim();
    if proof.contains('@') {
        return customer
            .email
            .as_deref()
            .is_some_and(|e| e.trim().eq_ignore_ascii_case(proof));
    }
    let given: String = proof.chars().filter(char::is_ascii_digit).collect();
    let Some(phone) = customer.phone.as_deref() else {
        return false;
    };
    let stored: String = phone.chars().filter(char::is_ascii_digit).collect();
    given.len() >= 7 && !stored.is_empty() && stored.ends_with(&given)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ann() -> Customer {
        Customer {
            id: 1,
            name: "Ann".into(),
            email: Some("Ann@Example.com".into()),
            phone: Some("+1 555 000 1234".into()),
            language: "en".into(),
            contact_opt_out: 0,
            created_at: 0,
        }
    }

    #[test]
    fn email_or_phone_proves_the_order() {
        assert!(proof_matches(&ann(), "ann@example.com"));
        assert!(proof_matches(&ann(), "+15550001234"));
        assert!(proof_matches(&ann(), "555-000-1234"));
        assert!(!proof_matches(&ann(), "1234"));
        assert!(!proof_matches(&ann(), "bob@example.com"));
        assert!(!proof_matches(&ann(), ""));
    }
}
