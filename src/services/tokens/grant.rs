//! What every user grant shares: who a grant may be started for, the scopes it carries now,
//! the tokens issued under it, and the theft signal of a replayed code or refresh token.

use super::access::{Subject, access_token};
use super::id_token::id_token;
use super::{Issuer, TokenResponse, internal};
use crate::crypto::{random_token, secrets};
use crate::domain::ids::{GrantId, OrgId, UserId};
use crate::domain::oauth::OAuthError;
use crate::domain::{GrantType, ScopeSet};
use crate::services::policy::{Access, access};
use crate::services::{Actor, Caller, RequestMeta, new_id, now};
use crate::store::{self, Db, apps::App, cache::Change, grants::Grant, grants::Refresh};

/// The one answer for a user a password or JWT bearer grant may not act for, whatever the
/// reason (unknown, wrong password, another organization, not approved): nothing tells an
/// app of one organization which addresses exist in another.
pub(super) const NOT_FOR_THIS_APP: &str =
    "the user is unknown, the credentials are wrong, or the user may not use this app";

fn not_for_this_app() -> OAuthError {
    OAuthError::InvalidGrant(NOT_FOR_THIS_APP.into())
}

/// Records a new grant of `user_id` to `app` started without the browser (password or JWT
/// bearer), and issues its tokens. The user must be a member of the app's organization;
/// a user of another organization only through a JWT bearer assertion, and only after they
/// authorized the app in the browser themselves (a live grant from consent), within the
/// scopes they consented to and their organization's external-app policy. The password
/// grant never serves another organization's users (RFC 9700 §2.4).
pub(super) async fn start_direct(
    ctx: &Issuer<'_>,
    app: &App,
    user_id: &str,
    scopes: ScopeSet,
    grant_type: GrantType,
) -> Result<TokenResponse, OAuthError> {
    let db = ctx.db;
    let (org_id, mut scopes) = match access(db, app, user_id).await.map_err(internal)? {
        Access::Denied | Access::Blocked { .. } => return Err(not_for_this_app()),
        Access::Off => {
            return Err(OAuthError::InvalidGrant(
                crate::services::policy::APPS_OFF.into(),
            ));
        }
        Access::Open { org_id, within } => match within {
            None => (org_id, scopes),
            Some(w) => (org_id, scopes.intersect(&w)),
        },
    };
    if app.org_id != org_id {
        if grant_type == GrantType::Password {
            tracing::warn!(client_id = %app.client_id, "password grant for another organization's user refused");
            return Err(not_for_this_app());
        }
        let consented = store::authz::consent(&db.pool, user_id, &app.client_id)
            .await
            .map_err(internal)?;
        let live = store::grants::has_live_consented(&db.pool, &app.client_id, user_id)
            .await
            .map_err(internal)?;
        let Some(consented) = consented.filter(|_| live) else {
            tracing::warn!(client_id = %app.client_id, "assertion for another organization's user without their consent refused");
            return Err(not_for_this_app());
        };
        scopes = scopes.intersect(&consented);
    }
    if scopes.is_empty() {
        return Err(OAuthError::InvalidScope(
            "none of the requested scopes may be granted for this user".into(),
        ));
    }
    // A password alone cannot stand for a user who signs in with a second factor, by
    // choice or by their organization's policy: the browser flows ask for it.
    if grant_type == GrantType::Password
        && crate::services::mfa::needs_second_factor(db, user_id, &org_id)
            .await
            .map_err(internal)?
    {
        tracing::warn!(client_id = %app.client_id, "password grant for a user with a second factor refused");
        return Err(OAuthError::InvalidGrant(
            "this user signs in with a second factor, which the password grant cannot ask for; use the authorization code flow".into(),
        ));
    }
    if !crate::services::policy::within_authorized_apps(db, user_id, app.client_id.as_str())
        .await
        .map_err(internal)?
    {
        return Err(OAuthError::InvalidGrant(
            crate::services::policy::too_many_apps(),
        ));
    }
    let grant = Grant {
        id: GrantId::new(new_id()),
        org_id: OrgId::new(org_id),
        client_id: app.client_id.clone(),
        user_id: UserId::new(user_id),
        scopes: scopes.clone(),
        grant_type,
        created_at: now(),
        revoked_at: None,
        auth_time: None,
        amr: (grant_type == GrantType::Password).then(|| "pwd".to_string()),
        sid: None,
    };
    store::grants::insert(&db.pool, &grant)
        .await
        .map_err(internal)?;
    let offline = scopes.contains("offline_access");
    issue_for_grant(ctx, app, &grant, scopes, offline, None).await
}

