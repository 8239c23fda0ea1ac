use serde::Serialize;
use sqlx::{AnyExecutor, Row};

use crate::domain::ids::{ClientId, OrgId, UserId};
use crate::domain::{AppKind, Audience, GrantType, RedirectUri, ScopeSet};

/// A connected app, every field parsed: nothing outside the store splits a stored string.
#[derive(Debug, Clone)]
pub struct App {
    pub client_id: ClientId,
    pub org_id: OrgId,
    pub name: String,
    pub kind: AppKind,
    pub grant_types: Vec<GrantType>,
    pub redirect_uris: Vec<RedirectUri>,
    pub website_url: Option<String>,
    pub audience: Audience,
    pub scopes: ScopeSet,
    pub access_token_ttl: i64,
    pub refresh_token_ttl: i64,
    pub enabled: bool,
    pub owner_id: Option<UserId>,
    pub public_client: bool,
    pub public_keys: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub id_token_alg: String,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    /// The absolute lifetime of a user's grant to the app, in seconds.
    pub grant_ttl: i64,
    /// Where the app lives: a business group (None: the organization, the root) and,
    /// optionally, one of its environments.
    pub group_id: Option<String>,
    pub env_id: Option<String>,
    /// A first-party app: its organization's users are not asked to consent.
    pub skip_consent: bool,
    /// Authorization requests only as pushed requests (RFC 9126).
    pub require_par: bool,
    /// Tokens only with a DPoP proof (RFC 9449).
    pub require_dpop: bool,
    /// The APIs (identifiers) the app may exchange users' tokens for (RFC 8693).
    pub exchange_audiences: Vec<String>,
    /// Where logout tokens are posted (OpenID Connect Back-Channel Logout).
    pub backchannel_logout_uri: Option<String>,
    /// The initial access token it was registered with (RFC 7591), if it registered itself.
    pub registered_by: Option<String>,
}

impl App {
    /// The business group (or environment) the app lives in.
    pub fn place(&self) -> crate::domain::context::Place {
        crate::domain::context::Place {
            group: self
                .group_id
                .clone()
                .unwrap_or_else(|| self.org_id.to_string()),
            env: self.env_id.clone(),
        }
    }

    /// Whether the app has `grant` registered.
    pub fn uses(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }

    /// Whether `uri` is one of the app's authorization redirect URIs, exactly.
    pub fn has_redirect_uri(&self, uri: &str) -> bool {
        self.redirect_uris.iter().any(|u| u.as_str() == uri)
    }

