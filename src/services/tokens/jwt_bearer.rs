//! The JWT bearer grant (RFC 7523 §2.1): an assertion signed by a key registered for the
//! app, `iss` = the client id, `sub` = the user's e-mail, `aud` = our issuer or token
//! endpoint, short-lived, its `jti` never seen before. It acts for users of the app's
//! organization, or for a user elsewhere who authorized the app in the browser (see
//! `grant::start_direct`).

use super::grant::{NOT_FOR_THIS_APP, start_direct};
use super::{Issuer, TokenResponse, internal, may_use};
use crate::crypto::assertions;
use crate::domain::oauth::{OAuthError, TOKEN_PATH, user_grant_scopes};
use crate::domain::{AppKind, Email, GrantType};
use crate::services::now;
use crate::store::{self, apps::App};

#[tracing::instrument(skip_all, fields(client_id = %app.client_id))]
pub async fn jwt_bearer(
    ctx: &Issuer<'_>,
    app: &App,
    assertion: &str,
    scope: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    may_use(app, AppKind::OnBehalfOfUser, GrantType::JwtBearer)?;
    let keys = app
        .public_keys
        .as_deref()
        .ok_or_else(|| OAuthError::UnauthorizedClient("the client has no registered key".into()))?;
    let t = now();
    let token_endpoint = format!("{}{TOKEN_PATH}", ctx.url);
    let a = assertions::verify(
        assertion,
        keys,
        &app.client_id,
        &[ctx.url, &token_endpoint],
        t,
    )
    .map_err(OAuthError::InvalidGrant)?;
    let scopes = user_grant_scopes(scope, &app.scopes)?;
    let replay_key = format!("{}:{}", app.client_id, a.jti);
    if !store::tokens::use_jti(
        &ctx.db.pool,
        &replay_key,
        a.exp + assertions::LEEWAY_SECS as i64,
    )
    .await
    .map_err(internal)?
    {
        return Err(OAuthError::InvalidGrant(
            "the assertion was already used".into(),
        ));
    }
    let unknown = || OAuthError::InvalidGrant(NOT_FOR_THIS_APP.into());
    let email = Email::parse(&a.sub).map_err(|_| unknown())?;
    let user = store::users::find_by_email(&ctx.db.pool, email.as_str())
        .await
        .map_err(internal)?
        .ok_or_else(unknown)?;
    start_direct(ctx, app, &user.id, scopes, GrantType::JwtBearer).await
}
