//! Organizations' identity providers and the upstream identities linked to users.

use sqlx::{AnyExecutor, Row};

use crate::domain::Role;
use crate::domain::upstream::Provisioning;

/// A provider as stored (its secret sealed).
#[derive(Debug, Clone)]
pub struct ProviderRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub sealed_secret: String,
    pub domains: Vec<String>,
    pub provisioning: Provisioning,
    pub default_role: Role,
    pub required: bool,
    pub created_at: i64,
}

const COLS: &str = "id, org_id, name, issuer, client_id, client_secret, domains, provisioning, default_role, required, created_at";

fn corrupt(column: &str) -> sqlx::Error {
    sqlx::Error::Decode(format!("identity_providers.{column}: not a known value").into())
}

fn from_row(r: &sqlx::any::AnyRow) -> Result<ProviderRow, sqlx::Error> {
    let domains: String = r.try_get("domains")?;
    let provisioning: String = r.try_get("provisioning")?;
    let role: String = r.try_get("default_role")?;
    Ok(ProviderRow {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        name: r.try_get("name")?,
        issuer: r.try_get("issuer")?,
        client_id: r.try_get("client_id")?,
        sealed_secret: r.try_get("client_secret")?,
        domains: domains
            .split(' ')
            .filter(|d| !d.is_empty())
            .map(str::to_string)
            .collect(),
        provisioning: Provisioning::parse(&provisioning).ok_or_else(|| corrupt("provisioning"))?,
        default_role: Role::parse(&role).map_err(|_| corrupt("default_role"))?,
        required: r.try_get::<i64, _>("required")? != 0,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn of_org<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
) -> Result<Option<ProviderRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM identity_providers WHERE org_id = $1"
    ))
    .bind(org_id)
    .fetch_optional(e)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn get<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
) -> Result<Option<ProviderRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM identity_providers WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(e)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The provider that claims `domain`, if one does.
pub async fn of_domain<'c>(
    e: impl AnyExecutor<'c>,
    domain: &str,
) -> Result<Option<ProviderRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM identity_providers WHERE ' ' || domains || ' ' LIKE $1"
    ))
    .bind(format!("% {} %", domain.replace(['%', '_'], "")))
    .fetch_optional(e)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// Inserts or replaces the organization's provider.
pub async fn put<'c>(e: impl AnyExecutor<'c>, p: &ProviderRow) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO identity_providers ({COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) \
         ON CONFLICT (org_id) DO UPDATE SET name = excluded.name, issuer = excluded.issuer, \
         client_id = excluded.client_id, client_secret = excluded.client_secret, domains = excluded.domains, \
         provisioning = excluded.provisioning, default_role = excluded.default_role, required = excluded.required"
    ))
    .bind(&p.id)
    .bind(&p.org_id)
    .bind(&p.name)
    .bind(&p.issuer)
    .bind(&p.client_id)
    .bind(&p.sealed_secret)
    .bind(p.domains.join(" "))
    .bind(p.provisioning.as_str())
    .bind(p.default_role.as_str())
    .bind(i64::from(p.required))
    .bind(p.created_at)
    .execute(e)
    .await?;
    Ok(())
}

pub async fn delete<'c>(e: impl AnyExecutor<'c>, org_id: &str) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM identity_providers WHERE org_id = $1")
            .bind(org_id)
            .execute(e)
            .await?
            .rows_affected()
            > 0,
    )
}

/// Every domain claimed by another organization's provider.
pub async fn domains_elsewhere<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    let rows: Vec<String> =
        sqlx::query_scalar("SELECT domains FROM identity_providers WHERE org_id <> $1")
            .bind(org_id)
            .fetch_all(e)
            .await?;
    Ok(rows
        .iter()
        .flat_map(|d| d.split(' ').filter(|d| !d.is_empty()).map(str::to_string))
        .collect())
}

/// The user an upstream subject is linked to.
pub async fn identity<'c>(
    e: impl AnyExecutor<'c>,
    provider_id: &str,
    subject: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT user_id FROM external_identities WHERE provider_id = $1 AND subject = $2",
    )
    .bind(provider_id)
    .bind(subject)
    .fetch_optional(e)
    .await
}

pub async fn link<'c>(
    e: impl AnyExecutor<'c>,
    provider_id: &str,
    subject: &str,
    user_id: &str,
    t: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO external_identities (provider_id, subject, user_id, created_at) VALUES ($1, $2, $3, $4) \
         ON CONFLICT (provider_id, subject) DO NOTHING",
    )
    .bind(provider_id)
    .bind(subject)
    .bind(user_id)
    .bind(t)
    .execute(e)
    .await?;
    Ok(())
}
