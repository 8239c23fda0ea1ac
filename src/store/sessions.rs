use sqlx::{AnyExecutor, Row};

pub async fn save<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
    data: &str,
    expires_at: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) \
         ON CONFLICT (id) DO UPDATE SET data = excluded.data, expires_at = excluded.expires_at",
    )
    .bind(id)
    .bind(data)
    .bind(expires_at)
    .execute(e)
    .await?;
    Ok(())
}

/// Inserts a new session; false when the id is already taken.
pub async fn create<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
    data: &str,
    expires_at: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("INSERT INTO sessions (id, data, expires_at) VALUES ($1, $2, $3) ON CONFLICT (id) DO NOTHING")
        .bind(id)
        .bind(data)
        .bind(expires_at)
        .execute(e)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn load<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
    now: i64,
) -> Result<Option<String>, sqlx::Error> {
    let row = sqlx::query("SELECT data FROM sessions WHERE id = $1 AND expires_at > $2")
        .bind(id)
        .bind(now)
        .fetch_optional(e)
        .await?;
    row.map(|r| r.try_get("data")).transpose()
}

pub async fn delete<'c>(e: impl AnyExecutor<'c>, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE id = $1")
        .bind(id)
        .execute(e)
        .await?;
    Ok(())
}

pub async fn purge_expired<'c>(e: impl AnyExecutor<'c>, now: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(e)
        .await?
        .rows_affected())
}
