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
        // Verified once the user opened a link sent to the address.
        email_verified: has("email").then_some(user.email_verified_at.is_some()),
        email: has("email").then_some(user.email),
    })
}

/// The session an ID token's sign-in belongs to (`sid`, OpenID Connect Back-Channel Logout
/// §2.1), when the grant was started in a browser session.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
struct SessionClaim {
    #[serde(skip_serializing_if = "Option::is_none")]
    sid: Option<String>,
}

impl openidconnect::AdditionalClaims for SessionClaim {}

/// The app's ID-token algorithm, as jsonwebtoken and openidconnect name it.
fn algorithms(
    app: &App,
) -> (
    jsonwebtoken::Algorithm,
    openidconnect::core::CoreJwsSigningAlgorithm,
) {
    use openidconnect::core::CoreJwsSigningAlgorithm;
    if app.id_token_alg == crate::crypto::signing::RS256 {
        (
            jsonwebtoken::Algorithm::RS256,
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        )
    } else {
        (
            jsonwebtoken::Algorithm::ES256,
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        )
    }
}

/// The `typ` of a logout token (Back-Channel Logout §2.4, recommended explicit typing).
const LOGOUT_TOKEN_TYP: &str = "logout+jwt";
/// The event a logout token carries.
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// A logout token (Back-Channel Logout §2.4) for `app`: the user `sub` and the session
/// `sid` that ended, signed like the app's ID tokens, valid two minutes, never a nonce.
pub fn logout_token(
    ring: &KeyRing,
    issuer: &str,
    app: &App,
    sub: &str,
    sid: &str,
) -> Result<String, OAuthError> {
    let t = now();
    let claims = serde_json::json!({
        "iss": issuer,
        "aud": app.client_id.as_str(),
        "iat": t,
        "exp": t + 120,
        "jti": crate::crypto::random_token(16),
        "sub": sub,
        "sid": sid,
        "events": { BACKCHANNEL_LOGOUT_EVENT: {} },
    });
    sign(ring, t, LOGOUT_TOKEN_TYP, algorithms(app).0, &claims)
}

/// An ID token for the grant's user, as `openidconnect`'s typed claims (the model its
/// clients parse), `at_hash` computed by it from the key that signs, signed with the app's
/// ID-token algorithm by the key ring.
pub(super) async fn id_token(
    ctx: &Issuer<'_>,
    app: &App,
    grant: &Grant,
    answer: &TokenResponse,
    nonce: Option<&str>,
) -> Result<String, OAuthError> {
    use openidconnect::core::CoreGenderClaim;
    use openidconnect::{
        AccessToken, AccessTokenHash, Audience, AuthenticationContextClass,
        AuthenticationMethodReference, ClientId, EndUserEmail, EndUserName, IdTokenClaims,
        IssuerUrl, LocalizedClaim, Nonce, StandardClaims, SubjectIdentifier,
    };
    let t = now();
    let (alg, oidc_alg) = algorithms(app);
    let key = ctx
        .ring
        .signing_key(t, alg)
        .ok_or_else(|| internal("no active signing key"))?;
    let jwk = ctx
        .ring
        .public_jwk(&key.kid)
        .ok_or_else(|| internal("the signing key is not published"))?;
    let at_hash = AccessTokenHash::from_token(
        &AccessToken::new(answer.access_token.clone()),
        &oidc_alg,
        jwk,
    )
    .map_err(internal)?;
    let user = user_claims(ctx.db, &grant.user_id, &answer.scope).await?;
    let mut standard = StandardClaims::new(SubjectIdentifier::new(grant.user_id.to_string()));
    if let Some(name) = user.name {
        standard = standard.set_name(Some(LocalizedClaim::from(EndUserName::new(name))));
    }
    if let Some(email) = user.email {
        standard = standard
            .set_email(Some(EndUserEmail::new(email)))
            .set_email_verified(user.email_verified);
    }
    let at = |secs: i64| {
        chrono::DateTime::from_timestamp(secs, 0).ok_or_else(|| internal("time out of range"))
    };
    let issuer = IssuerUrl::new(ctx.url.to_string()).map_err(internal)?;
    let claims = IdTokenClaims::<SessionClaim, CoreGenderClaim>::new(
        issuer,
        vec![Audience::new(app.client_id.to_string())],
        at(t + app.access_token_ttl)?,
        at(t)?,
        standard,
        SessionClaim {
            sid: grant.sid.clone(),
        },
    )
    .set_authorized_party(Some(ClientId::new(app.client_id.to_string())))
    .set_auth_time(grant.auth_time.map(at).transpose()?)
    .set_auth_context_ref(
        grant
            .amr
            .as_deref()
            .map(|amr| AuthenticationContextClass::new(crate::domain::mfa::acr_of(amr).into())),
    )
    .set_auth_method_refs(grant.amr.as_deref().map(|amr| {
        amr.split(' ')
            .filter(|m| !m.is_empty())
            .map(|m| AuthenticationMethodReference::new(m.into()))
            .collect()
    }))
    .set_nonce(nonce.map(|n| Nonce::new(n.to_string())))
    .set_access_token_hash(Some(at_hash));
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
        aud: super::access::Aud,
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
    let single = match hint.aud {
        super::access::Aud::One(a) => a,
        super::access::Aud::Many(mut list) if list.len() == 1 => list.remove(0),
        super::access::Aud::Many(_) => return None,
    };
    (hint.azp == single).then_some(IdTokenHint {
        sub: hint.sub,
        client_id: single,
    })
}
