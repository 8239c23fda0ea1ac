//! `POST /oauth2/token` (RFC 6749 §3.2). Every answer, token or refusal, is audited first
//! (group commit); a token whose record cannot be committed is never sent.

use axum::Json;
use axum::body::Bytes;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use http::HeaderMap;
use serde_json::json;

use super::client_auth;
use super::errors::{OAuthReply, no_store};
use crate::domain::GrantType;
use crate::domain::oauth::OAuthError;
use crate::services::audit::Event;
use crate::services::{Actor, Caller, RequestMeta, limits, tokens};
use crate::web::AppState;
use crate::web::meta::client_meta;

/// What the audit record says of a request: the client once authenticated (or the one it
/// claimed to be), the grant type.
struct Attempt {
    client: Option<(String, String)>,
    claimed: Option<String>,
    grant_type: String,
    /// The audit detail of a refused client authentication, `None` when it is folded into
    /// the record of its window.
    refusal: Option<serde_json::Value>,
}

impl Default for Attempt {
    fn default() -> Self {
        Self {
            client: None,
            claimed: None,
            grant_type: String::new(),
            refusal: Some(json!({})),
        }
    }
}

/// Which client endpoint a request came to: both authenticate the client the same way,
/// share its limits and are audited alike.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Endpoint {
    Token,
    /// RFC 8628 §3.1.
    DeviceAuthorization,
    /// RFC 9126 §2.
    PushedAuthorization,
}

/// What an endpoint answers.
enum Answer {
    Token(tokens::TokenResponse),
    Device(tokens::DeviceAuthorization),
    /// A pushed request's `request_uri` and its lifetime.
    Pushed(String, i64),
}

pub async fn token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(state, peer, headers, body, Endpoint::Token).await
}

/// `POST /oauth2/device_authorization` (RFC 8628 §3.1).
pub async fn device_authorization(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(state, peer, headers, body, Endpoint::DeviceAuthorization).await
}

/// `POST /oauth2/par` (RFC 9126 §2).
pub async fn pushed_authorization(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    serve(state, peer, headers, body, Endpoint::PushedAuthorization).await
}

