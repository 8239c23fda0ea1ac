use sqlx::{AnyExecutor, Row};

use crate::domain::ids::{ClientId, GrantId, OrgId, UserId};
use crate::domain::{GrantType, ScopeSet};

/// A user's grant to an app, every field parsed.
#[derive(Debug, Clone)]
pub struct Grant {
    pub id: GrantId,
    /// The organization the user acts in through the app.
    pub org_id: OrgId,
    pub client_id: ClientId,
    pub user_id: UserId,
    pub scopes: ScopeSet,
    pub grant_type: GrantType,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// When the user signed in for this grant (OIDC `auth_time`), if they did.
    pub auth_time: Option<i64>,
    /// How the user signed in for this grant (`amr`, space-separated), if they did.
    pub amr: Option<String>,
    /// The browser session that started it (OIDC `sid`), for back-channel logout.
    pub sid: Option<String>,
}

/// A refresh token of a grant (its digest only), with the scopes it may refresh.
#[derive(Debug, Clone)]
pub struct Refresh {
    pub digest: String,
    pub grant_id: GrantId,
    pub scopes: ScopeSet,
    pub created_at: i64,
    pub expires_at: i64,
    pub used_at: Option<i64>,
    /// The DPoP key a public client's refresh token is bound to (RFC 9449 §5).
    pub jkt: Option<String>,
}

fn corrupt(column: &str, message: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("grants.{column}: {message}").into())
}

fn scopes(r: &sqlx::any::AnyRow) -> Result<ScopeSet, sqlx::Error> {
    let raw: String = r.try_get("scopes")?;
    ScopeSet::parse([raw.as_str()]).map_err(|e| corrupt("scopes", e.message))
}

pub async fn insert<'c>(e: impl AnyExecutor<'c>, g: &Grant) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO grants (id, org_id, client_id, user_id, scopes, grant_type, created_at, revoked_at, auth_time, amr, sid) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
    )
    .bind(g.id.as_str())
    .bind(g.org_id.as_str())
    .bind(g.client_id.as_str())
    .bind(g.user_id.as_str())
    .bind(g.scopes.to_space_separated())
    .bind(g.grant_type.as_str())
    .bind(g.created_at)
    .bind(g.revoked_at)
    .bind(g.auth_time)
    .bind(g.amr.as_deref())
    .bind(g.sid.as_deref())
    .execute(e)
    .await?;
    Ok(())
}

pub async fn get<'c>(e: impl AnyExecutor<'c>, id: &str) -> Result<Option<Grant>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT id, org_id, client_id, user_id, scopes, grant_type, created_at, revoked_at, auth_time, amr, sid FROM grants WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(e)
    .await?;
    row.map(|r| {
        let grant_type: String = r.try_get("grant_type")?;
        Ok(Grant {
            id: GrantId::new(r.try_get::<String, _>("id")?),
            org_id: OrgId::new(r.try_get::<String, _>("org_id")?),
            client_id: ClientId::new(r.try_get::<String, _>("client_id")?),
            user_id: UserId::new(r.try_get::<String, _>("user_id")?),
            scopes: scopes(&r)?,
            grant_type: GrantType::parse(&grant_type)
                .map_err(|e| corrupt("grant_type", e.message))?,
            created_at: r.try_get("created_at")?,
            revoked_at: r.try_get("revoked_at")?,
            auth_time: r.try_get("auth_time")?,
            amr: r.try_get("amr")?,
            sid: r.try_get("sid")?,
        })
    })
    .transpose()
}

/// The apps a browser session signed into for `user_id` (their grants' `sid`), once each.
pub async fn clients_of_session<'c>(
    e: impl AnyExecutor<'c>,
    sid: &str,
    user_id: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query("SELECT DISTINCT client_id FROM grants WHERE sid = $1 AND user_id = $2")
        .bind(sid)
        .bind(user_id)
        .fetch_all(e)
        .await?
        .iter()
        .map(|r| r.try_get("client_id"))
        .collect()
}

