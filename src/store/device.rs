//! Device codes (RFC 8628): the device's secret as a digest, the user code a person types,
//! and each code's life from pending to used. Every change of state is a compare-and-set,
//! so two answers or two polls racing each other cannot both win.

use sqlx::{AnyExecutor, Row};

use crate::domain::ScopeSet;
use crate::domain::device::DeviceStatus;

#[derive(Debug, Clone)]
pub struct DeviceCode {
    pub id: String,
    pub digest: String,
    pub user_code: String,
    pub client_id: String,
    pub scopes: ScopeSet,
    pub status: DeviceStatus,
    pub poll_interval: i64,
    pub last_polled_at: Option<i64>,
    pub grant_id: Option<String>,
    pub user_id: Option<String>,
    pub created_at: i64,
    pub expires_at: i64,
}

const COLUMNS: &str = "id, digest, user_code, client_id, scopes, status, poll_interval, \
                       last_polled_at, grant_id, user_id, created_at, expires_at";

fn of_row(r: &sqlx::any::AnyRow) -> Result<DeviceCode, sqlx::Error> {
    let status: String = r.try_get("status")?;
    Ok(DeviceCode {
        id: r.try_get("id")?,
        digest: r.try_get("digest")?,
        user_code: r.try_get("user_code")?,
        client_id: r.try_get("client_id")?,
        scopes: super::scope_set(r, "scopes")?,
        status: DeviceStatus::parse(&status)
            .ok_or_else(|| sqlx::Error::Decode(format!("device code status {status}").into()))?,
        poll_interval: r.try_get("poll_interval")?,
        last_polled_at: r.try_get("last_polled_at")?,
        grant_id: r.try_get("grant_id")?,
        user_id: r.try_get("user_id")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
    })
}

/// Stores a new pending code; false when its user code is taken (the caller draws another).
pub async fn insert<'c>(e: impl AnyExecutor<'c>, d: &DeviceCode) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO device_codes (id, digest, user_code, client_id, scopes, status, poll_interval, \
         last_polled_at, grant_id, user_id, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) ON CONFLICT DO NOTHING",
    )
    .bind(&d.id)
    .bind(&d.digest)
    .bind(&d.user_code)
    .bind(&d.client_id)
    .bind(d.scopes.to_space_separated())
    .bind(d.status.as_str())
    .bind(d.poll_interval)
    .bind(d.last_polled_at)
    .bind(&d.grant_id)
    .bind(&d.user_id)
    .bind(d.created_at)
    .bind(d.expires_at)
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The code whose device code has this digest.
pub async fn by_digest<'c>(
    e: impl AnyExecutor<'c>,
    digest: &str,
) -> Result<Option<DeviceCode>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM device_codes WHERE digest = $1"
    ))
    .bind(digest)
    .fetch_optional(e)
    .await?
    .as_ref()
    .map(of_row)
    .transpose()
}

/// The code a person typed, if it still waits for an answer.
pub async fn pending_by_user_code<'c>(
    e: impl AnyExecutor<'c>,
    user_code: &str,
    now: i64,
) -> Result<Option<DeviceCode>, sqlx::Error> {
    sqlx::query(&format!(
        "SELECT {COLUMNS} FROM device_codes WHERE user_code = $1 AND status = 'pending' AND expires_at > $2"
    ))
    .bind(user_code)
    .bind(now)
    .fetch_optional(e)
    .await?
    .as_ref()
    .map(of_row)
    .transpose()
}

pub async fn get<'c>(e: impl AnyExecutor<'c>, id: &str) -> Result<Option<DeviceCode>, sqlx::Error> {
    sqlx::query(&format!("SELECT {COLUMNS} FROM device_codes WHERE id = $1"))
        .bind(id)
        .fetch_optional(e)
        .await?
        .as_ref()
        .map(of_row)
        .transpose()
}

/// Records the user's answer to a pending, unexpired code: approved with the grant it
/// started, or denied. False when it was answered already or expired.
pub async fn answer<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
    user_id: &str,
    grant_id: Option<&str>,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let status = if grant_id.is_some() {
        DeviceStatus::Approved
    } else {
        DeviceStatus::Denied
    };
    Ok(sqlx::query(
        "UPDATE device_codes SET status = $1, grant_id = $2, user_id = $3 \
         WHERE id = $4 AND status = 'pending' AND expires_at > $5",
    )
    .bind(status.as_str())
    .bind(grant_id)
    .bind(user_id)
    .bind(id)
    .bind(now)
    .execute(e)
    .await?
    .rows_affected()
        == 1)
}

/// Records a poll of a code at `now` with the interval the client must keep from now on,
/// if no other poll was recorded since the one read (`seen`): false when one was.
pub async fn poll<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
    seen: Option<i64>,
    now: i64,
    interval: i64,
) -> Result<bool, sqlx::Error> {
    let q = match seen {
        Some(_) => {
            "UPDATE device_codes SET last_polled_at = $1, poll_interval = $2 WHERE id = $3 AND last_polled_at = $4"
        }
        None => {
            "UPDATE device_codes SET last_polled_at = $1, poll_interval = $2 WHERE id = $3 AND last_polled_at IS NULL"
        }
    };
    let mut q = sqlx::query(q).bind(now).bind(interval).bind(id);
    if let Some(seen) = seen {
        q = q.bind(seen);
    }
    Ok(q.execute(e).await?.rows_affected() == 1)
}

/// Spends an approved code, once; false when another request spent it first.
pub async fn spend<'c>(e: impl AnyExecutor<'c>, id: &str) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query(
            "UPDATE device_codes SET status = 'used' WHERE id = $1 AND status = 'approved'",
        )
        .bind(id)
        .execute(e)
        .await?
        .rows_affected()
            == 1,
    )
}

/// Forgets codes an hour after they expired (a replay within that hour still revokes).
pub async fn purge_expired<'c>(e: impl AnyExecutor<'c>, now: i64) -> Result<u64, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM device_codes WHERE expires_at <= $1")
            .bind(now - 3600)
            .execute(e)
            .await?
            .rows_affected(),
    )
}
