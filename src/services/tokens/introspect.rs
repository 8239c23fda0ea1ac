//! Introspection (RFC 7662) of access and refresh tokens, for a confidential client of the
//! token's own organization or of the issuing app's. Anything else is inactive. The scope
//! answered is what the token may do now: its scopes within what the app is allowed now
//! (and, for a user's token, what the user's organization approves now).

use serde_json::{Value, json};

use super::BearerError;
use super::access::{VerifiedAccess, active};
use super::grant::{current_scopes, grant_expiry};
use super::{Issuer, internal};
use crate::crypto::secrets;
use crate::domain::ScopeSet;
use crate::domain::context::Place;
use crate::domain::oauth::OAuthError;
use crate::services::RequestMeta;
use crate::services::now;
use crate::services::principal::{self, Reach};
use crate::store::{self, apps::App};

/// Our refresh tokens' prefix: anything else is looked for as an access token first.
const REFRESH_PREFIX: &str = "lkr_";

#[tracing::instrument(skip_all, fields(caller = %caller.client_id))]
pub async fn introspect(
    ctx: &Issuer<'_>,
    caller: &App,
    token: &str,
    context: Option<&Place>,
) -> Result<Value, OAuthError> {
    if caller.public_client {
        return Err(OAuthError::InvalidClient(
            "introspection needs a confidential client".into(),
        ));
    }
    let answer = if token.starts_with(REFRESH_PREFIX) {
        refresh_token(ctx, caller, token).await?
    } else {
        access_token(ctx, caller, token, context).await?
    };
    Ok(answer.unwrap_or_else(|| json!({ "active": false })))
}

/// The media type of a signed introspection response (RFC 9701 §4).
pub const JWT_INTROSPECTION: &str = "application/token-introspection+jwt";

/// An introspection answer as a signed JWT for the resource server `caller` (RFC 9701 §5):
/// our issuer, the caller as audience, and the answer under `token_introspection`. Signed
/// with the access tokens' key (ES256), published in the JWKS.
pub fn signed_answer(ctx: &Issuer<'_>, caller: &App, answer: Value) -> Result<String, OAuthError> {
    let t = now();
    let claims = json!({
        "iss": ctx.url,
        "aud": caller.client_id.as_str(),
        "iat": t,
        "token_introspection": answer,
    });
    super::access::sign(
        ctx.ring,
        t,
        "token-introspection+jwt",
        jsonwebtoken::Algorithm::ES256,
        &claims,
    )
}

/// An active access token `caller` may ask about: one of its organization's, or issued to
/// one of its organization's apps.
async fn visible(
    ctx: &Issuer<'_>,
    caller: &App,
    token: &str,
) -> Result<Option<(VerifiedAccess, App)>, OAuthError> {
    Ok(active(ctx, token)
        .await?
        .filter(|(c, app)| caller.org_id == c.org_id || caller.org_id == app.org_id))
}

/// What the token's principal holds across its organization's places, or None when its
/// subject no longer stands (a removed user).
async fn reach_of(
    ctx: &Issuer<'_>,
    c: &VerifiedAccess,
    app: &App,
) -> Result<Option<Reach>, OAuthError> {
    match principal::of_token(ctx.db, c.clone(), app, RequestMeta::default()).await {
        Ok(p) => Ok(Some(p.reach(ctx.db).await.map_err(internal)?)),
        Err(BearerError::Internal) => Err(OAuthError::ServerError),
        Err(_) => Ok(None),
    }
}