pub async fn revoke<'c>(e: impl AnyExecutor<'c>, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE grants SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now)
        .bind(id)
        .execute(e)
        .await?;
    Ok(())
}

/// Records that the app got tokens under the grant at `now` (its "last used").
pub async fn touch<'c>(e: impl AnyExecutor<'c>, id: &str, now: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE grants SET last_used_at = $1 WHERE id = $2")
        .bind(now)
        .bind(id)
        .execute(e)
        .await?;
    Ok(())
}

pub async fn insert_refresh<'c>(e: impl AnyExecutor<'c>, r: &Refresh) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO refresh_tokens (digest, grant_id, scopes, created_at, expires_at, used_at, jkt) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&r.digest)
    .bind(r.grant_id.as_str())
    .bind(r.scopes.to_space_separated())
    .bind(r.created_at)
    .bind(r.expires_at)
    .bind(r.used_at)
    .bind(&r.jkt)
    .execute(e)
    .await?;
    Ok(())
}

pub async fn find_refresh<'c>(
    e: impl AnyExecutor<'c>,
    digest: &str,
) -> Result<Option<Refresh>, sqlx::Error> {
    let row = sqlx::query("SELECT digest, grant_id, scopes, created_at, expires_at, used_at, jkt FROM refresh_tokens WHERE digest = $1")
        .bind(digest)
        .fetch_optional(e)
        .await?;
    row.map(|r| {
        Ok(Refresh {
            digest: r.try_get("digest")?,
            grant_id: GrantId::new(r.try_get::<String, _>("grant_id")?),
            scopes: scopes(&r)?,
            created_at: r.try_get("created_at")?,
            expires_at: r.try_get("expires_at")?,
            used_at: r.try_get("used_at")?,
            jkt: r.try_get("jkt")?,
        })
    })
    .transpose()
}

/// Marks a refresh token used; false when it already was (a replay, or a concurrent use).
pub async fn use_refresh<'c>(
    e: impl AnyExecutor<'c>,
    digest: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done =
        sqlx::query("UPDATE refresh_tokens SET used_at = $1 WHERE digest = $2 AND used_at IS NULL")
            .bind(now)
            .bind(digest)
            .execute(e)
            .await?;
    Ok(done.rows_affected() == 1)
}

/// One active grant with who and what it names, for the authorization lists.
#[derive(Debug, Clone)]
pub struct ActiveGrant {
    pub user_id: String,
    pub email: String,
    pub client_id: String,
    pub app_name: String,
    pub scopes: ScopeSet,
    pub created_at: i64,
    /// When the app last got tokens under the grant; None before the first time.
    pub last_used_at: Option<i64>,
}

/// Active grants of one app (`client_id`) or of one user (`user_id`), oldest first, bounded.
pub async fn active<'c>(
    e: impl AnyExecutor<'c>,
    client_id: Option<&str>,
    user_id: Option<&str>,
) -> Result<Vec<ActiveGrant>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT g.user_id, u.email, g.client_id, a.name AS app_name, g.scopes, g.created_at, \
         g.last_used_at \
         FROM grants g JOIN users u ON u.id = g.user_id JOIN apps a ON a.client_id = g.client_id \
         WHERE g.revoked_at IS NULL AND ($1 = '' OR g.client_id = $1) AND ($2 = '' OR g.user_id = $2) \
         ORDER BY g.created_at LIMIT 5000",
    )
    .bind(client_id.unwrap_or(""))
    .bind(user_id.unwrap_or(""))
    .fetch_all(e)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ActiveGrant {
                user_id: r.try_get("user_id")?,
                email: r.try_get("email")?,
                client_id: r.try_get("client_id")?,
                app_name: r.try_get("app_name")?,
                scopes: super::scope_set(r, "scopes")?,
                created_at: r.try_get("created_at")?,
                last_used_at: r.try_get("last_used_at")?,
            })
        })
        .collect()
}

