//! The back-channel logout queue: one row per logout token to deliver to one app, retried
//! until delivered or given up, each attempt claimed by compare-and-set so two instances
//! never send the same one at once.

use sqlx::{AnyExecutor, Row};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub id: String,
    pub client_id: String,
    pub sub: String,
    pub sid: String,
    pub attempts: i64,
}

pub async fn enqueue<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
    client_id: &str,
    sub: &str,
    sid: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO logout_deliveries (id, client_id, sub, sid, attempts, next_attempt_at, created_at) \
         VALUES ($1, $2, $3, $4, 0, $5, $5)",
    )
    .bind(id)
    .bind(client_id)
    .bind(sub)
    .bind(sid)
    .bind(now)
    .execute(e)
    .await?;
    Ok(())
}

/// Deliveries of `client_id` still waiting (the queue's bound is per app).
pub async fn pending_of<'c>(e: impl AnyExecutor<'c>, client_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query(
        "SELECT COUNT(*) AS n FROM logout_deliveries WHERE client_id = $1 AND finished_at IS NULL",
    )
    .bind(client_id)
    .fetch_one(e)
    .await?
    .try_get("n")
}

/// Up to `limit` deliveries due at `now` and not claimed by another instance.
pub async fn due<'c>(
    e: impl AnyExecutor<'c>,
    now: i64,
    limit: i64,
) -> Result<Vec<Delivery>, sqlx::Error> {
    sqlx::query(
        "SELECT id, client_id, sub, sid, attempts FROM logout_deliveries \
         WHERE finished_at IS NULL AND next_attempt_at <= $1 AND (claimed_until IS NULL OR claimed_until <= $1) \
         ORDER BY next_attempt_at LIMIT $2",
    )
    .bind(now)
    .bind(limit)
    .fetch_all(e)
    .await?
    .iter()
    .map(|r| {
        Ok(Delivery {
            id: r.try_get("id")?,
            client_id: r.try_get("client_id")?,
            sub: r.try_get("sub")?,
            sid: r.try_get("sid")?,
            attempts: r.try_get("attempts")?,
        })
    })
    .collect()
}

/// Claims a due delivery until `until`; false when another instance claimed it first.
pub async fn claim<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
    now: i64,
    until: i64,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE logout_deliveries SET claimed_until = $1 \
         WHERE id = $2 AND finished_at IS NULL AND (claimed_until IS NULL OR claimed_until <= $3)",
    )
    .bind(until)
    .bind(id)
    .bind(now)
    .execute(e)
    .await?
    .rows_affected()
        == 1)
}

/// Records an attempt: finished (`outcome` delivered or failed) or to be tried again at
/// `retry_at`.
pub async fn attempted<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
    now: i64,
    outcome: Option<&str>,
    retry_at: i64,
    error: Option<&str>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE logout_deliveries SET attempts = attempts + 1, claimed_until = NULL, \
         finished_at = $1, outcome = $2, next_attempt_at = $3, last_error = $4 WHERE id = $5",
    )
    .bind(outcome.map(|_| now))
    .bind(outcome)
    .bind(retry_at)
    .bind(error)
    .bind(id)
    .execute(e)
    .await?;
    Ok(())
}

/// Forgets finished deliveries a day after.
pub async fn purge_finished<'c>(e: impl AnyExecutor<'c>, now: i64) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM logout_deliveries WHERE finished_at <= $1")
            .bind(now - 86_400)
            .execute(e)
            .await?
            .rows_affected(),
    )
}
