use sqlx::AnyExecutor;

/// Records a revoked access token; revoking twice is harmless.
pub async fn revoke<'c>(
    e: impl AnyExecutor<'c>,
    jti: &str,
    client_id: &str,
    expires_at: i64,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO revoked_tokens (jti, client_id, expires_at, revoked_at) VALUES ($1, $2, $3, $4) ON CONFLICT (jti) DO NOTHING",
    )
    .bind(jti)
    .bind(client_id)
    .bind(expires_at)
    .bind(now)
    .execute(e)
    .await?;
    Ok(())
}

pub async fn is_revoked<'c>(e: impl AnyExecutor<'c>, jti: &str) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query("SELECT 1 FROM revoked_tokens WHERE jti = $1")
        .bind(jti)
        .fetch_optional(e)
        .await?
        .is_some())
}

/// Revoked tokens that expire after `now` (at most `limit`), with their expiry.
pub async fn revoked_since<'c>(
    e: impl AnyExecutor<'c>,
    now: i64,
    limit: i64,
) -> Result<Vec<(String, i64)>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT jti, expires_at FROM revoked_tokens WHERE expires_at > $1 LIMIT $2")
            .bind(now)
            .bind(limit)
            .fetch_all(e)
            .await?;
    use sqlx::Row;
    rows.iter()
        .map(|r| Ok((r.try_get("jti")?, r.try_get("expires_at")?)))
        .collect()
}

/// Forgets revocations of tokens that have expired anyway.
pub async fn purge_expired<'c>(e: impl AnyExecutor<'c>, now: i64) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM revoked_tokens WHERE expires_at <= $1")
            .bind(now)
            .execute(e)
            .await?
            .rows_affected(),
    )
}

/// Records an assertion id; false when it was already used (a replay).
pub async fn use_jti<'c>(
    e: impl AnyExecutor<'c>,
    key: &str,
    expires_at: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO used_jtis (key, expires_at) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
    )
    .bind(key)
    .bind(expires_at)
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn purge_used_jtis<'c>(e: impl AnyExecutor<'c>, now: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM used_jtis WHERE expires_at <= $1")
        .bind(now)
        .execute(e)
        .await?
        .rows_affected())
}