async fn access_token(
    ctx: &Issuer<'_>,
    caller: &App,
    token: &str,
    context: Option<&Place>,
) -> Result<Option<Value>, OAuthError> {
    let Some((c, app)) = visible(ctx, caller, token).await? else {
        return Ok(None);
    };
    let token_scopes = ScopeSet::parse([c.scope.as_str()]).map_err(|e| internal(e.message))?;
    let now_allowed = match &c.gid {
        // An own-behalf app's scopes, in the organization as a whole: those assigned at
        // its root (a scope assigned only in a business group holds nothing here; ask in
        // that context).
        None => {
            let root = ctx
                .db
                .assignments(app.client_id.as_str())
                .await
                .map_err(internal)?;
            Some(app.scopes.filter(|s| {
                root.iter()
                    .any(|(a, pl)| a == s.as_str() && pl.env.is_none() && pl.group == c.org_id)
            }))
        }
        Some(_) => current_scopes(ctx.db, &app, &c.org_id, &c.sub, &token_scopes).await?,
    };
    let Some(now_allowed) = now_allowed else {
        return Ok(None);
    };
    let scope = token_scopes.intersect(&now_allowed).to_space_separated();
    let mut answer = serde_json::to_value(&c).map_err(internal)?;
    answer["active"] = true.into();
    answer["scope"] = scope.into();
    // A DPoP-bound token says so, with its key's thumbprint in `cnf` (RFC 9449 §6.2).
    answer["token_type"] = if c.cnf.is_some() { "DPoP" } else { "Bearer" }.into();
    answer["token_use"] = "access_token".into();
    if let Some(place) = context {
        let Some(reach) = reach_of(ctx, &c, &app).await? else {
            return Ok(None);
        };
        // Contexts are the token's organization's to know.
        let scopes = if caller.org_id == c.org_id {
            reach.scopes_at(place)
        } else {
            Vec::new()
        };
        answer["scope"] = scopes.join(" ").into();
        answer["business_group"] = place.group.clone().into();
        answer["environment"] = place.env.clone().into();
    }
    Ok(Some(answer))
}

/// A decision in a context, with its reason in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub reason: String,
}

/// Whether `token` may use `scope` at `place`, asked by `caller` (a confidential client of
/// the token's organization, as for introspection). A token `caller` may not ask about is
/// answered as not active, so nothing is told of other organizations' tokens.
#[tracing::instrument(skip_all, fields(caller = %caller.client_id, scope))]
pub async fn evaluate(
    ctx: &Issuer<'_>,
    caller: &App,
    token: &str,
    scope: &str,
    place: &Place,
) -> Result<Decision, OAuthError> {
    if caller.public_client {
        return Err(OAuthError::InvalidClient(
            "decisions are asked by a confidential client".into(),
        ));
    }
    let deny = |reason: String| {
        Ok(Decision {
            allowed: false,
            reason,
        })
    };
    let Some((c, app)) = visible(ctx, caller, token).await? else {
        return deny("the token is not active".into());
    };
    let Some(reach) = reach_of(ctx, &c, &app).await? else {
        return deny("the token is not active".into());
    };
    if caller.org_id != c.org_id {
        return deny(
            "decisions in a context are answered to the token's own organization only".into(),
        );
    }
    if !reach.tree.has(place) {
        return deny("no such business group or environment in the token's organization".into());
    }
    let name = |id: &str| {
        reach.groups.iter().find(|g| g.id == id).map_or_else(
            || "the organization".to_string(),
            |g| format!("business group {}", g.name),
        )
    };
    let here = match &place.env {
        Some(env) => {
            let env_name = reach
                .envs
                .iter()
                .find(|e| &e.id == env)
                .map_or("", |e| e.name.as_str());
            format!("environment {env_name} of {}", name(&place.group))
        }
        None => name(&place.group),
    };
    let carried = c.scope.split_whitespace().any(|s| {
        s == scope
            || (crate::domain::role::PLATFORM.contains(&scope)
                && (s == "full" || (s == "read:full" && scope.starts_with("read:"))))
    });
    if !carried {
        return deny(format!("the token does not carry {scope}"));
    }
    if reach.scopes_at(place).iter().any(|s| s == scope) {
        return Ok(Decision {
            allowed: true,
            reason: format!("{scope} holds in {here}"),
        });
    }
    let whose = if c.gid.is_some() {
        "the user's role there does not include it, or the app is no longer allowed it"
    } else {
        "the app has no assignment of it there"
    };
    deny(format!("{scope} does not hold in {here}: {whose}"))
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
