//! ID tokens (OpenID Connect Core §2) and what they say about the user, and reading one
//! back as an `id_token_hint`.

use serde::Serialize;

use super::access::sign;
use super::{Issuer, TokenResponse, internal};
use crate::domain::oauth::OAuthError;
use crate::services::keys::KeyRing;
use crate::services::now;
use crate::store::{self, Db, apps::App, grants::Grant};

/// The `typ` header of our ID tokens; access tokens carry `at+jwt` (RFC 9068), so one can
/// never stand in for the other.
const ID_TOKEN_TYP: &str = "JWT";

/// Claims of an ID token (OpenID Connect Core §2), with the user's claims by scope.
#[derive(Debug, Serialize)]
struct IdClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    azp: &'a str,
    exp: i64,
    iat: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    nonce: Option<&'a str>,
    at_hash: String,
    #[serde(flatten)]
    user: UserClaims,
}

/// What OpenID Connect says about the user (ID token and userinfo), by scope.
#[derive(Debug, Serialize)]
pub struct UserClaims {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email_verified: Option<bool>,
}

pub(super) async fn user_claims(
    db: &Db,
    user_id: &str,
    scopes: &str,
) -> Result<UserClaims, OAuthError> {
    let has = |s: &str| scopes.split(' ').any(|x| x == s);
    let user = store::users::get(&db.pool, user_id)
        .await
        .map_err(internal)?
        .ok_or_else(|| OAuthError::InvalidGrant("the user no longer exists".into()))?;
    Ok(UserClaims {
        name: has("profile").then_some(user.name),
        // Addresses are entered by admins, not proven by the user.
        email_verified: has("email").then_some(false),
        email: has("email").then_some(user.email),
    })
}

pub(super) async fn id_token(
    ctx: &Issuer<'_>,
    app: &App,
    grant: &Grant,
    answer: &TokenResponse,
    nonce: Option<&str>,
) -> Result<String, OAuthError> {
    let t = now();
    let claims = IdClaims {
        iss: ctx.url,
        sub: &grant.user_id,
        aud: &app.client_id,
        azp: &app.client_id,
        exp: t + app.access_token_ttl,
        iat: t,
        auth_time: grant.auth_time,
        nonce,
        at_hash: crate::crypto::pkce::at_hash(&answer.access_token),
        user: user_claims(ctx.db, &grant.user_id, &answer.scope).await?,
    };
    let alg = if app.id_token_alg == crate::crypto::signing::RS256 {
        jsonwebtoken::Algorithm::RS256
    } else {
        jsonwebtoken::Algorithm::ES256
    };
    sign(ctx.ring, t, ID_TOKEN_TYP, alg, &claims)
}

/// What an `id_token_hint` says: whose session, for which client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdTokenHint {
    pub sub: String,
    pub client_id: String,
}

/// Reads an `id_token_hint`: an ID token we issued (our signature and issuer, `typ` of an
/// ID token, one audience with `azp` equal to it); its expiry is not checked (OIDC
/// RP-Initiated Logout §2). An access token, or anything else signed by us, is `None`.
/// Whether the audience is a registered client is the caller's check.
pub fn id_token_hint(ring: &KeyRing, issuer: &str, token: &str) -> Option<IdTokenHint> {
    use jsonwebtoken::{Validation, decode, decode_header};
    #[derive(serde::Deserialize)]
    struct Hint {
        sub: String,
        aud: String,
        azp: String,
    }
    let header = decode_header(token).ok()?;
    if header.typ.as_deref() != Some(ID_TOKEN_TYP) {
        return None;
    }
    let key = ring.by_kid(header.kid.as_deref()?)?;
    if header.alg != key.alg {
        return None;
    }
    let mut v = Validation::new(key.alg);
    v.set_issuer(&[issuer]);
    v.validate_exp = false;
    v.validate_aud = false;
    v.set_required_spec_claims(&["iss", "sub", "aud"]);
    let hint = decode::<Hint>(token, &key.decoding, &v).ok()?.claims;
    (hint.azp == hint.aud).then_some(IdTokenHint {
        sub: hint.sub,
        client_id: hint.aud,
    })
}
