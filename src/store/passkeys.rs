//! Passkeys (WebAuthn credentials), several per user.

use sqlx::{AnyExecutor, Row};

/// A stored passkey: the credential as webauthn-rs serializes it, and what the account page
/// shows.
#[derive(Debug, Clone)]
pub struct StoredPasskey {
    pub id: String,
    pub user_id: String,
    /// The credential id, base64url.
    pub credential_id: String,
    pub name: String,
    /// The serialized `webauthn_rs::prelude::Passkey`.
    pub credential: String,
    pub counter: i64,
    pub synced: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

const COLUMNS: &str =
    "id, user_id, credential_id, name, credential, counter, synced, created_at, last_used_at";

fn of_row(r: &sqlx::any::AnyRow) -> Result<StoredPasskey, sqlx::Error> {
    Ok(StoredPasskey {
        id: r.try_get("id")?,
        user_id: r.try_get("user_id")?,
        credential_id: r.try_get("credential_id")?,
        name: r.try_get("name")?,
        credential: r.try_get("credential")?,
        counter: r.try_get("counter")?,
        synced: r.try_get::<i64, _>("synced")? != 0,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

/// The user's passkeys, oldest first.
pub async fn of_user<'c>(
    e: impl AnyExecutor<'c>,
    user_id: &str,
) -> Result<Vec<StoredPasskey>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM passkeys WHERE user_id = $1 ORDER BY created_at, id"
    ))
    .bind(user_id)
    .fetch_all(e)
    .await?;
    rows.iter().map(of_row).collect()
}

/// The passkey with this credential id, whoever's it is.
pub async fn by_credential_id<'c>(
    e: impl AnyExecutor<'c>,
    credential_id: &str,
) -> Result<Option<StoredPasskey>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {COLUMNS} FROM passkeys WHERE credential_id = $1"
    ))
    .bind(credential_id)
    .fetch_optional(e)
    .await?;
    row.as_ref().map(of_row).transpose()
}

pub async fn count<'c>(e: impl AnyExecutor<'c>, user_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM passkeys WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(e)
        .await
}

/// Adds a passkey: false when its credential id is registered already (to anyone).
pub async fn insert<'c>(e: impl AnyExecutor<'c>, p: &StoredPasskey) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO passkeys (id, user_id, credential_id, name, credential, counter, synced, created_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL) ON CONFLICT (credential_id) DO NOTHING",
    )
    .bind(&p.id)
    .bind(&p.user_id)
    .bind(&p.credential_id)
    .bind(&p.name)
    .bind(&p.credential)
    .bind(p.counter)
    .bind(i64::from(p.synced))
    .bind(p.created_at)
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a use of a passkey, once per counter value: the counter must grow (or both be
/// zero, for authenticators that keep none), so a replayed or cloned assertion, or a race
/// with a parallel one, updates nothing and the caller refuses it.
pub async fn record_use<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
    (before, after): (i64, i64),
    credential: &str,
    synced: bool,
    t: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE passkeys SET counter = $1, credential = $2, synced = $3, last_used_at = $4 \
         WHERE id = $5 AND counter = $6 AND ($1 > $6 OR ($1 = 0 AND $6 = 0))",
    )
    .bind(after)
    .bind(credential)
    .bind(i64::from(synced))
    .bind(t)
    .bind(id)
    .bind(before)
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn rename<'c>(
    e: impl AnyExecutor<'c>,
    user_id: &str,
    id: &str,
    name: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE passkeys SET name = $1 WHERE id = $2 AND user_id = $3")
        .bind(name)
        .bind(id)
        .bind(user_id)
        .execute(e)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes one of the user's passkeys.
pub async fn delete<'c>(
    e: impl AnyExecutor<'c>,
    user_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM passkeys WHERE id = $1 AND user_id = $2")
        .bind(id)
        .bind(user_id)
        .execute(e)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes all the user's passkeys (an admin's reset of a lost factor).
pub async fn delete_of_user<'c>(
    e: impl AnyExecutor<'c>,
    user_id: &str,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM passkeys WHERE user_id = $1")
        .bind(user_id)
        .execute(e)
        .await?;
    Ok(done.rows_affected())
}
