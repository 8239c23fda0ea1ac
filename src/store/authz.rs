//! The authorization-code flow's rows: pushed and pending requests, remembered consents,
//! codes.

use sqlx::{AnyExecutor, Row};

use crate::domain::ScopeSet;

/// Keeps a checked authorization request (JSON) until `expires_at`.
pub async fn insert_request<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
    client_id: &str,
    request: &str,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO auth_requests (id, client_id, request, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(client_id)
    .bind(request)
    .bind(expires_at)
    .execute(e)
    .await?;
    Ok(())
}

/// A pending request that has not expired.
pub async fn get_request<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
    now: i64,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query("SELECT request FROM auth_requests WHERE id = $1 AND expires_at > $2")
        .bind(id)
        .bind(now)
        .fetch_optional(e)
        .await?
        .map(|r| r.try_get("request"))
        .transpose()
}

/// Ends a pending request; false when it was already ended (a double submit).
pub async fn take_request<'c>(e: impl AnyExecutor<'c>, id: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM auth_requests WHERE id = $1")
        .bind(id)
        .execute(e)
        .await?
        .rows_affected()
        == 1)
}

/// Keeps a pushed authorization request's parameters (JSON) until `expires_at` (RFC 9126).
pub async fn insert_pushed<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
    client_id: &str,
    params: &str,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO pushed_requests (id, client_id, params, expires_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(id)
    .bind(client_id)
    .bind(params)
    .bind(expires_at)
    .execute(e)
    .await?;
    Ok(())
}

/// Spends the pushed request `id` of `client_id`: its parameters if it had not expired.
/// Another client's attempt neither gets nor spends it.
pub async fn take_pushed<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
    client_id: &str,
    now: i64,
) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query(
        "DELETE FROM pushed_requests WHERE id = $1 AND client_id = $2 RETURNING params, expires_at",
    )
    .bind(id)
    .bind(client_id)
    .fetch_optional(e)
    .await?;
    let Some(row) = row else {
        return Ok(None);
    };
    let expires_at: i64 = row.try_get("expires_at")?;
    (expires_at > now)
        .then(|| row.try_get("params"))
        .transpose()
}

/// The scopes `user_id` granted `client_id`, if any.
pub async fn consent<'c>(
    e: impl AnyExecutor<'c>,
    user_id: &str,
    client_id: &str,
) -> Result<Option<ScopeSet>, sqlx::Error> {
    sqlx::query("SELECT scopes FROM consents WHERE user_id = $1 AND client_id = $2")
        .bind(user_id)
        .bind(client_id)
        .fetch_optional(e)
        .await?
        .map(|r| super::scope_set(&r, "scopes"))
        .transpose()
}

/// Remembers a consent, replacing the scopes granted before.
pub async fn save_consent<'c>(
    e: impl AnyExecutor<'c>,
    user_id: &str,
    client_id: &str,
    scopes: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO consents (user_id, client_id, scopes, created_at, updated_at) VALUES ($1, $2, $3, $4, $4) \
         ON CONFLICT (user_id, client_id) DO UPDATE SET scopes = excluded.scopes, updated_at = excluded.updated_at",
    )
    .bind(user_id)
    .bind(client_id)
    .bind(scopes)
    .bind(now)
    .execute(e)
    .await?;
    Ok(())
}

#[derive(Debug, Clone)]
pub struct CodeRow {
    pub digest: String,
    pub grant_id: String,
    pub client_id: String,
    pub redirect_uri: String,
    pub code_challenge: String,
    pub nonce: Option<String>,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    /// The DPoP key the code must be redeemed with (RFC 9449 §10).
    pub dpop_jkt: Option<String>,
}

pub async fn insert_code<'c>(e: impl AnyExecutor<'c>, c: &CodeRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO auth_codes (digest, grant_id, client_id, redirect_uri, code_challenge, nonce, expires_at, used_at, dpop_jkt) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&c.digest)
    .bind(&c.grant_id)
    .bind(&c.client_id)
    .bind(&c.redirect_uri)
    .bind(&c.code_challenge)
    .bind(&c.nonce)
    .bind(c.expires_at)
    .bind(c.used_at)
    .bind(&c.dpop_jkt)
    .execute(e)
    .await?;
    Ok(())
}

pub async fn find_code<'c>(
    e: impl AnyExecutor<'c>,
    digest: &str,
) -> Result<Option<CodeRow>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT digest, grant_id, client_id, redirect_uri, code_challenge, nonce, expires_at, used_at, dpop_jkt FROM auth_codes WHERE digest = $1",
    )
    .bind(digest)
    .fetch_optional(e)
    .await?;
    row.map(|r| {
        Ok(CodeRow {
            digest: r.try_get("digest")?,
            grant_id: r.try_get("grant_id")?,
            client_id: r.try_get("client_id")?,
            redirect_uri: r.try_get("redirect_uri")?,
            code_challenge: r.try_get("code_challenge")?,
            nonce: r.try_get("nonce")?,
            expires_at: r.try_get("expires_at")?,
            used_at: r.try_get("used_at")?,
            dpop_jkt: r.try_get("dpop_jkt")?,
        })
    })
    .transpose()
}

/// Spends a code; false when it was already spent (a replay).
pub async fn use_code<'c>(
    e: impl AnyExecutor<'c>,
    digest: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("UPDATE auth_codes SET used_at = $1 WHERE digest = $2 AND used_at IS NULL")
            .bind(now)
            .bind(digest)
            .execute(e)
            .await?
            .rows_affected()
            == 1,
    )
}

/// Forgets expired pending requests, and codes a while after they expired (a replay
/// within that while still revokes the grant).
pub async fn purge_expired<'c>(
    e: impl AnyExecutor<'c> + Copy,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let a = sqlx::query("DELETE FROM auth_requests WHERE expires_at <= $1")
        .bind(now)
        .execute(e)
        .await?
        .rows_affected();
    let b = sqlx::query("DELETE FROM auth_codes WHERE expires_at <= $1")
        .bind(now - 3600)
        .execute(e)
        .await?
        .rows_affected();
    let c = sqlx::query("DELETE FROM pushed_requests WHERE expires_at <= $1")
        .bind(now)
        .execute(e)
        .await?
        .rows_affected();
    Ok(a + b + c)
}
