//! Audit events, written in the same transaction as the change they record.

use serde_json::Value;

use crate::domain::views::AuditView;
use crate::store::{self, Db, audit::AuditRow};

/// Who did something.
#[derive(Debug, Clone, PartialEq)]
pub enum Actor {
    /// A signed-in user (admin portal, login page).
    User { id: String, email: String },
    /// Someone not yet identified (a failed login).
    Anonymous,
    /// The command line on the server.
    Cli,
    /// The server itself (bootstrap).
    System,
}

impl Actor {
    fn parts(&self) -> (&'static str, Option<String>, Option<String>) {
        match self {
            Actor::User { id, email } => ("user", Some(id.clone()), Some(email.clone())),
            Actor::Anonymous => ("anonymous", None, None),
            Actor::Cli => ("cli", None, Some("cli".into())),
            Actor::System => ("system", None, Some("system".into())),
        }
    }
}

/// Where a request came from.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestMeta {
    pub ip: Option<String>,
    pub user_agent: Option<String>,
}

/// The actor of a call and where it came from.
#[derive(Debug, Clone)]
pub struct Caller {
    pub actor: Actor,
    pub meta: RequestMeta,
}

impl Caller {
    pub fn cli() -> Self {
        Self {
            actor: Actor::Cli,
            meta: RequestMeta::default(),
        }
    }

    pub fn system() -> Self {
        Self {
            actor: Actor::System,
            meta: RequestMeta::default(),
        }
    }
}

/// One event to record.
pub struct Event<'a> {
    pub org_id: Option<&'a str>,
    pub action: &'static str,
    pub object: (&'static str, &'a str),
    pub success: bool,
    pub detail: Value,
}

const MAX_UA: usize = 300;

pub async fn record<'c>(
    e: impl sqlx::AnyExecutor<'c>,
    caller: &Caller,
    ev: Event<'_>,
) -> Result<(), sqlx::Error> {
    let (actor_type, actor_id, actor_label) = caller.actor.parts();
    let row = AuditRow {
        id: 0,
        at: super::now(),
        org_id: ev.org_id.map(str::to_string),
        actor_type: actor_type.to_string(),
        actor_id,
        actor_label,
        action: ev.action.to_string(),
        object_type: Some(ev.object.0.to_string()),
        object_id: Some(ev.object.1.to_string()),
        outcome: if ev.success { "success" } else { "failure" }.to_string(),
        ip: caller.meta.ip.clone(),
        user_agent: caller
            .meta
            .user_agent
            .as_ref()
            .map(|ua| ua.chars().take(MAX_UA).collect()),
        detail: ev.detail.to_string(),
    };
    store::audit::insert(e, &row).await
}

/// The newest events of an organization (the audit viewer comes later; a plain list now).
pub async fn recent(db: &Db, org_id: &str, limit: i64) -> super::Result<Vec<AuditView>> {
    let rows = store::audit::list(&db.pool, org_id, limit.clamp(1, 500)).await?;
    Ok(rows
        .into_iter()
        .map(|r| AuditView {
            id: r.id,
            at: r.at,
            actor: r
                .actor_label
                .or(r.actor_id)
                .unwrap_or_else(|| r.actor_type.clone()),
            action: r.action,
            object: format!(
                "{} {}",
                r.object_type.unwrap_or_default(),
                r.object_id.unwrap_or_default()
            )
            .trim()
            .to_string(),
            outcome: r.outcome,
            ip: r.ip,
            detail: r.detail,
        })
        .collect())
}
