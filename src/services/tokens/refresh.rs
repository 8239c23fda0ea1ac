//! The refresh grant (RFC 6749 §6): single use; each use returns a new refresh token. A
//! refresh token used twice is a theft signal: the whole grant is revoked. What a refresh
//! mints is decided now, not when the grant began: the grant's scopes within what the app
//! is allowed now and what the user's organization approves now, and never past the
//! grant's absolute lifetime.

use super::grant::{current_scopes, grant_expiry, issue_for_grant, revoke_on_reuse};
use super::{Issuer, TokenResponse, internal, may_use};
use crate::crypto::secrets;
use crate::domain::oauth::{OAuthError, narrowed_scopes};
use crate::domain::{AppKind, GrantType};
use crate::services::now;
use crate::store::{self, apps::App};

#[tracing::instrument(skip_all, fields(client_id = %app.client_id))]
pub async fn refresh(
    ctx: &Issuer<'_>,
    app: &App,
    token: &str,
    scope: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let db = ctx.db;
    may_use(app, AppKind::OnBehalfOfUser, GrantType::RefreshToken)?;
    let invalid =
        || OAuthError::InvalidGrant("the refresh token is invalid, expired or revoked".into());
    let digest = secrets::digest(token);
    let row = store::grants::find_refresh(&db.pool, &digest)
        .await
        .map_err(internal)?
        .ok_or_else(invalid)?;
    let grant = store::grants::get(&db.pool, &row.grant_id)
        .await
        .map_err(internal)?
        .ok_or_else(invalid)?;
    if grant.client_id != app.client_id {
        return Err(invalid());
    }
    super::dpop::same_key(row.jkt.as_deref(), ctx, "refresh token")?;
    // Connected apps turned off (in the app's organization or the user's) refuse the
    // request without spending the token: nothing is lost, it works again once they are on.
    for org in [app.org_id.as_str(), grant.org_id.as_str()] {
        if !db.apps_on(org).await.map_err(internal)? {
            return Err(OAuthError::InvalidGrant(
                crate::services::policy::APPS_OFF.into(),
            ));
        }
    }
    let t = now();
    let current = current_scopes(db, app, &grant.org_id, &grant.user_id, &row.scopes).await?;
    // A bad scope refuses the request without spending the token.
    let scopes = match &current {
        Some(current) => Some(narrowed_scopes(scope, current)?),
        None => None,
    };
    if !store::grants::use_refresh(&db.pool, &digest, t)
        .await
        .map_err(internal)?
    {
        revoke_on_reuse(db, app, &grant.id, "refresh_token").await?;
        return Err(invalid());
    }
    if grant.revoked_at.is_some() || row.expires_at <= t {
        return Err(invalid());
    }
    if grant_expiry(app, &grant) <= t {
        return Err(OAuthError::InvalidGrant(
            "the authorization has reached its maximum lifetime; the user must sign in again"
                .into(),
        ));
    }
    let (Some(scopes), Some(current)) = (scopes, current) else {
        return Err(OAuthError::InvalidGrant(
            "the app or the user's organization no longer allows this authorization".into(),
        ));
    };
    if store::users::member(&db.pool, &grant.org_id, &grant.user_id)
        .await
        .map_err(internal)?
        .is_none()
    {
        return Err(invalid());
    }
    let offline = current.contains("offline_access");
    issue_for_grant(ctx, app, &grant, scopes, offline, None).await
}