    /// Whether `uri` is one of the app's post-logout redirect URIs, exactly.
    pub fn has_post_logout_uri(&self, uri: &str) -> bool {
        self.post_logout_redirect_uris
            .iter()
            .any(|u| u.as_str() == uri)
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct SecretRow {
    pub id: String,
    pub client_id: String,
    pub digest: String,
    pub hint: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

const APP_COLS: &str = "client_id, org_id, name, kind, grant_types, redirect_uris, website_url, audience, scopes, \
    access_token_ttl, refresh_token_ttl, enabled, owner_id, public_client, public_keys, created_at, updated_at, id_token_alg, \
    post_logout_redirect_uris, grant_ttl, group_id, env_id, skip_consent, require_par, require_dpop, exchange_audiences, backchannel_logout_uri, registered_by";

/// A stored value that no longer parses: the row is refused, never half-read.
fn corrupt(column: &str, message: impl std::fmt::Display) -> sqlx::Error {
    sqlx::Error::Decode(format!("apps.{column}: {message}").into())
}

fn lines(stored: &str) -> Vec<RedirectUri> {
    stored
        .split_whitespace()
        .map(RedirectUri::from_stored)
        .collect()
}

fn app_from_row(r: &sqlx::any::AnyRow) -> Result<App, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    let grant_types: String = r.try_get("grant_types")?;
    let audience: String = r.try_get("audience")?;
    let scopes: String = r.try_get("scopes")?;
    let redirect_uris: String = r.try_get("redirect_uris")?;
    let logout_uris: String = r.try_get("post_logout_redirect_uris")?;
    Ok(App {
        client_id: ClientId::new(r.try_get::<String, _>("client_id")?),
        org_id: OrgId::new(r.try_get::<String, _>("org_id")?),
        name: r.try_get("name")?,
        kind: AppKind::parse(&kind).map_err(|e| corrupt("kind", e.message))?,
        grant_types: grant_types
            .split_whitespace()
            .map(GrantType::parse)
            .collect::<Result<_, _>>()
            .map_err(|e| corrupt("grant_types", e.message))?,
        redirect_uris: lines(&redirect_uris),
        website_url: r.try_get("website_url")?,
        audience: Audience::parse(&audience).map_err(|e| corrupt("audience", e.message))?,
        scopes: ScopeSet::parse([scopes.as_str()]).map_err(|e| corrupt("scopes", e.message))?,
        access_token_ttl: r.try_get("access_token_ttl")?,
        refresh_token_ttl: r.try_get("refresh_token_ttl")?,
        enabled: r.try_get::<i64, _>("enabled")? != 0,
        owner_id: r.try_get::<Option<String>, _>("owner_id")?.map(UserId::new),
        public_client: r.try_get::<i64, _>("public_client")? != 0,
        public_keys: r.try_get("public_keys")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        id_token_alg: r.try_get("id_token_alg")?,
        post_logout_redirect_uris: lines(&logout_uris),
        grant_ttl: r.try_get("grant_ttl")?,
        group_id: r.try_get("group_id")?,
        env_id: r.try_get("env_id")?,
        skip_consent: r.try_get::<i64, _>("skip_consent")? != 0,
        require_par: r.try_get::<i64, _>("require_par")? != 0,
        require_dpop: r.try_get::<i64, _>("require_dpop")? != 0,
        exchange_audiences: r
            .try_get::<String, _>("exchange_audiences")?
            .split_whitespace()
            .map(str::to_string)
            .collect(),
        backchannel_logout_uri: r.try_get("backchannel_logout_uri")?,
        registered_by: r.try_get("registered_by")?,
    })
}

/// The stored text of the app's lists: grant types and scopes space-separated, URIs one
/// per line.
struct Stored {
    grant_types: String,
    redirect_uris: String,
    post_logout_redirect_uris: String,
    scopes: String,
}

fn stored(a: &App) -> Stored {
    let uris = |list: &[RedirectUri]| {
        list.iter()
            .map(RedirectUri::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    };
    Stored {
        grant_types: a
            .grant_types
            .iter()
            .map(|g| g.as_str())
            .collect::<Vec<_>>()
            .join(" "),
        redirect_uris: uris(&a.redirect_uris),
        post_logout_redirect_uris: uris(&a.post_logout_redirect_uris),
        scopes: a.scopes.to_space_separated(),
    }
}

fn secret_from_row(r: &sqlx::any::AnyRow) -> Result<SecretRow, sqlx::Error> {
    Ok(SecretRow {
        id: r.try_get("id")?,
        client_id: r.try_get("client_id")?,
        digest: r.try_get("digest")?,
        hint: r.try_get("hint")?,
        created_at: r.try_get("created_at")?,
        expires_at: r.try_get("expires_at")?,
        last_used_at: r.try_get("last_used_at")?,
    })
}

pub async fn insert<'c>(e: impl AnyExecutor<'c>, a: &App) -> Result<(), sqlx::Error> {
    let t = stored(a);
    sqlx::query(&format!(
        "INSERT INTO apps ({APP_COLS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)"
    ))
    .bind(a.client_id.as_str())
    .bind(a.org_id.as_str())
    .bind(&a.name)
    .bind(a.kind.as_str())
    .bind(&t.grant_types)
    .bind(&t.redirect_uris)
    .bind(&a.website_url)
    .bind(a.audience.as_str())
    .bind(&t.scopes)
    .bind(a.access_token_ttl)
    .bind(a.refresh_token_ttl)
    .bind(i64::from(a.enabled))
    .bind(a.owner_id.as_ref().map(|u| u.as_str().to_string()))
    .bind(i64::from(a.public_client))
    .bind(&a.public_keys)
    .bind(a.created_at)
    .bind(a.updated_at)
    .bind(&a.id_token_alg)
    .bind(&t.post_logout_redirect_uris)
    .bind(a.grant_ttl)
    .bind(&a.group_id)
    .bind(&a.env_id)
    .bind(i64::from(a.skip_consent))
    .bind(i64::from(a.require_par))
    .bind(i64::from(a.require_dpop))
    .bind(a.exchange_audiences.join(" "))
    .bind(a.backchannel_logout_uri.as_deref())
    .bind(a.registered_by.as_deref())
    .execute(e)
    .await?;
    Ok(())
}

/// Replaces the editable settings of an app of `org_id`.
pub async fn update<'c>(e: impl AnyExecutor<'c>, a: &App) -> Result<bool, sqlx::Error> {
    let t = stored(a);
    let done = sqlx::query(
        "UPDATE apps SET name = $1, grant_types = $2, redirect_uris = $3, website_url = $4, audience = $5, scopes = $6, \
         access_token_ttl = $7, refresh_token_ttl = $8, public_keys = $9, updated_at = $10, \
         id_token_alg = $11, post_logout_redirect_uris = $12, grant_ttl = $13, skip_consent = $14, \
         require_par = $15, require_dpop = $16, exchange_audiences = $17, backchannel_logout_uri = $18 \
         WHERE org_id = $19 AND client_id = $20",
    )
    .bind(&a.name)
    .bind(&t.grant_types)
    .bind(&t.redirect_uris)
    .bind(&a.website_url)
    .bind(a.audience.as_str())
    .bind(&t.scopes)
    .bind(a.access_token_ttl)
    .bind(a.refresh_token_ttl)
    .bind(&a.public_keys)
    .bind(a.updated_at)
    .bind(&a.id_token_alg)
    .bind(&t.post_logout_redirect_uris)
    .bind(a.grant_ttl)
    .bind(i64::from(a.skip_consent))
    .bind(i64::from(a.require_par))
    .bind(i64::from(a.require_dpop))
    .bind(a.exchange_audiences.join(" "))
    .bind(a.backchannel_logout_uri.as_deref())
    .bind(a.org_id.as_str())
    .bind(a.client_id.as_str())
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// An app of `org_id`; an app of another organization is not found.
pub async fn get<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    client_id: &str,
) -> Result<Option<App>, sqlx::Error> {
    let row = sqlx::query(&format!(
        "SELECT {APP_COLS} FROM apps WHERE org_id = $1 AND client_id = $2"
    ))
    .bind(org_id)
    .bind(client_id)
    .fetch_optional(e)
    .await?;
    row.as_ref().map(app_from_row).transpose()
}

/// Every app of `org_id`, by name (the portal's list searches, sorts and pages them).
pub async fn all<'c>(e: impl AnyExecutor<'c>, org_id: &str) -> Result<Vec<App>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT {APP_COLS} FROM apps WHERE org_id = $1 ORDER BY LOWER(name), client_id"
    ))
    .bind(org_id)
    .fetch_all(e)
    .await?;
    rows.iter().map(app_from_row).collect()
}