async fn serve(
    state: AppState,
    peer: SocketAddr,
    headers: HeaderMap,
    body: Bytes,
    endpoint: Endpoint,
) -> Response {
    let mut attempt = Attempt {
        grant_type: match endpoint {
            Endpoint::Token => String::new(),
            Endpoint::DeviceAuthorization => GrantType::DeviceCode.as_str().to_string(),
            Endpoint::PushedAuthorization => GrantType::AuthorizationCode.as_str().to_string(),
        },
        ..Attempt::default()
    };
    let meta = client_meta(&headers, Some(peer), state.settings.trusted_proxies);
    let result = issue(&state, &meta, &headers, &body, &mut attempt, endpoint).await;
    let authenticated = attempt.client.is_some();
    metrics::counter!("latchkey_tokens_total",
        "grant_type" => grant_label(&attempt.grant_type),
        "outcome" => if result.is_ok() { "issued" } else { "refused" })
    .increment(1);
    let Some(refusal) = attempt.refusal else {
        // Counted, not recorded: folded into the first refusal of its window.
        return match result {
            Ok(_) => OAuthReply(OAuthError::ServerError).into_response(),
            Err(e) => OAuthReply(e).into_response(),
        };
    };
    // A refused client authentication is recorded in the organization of the app it
    // claimed to be, so its admins see the attempts.
    let (client_id, org_id) = match (attempt.client, attempt.claimed) {
        (Some(known), _) => known,
        (None, Some(claimed)) => {
            let ring = state.key_ring();
            let ctx = state.issuer(&ring);
            tokens::claimed(&ctx, &claimed).await.unwrap_or_default()
        }
        _ => Default::default(),
    };
    let caller = Caller {
        actor: if authenticated {
            Actor::App {
                client_id: client_id.clone(),
            }
        } else {
            Actor::Anonymous
        },
        meta,
    };
    let grant_type: String = attempt.grant_type.chars().take(60).collect();
    let mut detail = json!({ "grant_type": grant_type, "client_authenticated": authenticated });
    if let (Some(d), Some(extra)) = (detail.as_object_mut(), refusal.as_object()) {
        d.extend(extra.clone());
    }
    let event = match &result {
        Ok(Answer::Token(t)) => Event {
            org_id: Some(&org_id),
            action: "token.issued",
            object: ("app", &client_id),
            success: true,
            detail: {
                let mut d = json!({ "grant_type": grant_type, "scope": t.scope, "sub": t.sub, "jti": t.jti,
                                    "user_id": (t.sub != client_id).then_some(&t.sub),
                                    "refresh_token": t.refresh_token.is_some() });
                // A token exchange names the token it started from.
                if let Some(from) = &t.exchanged {
                    d["exchanged"] = from.clone();
                }
                d
            },
        },
        Ok(Answer::Device(d)) => Event {
            org_id: Some(&org_id),
            action: "device.authorization_started",
            object: ("app", &client_id),
            success: true,
            detail: json!({ "scope": d.scope, "user_code": d.user_code }),
        },
        Ok(Answer::Pushed(..)) => Event {
            org_id: Some(&org_id),
            action: "authorization.pushed",
            object: ("app", &client_id),
            success: true,
            detail: json!({}),
        },
        Err(e) => Event {
            org_id: (!org_id.is_empty()).then_some(org_id.as_str()),
            action: "token.refused",
            object: ("app", &client_id),
            success: false,
            detail: {
                detail["error"] = e.code().into();
                detail
            },
        },
    };
    if state.audit.record(&caller, event).await.is_err() {
        return OAuthReply(OAuthError::ServerError).into_response();
    }
    let mut res = match result {
        Ok(Answer::Token(t)) if t.token_type == "DPoP" => {
            // A fresh nonce for the client's next proof (RFC 9449 §8.2).
            let nonce =
                crate::crypto::dpop::nonce(&state.key_ring().nonce_key, crate::services::now());
            let mut res = Json(t).into_response();
            if let Ok(v) = http::HeaderValue::from_str(&nonce) {
                res.headers_mut().insert("dpop-nonce", v);
            }
            res
        }
        Ok(Answer::Token(t)) => Json(t).into_response(),
        Ok(Answer::Device(d)) => Json(d).into_response(),
        Ok(Answer::Pushed(request_uri, expires_in)) => (
            http::StatusCode::CREATED,
            Json(json!({ "request_uri": request_uri, "expires_in": expires_in })),
        )
            .into_response(),
        Err(e) => return OAuthReply(e).into_response(),
    };
    no_store(&mut res);
    res
}

