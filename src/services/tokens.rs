//! Client authentication and token issuance (client credentials for now).

use secrecy::SecretString;
use serde::Serialize;

use super::keys::KeyRing;
use super::policy::Access;
use super::{RequestMeta, auth, new_id, now};
use crate::crypto::{assertions, random_token, secrets};
use crate::domain::oauth::TOKEN_PATH;
use crate::domain::oauth::{
    OAuthError, client_credentials_scopes, narrowed_scopes, user_grant_scopes,
};
use crate::domain::{AppKind, Email, GrantType, ScopeSet};
use crate::store::{self, Db, apps::AppRow, grants::GrantRow, grants::RefreshRow};

/// A secret's last use is recorded to the minute, so most requests write nothing.
const LAST_USED_GRANULARITY: i64 = 60;

fn internal(e: impl std::fmt::Display) -> OAuthError {
    tracing::error!(error = %e, "token endpoint");
    OAuthError::ServerError
}

/// How a client proves who it is at the token endpoint.
pub enum ClientProof {
    /// `client_secret_basic` or `client_secret_post`.
    Secret(SecretString),
    /// `private_key_jwt`: an assertion signed by a registered key.
    Assertion(String),
    /// `none`: a public client, identified by its id alone.
    None,
}

/// Authenticates a client. Unknown clients and wrong proofs get the same answer.
pub async fn authenticate(
    ctx: &Issuer<'_>,
    client_id: &str,
    proof: ClientProof,
) -> Result<AppRow, OAuthError> {
    let db = ctx.db;
    let refused = || OAuthError::InvalidClient("client authentication failed".into());
    if client_id.is_empty() || client_id.len() > 200 {
        return Err(refused());
    }
    let Some((app, stored)) = store::apps::find_with_secrets(&db.pool, client_id)
        .await
        .map_err(internal)?
    else {
        // Spend the same work as a real check.
        if let ClientProof::Secret(s) = &proof {
            secrets::verify(s, "");
        }
        return Err(refused());
    };
    match (app.public_client, proof) {
        (true, ClientProof::None) => {}
        (true, _) | (false, ClientProof::None) => return Err(refused()),
        (false, ClientProof::Secret(secret)) => {
            let t = now();
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
        (false, ClientProof::Assertion(assertion)) => {
            let keys = app.public_keys.as_deref().ok_or_else(refused)?;
            let token_endpoint = format!("{}{TOKEN_PATH}", ctx.url);
            let t = now();
            let a = assertions::verify(&assertion, keys, client_id, &[ctx.url, &token_endpoint], t)
                .map_err(|m| OAuthError::InvalidClient(format!("client assertion refused: {m}")))?;
            if a.sub != client_id {
                return Err(OAuthError::InvalidClient(
                    "the client assertion's sub must be the client id".into(),
                ));
            }
            let replay_key = format!("client:{client_id}:{}", a.jti);
            if !store::tokens::use_jti(
                &db.pool,
                &replay_key,
                a.exp + assertions::LEEWAY_SECS as i64,
            )
            .await
            .map_err(internal)?
            {
                return Err(OAuthError::InvalidClient(
                    "the client assertion was already used".into(),
                ));
            }
        }
    }
    if !app.enabled {
        return Err(OAuthError::InvalidClient("the client is disabled".into()));
    }
    Ok(app)
}

/// What issuing and checking tokens needs: the store, the key ring and our issuer URL.
pub struct Issuer<'a> {
    pub db: &'a Db,
    pub ring: &'a KeyRing,
    pub url: &'a str,
    /// The API a token request targets (RFC 8707 `resource`), if it names one.
    pub resource: Option<&'a str>,
}

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
}

/// A token response (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// The token's subject (for the audit record), not sent.
    #[serde(skip)]
    pub sub: String,
}

/// Who a token is for: the app itself (client credentials) or a user under a grant.
struct Subject<'a> {
    sub: &'a str,
    org_id: &'a str,
    gid: Option<&'a str>,
}

