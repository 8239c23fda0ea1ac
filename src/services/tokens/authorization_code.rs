//! The authorization code grant (RFC 6749 §4.1.3, PKCE RFC 7636): the code is single use,
//! 60 seconds, bound to the client, the redirect URI and the PKCE verifier. The binding is
//! checked before the code is spent, so a code stolen by another client, or presented with
//! the wrong verifier, is refused without touching the victim's grant; only the same client
//! presenting a spent code with its verifier (a replay) revokes the grant and so every
//! token issued from it.

use super::grant::{redeem_approved, revoke_on_reuse};
use super::{Issuer, TokenResponse, internal, may_use};
use crate::crypto::secrets;
use crate::domain::oauth::OAuthError;
use crate::domain::{AppKind, GrantType};
use crate::services::now;
use crate::store::{self, apps::App};

#[tracing::instrument(skip_all, fields(client_id = %app.client_id))]
pub async fn authorization_code(
    ctx: &Issuer<'_>,
    app: &App,
    code: &str,
    redirect_uri: Option<&str>,
    verifier: &str,
) -> Result<TokenResponse, OAuthError> {
    let db = ctx.db;
    may_use(app, AppKind::OnBehalfOfUser, GrantType::AuthorizationCode)?;
    let invalid = |m: &str| OAuthError::InvalidGrant(m.into());
    let expired = || invalid("the code is invalid, expired or already used");
    let digest = secrets::digest(code);
    let row = store::authz::find_code(&db.pool, &digest)
        .await
        .map_err(internal)?
        .ok_or_else(expired)?;
    let t = now();
    // The binding first: another client's code is simply not this client's.
    if row.client_id != app.client_id {
        tracing::warn!(client = %app.client_id, "a code issued to another client was presented");
        return Err(expired());
    }
    match redirect_uri {
        Some(r) if r != row.redirect_uri => {
            return Err(invalid(
                "redirect_uri differs from the authorization request's",
            ));
        }
        None if app.redirect_uris.len() != 1 => {
            return Err(OAuthError::InvalidRequest(
                "the redirect_uri parameter is missing".into(),
            ));
        }
        _ => {}
    }
    if !crate::crypto::pkce::verify(verifier, &row.code_challenge) {
        return Err(invalid(
            "the code_verifier does not match the code_challenge",
        ));
    }
    super::dpop::same_key(row.dpop_jkt.as_deref(), ctx, "code")?;
    // The rightful client with the right verifier: a spent code now is a replay.
    if !store::authz::use_code(&db.pool, &digest, t)
        .await
        .map_err(internal)?
    {
        revoke_on_reuse(db, app, &row.grant_id, "authorization_code").await?;
        return Err(expired());
    }
    if row.expires_at <= t {
        return Err(expired());
    }
    redeem_approved(ctx, app, &row.grant_id, row.nonce.as_deref(), expired).await
}
