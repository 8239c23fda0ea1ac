//! Access tokens (RFC 9068 JWTs, ES256): signing one, verifying one, and deciding whether
//! one is still good (not revoked, its app enabled, its grant and membership alive).

use serde::Serialize;

use super::{Issuer, TokenResponse, internal};
use crate::crypto::random_token;
use crate::domain::ScopeSet;
use crate::domain::oauth::OAuthError;
use crate::services::keys::KeyRing;
use crate::services::now;
use crate::store::apps::App;

/// A token's audience: one, or several (RFC 7519 §4.1.3).
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
#[serde(untagged)]
pub enum Aud {
    One(String),
    Many(Vec<String>),
}

impl Aud {
    fn of(mut list: Vec<String>) -> Self {
        if list.len() == 1 {
            Aud::One(list.remove(0))
        } else {
            Aud::Many(list)
        }
    }

    /// Whether the token is meant for `audience`.
    pub fn contains(&self, audience: &str) -> bool {
        match self {
            Aud::One(a) => a == audience,
            Aud::Many(list) => list.iter().any(|a| a == audience),
        }
    }
}

/// Claims of an access token (RFC 9068). `gid` names the user grant it was issued under,
/// so revoking the grant ends the token.
#[derive(Debug, Serialize)]
struct AccessClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: Aud,
    exp: i64,
    iat: i64,
    nbf: i64,
    jti: &'a str,
    client_id: &'a str,
    scope: &'a str,
    org_id: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    gid: Option<&'a str>,
    /// The key the token is bound to (RFC 9449 §6.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    cnf: Option<Cnf>,
    /// The actor of an exchanged token (RFC 8693 §4.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    act: Option<serde_json::Value>,
}

/// A confirmation claim (RFC 7800): the thumbprint of the DPoP key a token is bound to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct Cnf {
    pub jkt: String,
}

/// Who a token is for: the app itself (client credentials) or a user under a grant.
pub(super) struct Subject<'a> {
    pub sub: &'a str,
    pub org_id: &'a str,
    pub gid: Option<&'a str>,
    /// Who acts for the subject (RFC 8693 §4.1): a token exchanged by an app.
    pub act: Option<serde_json::Value>,
}

/// Signs an access token for `subject` and wraps it in a token response. Its audience is
/// this server, or the app's organization's APIs its scopes belong to (or the one the
/// request names with `resource`).
pub(super) async fn access_token(
    ctx: &Issuer<'_>,
    app: &App,
    subject: Subject<'_>,
    scopes: ScopeSet,
) -> Result<TokenResponse, OAuthError> {
    let (aud, scopes) =
        crate::services::apis::audience(ctx.db, ctx.url, &app.org_id, ctx.resource, scopes).await?;
    let scopes = scopes.to_space_separated();
    let t = now();
    let jti = random_token(16);
    let claims = AccessClaims {
        iss: ctx.url,
        sub: subject.sub,
        aud: Aud::of(aud),
        exp: t + app.access_token_ttl,
        iat: t,
        nbf: t,
        jti: &jti,
        client_id: &app.client_id,
        scope: &scopes,
        org_id: subject.org_id,
        gid: subject.gid,
        cnf: ctx.dpop_jkt.clone().map(|jkt| Cnf { jkt }),
        act: subject.act,
    };
    Ok(TokenResponse {
        access_token: sign(
            ctx.ring,
            t,
            "at+jwt",
            jsonwebtoken::Algorithm::ES256,
            &claims,
        )?,
        token_type: if ctx.dpop_jkt.is_some() {
            "DPoP"
        } else {
            "Bearer"
        },
        expires_in: app.access_token_ttl,
        scope: scopes,
        refresh_token: None,
        id_token: None,
        issued_token_type: None,
        sub: subject.sub.to_string(),
        jti,
        exchanged: None,
    })
}

