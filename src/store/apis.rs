//! Custom APIs (resource servers) of each organization.

use sqlx::{AnyExecutor, Row};

#[derive(Debug, Clone)]
pub struct ApiRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub identifier: String,
    /// One `name words` per line.
    pub scopes: String,
    pub created_at: i64,
}

impl ApiRow {
    /// Each scope it defines, with its plain words.
    pub fn scope_list(&self) -> impl Iterator<Item = (&str, &str)> {
        self.scopes
            .lines()
            .map(|l| l.split_once(' ').unwrap_or((l, "")))
    }

    /// The scopes' names.
    pub fn scope_names(&self) -> impl Iterator<Item = &str> {
        self.scope_list().map(|(n, _)| n)
    }

    /// The plain words of one of its scopes.
    pub fn words_of(&self, scope: &str) -> Option<&str> {
        self.scope_list().find(|(n, _)| *n == scope).map(|(_, w)| w)
    }
}

const COLS: &str = "id, org_id, name, identifier, scopes, created_at";

fn from_row(r: &sqlx::any::AnyRow) -> Result<ApiRow, sqlx::Error> {
    Ok(ApiRow {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        name: r.try_get("name")?,
        identifier: r.try_get("identifier")?,
        scopes: r.try_get("scopes")?,
        created_at: r.try_get("created_at")?,
    })
}

pub async fn insert<'c>(e: impl AnyExecutor<'c>, a: &ApiRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO apis (id, org_id, name, identifier, scopes, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&a.id)
    .bind(&a.org_id)
    .bind(&a.name)
    .bind(&a.identifier)
    .bind(&a.scopes)
    .bind(a.created_at)
    .execute(e)
    .await?;
    Ok(())
}

/// The organization's APIs, by name (bounded).
pub async fn list<'c>(e: impl AnyExecutor<'c>, org_id: &str) -> Result<Vec<ApiRow>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLS} FROM apis WHERE org_id = $1 ORDER BY name LIMIT 500"
    ))
    .bind(org_id)
    .fetch_all(e)
    .await?;
    rows.iter().map(from_row).collect()
}

pub async fn get<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    id: &str,
) -> Result<Option<ApiRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM apis WHERE org_id = $1 AND id = $2"
    ))
    .bind(org_id)
    .bind(id)
    .fetch_optional(e)
    .await?;
    row.as_ref().map(from_row).transpose()
}

/// The organization's API with this identifier (an RFC 8707 `resource`).
pub async fn by_identifier<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    identifier: &str,
) -> Result<Option<ApiRow>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLS} FROM apis WHERE org_id = $1 AND identifier = $2"
    ))
    .bind(org_id)
    .bind(identifier)
    .fetch_optional(e)
    .await?;
    row.as_ref().map(from_row).transpose()
}

pub async fn delete<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM apis WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(e)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// The organization's apps allowed any of `scopes` (their names).
pub async fn apps_using<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    scopes: &[&str],
) -> Result<Vec<String>, sqlx::Error> {
    let rows = sqlx::query("SELECT name, scopes FROM apps WHERE org_id = $1 ORDER BY name")
        .bind(org_id)
        .fetch_all(e)
        .await?;
    let mut names = Vec::new();
    for r in &rows {
        let allowed: String = r.try_get("scopes")?;
        if allowed.split_whitespace().any(|s| scopes.contains(&s)) {
            names.push(r.try_get("name")?);
        }
    }
    Ok(names)
}
