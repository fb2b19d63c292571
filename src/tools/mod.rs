//! The store's tools: one file per tool, each with a JSON schema for its arguments (derived
//! from the same type that parses them), a permission rule, an effect and an audit record.
//!
//! Everything that reads or changes store data on behalf of a user goes through
//! [`invoke`], which in order: checks the tool's role rule ([`crate::policy`]), replays the
//! stored answer when the idempotency key was already used, runs the tool in one
//! transaction (the tool checks ownership of the data it touches), records the audit
//! entry, and turns risky requests into pending confirmations. A refused call changes no
//! row and leaves exactly one `denied` audit entry.

mod audit_log;
mod cancel_order;
mod change_address;
mod confirm;
mod export_my_data;
mod forget_me;
mod fraud_hold;
mod fraud_report;
mod incident;
mod manage_staff;
mod order_lookup;
mod price_suggestions;
mod product_search;
mod recent_orders;
mod release_hold;
mod reprice;
mod restock;
mod restock_digest;
mod start_return;
mod stock_check;

use std::sync::Arc;

use async_trait::async_trait;
use rand::RngExt;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use sqlx::AnyConnection;

use crate::clock::{Clock, Timestamp};
use crate::config::Config;
use crate::policy::{Actor, Approval, Rule};
use crate::store::confirmations::Pending;
use crate::store::{self, Store, StoreError, audit, effects};

pub use audit_log::AuditLog;
pub use cancel_order::CancelOrder;
pub use change_address::ChangeAddress;
pub use confirm::Confirm;
pub use export_my_data::ExportMyData;
pub use forget_me::ForgetMe;
pub use fraud_hold::FraudHold;
pub use fraud_report::FraudReport;
pub use incident::{IncidentAction, ManageIncident};
pub use manage_staff::{ManageStaff, StaffAction};
pub use order_lookup::{OrderLookup, status_words};
pub use price_suggestions::PriceSuggestions;
pub use product_search::ProductSearch;
pub use recent_orders::RecentOrders;
pub use release_hold::ReleaseHold;
pub use reprice::Reprice;
pub use restock::Restock;
pub use restock_digest::RestockDigest;
pub use start_return::StartReturn;
pub use stock_check::StockCheck;

/// One tool: its name and description (what the model and /help see), the role rule the
/// permission layer enforces before it runs, whether it changes anything, and its effect.
#[async_trait]
pub trait Tool: Serialize + DeserializeOwned + JsonSchema + Send + Sync + Sized {
    const NAME: &'static str;
    const DESCRIPTION: &'static str;
    const RULE: Rule;
    /// Effects are idempotent by key and run under the store's write lock.
    const EFFECT: bool;
    /// The answer carries personal data, so the audit log records that it ran, not what it said.
    const PERSONAL_OUTPUT: bool = false;

    /// The arguments as the audit log keeps them. The log is append-only and outlives a
    /// customer's deletion, so tools that take personal data or free text mask it here.
    fn audit_args(&self) -> serde_json::Value {
        serde_json::to_value(self).unwrap_or_default()
    }

    async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError>;
}

/// What a running tool can see.
pub struct Run<'a> {
    pub conn: &'a mut AnyConnection,
    pub actor: &'a Actor,
    pub config: &'a Config,
    pub now: Timestamp,
    /// Set when `/confirm` executes a request that was waiting for approval.
    pub approved: Option<&'a Pending>,
}

impl Run<'_> {
    /// Who asked for the effect: the original requester when a confirmation runs it.
    pub fn requester(&self) -> String {
        self.approved
            .map(|p| p.requested_by.clone())
            .unwrap_or_else(|| self.actor.label())
    }

    /// The "confirmed by" line appended to an approved effect's answer.
    pub fn approval_note(&self) -> String {
        match self.approved {
            Some(p) => format!(
                "\nRequested by {}, confirmed by {}.",
                p.requested_by,
                self.actor.label()
            ),
            None => String::new(),
        }
    }
}

/// A tool's answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Outcome {
    Done {
        text: String,
        data: serde_json::Value,
    },
    /// The effect waits for `/confirm <code>` by the right person.
    Pending {
        text: String,
        code: String,
        approval: String,
        expires_at: Timestamp,
    },
    /// A tool asks [`invoke`] to park the request; `invoke` turns it into `Pending`.
    #[serde(skip)]
    NeedsApproval {
        approval: Approval,
        excluded: Option<String>,
        summary: String,
        /// The arguments to run with once confirmed, when they differ from the call's
        /// (a customer's "forget me" names the customer it resolved to).
        resolved: Option<serde_json::Value>,
    },
}

impl Outcome {
    pub fn done(text: impl Into<String>, data: serde_json::Value) -> Self {
        Outcome::Done {
            text: text.into(),
            data,
        }
    }

