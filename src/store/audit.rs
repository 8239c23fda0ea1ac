use serde::Serialize;
use sqlx::{AnyExecutor, Row};

/// One audit record.
#[derive(Debug, Clone, Serialize)]
pub struct AuditRow {
    pub id: i64,
    pub at: i64,
    pub org_id: Option<String>,
    pub actor_type: String,
    pub actor_id: Option<String>,
    pub actor_label: Option<String>,
    pub action: String,
    pub object_type: Option<String>,
    pub object_id: Option<String>,
    pub outcome: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: String,
}

pub async fn insert<'c>(e: impl AnyExecutor<'c>, a: &AuditRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO audit_events (at, org_id, actor_type, actor_id, actor_label, action, object_type, object_id, outcome, ip, user_agent, detail) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
    )
    .bind(a.at)
    .bind(&a.org_id)
    .bind(&a.actor_type)
    .bind(&a.actor_id)
    .bind(&a.actor_label)
    .bind(&a.action)
    .bind(&a.object_type)
    .bind(&a.object_id)
    .bind(&a.outcome)
    .bind(&a.ip)
    .bind(&a.user_agent)
    .bind(&a.detail)
    .execute(e)
    .await?;
    Ok(())
}

/// The newest records of one organization, newest first.
pub async fn list<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    limit: i64,
) -> Result<Vec<AuditRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, at, org_id, actor_type, actor_id, actor_label, action, object_type, object_id, outcome, ip, user_agent, detail \
         FROM audit_events WHERE org_id = $1 ORDER BY id DESC LIMIT $2",
    )
    .bind(org_id)
    .bind(limit)
    .fetch_all(e)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AuditRow {
                id: r.try_get("id")?,
                at: r.try_get("at")?,
                org_id: r.try_get("org_id")?,
                actor_type: r.try_get("actor_type")?,
                actor_id: r.try_get("actor_id")?,
                actor_label: r.try_get("actor_label")?,
                action: r.try_get("action")?,
                object_type: r.try_get("object_type")?,
                object_id: r.try_get("object_id")?,
                outcome: r.try_get("outcome")?,
                ip: r.try_get("ip")?,
                user_agent: r.try_get("user_agent")?,
                detail: r.try_get("detail")?,
            })
        })
        .collect()
}