/// Signs an access token for `subject` and wraps it in a token response. Its audience is
/// this server, or the app's organization's APIs its scopes belong to (or the one the
/// request names with `resource`).
async fn access_token(
    ctx: &Issuer<'_>,
    app: &AppRow,
    subject: Subject<'_>,
    scopes: ScopeSet,
) -> Result<TokenResponse, OAuthError> {
    let (aud, scopes) =
        super::apis::audience(ctx.db, ctx.url, &app.org_id, ctx.resource, scopes).await?;
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
    };
    Ok(TokenResponse {
        access_token: sign(
            ctx.ring,
            t,
            "at+jwt",
            jsonwebtoken::Algorithm::ES256,
            &claims,
        )?,
        token_type: "Bearer",
        expires_in: app.access_token_ttl,
        scope: scopes,
        refresh_token: None,
        id_token: None,
        sub: subject.sub.to_string(),
    })
}

fn may_use(app: &AppRow, kind: AppKind, grant: GrantType) -> Result<(), OAuthError> {
    let app_kind = AppKind::parse(&app.kind).map_err(|e| internal(e.message))?;
    if app_kind != kind
        || !app
            .grant_types
            .split_whitespace()
            .any(|g| g == grant.as_str())
    {
        return Err(OAuthError::UnauthorizedClient(format!(
            "the client may not use the {} grant",
            grant.as_str()
        )));
    }
    Ok(())
}

fn allowed_scopes(app: &AppRow) -> Result<ScopeSet, OAuthError> {
    ScopeSet::parse([app.scopes.as_str()]).map_err(|e| internal(e.message))
}

/// The client credentials grant: an own-behalf app gets a token for itself, in its
/// organization, with the requested scopes (all of them must be allowed).
pub async fn client_credentials(
    ctx: &Issuer<'_>,
    app: &AppRow,
    scope: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    may_use(app, AppKind::OwnBehalf, GrantType::ClientCredentials)?;
    let scopes = client_credentials_scopes(scope, &allowed_scopes(app)?)?;
    access_token(
        ctx,
        app,
        Subject {
            sub: &app.client_id,
            org_id: &app.org_id,
            gid: None,
        },
        scopes,
    )
    .await
}

/// The resource-owner password grant: the user's e-mail and password, checked and
/// throttled exactly as on the login page.
pub async fn password(
    ctx: &Issuer<'_>,
    meta: &RequestMeta,
    app: &AppRow,
    username: &str,
    password: SecretString,
    scope: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let db = ctx.db;
    may_use(app, AppKind::OnBehalfOfUser, GrantType::Password)?;
    let scopes = user_grant_scopes(scope, &allowed_scopes(app)?)?;
    let user = match auth::login(db, meta, username, password).await {
        Ok(user) => user,
        Err(super::Error::BadCredentials) => {
            return Err(OAuthError::InvalidGrant(
                "wrong username or password".into(),
            ));
        }
        Err(super::Error::Throttled(secs)) => {
            return Err(OAuthError::InvalidGrant(format!(
                "too many failed attempts; try again in {secs} seconds"
            )));
        }
        Err(e) => return Err(internal(e)),
    };
    start_grant(ctx, app, &user.user_id, scopes, GrantType::Password).await
}

/// The JWT bearer grant (RFC 7523 §2.1): an assertion signed by a key registered for the
/// app, `iss` = the client id, `sub` = the user's e-mail, `aud` = our issuer or token
/// endpoint, short-lived, its `jti` never seen before.
pub async fn jwt_bearer(
    ctx: &Issuer<'_>,
    app: &AppRow,
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
    let scopes = user_grant_scopes(scope, &allowed_scopes(app)?)?;
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
    let unknown = || OAuthError::InvalidGrant("the assertion's subject is not a known user".into());
    let email = Email::parse(&a.sub).map_err(|_| unknown())?;
    let user = store::users::find_by_email(&ctx.db.pool, email.as_str())
        .await
        .map_err(internal)?
        .ok_or_else(unknown)?;
    start_grant(ctx, app, &user.id, scopes, GrantType::JwtBearer).await
}