/// The scopes a live grant carries now: what was granted, within what the app is allowed
/// now and what the user's organization approves now. An app narrowed, switched to its own
/// organization only, or no longer approved narrows (or ends) every grant it holds at once.
pub async fn current_scopes(
    db: &Db,
    app: &App,
    grant_org: &str,
    user_id: &str,
    granted: &ScopeSet,
) -> Result<Option<ScopeSet>, OAuthError> {
    let mut scopes = granted.intersect(&app.scopes);
    match access(db, app, user_id).await.map_err(internal)? {
        Access::Open { org_id, within } if org_id == grant_org => {
            if let Some(w) = within {
                scopes = scopes.intersect(&w);
            }
        }
        _ => return Ok(None),
    }
    Ok((!scopes.is_empty()).then_some(scopes))
}

/// The tokens of a grant a user just approved in the browser (a code, a device's code):
/// if it is still live and its user still a member, with the scopes it carries now; `ended`
/// otherwise.
pub(super) async fn redeem_approved(
    ctx: &Issuer<'_>,
    app: &App,
    grant_id: &str,
    nonce: Option<&str>,
    ended: impl Fn() -> OAuthError,
) -> Result<TokenResponse, OAuthError> {
    let db = ctx.db;
    let grant = store::grants::get(&db.pool, grant_id)
        .await
        .map_err(internal)?
        .filter(|g| g.revoked_at.is_none())
        .ok_or_else(&ended)?;
    if store::users::member(&db.pool, &grant.org_id, &grant.user_id)
        .await
        .map_err(internal)?
        .is_none()
    {
        return Err(ended());
    }
    let scopes = current_scopes(db, app, &grant.org_id, &grant.user_id, &grant.scopes)
        .await?
        .ok_or_else(&ended)?;
    let offline = scopes.contains("offline_access");
    issue_for_grant(ctx, app, &grant, scopes, offline, nonce).await
}

/// When a grant ends however often it is refreshed: its start plus the app's grant lifetime.
pub(super) fn grant_expiry(app: &App, grant: &Grant) -> i64 {
    grant.created_at.saturating_add(app.grant_ttl)
}

/// The tokens of a grant: an access token with `scopes`; a new refresh token when the
/// grant carries `offline_access` now (`offline`; it never outlives the grant); an ID token
/// with `openid` (`nonce` from the authorization request).
pub(super) async fn issue_for_grant(
    ctx: &Issuer<'_>,
    app: &App,
    grant: &Grant,
    scopes: ScopeSet,
    offline: bool,
    nonce: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let subject = Subject {
        sub: &grant.user_id,
        org_id: &grant.org_id,
        gid: Some(&grant.id),
        act: None,
    };
    let refresh = offline && app.uses(GrantType::RefreshToken);
    let openid = scopes.contains("openid");
    let mut answer = access_token(ctx, app, subject, scopes).await?;
    if openid {
        answer.id_token = Some(id_token(ctx, app, grant, &answer, nonce).await?);
    }
    if refresh {
        let value = format!("lkr_{}", random_token(32));
        let t = now();
        let row = Refresh {
            digest: secrets::digest(&value),
            grant_id: grant.id.clone(),
            scopes: grant.scopes.clone(),
            created_at: t,
            expires_at: (t + app.refresh_token_ttl).min(grant_expiry(app, grant)),
            used_at: None,
            // A public client has no secret to bind its refresh token to: its DPoP key does.
            jkt: ctx.dpop_jkt.clone().filter(|_| app.public_client),
        };
        store::grants::insert_refresh(&ctx.db.pool, &row)
            .await
            .map_err(internal)?;
        answer.refresh_token = Some(value);
    }
    store::grants::touch(&ctx.db.pool, &grant.id, now())
        .await
        .map_err(internal)?;
    Ok(answer)
}

/// Revokes a grant whose code or refresh token was presented twice (a theft signal) and
/// audits it.
pub(super) async fn revoke_on_reuse(
    db: &Db,
    app: &App,
    grant_id: &str,
    reused: &str,
) -> Result<(), OAuthError> {
    store::grants::revoke(&db.pool, grant_id, now())
        .await
        .map_err(internal)?;
    db.changed(&[Change::Grant(grant_id.to_string())])
        .await
        .map_err(internal)?;
    tracing::warn!(grant = %grant_id, client = %app.client_id, reused, "replayed; grant revoked");
    let caller = Caller {
        actor: Actor::App {
            client_id: app.client_id.to_string(),
        },
        meta: RequestMeta::default(),
    };
    let event = crate::services::audit::Event {
        org_id: Some(&app.org_id),
        action: "grant.revoked_on_reuse",
        object: ("grant", grant_id),
        success: false,
        detail: serde_json::json!({ "reused": reused }),
    };
    crate::services::audit::record_alone(db, &caller, event)
        .await
        .map_err(internal)
}
