//! Turning a platform identity into an [`Actor`]: the role comes from the store's records
//! (linked staff accounts, verified customer accounts), never from what a message says.

use shopdesk_port::{Channel, Identity};
use sqlx::AnyConnection;

use crate::policy::{Actor, Role};
use crate::store::{self, StoreError, customers, staff};

/// Resolves who is writing. On the terminal channel (`shopdesk chat --as ...`) the external
/// id names the persona directly (`customer:12`, `staff:alice`, `admin`): whoever runs the
/// binary already owns the store's database.
pub async fn resolve(
    conn: &mut AnyConnection,
    identity: &Identity,
    language_hint: Option<&str>,
) -> Result<Actor, ResolveError> {
    let hint = language_of(language_hint);
    let mut actor = Actor {
        role: Role::Guest,
        customer_id: None,
        staff_name: None,
        channel: identity.channel,
        external_id: identity.external_id.clone(),
        language: hint.to_string(),
    };
    if identity.channel == Channel::Cli {
        return resolve_persona(conn, actor).await;
    }
    if let Some(s) =
        staff::by_account(conn, identity.channel.as_str(), &identity.external_id).await?
    {
        actor.role = if s.role == "admin" {
            Role::Admin
        } else {
            Role::Staff
        };
        actor.staff_name = Some(s.name);
    } else if let Some(c) =
        customers::by_identity(conn, identity.channel.as_str(), &identity.external_id).await?
    {
        actor.role = Role::Customer;
        actor.customer_id = Some(c.id);
        actor.language = c.language;
    }
    Ok(actor)
}

async fn resolve_persona(
    conn: &mut AnyConnection,
    mut actor: Actor,
) -> Result<Actor, ResolveError> {
    let persona = actor.external_id.clone();
    match persona.split_once(':') {
        Some(("customer", id)) => {
            let id: i64 = id
                .parse()
                .map_err(|_| ResolveError::Persona(persona.clone()))?;
            let c = customers::get(conn, id)
                .await?
                .ok_or(ResolveError::NoSuchCustomer(id))?;
            actor.role = Role::Customer;
            actor.customer_id = Some(c.id);
            actor.language = c.language;
        }
        Some(("staff", name)) => {
            let s = staff::by_name(conn, name)
                .await?
                .ok_or_else(|| ResolveError::NoSuchStaff(name.to_string()))?;
            actor.role = if s.role == "admin" {
                Role::Admin
            } else {
                Role::Staff
            };
            actor.staff_name = Some(s.name);
        }
        None if persona == "admin" => {
            actor.role = Role::Admin;
            actor.staff_name = Some("shell".into());
        }
        None if persona == "guest" => {}
        _ => return Err(ResolveError::Persona(persona)),
    }
    Ok(actor)
}

/// `zh`, `zh-CN`, `zh-Hans` → `zh`; anything else → `en`.
pub fn language_of(hint: Option<&str>) -> &'static str {
    match hint {
        Some(h) if h.to_lowercase().starts_with("zh") => "zh",
        _ => "en",
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error("`{0}` is not a persona: use customer:<id>, staff:<name>, admin or guest")]
    Persona(String),
    #[error(
        "there is no customer #{0}; seed the demo store (shopdesk seed --demo) or pick an existing id"
    )]
    NoSuchCustomer(i64),
    #[error("there is no staff member named {0}; list them with `shopdesk staff list`")]
    NoSuchStaff(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for ResolveError {
    fn from(e: sqlx::Error) -> Self {
        ResolveError::Store(store::StoreError::Sql(e))
    }
}