/// Records a new grant of `user_id` to `app`, in the organization the user acts in
/// through it, and issues its tokens (a refresh token with `offline_access`).
async fn start_grant(
    ctx: &Issuer<'_>,
    app: &AppRow,
    user_id: &str,
    scopes: ScopeSet,
    grant_type: GrantType,
) -> Result<TokenResponse, OAuthError> {
    let db = ctx.db;
    let (org_id, scopes) = match super::policy::access(db, app, user_id)
        .await
        .map_err(internal)?
    {
        Access::Denied => {
            return Err(OAuthError::InvalidGrant(
                "this user may not use this app".into(),
            ));
        }
        Access::Blocked { .. } => {
            return Err(OAuthError::InvalidGrant(
                "the user's organization has not approved this app".into(),
            ));
        }
        Access::Open { org_id, within } => match within {
            None => (org_id, scopes),
            Some(w) => {
                let kept = scopes.intersect(&w);
                if kept.is_empty() {
                    return Err(OAuthError::InvalidScope(
                        "none of the requested scopes is approved by the user's organization"
                            .into(),
                    ));
                }
                (org_id, kept)
            }
        },
    };
    let grant = GrantRow {
        id: new_id(),
        org_id,
        client_id: app.client_id.clone(),
        user_id: user_id.to_string(),
        scopes: scopes.to_space_separated(),
        grant_type: grant_type.as_str().into(),
        created_at: now(),
        revoked_at: None,
        auth_time: None,
    };
    store::grants::insert(&db.pool, &grant)
        .await
        .map_err(internal)?;
    issue_for_grant(ctx, app, &grant, scopes.to_space_separated(), None).await
}

/// Whether a grant of `scopes` gets a refresh token: `offline_access` was granted and the
/// app may use the refresh grant.
fn with_refresh(app: &AppRow, scopes: &str) -> bool {
    scopes.split(' ').any(|s| s == "offline_access")
        && app
            .grant_types
            .split_whitespace()
            .any(|g| g == GrantType::RefreshToken.as_str())
}

/// The tokens of a grant: an access token; a new refresh token with `offline_access`; an
/// ID token with `openid` (`nonce` from the authorization request).
async fn issue_for_grant(
    ctx: &Issuer<'_>,
    app: &AppRow,
    grant: &GrantRow,
    scopes: String,
    nonce: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let db = ctx.db;
    let subject = Subject {
        sub: &grant.user_id,
        org_id: &grant.org_id,
        gid: Some(&grant.id),
    };
    let refresh = with_refresh(app, &grant.scopes);
    let openid = scopes.split(' ').any(|s| s == "openid");
    let scopes = ScopeSet::parse([scopes.as_str()]).map_err(|e| internal(e.message))?;
    let mut answer = access_token(ctx, app, subject, scopes).await?;
    if openid {
        answer.id_token = Some(id_token(ctx, app, grant, &answer, nonce).await?);
    }
    if refresh {
        let value = format!("lkr_{}", random_token(32));
        let t = now();
        let row = RefreshRow {
            digest: secrets::digest(&value),
            grant_id: grant.id.clone(),
            scopes: grant.scopes.clone(),
            created_at: t,
            expires_at: t + app.refresh_token_ttl,
            used_at: None,
        };
        store::grants::insert_refresh(&db.pool, &row)
            .await
            .map_err(internal)?;
        answer.refresh_token = Some(value);
    }
    Ok(answer)
}

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