/// Signs claims with the ring's current key of `alg`: `typ` is `at+jwt` for access tokens
/// (RFC 9068, always ES256) and `JWT` for ID tokens (the app's algorithm).
pub(super) fn sign(
    ring: &KeyRing,
    t: i64,
    typ: &str,
    alg: jsonwebtoken::Algorithm,
    claims: &impl Serialize,
) -> Result<String, OAuthError> {
    let key = ring
        .signing_key(t, alg)
        .ok_or_else(|| internal("no active signing key"))?;
    let mut header = jsonwebtoken::Header::new(alg);
    header.typ = Some(typ.into());
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).map_err(internal)
}

/// The claims of one of our access tokens, once verified.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct VerifiedAccess {
    pub iss: String,
    pub sub: String,
    pub aud: Aud,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    pub org_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cnf: Option<Cnf>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub act: Option<serde_json::Value>,
}

/// Verifies an access token of ours: ES256 by a published key, our issuer, an audience, not
/// expired. Anything else (another algorithm, `none`, a tampered claim) is `None`. Which
/// audience a caller accepts is its own check: this server's API and userinfo want this
/// server; introspection answers for every audience (resource servers check theirs).
pub fn verify_access(ring: &KeyRing, issuer: &str, token: &str) -> Option<VerifiedAccess> {
    use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
    let header = decode_header(token).ok()?;
    if header.alg != Algorithm::ES256 || header.typ.as_deref() != Some("at+jwt") {
        return None;
    }
    let key = ring
        .by_kid(header.kid.as_deref()?)
        .filter(|k| k.alg == Algorithm::ES256)?;
    let mut v = Validation::new(Algorithm::ES256);
    v.set_issuer(&[issuer]);
    v.validate_aud = false;
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v.leeway = 0;
    decode::<VerifiedAccess>(token, &key.decoding, &v)
        .ok()
        .map(|d| d.claims)
}

/// An access token of ours that is still good: signed by us, unexpired, not revoked, its
/// app enabled, connected apps on in its organizations, and (for a user token) its grant unrevoked and its user still a member.
/// Returns its claims and the app it was issued to.
pub async fn active(
    ctx: &Issuer<'_>,
    token: &str,
) -> Result<Option<(VerifiedAccess, App)>, OAuthError> {
    let db = ctx.db;
    let Some(c) = verify_access(ctx.ring, ctx.url, token) else {
        return Ok(None);
    };
    if db.is_revoked(&c.jti).await.map_err(internal)? {
        return Ok(None);
    }
    let Some(app) = db
        .app(&c.client_id)
        .await
        .map_err(internal)?
        .filter(|a| a.enabled)
    else {
        return Ok(None);
    };
    // Connected apps turned off where the app lives or where the token acts.
    for org in [app.org_id.as_str(), c.org_id.as_str()] {
        if !db.apps_on(org).await.map_err(internal)? {
            return Ok(None);
        }
    }
    if let Some(gid) = &c.gid {
        let grant = db.grant(gid).await.map_err(internal)?;
        let Some(grant) = grant.filter(|g| g.revoked_at.is_none()) else {
            return Ok(None);
        };
        if db
            .member(&grant.org_id, &grant.user_id)
            .await
            .map_err(internal)?
            .is_none()
        {
            return Ok(None);
        }
    }
    Ok(Some((c, app)))
}

/// `active`, for this server's own resources (the REST API, userinfo): the token must name
/// this server in its audience; a token for another API is refused here.
/// The token must also be presented as its binding asks (a DPoP-bound one with a proof).
pub async fn active_here(
    ctx: &Issuer<'_>,
    presented: &super::Presented<'_>,
) -> Result<(VerifiedAccess, App), super::BearerError> {
    use super::BearerError;
    let (c, app) = active(ctx, presented.token)
        .await
        .map_err(|_| BearerError::Internal)?
        .filter(|(c, _)| c.aud.contains(ctx.url))
        .ok_or(BearerError::InvalidToken)?;
    super::check_presentation(ctx, &c, presented).await?;
    Ok((c, app))
}
