use sqlx::{AnyExecutor, Row};

/// What a session's own data says about it, kept in columns so a user's sessions are found
/// and listed without reading every session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Facts {
    pub user_id: Option<String>,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub signed_in_at: Option<i64>,
    pub last_seen_at: Option<i64>,
    /// The session's public id (OIDC `sid`), set at sign-in.
    pub sid: Option<String>,
}

const INSERT: &str = "INSERT INTO sessions (id, data, expires_at, user_id, ip, user_agent, signed_in_at, last_seen_at, sid) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING";

/// Writes back a session that exists. A session ended meanwhile (its row deleted: signed
/// out, ended elsewhere, by an admin) stays ended: a request still in flight cannot bring
/// it back. New sessions go through `create`.
pub async fn save<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
    data: &str,
    expires_at: i64,
    f: &Facts,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "UPDATE sessions SET data = $2, expires_at = $3, user_id = $4, ip = $5, user_agent = $6, \
         signed_in_at = $7, last_seen_at = $8, sid = $9 WHERE id = $1",
    )
    .bind(id)
    .bind(data)
    .bind(expires_at)
    .bind(f.user_id.as_deref())
    .bind(f.ip.as_deref())
    .bind(f.user_agent.as_deref())
    .bind(f.signed_in_at)
    .bind(f.last_seen_at)
    .bind(f.sid.as_deref())
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
    f: &Facts,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(INSERT)
        .bind(id)
        .bind(data)
        .bind(expires_at)
        .bind(f.user_id.as_deref())
        .bind(f.ip.as_deref())
        .bind(f.user_agent.as_deref())
        .bind(f.signed_in_at)
        .bind(f.last_seen_at)
        .bind(f.sid.as_deref())
        .execute(e)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// A user's live session, by its id (never shown: the id is the cookie's secret).
#[derive(Debug, Clone)]
pub struct UserSession {
    pub id: String,
    pub facts: Facts,
}

/// The user's live sessions, the most recently seen first.
pub async fn of_user<'c>(
    e: impl AnyExecutor<'c>,
    user_id: &str,
    now: i64,
) -> Result<Vec<UserSession>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, ip, user_agent, signed_in_at, last_seen_at, sid FROM sessions \
         WHERE user_id = $1 AND expires_at > $2 ORDER BY last_seen_at DESC, signed_in_at DESC LIMIT 100",
    )
    .bind(user_id)
    .bind(now)
    .fetch_all(e)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(UserSession {
                id: r.try_get("id")?,
                facts: Facts {
                    user_id: Some(user_id.to_string()),
                    ip: r.try_get("ip")?,
                    user_agent: r.try_get("user_agent")?,
                    signed_in_at: r.try_get("signed_in_at")?,
                    last_seen_at: r.try_get("last_seen_at")?,
                    sid: r.try_get("sid")?,
                },
            })
        })
        .collect()
}

/// Ends the user's sessions, all or all but `except`: the public ids (`sid`) of those that
/// ended (None for one that had none).
pub async fn delete_of_user<'c>(
    e: impl AnyExecutor<'c>,
    user_id: &str,
    except: Option<&str>,
) -> Result<Vec<Option<String>>, sqlx::Error> {
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND id <> $2 RETURNING sid")
        .bind(user_id)
        .bind(except.unwrap_or(""))
        .fetch_all(e)
        .await?
        .iter()
        .map(|r| r.try_get("sid"))
        .collect()
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

/// Ends one session of the user; false when it is not theirs (or already over).
pub async fn delete_one<'c>(
    e: impl AnyExecutor<'c>,
    user_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    Ok(
        sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
            .bind(id)
            .bind(user_id)
            .execute(e)
            .await?
            .rows_affected()
            == 1,
    )
}

pub async fn purge_expired<'c>(e: impl AnyExecutor<'c>, now: i64) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
        .bind(now)
        .execute(e)
        .await?
        .rows_affected())
}
