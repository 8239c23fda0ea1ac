use sqlx::{AnyExecutor, Row};

/// (failures, last failure time) recorded under `key`.
pub async fn get<'c>(
    e: impl AnyExecutor<'c>,
    key: &str,
) -> Result<Option<(i64, i64)>, sqlx::Error> {
    let row = sqlx::query("SELECT failures, last_failure FROM login_throttle WHERE key = $1")
        .bind(key)
        .fetch_optional(e)
        .await?;
    row.map(|r| Ok((r.try_get("failures")?, r.try_get("last_failure")?)))
        .transpose()
}

/// Counts one more failure, starting again from one when the last was before `reset_before`.
pub async fn record_failure<'c>(
    e: impl AnyExecutor<'c>,
    key: &str,
    now: i64,
    reset_before: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO login_throttle (key, failures, last_failure) VALUES ($1, 1, $2) \
         ON CONFLICT (key) DO UPDATE SET \
           failures = CASE WHEN login_throttle.last_failure < $3 THEN 1 ELSE login_throttle.failures + 1 END, \
           last_failure = $2",
    )
    .bind(key)
    .bind(now)
    .bind(reset_before)
    .execute(e)
    .await?;
    Ok(())
}

pub async fn clear<'c>(e: impl AnyExecutor<'c>, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_throttle WHERE key = $1")
        .bind(key)
        .execute(e)
        .await?;
    Ok(())
}
