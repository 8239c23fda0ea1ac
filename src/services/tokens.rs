//! Client authentication and token issuance (client credentials for now).

use secrecy::SecretString;
use serde::Serialize;

use super::keys::KeyRing;
use super::now;
use crate::crypto::{random_token, secrets};
use crate::domain::oauth::{OAuthError, client_credentials_scopes};
use crate::domain::{AppKind, GrantType, ScopeSet};
use crate::store::{self, Db, apps::AppRow};

/// A secret's last use is recorded to the minute, so most requests write nothing.
const LAST_USED_GRANULARITY: i64 = 60;

fn internal(e: impl std::fmt::Display) -> OAuthError {
    tracing::error!(error = %e, "token endpoint");
    OAuthError::ServerError
}

/// Authenticates a client by its secret, or, for a public client, by its id alone.
/// Unknown clients and wrong secrets get the same answer.
pub async fn authenticate(
    db: &Db,
    client_id: &str,
    secret: Option<SecretString>,
) -> Result<AppRow, OAuthError> {
    let refused = || OAuthError::InvalidClient("client authentication failed".into());
    if client_id.is_empty() || client_id.len() > 200 {
        return Err(refused());
    }
    let app = store::apps::find(&db.pool, client_id)
        .await
        .map_err(internal)?;
    let Some(app) = app else {
        // Spend the same work as a real check.
        if let Some(s) = &secret {
            secrets::verify(s, "");
        }
        return Err(refused());
    };
    match (app.public_client, secret) {
        (true, None) => {}
        (true, Some(_)) | (false, None) => return Err(refused()),
        (false, Some(secret)) => {
            let t = now();
            let stored = store::apps::secrets(&db.pool, client_id)
                .await
                .map_err(internal)?;
            let matched = stored.iter().find(|s| {
                s.expires_at.is_none_or(|e| e > t) && secrets::verify(&secret, &s.digest)
            });
            let Some(matched) = matched else {
                return Err(refused());
            };
            if matched
                .last_used_at
                .is_none_or(|last| last < t - LAST_USED_GRANULARITY)
            {
                store::apps::touch_secret(&db.pool, &matched.id, t, LAST_USED_GRANULARITY)
                    .await
                    .map_err(internal)?;
            }
        }
    }
    if !app.enabled {
        return Err(OAuthError::InvalidClient("the client is disabled".into()));
    }
    Ok(app)
}

/// Claims of an access token (RFC 9068).
#[derive(Debug, Serialize)]
struct AccessClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: i64,
    iat: i64,
    nbf: i64,
    jti: &'a str,
    client_id: &'a str,
    scope: &'a str,
    org_id: &'a str,
}

/// A token response (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
}

/// The client credentials grant: an own-behalf app gets a token for itself, in its
/// organization, with the requested scopes (all of them must be allowed).
pub fn client_credentials(
    ring: &KeyRing,
    issuer: &str,
    app: &AppRow,
    scope: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let kind = AppKind::parse(&app.kind).map_err(|e| internal(e.message))?;
    if kind != AppKind::OwnBehalf
        || !app
            .grant_types
            .split_whitespace()
            .any(|g| g == GrantType::ClientCredentials.as_str())
    {
        return Err(OAuthError::UnauthorizedClient(
            "the client may not use the client_credentials grant".into(),
        ));
    }
    let allowed = ScopeSet::parse([app.scopes.as_str()]).map_err(|e| internal(e.message))?;
    let scopes = client_credentials_scopes(scope, &allowed)?.to_space_separated();
    let t = now();
    let jti = random_token(16);
    let claims = AccessClaims {
        iss: issuer,
        sub: &app.client_id,
        aud: issuer,
        exp: t + app.access_token_ttl,
        iat: t,
        nbf: t,
        jti: &jti,
        client_id: &app.client_id,
        scope: &scopes,
        org_id: &app.org_id,
    };
    let access_token = sign(ring, t, &claims)?;
    Ok(TokenResponse {
        access_token,
        token_type: "Bearer",
        expires_in: app.access_token_ttl,
        scope: scopes,
    })
}

/// Signs access-token claims with the ring's current key, `typ: at+jwt`.
fn sign(ring: &KeyRing, t: i64, claims: &impl Serialize) -> Result<String, OAuthError> {
    let key = ring
        .signing_key(t)
        .ok_or_else(|| internal("no active signing key"))?;
    let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
    header.typ = Some("at+jwt".into());
    header.kid = Some(key.kid.clone());
    jsonwebtoken::encode(&header, claims, &key.encoding).map_err(internal)
}

/// The claims of one of our access tokens, once verified.
#[derive(Debug, Serialize, serde::Deserialize)]
pub struct VerifiedAccess {
    pub iss: String,
    pub sub: String,
    pub aud: String,
    pub exp: i64,
    pub iat: i64,
    pub nbf: i64,
    pub jti: String,
    pub client_id: String,
    pub scope: String,
    pub org_id: String,
}

/// Verifies an access token of ours: ES256 by a published key, our issuer and audience,
/// not expired. Anything else (another algorithm, `none`, a tampered claim) is `None`.
pub fn verify_access(ring: &KeyRing, issuer: &str, token: &str) -> Option<VerifiedAccess> {
    use jsonwebtoken::{Algorithm, Validation, decode, decode_header};
    let header = decode_header(token).ok()?;
    if header.alg != Algorithm::ES256 || header.typ.as_deref() != Some("at+jwt") {
        return None;
    }
    let key = ring.by_kid(header.kid.as_deref()?)?;
    let mut v = Validation::new(Algorithm::ES256);
    v.set_issuer(&[issuer]);
    v.set_audience(&[issuer]);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v.leeway = 0;
    decode::<VerifiedAccess>(token, &key.decoding, &v)
        .ok()
        .map(|d| d.claims)
}

/// RFC 7662: whether a token is active, and its claims, for a confidential client of the
/// token's own organization. Revoked tokens, tokens of disabled or deleted apps, and
/// tokens of other organizations are inactive.
pub async fn introspect(
    db: &Db,
    ring: &KeyRing,
    issuer: &str,
    caller: &AppRow,
    token: &str,
) -> Result<serde_json::Value, OAuthError> {
    if caller.public_client {
        return Err(OAuthError::InvalidClient(
            "introspection needs a confidential client".into(),
        ));
    }
    let inactive = serde_json::json!({ "active": false });
    let Some(c) = verify_access(ring, issuer, token) else {
        return Ok(inactive);
    };
    if c.org_id != caller.org_id
        || store::tokens::is_revoked(&db.pool, &c.jti)
            .await
            .map_err(internal)?
    {
        return Ok(inactive);
    }
    match store::apps::find(&db.pool, &c.client_id)
        .await
        .map_err(internal)?
    {
        Some(app) if app.enabled && app.org_id == c.org_id => {}
        _ => return Ok(inactive),
    }
    let mut answer = serde_json::to_value(&c).map_err(internal)?;
    answer["active"] = true.into();
    answer["token_type"] = "Bearer".into();
    Ok(answer)
}

/// RFC 7009: revokes an access token issued to `caller`; any other token is ignored
/// (the answer is the same, so nothing is revealed).
pub async fn revoke(
    db: &Db,
    ring: &KeyRing,
    issuer: &str,
    caller: &AppRow,
    token: &str,
) -> Result<(), OAuthError> {
    if let Some(c) = verify_access(ring, issuer, token)
        && c.client_id == caller.client_id
    {
        store::tokens::revoke(&db.pool, &c.jti, &c.client_id, c.exp, now())
            .await
            .map_err(internal)?;
    }
    Ok(())
}
