//! Token exchange (RFC 8693): an app holding a user's access token (an API's backend that
//! received it, say) gets a narrower token for one downstream API of its organization, to
//! call it as that user. The app must have the grant and name the API among the audiences
//! an admin allowed it; the new token keeps the user as subject, names the app as actor
//! (`act`, nested when the subject token was itself exchanged), carries no scope the
//! subject token cannot use now nor any the app may not have, only the API's, and lives
//! under the same grant: revoking the user's authorization ends it too. No refresh token.

use serde_json::json;

use super::access::{Subject, access_token, active};
use super::grant::current_scopes;
use super::{Issuer, TokenResponse, internal, may_use};
use crate::domain::oauth::{OAuthError, exchanged_scopes};
use crate::domain::{AppKind, GrantType};
use crate::store::apps::App;

/// The one token type exchanged and issued here.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// A token exchange request's parameters (RFC 8693 §2.1).
pub struct ExchangeRequest<'a> {
    pub subject_token: &'a str,
    pub subject_token_type: &'a str,
    pub requested_token_type: Option<&'a str>,
    /// The target API: `resource` or `audience` (both must agree when both are sent).
    pub resource: Option<&'a str>,
    pub audience: Option<&'a str>,
    pub scope: Option<&'a str>,
    pub actor_token: Option<&'a str>,
}

#[tracing::instrument(skip_all, fields(client_id = %app.client_id))]
pub async fn token_exchange<'a>(
    ctx: &mut Issuer<'a>,
    app: &App,
    req: ExchangeRequest<'a>,
) -> Result<TokenResponse, OAuthError> {
    may_use(app, AppKind::OnBehalfOfUser, GrantType::TokenExchange)?;
    if app.public_client {
        return Err(OAuthError::UnauthorizedClient(
            "a public client cannot exchange tokens".into(),
        ));
    }
    let invalid = |m: &str| OAuthError::InvalidRequest(m.into());
    if req.subject_token_type != ACCESS_TOKEN_TYPE {
        return Err(invalid(
            "only access tokens may be exchanged (subject_token_type)",
        ));
    }
    if req
        .requested_token_type
        .is_some_and(|t| t != ACCESS_TOKEN_TYPE)
    {
        return Err(invalid(
            "only access tokens are issued (requested_token_type)",
        ));
    }
    if req.actor_token.is_some() {
        return Err(invalid(
            "actor tokens are not accepted: the authenticated app is the actor",
        ));
    }
    let target = match (req.resource, req.audience) {
        (Some(r), Some(a)) if r != a => return Err(invalid("resource and audience differ")),
        (Some(t), _) | (None, Some(t)) => t,
        (None, None) => {
            return Err(OAuthError::InvalidTarget(
                "name the API to exchange for (resource or audience)".into(),
            ));
        }
    };
    if !app.exchange_audiences.iter().any(|a| a == target) {
        return Err(OAuthError::InvalidTarget(
            "this app may not exchange tokens for that audience".into(),
        ));
    }
    let ended =
        || OAuthError::InvalidGrant("the subject token is invalid, expired or revoked".into());
    let (subject, issued_to) = active(ctx, req.subject_token).await?.ok_or_else(ended)?;
    // A user's token of this organization, issued to one of its apps: nothing crosses.
    let Some(gid) = subject.gid.clone() else {
        return Err(OAuthError::InvalidGrant(
            "only a user's token may be exchanged".into(),
        ));
    };
    if subject.org_id != app.org_id.as_str() || issued_to.org_id != app.org_id {
        tracing::warn!(client = %app.client_id, "a token of another organization was presented for exchange");
        return Err(ended());
    }
    let grant = ctx
        .db
        .grant(&gid)
        .await
        .map_err(internal)?
        .filter(|g| g.revoked_at.is_none())
        .ok_or_else(ended)?;
    // What the subject token may do now, within what this app may have.
    let token_scopes =
        crate::domain::ScopeSet::parse([subject.scope.as_str()]).map_err(|_| ended())?;
    let now_allowed = current_scopes(
        ctx.db,
        &issued_to,
        &grant.org_id,
        &grant.user_id,
        &token_scopes,
    )
    .await?
    .ok_or_else(ended)?
    .intersect(&app.scopes);
    let scopes = exchanged_scopes(req.scope, &now_allowed)?.filter(|s| s.is_custom());
    if scopes.is_empty() {
        return Err(OAuthError::InvalidScope(
            "the subject token carries none of the API's scopes this app may have".into(),
        ));
    }
    // The actor: this app, after whoever acted before it.
    let mut act = json!({ "sub": app.client_id.as_str(), "client_id": app.client_id.as_str() });
    if let Some(before) = &subject.act {
        act["act"] = before.clone();
    }
    ctx.resource = Some(target);
    let mut answer = access_token(
        ctx,
        app,
        Subject {
            sub: &subject.sub,
            org_id: &subject.org_id,
            gid: Some(&gid),
            act: Some(act),
        },
        scopes,
    )
    .await?;
    answer.issued_token_type = Some(ACCESS_TOKEN_TYPE);
    answer.exchanged = Some(json!({
        "subject_jti": subject.jti,
        "subject_client_id": subject.client_id,
        "grant_id": gid,
        "audience": target,
    }));
    Ok(answer)
}
