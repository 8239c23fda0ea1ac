//! Introspection (RFC 7662) of access and refresh tokens, for a confidential client of the
//! token's own organization or of the issuing app's. Anything else is inactive. The scope
//! answered is what the token may do now: its scopes within what the app is allowed now
//! (and, for a user's token, what the user's organization approves now).

use serde_json::{Value, json};

use super::access::active;
use super::grant::{current_scopes, grant_expiry};
use super::{Issuer, internal};
use crate::crypto::secrets;
use crate::domain::ScopeSet;
use crate::domain::oauth::OAuthError;
use crate::services::now;
use crate::store::{self, apps::App};

/// Our refresh tokens' prefix: anything else is looked for as an access token first.
const REFRESH_PREFIX: &str = "lkr_";

#[tracing::instrument(skip_all, fields(caller = %caller.client_id))]
pub async fn introspect(ctx: &Issuer<'_>, caller: &App, token: &str) -> Result<Value, OAuthError> {
    if caller.public_client {
        return Err(OAuthError::InvalidClient(
            "introspection needs a confidential client".into(),
        ));
    }
    let answer = if token.starts_with(REFRESH_PREFIX) {
        refresh_token(ctx, caller, token).await?
    } else {
        access_token(ctx, caller, token).await?
    };
    Ok(answer.unwrap_or_else(|| json!({ "active": false })))
}

async fn access_token(
    ctx: &Issuer<'_>,
    caller: &App,
    token: &str,
) -> Result<Option<Value>, OAuthError> {
    let Some((c, app)) = active(ctx, token).await? else {
        return Ok(None);
    };
    if caller.org_id != c.org_id && caller.org_id != app.org_id {
        return Ok(None);
    }
    let token_scopes = ScopeSet::parse([c.scope.as_str()]).map_err(|e| internal(e.message))?;
    let now_allowed = match &c.gid {
        None => Some(app.scopes.clone()),
        Some(_) => current_scopes(ctx.db, &app, &c.org_id, &c.sub, &token_scopes).await?,
    };
    let Some(now_allowed) = now_allowed else {
        return Ok(None);
    };
    let scope = token_scopes.intersect(&now_allowed).to_space_separated();
    let mut answer = serde_json::to_value(&c).map_err(internal)?;
    answer["active"] = true.into();
    answer["scope"] = scope.into();
    answer["token_type"] = "Bearer".into();
    answer["token_use"] = "access_token".into();
    Ok(Some(answer))
}

/// A live refresh token (RFC 7662 §2.1): unused, unexpired, its grant alive within its
/// absolute lifetime, its app enabled, its user still a member.
async fn refresh_token(
    ctx: &Issuer<'_>,
    caller: &App,
    token: &str,
) -> Result<Option<Value>, OAuthError> {
    let pool = &ctx.db.pool;
    let t = now();
    let Some(row) = store::grants::find_refresh(pool, &secrets::digest(token))
        .await
        .map_err(internal)?
        .filter(|r| r.used_at.is_none() && r.expires_at > t)
    else {
        return Ok(None);
    };
    let Some(grant) = ctx
        .db
        .grant(&row.grant_id)
        .await
        .map_err(internal)?
        .filter(|g| g.revoked_at.is_none())
    else {
        return Ok(None);
    };
    let Some(app) = ctx
        .db
        .app(&grant.client_id)
        .await
        .map_err(internal)?
        .filter(|a| a.enabled)
    else {
        return Ok(None);
    };
    if caller.org_id != grant.org_id && caller.org_id != app.org_id {
        return Ok(None);
    }
    let expires = row.expires_at.min(grant_expiry(&app, &grant));
    if expires <= t
        || ctx
            .db
            .member(&grant.org_id, &grant.user_id)
            .await
            .map_err(internal)?
            .is_none()
    {
        return Ok(None);
    }
    let Some(scopes) =
        current_scopes(ctx.db, &app, &grant.org_id, &grant.user_id, &row.scopes).await?
    else {
        return Ok(None);
    };
    Ok(Some(json!({
        "active": true,
        "token_use": "refresh_token",
        "scope": scopes.to_space_separated(),
        "client_id": grant.client_id,
        "sub": grant.user_id,
        "iss": ctx.url,
        "iat": row.created_at,
        "exp": expires,
        "org_id": grant.org_id,
        "gid": grant.id,
    })))
}
