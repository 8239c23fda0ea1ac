//! The JWT bearer grant (RFC 7523 §2.1): an assertion signed by a key registered for the
//! app, `iss` = the client id, `sub` = the user's e-mail (or, as Anypoint writes it,
//! `1|<identity provider id>|<username at that provider>`), `aud` = our issuer or token
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
    let user_id = match subject(&a.sub).ok_or_else(unknown)? {
        Subject::Email(email) => {
            store::users::find_by_email(&ctx.db.pool, email.as_str())
                .await
                .map_err(internal)?
                .ok_or_else(unknown)?
                .id
        }
        Subject::AtProvider { provider, username } => {
            crate::services::upstream::user_at(ctx.db, provider, username)
                .await
                .map_err(internal)?
                .ok_or_else(unknown)?
        }
    };
    start_direct(ctx, app, &user_id, scopes, GrantType::JwtBearer).await
}

/// Whom an assertion's `sub` names.
#[derive(Debug, PartialEq)]
enum Subject<'a> {
    Email(Email),
    /// `1|<provider id>|<username>`: a user of an organization's identity provider, by
    /// their subject there or their address.
    AtProvider {
        provider: &'a str,
        username: &'a str,
    },
}

fn subject(sub: &str) -> Option<Subject<'_>> {
    let mut parts = sub.splitn(3, '|');
    match (parts.next(), parts.next(), parts.next()) {
        (Some("1"), Some(provider), Some(username))
            if !provider.is_empty()
                && !username.is_empty()
                && provider.len() <= 100
                && username.len() <= 320 =>
        {
            Some(Subject::AtProvider { provider, username })
        }
        (Some(_), None, None) => Email::parse(sub).ok().map(Subject::Email),
        _ => None,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn subjects() {
        assert!(matches!(
            subject("ana@example.com"),
            Some(Subject::Email(_))
        ));
        assert_eq!(
            subject("1|prov-1|ana@corp.example"),
            Some(Subject::AtProvider {
                provider: "prov-1",
                username: "ana@corp.example"
            })
        );
        assert_eq!(
            subject("1|prov-1|sub|with|bars"),
            Some(Subject::AtProvider {
                provider: "prov-1",
                username: "sub|with|bars"
            })
        );
        for bad in ["2|p|u", "1||u", "1|p|", "1|p", "not an address", ""] {
            assert_eq!(subject(bad), None, "{bad}");
        }
    }
}