/// When each app of `org_id` last got a token: its secrets' and its grants' last use.
pub async fn last_used<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
) -> Result<std::collections::HashMap<String, i64>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT client_id, MAX(t) AS t FROM ( \
           SELECT s.client_id, s.last_used_at AS t FROM client_secrets s JOIN apps a ON a.client_id = s.client_id \
             WHERE a.org_id = $1 AND s.last_used_at IS NOT NULL \
           UNION ALL \
           SELECT g.client_id, g.last_used_at AS t FROM grants g JOIN apps a ON a.client_id = g.client_id \
             WHERE a.org_id = $1 AND g.last_used_at IS NOT NULL \
         ) u GROUP BY client_id",
    )
    .bind(org_id)
    .fetch_all(e)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("client_id")?, r.try_get("t")?)))
        .collect()
}

pub async fn set_enabled<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    client_id: &str,
    enabled: bool,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE apps SET enabled = $1, updated_at = $2 WHERE org_id = $3 AND client_id = $4",
    )
    .bind(i64::from(enabled))
    .bind(now)
    .bind(org_id)
    .bind(client_id)
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// How many apps `org_id` has.
pub async fn count<'c>(e: impl AnyExecutor<'c>, org_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar("SELECT COUNT(*) FROM apps WHERE org_id = $1")
        .bind(org_id)
        .fetch_one(e)
        .await
}

