//! The client credentials grant (RFC 6749 §4.4): an own-behalf app gets a token for itself,
//! in its organization, with the requested scopes (all of them must be allowed).

use super::access::{Subject, access_token};
use super::{Issuer, TokenResponse, may_use};
use crate::domain::oauth::{OAuthError, client_credentials_scopes};
use crate::domain::{AppKind, GrantType};
use crate::store::apps::App;

#[tracing::instrument(skip_all, fields(client_id = %app.client_id))]
pub async fn client_credentials(
    ctx: &Issuer<'_>,
    app: &App,
    scope: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    may_use(app, AppKind::OwnBehalf, GrantType::ClientCredentials)?;
    if !ctx.db.apps_on(&app.org_id).await.map_err(super::internal)? {
        return Err(OAuthError::UnauthorizedClient(
            crate::services::policy::APPS_OFF.into(),
        ));
    }
    let scopes = client_credentials_scopes(scope, &app.scopes)?;
    access_token(
        ctx,
        app,
        Subject {
            sub: &app.client_id,
            org_id: &app.org_id,
            gid: None,
            act: None,
        },
        scopes,
    )
    .await
}