    pub fn text(&self) -> &str {
        match self {
            Outcome::Done { text, .. } | Outcome::Pending { text, .. } => text,
            Outcome::NeedsApproval { summary, .. } => summary,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    /// Refused by policy. `shown` is all the user learns (for another customer's order it
    /// reads exactly like a missing one); `why` goes to the audit log.
    #[error("{shown}")]
    Denied { shown: String, why: String },
    #[error("{0}")]
    NotFound(String),
    /// The arguments are malformed.
    #[error("{0}")]
    Invalid(String),
    /// A business rule says no (too late to cancel, below the price floor, ...).
    #[error("{0}")]
    Rejected(String),
    #[error("the store is unavailable right now; please try again in a moment")]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ToolError {
    fn from(e: sqlx::Error) -> Self {
        ToolError::Store(e.into())
    }
}

impl ToolError {
    pub fn denied_for_role(role: &str) -> Self {
        ToolError::Denied {
            shown: "Sorry, that is not available to you.".into(),
            why: format!("role {role} may not use this tool"),
        }
    }

    fn audit_outcome(&self) -> &'static str {
        match self {
            ToolError::Denied { .. } => "denied",
            ToolError::NotFound(_) | ToolError::Invalid(_) | ToolError::Rejected(_) => "rejected",
            ToolError::Store(_) => "error",
        }
    }

    fn audit_detail(&self) -> String {
        match self {
            ToolError::Denied { why, .. } => why.clone(),
            ToolError::Store(e) => e.to_string(),
            other => other.to_string(),
        }
    }
}

/// The same text for a missing order and another customer's order, so order numbers cannot
/// be probed.
pub fn order_not_found(order_id: i64) -> String {
    format!("I can't find order #{order_id} on your account. Please check the number.")
}

/// Loads an order the actor may touch; another customer's order fails exactly like a missing one.
pub async fn visible_order(
    run: &mut Run<'_>,
    order_id: i64,
) -> Result<store::orders::Order, ToolError> {
    let order = store::orders::get(run.conn, order_id).await?;
    match order {
        Some(o) if crate::policy::may_touch_order(run.actor, o.customer_id) => Ok(o),
        Some(o) => Err(ToolError::Denied {
            shown: order_not_found(order_id),
            why: format!("order #{order_id} belongs to customer:{}", o.customer_id),
        }),
        None => Err(ToolError::NotFound(order_not_found(order_id))),
    }
}

pub async fn product(run: &mut Run<'_>, sku: &str) -> Result<store::catalog::Product, ToolError> {
    store::catalog::by_sku(run.conn, sku.trim())
        .await?
        .ok_or_else(|| {
            ToolError::NotFound(format!(
                "There is no product with SKU {}. Try /search <words> to find one.",
                sku.trim()
            ))
        })
}

/// Checks a free-text reason: required, and short enough for the audit log.
pub fn reason(text: &str) -> Result<String, ToolError> {
    let t = text.trim();
    if t.is_empty() {
        return Err(ToolError::Invalid("A reason is required.".into()));
    }
    if t.chars().count() > 500 {
        return Err(ToolError::Invalid(
            "The reason is too long: keep it under 500 characters.".into(),
        ));
    }
    Ok(t.to_string())
}

/// A tool as the model sees it (name, description, JSON schema of the arguments).
#[derive(Debug, Clone, Serialize)]
pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    #[serde(skip)]
    pub rule: Rule,
    /// Changes store data (the model is never offered these: effects start from a command).
    #[serde(skip)]
    pub effect: bool,
    pub parameters: serde_json::Value,
}

fn spec<T: Tool>() -> ToolSpec {
    ToolSpec {
        name: T::NAME,
        description: T::DESCRIPTION,
        rule: T::RULE,
        effect: T::EFFECT,
        parameters: schemars::schema_for!(T).to_value(),
    }
}