/// Makes `owner_id` the owner of the app.
pub async fn set_owner<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    client_id: &str,
    owner_id: &str,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE apps SET owner_id = $1, updated_at = $2 WHERE org_id = $3 AND client_id = $4",
    )
    .bind(owner_id)
    .bind(now)
    .bind(org_id)
    .bind(client_id)
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Moves the ownership of every app of `org_id` that `from` owns to `to`; returns the apps'
/// ids.
pub async fn move_ownership<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    from: &str,
    to: &str,
) -> Result<Vec<String>, sqlx::Error> {
    sqlx::query_scalar(
        "UPDATE apps SET owner_id = $1 WHERE org_id = $2 AND owner_id = $3 RETURNING client_id",
    )
    .bind(to)
    .bind(org_id)
    .bind(from)
    .fetch_all(e)
    .await
}

pub async fn delete<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    client_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM apps WHERE org_id = $1 AND client_id = $2")
        .bind(org_id)
        .bind(client_id)
        .execute(e)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_secret<'c>(e: impl AnyExecutor<'c>, s: &SecretRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO client_secrets (id, client_id, digest, hint, created_at, expires_at, last_used_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&s.id)
    .bind(&s.client_id)
    .bind(&s.digest)
    .bind(&s.hint)
    .bind(s.created_at)
    .bind(s.expires_at)
    .bind(s.last_used_at)
    .execute(e)
    .await?;
    Ok(())
}

pub async fn secrets<'c>(
    e: impl AnyExecutor<'c>,
    client_id: &str,
) -> Result<Vec<SecretRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, client_id, digest, hint, created_at, expires_at, last_used_at FROM client_secrets \
         WHERE client_id = $1 ORDER BY created_at, id",
    )
    .bind(client_id)
    .fetch_all(e)
    .await?;
    rows.iter().map(secret_from_row).collect()
}

/// An app by client id, whatever its organization, with its secrets, in one round trip
/// (client authentication on the token endpoint).
pub async fn find_with_secrets<'c>(
    e: impl AnyExecutor<'c>,
    client_id: &str,
) -> Result<Option<(App, Vec<SecretRow>)>, sqlx::Error> {
    static QUERY: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let app_cols: Vec<String> = APP_COLS
            .split(',')
            .map(|c| format!("a.{}", c.trim()))
            .collect();
        format!(
            "SELECT {}, s.id AS s_id, s.digest AS s_digest, s.hint AS s_hint, s.created_at AS s_created_at, \
             s.expires_at AS s_expires_at, s.last_used_at AS s_last_used_at \
             FROM apps a LEFT JOIN client_secrets s ON s.client_id = a.client_id WHERE a.client_id = $1",
            app_cols.join(", ")
        )
    });
    let rows = sqlx::query(&QUERY).bind(client_id).fetch_all(e).await?;
    let Some(first) = rows.first() else {
        return Ok(None);
    };
    let app = app_from_row(first)?;
    let mut secrets = Vec::new();
    for r in &rows {
        if let Some(id) = r.try_get::<Option<String>, _>("s_id")? {
            secrets.push(SecretRow {
                id,
                client_id: app.client_id.to_string(),
                digest: r.try_get("s_digest")?,
                hint: r.try_get("s_hint")?,
                created_at: r.try_get("s_created_at")?,
                expires_at: r.try_get("s_expires_at")?,
                last_used_at: r.try_get("s_last_used_at")?,
            });
        }
    }
    Ok(Some((app, secrets)))
}

pub async fn delete_secret<'c>(
    e: impl AnyExecutor<'c>,
    client_id: &str,
    secret_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM client_secrets WHERE client_id = $1 AND id = $2")
        .bind(client_id)
        .bind(secret_id)
        .execute(e)
        .await?;
    Ok(done.rows_affected() == 1)
}

/// An app by client id, whatever its organization (client authentication).
pub async fn find<'c>(
    e: impl AnyExecutor<'c>,
    client_id: &str,
) -> Result<Option<App>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {APP_COLS} FROM apps WHERE client_id = $1"))
        .bind(client_id)
        .fetch_optional(e)
        .await?;
    row.as_ref().map(app_from_row).transpose()
}

