//! The external-app policy: each organization's setting and its allowlist.

use sqlx::{AnyExecutor, Row};

use crate::domain::ScopeSet;

/// An approved external app, with its name and organization for display.
#[derive(Debug, Clone)]
pub struct AllowedRow {
    pub client_id: String,
    pub app_name: String,
    pub app_org_name: String,
    pub scopes: ScopeSet,
    pub approved_by: Option<String>,
    pub approved_at: i64,
}

pub async fn policy<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT app_policy FROM organizations WHERE id = $1")
        .bind(org_id)
        .fetch_optional(e)
        .await?
        .map(|r| r.try_get("app_policy"))
        .transpose()
}

pub async fn set_policy<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    policy: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE organizations SET app_policy = $1 WHERE id = $2")
        .bind(policy)
        .bind(org_id)
        .execute(e)
        .await?;
    Ok(())
}

/// The scopes `org_id` approved for `client_id`, if it did.
pub async fn approved<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    client_id: &str,
) -> Result<Option<ScopeSet>, sqlx::Error> {
    sqlx::query("SELECT scopes FROM app_allowlist WHERE org_id = $1 AND client_id = $2")
        .bind(org_id)
        .bind(client_id)
        .fetch_optional(e)
        .await?
        .map(|r| super::scope_set(&r, "scopes"))
        .transpose()
}

/// Approves (or re-approves with other scopes) an app for the organization.
pub async fn approve<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    client_id: &str,
    scopes: &str,
    by: Option<&str>,
    at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO app_allowlist (org_id, client_id, scopes, approved_by, approved_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (org_id, client_id) DO UPDATE SET scopes = excluded.scopes, approved_by = excluded.approved_by, approved_at = excluded.approved_at",
    )
    .bind(org_id)
    .bind(client_id)
    .bind(scopes)
    .bind(by)
    .bind(at)
    .execute(e)
    .await?;
    Ok(())
}

pub async fn remove<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    client_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM app_allowlist WHERE org_id = $1 AND client_id = $2")
        .bind(org_id)
        .bind(client_id)
        .execute(e)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn list<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
) -> Result<Vec<AllowedRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT l.client_id, a.name AS app_name, o.name AS app_org_name, l.scopes, l.approved_by, l.approved_at \
         FROM app_allowlist l JOIN apps a ON a.client_id = l.client_id JOIN organizations o ON o.id = a.org_id \
         WHERE l.org_id = $1 ORDER BY a.name LIMIT 1000",
    )
    .bind(org_id)
    .fetch_all(e)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(AllowedRow {
                client_id: r.try_get("client_id")?,
                app_name: r.try_get("app_name")?,
                app_org_name: r.try_get("app_org_name")?,
                scopes: super::scope_set(r, "scopes")?,
                approved_by: r.try_get("approved_by")?,
                approved_at: r.try_get("approved_at")?,
            })
        })
        .collect()
}

/// The external apps the organization's users hold active grants for, with every scope
/// granted (one row per grant; the caller merges).
pub async fn authorized_external<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
) -> Result<Vec<(String, ScopeSet)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT g.client_id, g.scopes FROM grants g JOIN apps a ON a.client_id = g.client_id \
         WHERE g.org_id = $1 AND a.org_id <> $1 AND g.revoked_at IS NULL",
    )
    .bind(org_id)
    .fetch_all(e)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("client_id")?, super::scope_set(r, "scopes")?)))
        .collect()
}

/// Ends the grants the organization's users hold for `client_id` and forgets their
/// consents. Returns how many grants ended.
pub async fn end_grants(
    e: &mut sqlx::AnyConnection,
    org_id: &str,
    client_id: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let ended = sqlx::query(
        "UPDATE grants SET revoked_at = $1 WHERE org_id = $2 AND client_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(org_id)
    .bind(client_id)
    .execute(&mut *e)
    .await?
    .rows_affected();
    sqlx::query(
        "DELETE FROM consents WHERE client_id = $1 AND user_id IN (SELECT user_id FROM memberships WHERE org_id = $2)",
    )
    .bind(client_id)
    .bind(org_id)
    .execute(&mut *e)
    .await?;
    Ok(ended)
}