macro_rules! tool_calls {
    ($($variant:ident),* $(,)?) => {
        /// Every tool call, parsed and typed.
        #[derive(Debug, Clone, PartialEq)]
        pub enum ToolCall { $($variant($variant)),* }

        impl ToolCall {
            pub fn name(&self) -> &'static str {
                match self { $(ToolCall::$variant(_) => $variant::NAME),* }
            }

            /// Parses a call by tool name from JSON arguments, validating them against the
            /// tool's argument type (the same type its schema is derived from).
            pub fn from_json(name: &str, args: serde_json::Value) -> Result<Self, ToolError> {
                match name {
                    $($variant::NAME => serde_json::from_value(args)
                        .map(ToolCall::$variant)
                        .map_err(|e| ToolError::Invalid(format!("bad arguments for {name}: {e}"))),)*
                    _ => Err(ToolError::Invalid(format!("there is no tool named `{name}`"))),
                }
            }

            pub fn args_json(&self) -> serde_json::Value {
                match self { $(ToolCall::$variant(a) => serde_json::to_value(a).unwrap_or_default()),* }
            }

            /// The arguments with personal data masked, for the audit log.
            pub fn audit_json(&self) -> serde_json::Value {
                match self { $(ToolCall::$variant(a) => a.audit_args()),* }
            }

            fn personal_output(&self) -> bool {
                match self { $(ToolCall::$variant(_) => $variant::PERSONAL_OUTPUT),* }
            }

            /// Every tool's spec; [`specs_for`] filters them by role.
            pub fn specs() -> Vec<ToolSpec> {
                vec![$(spec::<$variant>()),*]
            }

            fn rule(&self) -> Rule {
                match self { $(ToolCall::$variant(_) => $variant::RULE),* }
            }

            fn is_effect(&self) -> bool {
                match self { $(ToolCall::$variant(_) => $variant::EFFECT),* }
            }

            async fn run(&self, run: &mut Run<'_>) -> Result<Outcome, ToolError> {
                match self { $(ToolCall::$variant(t) => t.run(run).await),* }
            }
        }
    };
}

tool_calls!(
    OrderLookup,
    RecentOrders,
    CancelOrder,
    ChangeAddress,
    StartReturn,
    StockCheck,
    ProductSearch,
    Restock,
    Reprice,
    FraudHold,
    ReleaseHold,
    FraudReport,
    RestockDigest,
    PriceSuggestions,
    ManageIncident,
    ExportMyData,
    ForgetMe,
    Confirm,
    AuditLog,
    ManageStaff,
);

/// The tools an actor's role may call: what the model is offered and /help lists.
pub fn specs_for(actor: &Actor) -> Vec<ToolSpec> {
    ToolCall::specs()
        .into_iter()
        .filter(|s| s.rule.allows(actor.role))
        .collect()
}

/// What the tools need besides the call itself.
#[derive(Clone)]
pub struct Toolbox {
    pub store: Store,
    pub config: Arc<Config>,
    pub clock: Arc<dyn Clock>,
}

impl Toolbox {
    /// Runs one call for `actor`: permission, idempotency, transaction, audit. `key` is the
    /// idempotency key (channel + platform message id + position in the turn); the same
    /// key never acts twice.
    pub async fn invoke(
        &self,
        actor: &Actor,
        call: &ToolCall,
        key: &str,
    ) -> Result<Outcome, ToolError> {
        let args = call.audit_json().to_string();
        let result = self.invoke_inner(actor, call, key).await;
        if let Err(err) = &result {
            // A failed call rolled back; its audit entry stands on its own.
            let entry = audit::NewEntry {
                actor: &actor.label(),
                role: actor.role.as_str(),
                channel: actor.channel.as_str(),
                tool: call.name(),
                args: &args,
                outcome: err.audit_outcome(),
                detail: &err.audit_detail(),
                idempotency_key: Some(key),
            };
            let mut conn = self.store.pool().acquire().await.map_err(ToolError::from)?;
            audit::append(&mut conn, &entry, self.clock.now()).await?;
        }
        result
    }

    async fn invoke_inner(
        &self,
        actor: &Actor,
        call: &ToolCall,
        key: &str,
    ) -> Result<Outcome, ToolError> {
        if !call.rule().allows(actor.role) {
            return Err(ToolError::denied_for_role(actor.role.as_str()));
        }
        let effect = call.is_effect();
        if effect && let Some(stored) = self.replay(key).await? {
            self.audit_replay(actor, call, key).await?;
            return Ok(stored);
        }
        // Every call writes its audit entry in this transaction, so it takes the write lock
        // up front: on SQLite a read transaction that later writes fails at once (busy
        // snapshot) when another connection wrote in between, as concurrent chats do.
        let mut tx = self.store.begin_write().await?;
        let now = self.clock.now();
        if effect
            && let effects::Claim::Done(_) = effects::claim(&mut tx, key, call.name(), now).await?
        {
            drop(tx);
            // A concurrent delivery won the key and has committed by now.
            let stored = self.replay(key).await?.ok_or_else(|| {
                ToolError::Rejected("That request is already being handled.".into())
            })?;
            self.audit_replay(actor, call, key).await?;
            return Ok(stored);
        }
        let mut run = Run {
            conn: &mut tx,
            actor,
            config: &self.config,
            now,
            approved: None,
        };
        let outcome = call.run(&mut run).await?;
        let outcome = match outcome {
            Outcome::NeedsApproval {
                approval,
                excluded,
                summary,
                resolved,
            } => {
                let args = resolved.unwrap_or_else(|| call.args_json());
                self.park(
                    &mut tx, actor, call, &args, key, approval, excluded, summary, now,
                )
                .await?
            }
            done => done,
        };
        if effect {
            effects::finish(
                &mut tx,
                key,
                &serde_json::to_string(&outcome).unwrap_or_default(),
            )
            .await?;
        }
        let (audit_outcome, detail) = match &outcome {
            Outcome::Pending { code, .. } => {
                ("pending", format!("waiting for confirmation {code}"))
            }
            _ if call.personal_output() => {
                ("ok", "done (answer withheld: personal data)".to_string())
            }
            other => ("ok", first_line(other.text())),
        };
        let entry = audit::NewEntry {
            actor: &actor.label(),
            role: actor.role.as_str(),
            channel: actor.channel.as_str(),
            tool: call.name(),
            args: &call.audit_json().to_string(),
            outcome: audit_outcome,
            detail: &detail,
            idempotency_key: Some(key),
        };
        audit::append(&mut tx, &entry, now).await?;
        tx.commit().await.map_err(ToolError::from)?;
        Ok(outcome)
    }