/// How many apps other than `except` the user has authorized (a grant neither revoked nor
/// past its app's grant lifetime).
/// Whether `user_id` holds a live grant of `client_id` (neither revoked nor past the app's
/// grant lifetime): one index range of the user's grants of that app.
pub async fn holds_live<'c>(
    e: impl AnyExecutor<'c>,
    user_id: &str,
    client_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT 1 FROM grants g JOIN apps a ON a.client_id = g.client_id \
         WHERE g.user_id = $1 AND g.client_id = $2 AND g.revoked_at IS NULL \
         AND g.created_at + a.grant_ttl > $3 LIMIT 1",
    )
    .bind(user_id)
    .bind(client_id)
    .bind(now)
    .fetch_optional(e)
    .await?;
    Ok(found.is_some())
}

pub async fn authorized_apps<'c>(
    e: impl AnyExecutor<'c>,
    user_id: &str,
    except: &str,
    now: i64,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT COUNT(DISTINCT g.client_id) FROM grants g JOIN apps a ON a.client_id = g.client_id \
         WHERE g.user_id = $1 AND g.revoked_at IS NULL AND g.client_id <> $2 \
         AND g.created_at + a.grant_ttl > $3",
    )
    .bind(user_id)
    .bind(except)
    .bind(now)
    .fetch_one(e)
    .await
}

/// Ends every grant of `client_id` (of one user, or of everyone when `user_id` is `None`)
/// and forgets the consents, so the next request asks again. Returns how many grants ended.
pub async fn revoke_authorizations(
    e: &mut sqlx::AnyConnection,
    client_id: &str,
    user_id: Option<&str>,
    now: i64,
) -> Result<u64, sqlx::Error> {
    let ended = sqlx::query(
        "UPDATE grants SET revoked_at = $1 WHERE client_id = $2 AND ($3 = '' OR user_id = $3) AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(client_id)
    .bind(user_id.unwrap_or(""))
    .execute(&mut *e)
    .await?
    .rows_affected();
    sqlx::query("DELETE FROM consents WHERE client_id = $1 AND ($2 = '' OR user_id = $2)")
        .bind(client_id)
        .bind(user_id.unwrap_or(""))
        .execute(&mut *e)
        .await?;
    Ok(ended)
}

/// Ends the grants a user holds in one organization (removed from it). Returns how many.
pub async fn revoke_of_member<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    user_id: &str,
    now: i64,
) -> Result<u64, sqlx::Error> {
    Ok(sqlx::query(
        "UPDATE grants SET revoked_at = $1 WHERE org_id = $2 AND user_id = $3 AND revoked_at IS NULL",
    )
    .bind(now)
    .bind(org_id)
    .bind(user_id)
    .execute(e)
    .await?
    .rows_affected())
}

/// Whether `user_id` holds a live grant to `client_id` that came from the browser flow
/// (they signed in and consented there).
pub async fn has_live_consented<'c>(
    e: impl AnyExecutor<'c>,
    client_id: &str,
    user_id: &str,
) -> Result<bool, sqlx::Error> {
    Ok(sqlx::query(
        "SELECT id FROM grants WHERE client_id = $1 AND user_id = $2 AND grant_type = 'authorization_code' \
         AND revoked_at IS NULL LIMIT 1",
    )
    .bind(client_id)
    .bind(user_id)
    .fetch_optional(e)
    .await?
    .is_some())
}

/// How many distinct users, and distinct organizations they act in, hold an active grant
/// to `client_id` (the `grants_client` index).
pub async fn usage<'c>(
    e: impl AnyExecutor<'c>,
    client_id: &str,
) -> Result<(i64, i64), sqlx::Error> {
    let r = sqlx::query(
        "SELECT COUNT(DISTINCT user_id) AS users, COUNT(DISTINCT org_id) AS orgs FROM grants \
         WHERE client_id = $1 AND revoked_at IS NULL",
    )
    .bind(client_id)
    .fetch_one(e)
    .await?;
    Ok((r.try_get("users")?, r.try_get("orgs")?))
}
