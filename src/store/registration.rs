//! Initial access tokens and apps' registration access tokens (RFC 7591, RFC 7592).

use sqlx::{AnyExecutor, Row};

use crate::domain::ScopeSet;

#[derive(Debug, Clone)]
pub struct InitialToken {
    pub id: String,
    pub org_id: String,
    pub group_id: Option<String>,
    pub name: String,
    pub digest: String,
    pub scopes: ScopeSet,
    /// Grant types, space-separated as registered.
    pub grant_types: Vec<String>,
    pub uses_left: i64,
    pub expires_at: i64,
    pub created_by: Option<String>,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
}

const COLUMNS: &str = "id, org_id, group_id, name, digest, scopes, grant_types, uses_left, \
                       expires_at, created_by, created_at, revoked_at";

fn of_row(r: &sqlx::any::AnyRow) -> Result<InitialToken, sqlx::Error> {
    let grants: String = r.try_get("grant_types")?;
    Ok(InitialToken {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        group_id: r.try_get("group_id")?,
        name: r.try_get("name")?,
        digest: r.try_get("digest")?,
        scopes: super::scope_set(r, "scopes")?,
        grant_types: grants.split_whitespace().map(str::to_string).collect(),
        uses_left: r.try_get("uses_left")?,
        expires_at: r.try_get("expires_at")?,
        created_by: r.try_get("created_by")?,
        created_at: r.try_get("created_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

pub async fn insert<'c>(e: impl AnyExecutor<'c>, t: &InitialToken) -> Result<(), sqlx::Error> {
    sqlx::query(&format!(
        "INSERT INTO initial_access_tokens ({COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
    ))
    .bind(&t.id)
    .bind(&t.org_id)
    .bind(&t.group_id)
    .bind(&t.name)
    .bind(&t.digest)
    .bind(t.scopes.to_space_separated())
    .bind(t.grant_types.join(" "))
    .bind(t.uses_left)
    .bind(t.expires_at)
    .bind(&t.created_by)
    .bind(t.created_at)
    .bind(t.revoked_at)
    .execute(e)
    .await?;
    Ok(())
}

pub async fn by_digest<'c>(
    e: impl AnyExecutor<'c>,
    digest: &str,
) -> Result<Option<InitialToken>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM initial_access_tokens WHERE digest = $1"
    ))
    .bind(digest)
    .fetch_optional(e)
    .await?
    .as_ref()
    .map(of_row)
    .transpose()
}

pub async fn get<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
) -> Result<Option<InitialToken>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM initial_access_tokens WHERE id = $1"
    ))
    .bind(id)
    .fetch_optional(e)
    .await?
    .as_ref()
    .map(of_row)
    .transpose()
}

/// The organization's tokens, newest first.
pub async fn of_org<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
) -> Result<Vec<InitialToken>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM initial_access_tokens WHERE org_id = $1 ORDER BY created_at DESC LIMIT 200"
    ))
    .bind(org_id)
    .fetch_all(e)
    .await?
    .iter()
    .map(of_row)
    .collect()
}

/// Spends one use of a live token, by compare-and-set: false when none is left (or it
/// expired or was revoked meanwhile).
pub async fn spend<'c>(e: impl AnyExecutor<'c>, id: &str, now: i64) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE initial_access_tokens SET uses_left = uses_left - 1 \
         WHERE id = $1 AND uses_left > 0 AND revoked_at IS NULL AND expires_at > $2",
    )
    .bind(id)
    .bind(now)
    .execute(e)
    .await?
    .rows_affected()
        == 1)
}

/// Gives a use back (the registration it was spent on failed).
pub async fn give_back<'c>(e: impl AnyExecutor<'c>, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE initial_access_tokens SET uses_left = uses_left + 1 WHERE id = $1")
        .bind(id)
        .execute(e)
        .await?;
    Ok(())
}

pub async fn revoke<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE initial_access_tokens SET revoked_at = $1 WHERE id = $2 AND org_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(id)
    .bind(org_id)
    .execute(e)
    .await?
    .rows_affected()
        == 1)
}

/// Marks an app as registered with token `iat_id`, its registration access token's digest.
pub async fn set_app_registration<'c>(
    e: impl AnyExecutor<'c>,
    client_id: &str,
    iat_id: &str,
    digest: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE apps SET registered_by = $1, registration_digest = $2 WHERE client_id = $3",
    )
    .bind(iat_id)
    .bind(digest)
    .bind(client_id)
    .execute(e)
    .await?;
    Ok(())
}

/// An app's registration: (its organization, the initial token it came by, the digest of
/// its registration access token), if it was registered dynamically.
pub async fn app_registration<'c>(
    e: impl AnyExecutor<'c>,
    client_id: &str,
) -> Result<Option<(String, String, String)>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT org_id, registered_by, registration_digest FROM apps WHERE client_id = $1 AND registration_digest IS NOT NULL",
    )
    .bind(client_id)
    .fetch_optional(e)
    .await?;
    row.map(|r| {
        Ok((
            r.try_get("org_id")?,
            r.try_get("registered_by")?,
            r.try_get("registration_digest")?,
        ))
    })
    .transpose()
}