    /// Records a refusal made before any tool call could be built (a forbidden command):
    /// the same single `denied` entry a refused tool call leaves. Only the command's name is
    /// kept: its arguments were never read.
    pub async fn record_denied(&self, actor: &Actor, command: &str) -> Result<(), ToolError> {
        let mut conn = self.store.pool().acquire().await?;
        let args = serde_json::json!({ "command": format!("/{command}") }).to_string();
        let entry = audit::NewEntry {
            actor: &actor.label(),
            role: actor.role.as_str(),
            channel: actor.channel.as_str(),
            tool: command,
            args: &args,
            outcome: "denied",
            detail: &format!("role {} may not use /{command}", actor.role.as_str()),
            idempotency_key: None,
        };
        audit::append(&mut conn, &entry, self.clock.now()).await?;
        Ok(())
    }

    async fn replay(&self, key: &str) -> Result<Option<Outcome>, ToolError> {
        let mut conn = self.store.pool().acquire().await?;
        let stored = effects::finished(&mut conn, key).await?;
        Ok(stored.and_then(|s| serde_json::from_str(&s).ok()))
    }

    async fn audit_replay(
        &self,
        actor: &Actor,
        call: &ToolCall,
        key: &str,
    ) -> Result<(), ToolError> {
        let mut conn = self.store.pool().acquire().await?;
        let entry = audit::NewEntry {
            actor: &actor.label(),
            role: actor.role.as_str(),
            channel: actor.channel.as_str(),
            tool: call.name(),
            args: &call.audit_json().to_string(),
            outcome: "replayed",
            detail: "duplicate delivery: answered from the first call, nothing done again",
            idempotency_key: Some(key),
        };
        audit::append(&mut conn, &entry, self.clock.now()).await?;
        Ok(())
    }

    #[allow(clippy::too_many_arguments)]
    async fn park(
        &self,
        conn: &mut AnyConnection,
        actor: &Actor,
        call: &ToolCall,
        args: &serde_json::Value,
        key: &str,
        approval: Approval,
        excluded: Option<String>,
        summary: String,
        now: Timestamp,
    ) -> Result<Outcome, ToolError> {
        let code = confirmation_code();
        let expires_at = now + self.config.confirmation_expiry_secs();
        let pending = Pending {
            code: code.clone(),
            tool: call.name().to_string(),
            args: args.to_string(),
            requested_by: actor.label(),
            requester_role: actor.role.as_str().to_string(),
            approval: approval.as_str().to_string(),
            excluded_actor: excluded,
            summary: summary.clone(),
            created_at: now,
            expires_at,
            decided_by: None,
            decided_at: None,
            idempotency_key: key.to_string(),
        };
        store::confirmations::create(conn, &pending).await?;
        let who = match approval {
            Approval::Requester => "you".to_string(),
            Approval::SecondPerson => "another staff member or an admin".to_string(),
        };
        let text = format!(
            "{summary}\nThis needs confirmation by {who}: /confirm {code} (expires {}).",
            crate::clock::datetime(expires_at)
        );
        Ok(Outcome::Pending {
            text,
            code,
            approval: approval.as_str().into(),
            expires_at,
        })
    }
}

fn first_line(text: &str) -> String {
    text.lines()
        .next()
        .unwrap_or_default()
        .chars()
        .take(200)
        .collect()
}

/// Six characters from an alphabet without look-alikes (no 0/O, 1/I/L): easy to read out
/// and type, and with 31^6 ≈ 900 million codes hard to guess before one expires.
fn confirmation_code() -> String {
    const ALPHABET: &[u8] = b"23456789ABCDEFGHJKMNPQRSTUVWXYZ";
    let mut rng = rand::rng();
    (0..6)
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}
