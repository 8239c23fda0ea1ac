//! Second factors (authenticator app, recovery codes) and the links sent by e-mail.

use sqlx::{AnyExecutor, Row};

/// A user's authenticator app: its sealed secret, whether enrolment was confirmed with a
/// code, and the last time step accepted.
#[derive(Debug, Clone)]
pub struct TotpFactor {
    pub sealed_secret: String,
    pub created_at: i64,
    pub confirmed_at: Option<i64>,
    pub last_step: i64,
}

pub async fn totp<'c>(
    e: impl AnyExecutor<'c>,
    user_id: &str,
) -> Result<Option<TotpFactor>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT secret, created_at, confirmed_at, last_step FROM totp_factors WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(e)
    .await?;
    row.map(|r| {
        Ok(TotpFactor {
            sealed_secret: r.try_get("secret")?,
            created_at: r.try_get("created_at")?,
            confirmed_at: r.try_get("confirmed_at")?,
            last_step: r.try_get("last_step")?,
        })
    })
    .transpose()
}

/// Starts (or starts again) an unconfirmed enrolment; a confirmed factor is left alone.
pub async fn begin_totp<'c>(
    e: impl AnyExecutor<'c>,
    user_id: &str,
    sealed_secret: &str,
    t: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "INSERT INTO totp_factors (user_id, secret, created_at, confirmed_at, last_step) VALUES ($1, $2, $3, NULL, 0) \
         ON CONFLICT (user_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at \
         WHERE totp_factors.confirmed_at IS NULL",
    )
    .bind(user_id)
    .bind(sealed_secret)
    .bind(t)
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Accepts time step `step` for the user's factor, once: false when that step or a later
/// one was already accepted (a replayed code, or a race with a parallel request). With
/// `confirm`, also confirms an enrolment.
pub async fn accept_step<'c>(
    e: impl AnyExecutor<'c>,
    user_id: &str,
    step: i64,
    confirm_at: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE totp_factors SET last_step = $1, confirmed_at = COALESCE(confirmed_at, $2) \
         WHERE user_id = $3 AND last_step < $1",
    )
    .bind(step)
    .bind(confirm_at)
    .bind(user_id)
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_totp<'c>(e: impl AnyExecutor<'c>, user_id: &str) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM totp_factors WHERE user_id = $1")
        .bind(user_id)
        .execute(e)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Replaces the user's recovery codes with these digests.
pub async fn replace_recovery_codes(
    tx: &mut super::Tx,
    user_id: &str,
    digests: &[String],
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(&mut **tx)
        .await?;
    for d in digests {
        sqlx::query("INSERT INTO recovery_codes (user_id, digest, used_at) VALUES ($1, $2, NULL)")
            .bind(user_id)
            .bind(d)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

pub async fn delete_recovery_codes<'c>(
    e: impl AnyExecutor<'c>,
    user_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM recovery_codes WHERE user_id = $1")
        .bind(user_id)
        .execute(e)
        .await?;
    Ok(())
}

/// Spends a recovery code, once: false when it is not the user's or was used.
pub async fn use_recovery_code<'c>(
    e: impl AnyExecutor<'c>,
    user_id: &str,
    digest: &str,
    t: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE recovery_codes SET used_at = $1 WHERE user_id = $2 AND digest = $3 AND used_at IS NULL",
    )
    .bind(t)
    .bind(user_id)
    .bind(digest)
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many of the user's recovery codes are still unused.
pub async fn recovery_codes_left<'c>(
    e: impl AnyExecutor<'c>,
    user_id: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM recovery_codes WHERE user_id = $1 AND used_at IS NULL")
        .bind(user_id)
        .fetch_one(e)
        .await
}

/// What an e-mailed link is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkPurpose {
    Reset,
    Verify,
    Invite,
}

impl LinkPurpose {
    pub fn as_str(self) -> &'static str {
        match self {
            LinkPurpose::Reset => "reset",
            LinkPurpose::Verify => "verify",
            LinkPurpose::Invite => "invite",
        }
    }

    fn parse(raw: &str) -> Option<Self> {
        [LinkPurpose::Reset, LinkPurpose::Verify, LinkPurpose::Invite]
            .into_iter()
            .find(|p| p.as_str() == raw)
    }
}

/// A link's stored facts (its token only as a digest).
#[derive(Debug, Clone)]
pub struct Link {
    pub purpose: LinkPurpose,
    pub user_id: String,
    pub email: String,
    pub expires_at: i64,
    pub used_at: Option<i64>,
}

pub async fn insert_link<'c>(
    e: impl AnyExecutor<'c>,
    digest: &str,
    link: &Link,
    t: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO email_links (digest, purpose, user_id, email, created_at, expires_at, used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, NULL)",
    )
    .bind(digest)
    .bind(link.purpose.as_str())
    .bind(&link.user_id)
    .bind(&link.email)
    .bind(t)
    .bind(link.expires_at)
    .execute(e)
    .await?;
    Ok(())
}

pub async fn link<'c>(e: impl AnyExecutor<'c>, digest: &str) -> Result<Option<Link>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT purpose, user_id, email, expires_at, used_at FROM email_links WHERE digest = $1",
    )
    .bind(digest)
    .fetch_optional(e)
    .await?;
    let Some(r) = row else { return Ok(None) };
    let purpose: String = r.try_get("purpose")?;
    let Some(purpose) = LinkPurpose::parse(&purpose) else {
        return Ok(None);
    };
    Ok(Some(Link {
        purpose,
        user_id: r.try_get("user_id")?,
        email: r.try_get("email")?,
        expires_at: r.try_get("expires_at")?,
        used_at: r.try_get("used_at")?,
    }))
}

/// Spends a link, once: false when it was used, expired, or is not of `purpose`.
pub async fn use_link<'c>(
    e: impl AnyExecutor<'c>,
    digest: &str,
    purpose: LinkPurpose,
    t: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE email_links SET used_at = $1 WHERE digest = $2 AND purpose = $3 AND used_at IS NULL AND expires_at > $1",
    )
    .bind(t)
    .bind(digest)
    .bind(purpose.as_str())
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends the user's other unused links of `purpose` (a new reset link replaces the old).
pub async fn end_links<'c>(
    e: impl AnyExecutor<'c>,
    user_id: &str,
    purpose: LinkPurpose,
    t: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE email_links SET used_at = $1 WHERE user_id = $2 AND purpose = $3 AND used_at IS NULL",
    )
    .bind(t)
    .bind(user_id)
    .bind(purpose.as_str())
    .execute(e)
    .await?;
    Ok(())
}

/// Forgets links that ended more than a day ago (the hourly job).
pub async fn purge_links<'c>(e: impl AnyExecutor<'c>, t: i64) -> Result<u64, sqlx::Error> {
    let done = sqlx::query("DELETE FROM email_links WHERE expires_at < $1")
        .bind(t - 86_400)
        .execute(e)
        .await?;
    Ok(done.rows_affected())
}