async fn issue(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    body: &Bytes,
    attempt: &mut Attempt,
    endpoint: Endpoint,
) -> Result<Answer, OAuthError> {
    let limits = state.settings.limits;
    let ip = meta.ip.as_deref().unwrap_or("-");
    let anonymous = Caller {
        actor: Actor::Anonymous,
        meta: meta.clone(),
    };
    if let Err(e) = state
        .limiter
        .enforce(
            &state.audit,
            &anonymous,
            &limits::token_ip(ip),
            limits.token_per_ip,
            None,
        )
        .await
    {
        // Recorded once per window by `enforce`, never request by request.
        attempt.refusal = None;
        return Err(OAuthError::RateLimited(e.retry_after));
    }
    let ring = state.key_ring();
    let params = super::params::Params::from_body(headers, body)?;
    let mut ctx = state.issuer(&ring);
    ctx.resource = params.get("resource");
    if endpoint == Endpoint::Token {
        attempt.grant_type = params.get("grant_type").unwrap_or_default().to_string();
    }
    let presented = client_auth::presented(headers, &params)?;
    attempt.claimed = Some(presented.client_id.clone());
    let app = tokens::authenticate(
        &ctx,
        &presented.client_id,
        presented.proof,
        meta.ip.as_deref(),
    )
    .await
    .map_err(|r| {
        attempt.refusal = r.record;
        r.error
    })?;
    attempt.client = Some((app.client_id.to_string(), app.org_id.to_string()));
    let as_app = Caller {
        actor: Actor::App {
            client_id: app.client_id.to_string(),
        },
        meta: meta.clone(),
    };
    if let Err(e) = state
        .limiter
        .enforce(
            &state.audit,
            &as_app,
            &limits::token_client(&app.client_id),
            limits.token_per_client,
            Some(&app.org_id),
        )
        .await
    {
        attempt.refusal = None;
        return Err(OAuthError::RateLimited(e.retry_after));
    }
    let scope = params.get("scope");
    match endpoint {
        Endpoint::Token => {
            ctx.dpop_jkt =
                match tokens::token_request_proof(&ctx, &app, &dpop_proofs(headers)).await {
                    Ok(jkt) => jkt,
                    // The first request of every DPoP client learns our nonce: a step of the
                    // protocol, not a refusal to record.
                    Err(e @ OAuthError::UseDpopNonce(_)) => {
                        attempt.refusal = None;
                        return Err(e);
                    }
                    Err(e) => return Err(e),
                };
        }
        Endpoint::DeviceAuthorization => {
            return tokens::start_device(&ctx, &app, scope)
                .await
                .map(Answer::Device);
        }
        Endpoint::PushedAuthorization => {
            // A DPoP proof here binds the code to its key (RFC 9449 §10.1), as dpop_jkt does.
            let proven = tokens::par_proof(&ctx, &app, &dpop_proofs(headers)).await?;
            let mut pushed = params.into_map();
            if let Some(jkt) = proven {
                if pushed.get("dpop_jkt").is_some_and(|named| *named != jkt) {
                    return Err(OAuthError::InvalidDpopProof(
                        "dpop_jkt names another key than the DPoP proof's".into(),
                    ));
                }
                pushed.insert("dpop_jkt".into(), jkt);
            }
            let (uri, ttl) = crate::services::authorize::push(&state.db, &app, pushed).await?;
            return Ok(Answer::Pushed(uri, ttl));
        }
    }
    let grant = params.require("grant_type")?;
    let issued = match GrantType::parse(grant) {
        Ok(GrantType::ClientCredentials) => tokens::client_credentials(&ctx, &app, scope).await,
        Ok(GrantType::AuthorizationCode) => {
            let code = params.require("code")?;
            let verifier = params.require("code_verifier")?;
            tokens::authorization_code(&ctx, &app, code, params.get("redirect_uri"), verifier).await
        }
        Ok(GrantType::Password) => {
            let (username, password) = (params.require("username")?, params.require("password")?);
            tokens::password(
                &ctx,
                meta,
                &app,
                username,
                password.to_string().into(),
                scope,
            )
            .await
        }
        Ok(GrantType::JwtBearer) => {
            tokens::jwt_bearer(&ctx, &app, params.require("assertion")?, scope).await
        }
        Ok(GrantType::RefreshToken) => {
            tokens::refresh(&ctx, &app, params.require("refresh_token")?, scope).await
        }
        Ok(GrantType::DeviceCode) => {
            tokens::device_code(&ctx, &app, params.require("device_code")?).await
        }
        Ok(GrantType::TokenExchange) => {
            let req = tokens::ExchangeRequest {
                subject_token: params.require("subject_token")?,
                subject_token_type: params.require("subject_token_type")?,
                requested_token_type: params.get("requested_token_type"),
                resource: params.get("resource"),
                audience: params.get("audience"),
                scope,
                actor_token: params.get("actor_token"),
            };
            tokens::token_exchange(&mut ctx, &app, req).await
        }
        _ => Err(OAuthError::UnsupportedGrantType(format!(
            "{} is not supported here",
            grant.chars().take(60).collect::<String>()
        ))),
    };
    // A device polling while its user decides is waiting, not refused: not one audit
    // record every five seconds.
    if matches!(
        issued,
        Err(OAuthError::AuthorizationPending | OAuthError::SlowDown)
    ) {
        attempt.refusal = None;
    }
    issued.map(Answer::Token)
}

/// The request's `DPoP` headers (RFC 9449 §4.1).
fn dpop_proofs(headers: &HeaderMap) -> Vec<&str> {
    headers
        .get_all("dpop")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect()
}

/// The grant types counted by name in metrics; anything else is `other`, so the label stays
/// bounded whatever clients send.
fn grant_label(grant_type: &str) -> &'static str {
    match GrantType::parse(grant_type) {
        Ok(GrantType::ClientCredentials) => "client_credentials",
        Ok(GrantType::AuthorizationCode) => "authorization_code",
        Ok(GrantType::RefreshToken) => "refresh_token",
        Ok(GrantType::Password) => "password",
        Ok(GrantType::JwtBearer) => "jwt_bearer",
        Ok(GrantType::DeviceCode) => "device_code",
        Ok(GrantType::TokenExchange) => "token_exchange",
        _ => "other",
    }
}