async fn user_claims(db: &Db, user_id: &str, scopes: &str) -> Result<UserClaims, OAuthError> {
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

async fn id_token(
    ctx: &Issuer<'_>,
    app: &AppRow,
    grant: &GrantRow,
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
    sign(ctx.ring, t, "JWT", alg, &claims)
}

/// The authorization code grant: the code is single use, 60 seconds, bound to the client,
/// the redirect URI and the PKCE verifier. A code presented twice revokes its grant, and
/// so every token issued from it.
pub async fn authorization_code(
    ctx: &Issuer<'_>,
    app: &AppRow,
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
    if !store::authz::use_code(&db.pool, &digest, t)
        .await
        .map_err(internal)?
    {
        store::grants::revoke(&db.pool, &row.grant_id, t)
            .await
            .map_err(internal)?;
        tracing::warn!(grant = %row.grant_id, client = %app.client_id, "authorization code replayed; grant revoked");
        record_reuse(db, app, &row.grant_id, "authorization_code").await?;
        return Err(expired());
    }
    if row.client_id != app.client_id || row.expires_at <= t {
        return Err(expired());
    }
    match redirect_uri {
        Some(r) if r != row.redirect_uri => {
            return Err(invalid(
                "redirect_uri differs from the authorization request's",
            ));
        }
        None if app.redirect_uris.split_whitespace().count() != 1 => {
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
    let grant = store::grants::get(&db.pool, &row.grant_id)
        .await
        .map_err(internal)?
        .filter(|g| g.revoked_at.is_none())
        .ok_or_else(expired)?;
    if store::users::member(&db.pool, &grant.org_id, &grant.user_id)
        .await
        .map_err(internal)?
        .is_none()
    {
        return Err(expired());
    }
    let scopes = grant.scopes.clone();
    issue_for_grant(ctx, app, &grant, scopes, row.nonce.as_deref()).await
}

/// The refresh grant: single use; each use returns a new refresh token. A refresh token
/// used twice is a theft signal: the whole grant is revoked.
pub async fn refresh(
    ctx: &Issuer<'_>,
    app: &AppRow,
    token: &str,
    scope: Option<&str>,
) -> Result<TokenResponse, OAuthError> {
    let db = ctx.db;
    may_use(app, AppKind::OnBehalfOfUser, GrantType::RefreshToken)?;
    let invalid =
        || OAuthError::InvalidGrant("the refresh token is invalid, expired or revoked".into());
    let digest = secrets::digest(token);
    let row = store::grants::find_refresh(&db.pool, &digest)
        .await
        .map_err(internal)?
        .ok_or_else(invalid)?;
    let grant = store::grants::get(&db.pool, &row.grant_id)
        .await
        .map_err(internal)?
        .ok_or_else(invalid)?;
    if grant.client_id != app.client_id {
        return Err(invalid());
    }
    let t = now();
    // A bad scope refuses the request without spending the token.
    let granted = ScopeSet::parse([row.scopes.as_str()]).map_err(|e| internal(e.message))?;
    let scopes = narrowed_scopes(scope, &granted)?;
    if !store::grants::use_refresh(&db.pool, &digest, t)
        .await
        .map_err(internal)?
    {
        store::grants::revoke(&db.pool, &grant.id, t)
            .await
            .map_err(internal)?;
        tracing::warn!(grant = %grant.id, client = %app.client_id, "refresh token reused; grant revoked");
        record_reuse(db, app, &grant.id, "refresh_token").await?;
        return Err(invalid());
    }
    if grant.revoked_at.is_some() || row.expires_at <= t {
        return Err(invalid());
    }
    if store::users::member(&db.pool, &grant.org_id, &grant.user_id)
        .await
        .map_err(internal)?
        .is_none()
    {
        return Err(invalid());
    }
    issue_for_grant(ctx, app, &grant, scopes.to_space_separated(), None).await
}

/// Audits a replayed code or refresh token, a theft signal whose grant was just revoked.
async fn record_reuse(
    db: &Db,
    app: &AppRow,
    grant_id: &str,
    reused: &str,
) -> Result<(), OAuthError> {
    let caller = super::Caller {
        actor: super::Actor::App {
            client_id: app.client_id.clone(),
        },
        meta: RequestMeta::default(),
    };
    let event = super::audit::Event {
        org_id: Some(&app.org_id),
        action: "grant.revoked_on_reuse",
        object: ("grant", grant_id),
        success: false,
        detail: serde_json::json!({ "reused": reused }),
    };
    super::audit::record_alone(db, &caller, event)
        .await
        .map_err(internal)
}

/// Signs claims with the ring's current key of `alg`: `typ` is `at+jwt` for access tokens
/// (RFC 9068, always ES256) and `JWT` for ID tokens (the app's algorithm).
fn sign(
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
#[derive(Debug, Serialize, serde::Deserialize)]
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
/// app enabled, and (for a user token) its grant unrevoked and its user still a member.
/// Returns its claims and the app it was issued to.
pub async fn active(
    ctx: &Issuer<'_>,
    token: &str,
) -> Result<Option<(VerifiedAccess, AppRow)>, OAuthError> {
    let db = ctx.db;
    let Some(c) = verify_access(ctx.ring, ctx.url, token) else {
        return Ok(None);
    };
    if store::tokens::is_revoked(&db.pool, &c.jti)
        .await
        .map_err(internal)?
    {
        return Ok(None);
    }
    let Some(app) = store::apps::find(&db.pool, &c.client_id)
        .await
        .map_err(internal)?
        .filter(|a| a.enabled)
    else {
        return Ok(None);
    };
    if let Some(gid) = &c.gid {
        let grant = store::grants::get(&db.pool, gid).await.map_err(internal)?;
        let Some(grant) = grant.filter(|g| g.revoked_at.is_none()) else {
            return Ok(None);
        };
        if store::users::member(&db.pool, &grant.org_id, &grant.user_id)
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
pub async fn active_here(
    ctx: &Issuer<'_>,
    token: &str,
) -> Result<Option<(VerifiedAccess, AppRow)>, OAuthError> {
    Ok(active(ctx, token)
        .await?
        .filter(|(c, _)| c.aud.contains(ctx.url)))
}

/// RFC 7662: whether a token is active, and its claims, for a confidential client of the
/// token's own organization or of the issuing app's. Anything else is inactive.
pub async fn introspect(
    ctx: &Issuer<'_>,
    caller: &AppRow,
    token: &str,
) -> Result<serde_json::Value, OAuthError> {
    if caller.public_client {
        return Err(OAuthError::InvalidClient(
            "introspection needs a confidential client".into(),
        ));
    }
    match active(ctx, token).await? {
        Some((c, app)) if caller.org_id == c.org_id || caller.org_id == app.org_id => {
            let mut answer = serde_json::to_value(&c).map_err(internal)?;
            answer["active"] = true.into();
            answer["token_type"] = "Bearer".into();
            Ok(answer)
        }
        _ => Ok(serde_json::json!({ "active": false })),
    }
}

/// Why userinfo refuses a token (RFC 6750 §3.1).
#[derive(Debug, PartialEq, Eq)]
pub enum BearerError {
    InvalidToken,
    InsufficientScope,
    Internal,
}

/// OpenID Connect userinfo: the claims of the token's user, by the token's scopes. The
/// token must be active and carry `openid`.
pub async fn userinfo(ctx: &Issuer<'_>, token: &str) -> Result<serde_json::Value, BearerError> {
    let (c, _) = active_here(ctx, token)
        .await
        .map_err(|_| BearerError::Internal)?
        .ok_or(BearerError::InvalidToken)?;
    if c.gid.is_none() || !c.scope.split(' ').any(|s| s == "openid") {
        return Err(BearerError::InsufficientScope);
    }
    let claims = user_claims(ctx.db, &c.sub, &c.scope)
        .await
        .map_err(|_| BearerError::InvalidToken)?;
    let mut answer = serde_json::to_value(&claims).map_err(|_| BearerError::Internal)?;
    answer["sub"] = c.sub.into();
    Ok(answer)
}

/// RFC 7009: revokes a token issued to `caller`: an access token alone, or a refresh token
/// with its whole grant (and so every access token issued under it). Any other token is
/// ignored, with the same answer, so nothing is revealed. Says what ended, for the audit:
/// `access_token`, `grant` or `nothing`.
pub async fn revoke(
    ctx: &Issuer<'_>,
    caller: &AppRow,
    token: &str,
) -> Result<&'static str, OAuthError> {
    let (db, ring, issuer) = (ctx.db, ctx.ring, ctx.url);
    let t = now();
    if let Some(c) = verify_access(ring, issuer, token) {
        if c.client_id == caller.client_id {
            store::tokens::revoke(&db.pool, &c.jti, &c.client_id, c.exp, t)
                .await
                .map_err(internal)?;
            return Ok("access_token");
        }
        return Ok("nothing");
    }
    if let Some(row) = store::grants::find_refresh(&db.pool, &secrets::digest(token))
        .await
        .map_err(internal)?
        && let Some(grant) = store::grants::get(&db.pool, &row.grant_id)
            .await
            .map_err(internal)?
        && grant.client_id == caller.client_id
    {
        store::grants::revoke(&db.pool, &grant.id, t)
            .await
            .map_err(internal)?;
        return Ok("grant");
    }
    Ok("nothing")
}

/// The user and client of an ID token we issued, read from an `id_token_hint`: our
/// signature and issuer are checked, its expiry is not (OIDC RP-Initiated Logout §2).
pub fn id_token_hint(ring: &KeyRing, issuer: &str, token: &str) -> Option<(String, String)> {
    use jsonwebtoken::{Validation, decode, decode_header};
    #[derive(serde::Deserialize)]
    struct Hint {
        sub: String,
        aud: String,
    }
    let header = decode_header(token).ok()?;
    let key = ring.by_kid(header.kid.as_deref()?)?;
    if header.alg != key.alg {
        return None;
    }
    let mut v = Validation::new(key.alg);
    v.set_issuer(&[issuer]);
    v.validate_exp = false;
    v.validate_aud = false;
    v.set_required_spec_claims(&["iss", "sub", "aud"]);
    decode::<Hint>(token, &key.decoding, &v)
        .ok()
        .map(|d| (d.claims.sub, d.claims.aud))
}
