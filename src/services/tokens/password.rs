//! The resource-owner password grant (RFC 6749 §4.3): the user's e-mail and password,
//! checked and throttled exactly as on the login page, for users of the app's own
//! organization only (RFC 9700 §2.4 deprecates it; it stays for first-party apps).

use secrecy::SecretString;

use super::grant::{NOT_FOR_THIS_APP, start_direct};
use super::{Issuer, TokenResponse, internal, may_use};
use crate::domain::oauth::{OAuthError, user_grant_scopes};
use crate::domain::{AppKind, GrantType};
use crate::services::{self, RequestMeta, auth};
use crate::store::apps::App;

#[tracing::instrument(skip_all, fields(client_id = %app.client_id))]
pub async fn password(
    ctx: &Issuer<'_>,
    meta: &RequestMeta,
    app: &App,
    username: &str,
    password: SecretString,
    scope: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    may_use(app, AppKind::OnBehalfOfUser, GrantType::Password)?;
    let scopes = user_grant_scopes(scope, &app.scopes)?;
    let user = match auth::login(ctx.db, meta, username, password).await {
        Ok(user) => user,
        Err(services::Error::BadCredentials | services::Error::Forbidden(_)) => {
            return Err(OAuthError::InvalidGrant(NOT_FOR_THIS_APP.into()));
        }
        Err(services::Error::Throttled(secs)) => {
            return Err(OAuthError::InvalidGrant(format!(
                "too many failed attempts; try again in {secs} seconds"
            )));
        }
        Err(e) => return Err(internal(e)),
    };
    start_direct(ctx, app, &user.user_id, scopes, GrantType::Password).await
}
