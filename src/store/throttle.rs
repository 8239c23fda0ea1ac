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

pub async fn clear<'c>(e: impl AnyExecutor<'c>, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM login_throttle WHERE key = $1")
        .bind(key)
        .execute(e)
        .await?;
    Ok(())
}

/// Reserves one attempt under `key` atomically: the counter goes from `seen.0` to one more
/// (or starts again at one when the last attempt was before `reset_before`) only if nobody
/// changed it since it was read. False when another request got there first; the caller
/// reads again and retries, so parallel attempts are each counted before any is checked.
pub async fn reserve<'c>(
    e: impl AnyExecutor<'c>,
    key: &str,
    seen: Option<(i64, i64)>,
    now: i64,
    reset_before: i64,
) -> Result<bool, sqlx::Error> {
    let done = match seen {
        None => {
            sqlx::query(
                "INSERT INTO login_throttle (key, failures, last_failure) VALUES ($1, 1, $2) \
                 ON CONFLICT (key) DO NOTHING",
            )
            .bind(key)
            .bind(now)
            .execute(e)
            .await?
        }
        Some((failures, last)) => {
            let next = if last < reset_before { 1 } else { failures + 1 };
            sqlx::query(
                "UPDATE login_throttle SET failures = $1, last_failure = $2 \
                 WHERE key = $3 AND failures = $4 AND last_failure = $5",
            )
            .bind(next)
            .bind(now)
            .bind(key)
            .bind(failures)
            .bind(last)
            .execute(e)
            .await?
        }
    };
    Ok(done.rows_affected() == 1)
}

/// Gives back one reserved attempt (the attempt succeeded).
pub async fn release<'c>(e: impl AnyExecutor<'c>, key: &str) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE login_throttle SET failures = failures - 1 WHERE key = $1 AND failures > 0",
    )
    .bind(key)
    .execute(e)
    .await?;
    Ok(())
}

/// Adds `n` events under `key` and returns the count so far.
pub async fn add<'c>(
    e: impl AnyExecutor<'c>,
    key: &str,
    n: i64,
    now: i64,
) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        "INSERT INTO login_throttle (key, failures, last_failure) VALUES ($1, $3, $2) \
         ON CONFLICT (key) DO UPDATE SET failures = login_throttle.failures + $3, last_failure = $2 \
         RETURNING failures",
    )
    .bind(key)
    .bind(now)
    .bind(n)
    .fetch_one(e)
    .await?;
    row.try_get("failures")
}

/// Counts one more event under `key` and returns the count so far.
pub async fn bump<'c>(e: impl AnyExecutor<'c>, key: &str, now: i64) -> Result<i64, sqlx::Error> {
    let row = sqlx::query(
        "INSERT INTO login_throttle (key, failures, last_failure) VALUES ($1, 1, $2) \
         ON CONFLICT (key) DO UPDATE SET failures = login_throttle.failures + 1, last_failure = $2 \
         RETURNING failures",
    )
    .bind(key)
    .bind(now)
    .fetch_one(e)
    .await?;
    row.try_get("failures")
}

/// Forgets counters untouched since `before`.
pub async fn purge<'c>(e: impl AnyExecutor<'c>, before: i64) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM login_throttle WHERE last_failure < $1")
            .bind(before)
            .execute(e)
            .await?
            .rows_affected(),
    )
}