/// Records that a secret was used, unless another request did within `granularity` seconds
/// (true when it wrote).
pub async fn touch_secret<'c>(
    e: impl AnyExecutor<'c>,
    secret_id: &str,
    now: i64,
    granularity: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE client_secrets SET last_used_at = $1 WHERE id = $2 AND (last_used_at IS NULL OR last_used_at < $3)")
        .bind(now)
        .bind(secret_id)
        .bind(now - granularity)
        .execute(e)
        .await?;
    Ok(done.rows_affected() > 0)
}

/// Sets (or, with None, clears) the expiry of one secret of `client_id`, and forgets that
/// the expiry job noted the old one. False when there is no such secret.
pub async fn set_secret_expiry<'c>(
    e: impl AnyExecutor<'c>,
    client_id: &str,
    secret_id: &str,
    expires_at: Option<i64>,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE client_secrets SET expires_at = $1, expiry_warned_at = NULL, expired_noted_at = NULL \
         WHERE client_id = $2 AND id = $3",
    )
    .bind(expires_at)
    .bind(client_id)
    .bind(secret_id)
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// The apps of `org_id` with a secret that expires (or expired) before `before`, in one
/// grouped query (the apps list flags them).
pub async fn with_secret_expiring<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    before: i64,
) -> Result<std::collections::HashSet<String>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT s.client_id FROM client_secrets s JOIN apps a ON a.client_id = s.client_id \
         WHERE a.org_id = $1 AND s.expires_at IS NOT NULL AND s.expires_at <= $2 GROUP BY s.client_id",
    )
    .bind(org_id)
    .bind(before)
    .fetch_all(e)
    .await?;
    rows.iter().map(|r| r.try_get("client_id")).collect()
}

/// A secret the expiry job has yet to note: it expires before the warning horizon and its
/// "expires soon" (or, once past, its "expired") event is not recorded yet.
#[derive(Debug, Clone)]
pub struct ExpiryNotice {
    pub secret_id: String,
    pub client_id: String,
    pub org_id: String,
    pub hint: String,
    pub expires_at: i64,
    pub warned: bool,
}

/// Up to `limit` secrets to note: expiring before `horizon` and not yet warned of, or
/// expired by `now` and not yet noted.
pub async fn expiry_notices<'c>(
    e: impl AnyExecutor<'c>,
    horizon: i64,
    now: i64,
    limit: i64,
) -> Result<Vec<ExpiryNotice>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT s.id, s.client_id, a.org_id, s.hint, s.expires_at, s.expiry_warned_at \
         FROM client_secrets s JOIN apps a ON a.client_id = s.client_id \
         WHERE s.expires_at IS NOT NULL AND s.expires_at <= $1 \
           AND (s.expiry_warned_at IS NULL OR (s.expires_at <= $2 AND s.expired_noted_at IS NULL)) \
         ORDER BY s.expires_at, s.id LIMIT $3",
    )
    .bind(horizon)
    .bind(now)
    .bind(limit)
    .fetch_all(e)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(ExpiryNotice {
                secret_id: r.try_get("id")?,
                client_id: r.try_get("client_id")?,
                org_id: r.try_get("org_id")?,
                hint: r.try_get("hint")?,
                expires_at: r.try_get("expires_at")?,
                warned: r.try_get::<Option<i64>, _>("expiry_warned_at")?.is_some(),
            })
        })
        .collect()
}

/// Marks a secret's expiry noted at `now` — `expired` its "expired" event (which implies
/// the warning), otherwise its "expires soon" one — unless it already was or its expiry
/// changed meanwhile. True only for the one caller whose mark landed (instances race).
pub async fn mark_expiry_noted<'c>(
    e: impl AnyExecutor<'c>,
    secret_id: &str,
    expires_at: i64,
    expired: bool,
    now: i64,
) -> Result<bool, sqlx::Error> {
    let sql = if expired {
        "UPDATE client_secrets SET expired_noted_at = $1, expiry_warned_at = COALESCE(expiry_warned_at, $1) \
         WHERE id = $2 AND expires_at = $3 AND expired_noted_at IS NULL"
    } else {
        "UPDATE client_secrets SET expiry_warned_at = $1 \
         WHERE id = $2 AND expires_at = $3 AND expiry_warned_at IS NULL"
    };
    let done = sqlx::query(sql)
        .bind(now)
        .bind(secret_id)
        .bind(expires_at)
        .execute(e)
        .await?;
    Ok(done.rows_affected() == 1)
}
