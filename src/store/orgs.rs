use serde::Serialize;
use sqlx::{AnyExecutor, Row};

#[derive(Debug, Clone, Serialize)]
pub struct OrgRow {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    pub audit_retention_days: i64,
    /// Connected apps work in the organization (its switch).
    pub apps_enabled: bool,
    /// Who must sign in with a second factor.
    pub mfa_policy: crate::domain::mfa::MfaPolicy,
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<OrgRow, sqlx::Error> {
    Ok(OrgRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        created_at: r.try_get("created_at")?,
        audit_retention_days: r.try_get::<i64, _>("audit_retention_days")?,
        apps_enabled: r.try_get::<i64, _>("apps_enabled")? != 0,
        mfa_policy: crate::domain::mfa::MfaPolicy::parse(&r.try_get::<String, _>("mfa_policy")?)
            .unwrap_or_default(),
    })
}

pub async fn insert<'c>(e: impl AnyExecutor<'c>, org: &OrgRow) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
        .bind(&org.id)
        .bind(&org.name)
        .bind(org.created_at)
        .execute(e)
        .await?;
    Ok(())
}

pub async fn get<'c>(e: impl AnyExecutor<'c>, id: &str) -> Result<Option<OrgRow>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, name, created_at, audit_retention_days, apps_enabled, mfa_policy FROM organizations WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(e)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn list<'c>(e: impl AnyExecutor<'c>) -> Result<Vec<OrgRow>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT id, name, created_at, audit_retention_days, apps_enabled, mfa_policy FROM organizations ORDER BY created_at, id")
            .fetch_all(e)
            .await?;
    rows.iter().map(from_row).collect()
}

pub async fn rename<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
    name: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE organizations SET name = $1 WHERE id = $2")
        .bind(name)
        .bind(id)
        .execute(e)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Every organization's audit retention in days.
pub async fn retentions<'c>(e: impl AnyExecutor<'c>) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows = sqlx::query("SELECT id, audit_retention_days FROM organizations ORDER BY id")
        .fetch_all(e)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get::<i64, _>("audit_retention_days")?,
            ))
        })
        .collect()
}

pub async fn set_retention<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
    days: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE organizations SET audit_retention_days = $1 WHERE id = $2")
        .bind(days)
        .bind(id)
        .execute(e)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Turns the organization's connected apps on or off.
pub async fn set_apps_enabled<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
    enabled: bool,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE organizations SET apps_enabled = $1 WHERE id = $2")
        .bind(i64::from(enabled))
        .bind(id)
        .execute(e)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Whether connected apps work in the organization (false for none of that id).
pub async fn apps_enabled<'c>(e: impl AnyExecutor<'c>, id: &str) -> Result<bool, sqlx::Error> {
    let on: Option<i64> =
        sqlx::query_scalar("SELECT apps_enabled FROM organizations WHERE id = $1")
            .bind(id)
            .fetch_optional(e)
            .await?;
    Ok(on.is_some_and(|v| v != 0))
}

/// The organization's multi-factor policy (optional for none of that id).
pub async fn mfa_policy<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
) -> Result<crate::domain::mfa::MfaPolicy, sqlx::Error> {
    let raw: Option<String> =
        sqlx::query_scalar("SELECT mfa_policy FROM organizations WHERE id = $1")
            .bind(id)
            .fetch_optional(e)
            .await?;
    Ok(raw
        .as_deref()
        .and_then(crate::domain::mfa::MfaPolicy::parse)
        .unwrap_or_default())
}

pub async fn set_mfa_policy<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
    policy: crate::domain::mfa::MfaPolicy,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE organizations SET mfa_policy = $1 WHERE id = $2")
        .bind(policy.as_str())
        .bind(id)
        .execute(e)
        .await?;
    Ok(done.rows_affected() == 1)
}
