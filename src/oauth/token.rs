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
use crate::server::AppState;
use crate::server::portal::client_meta;
use crate::services::audit::Event;
use crate::services::{Actor, Caller, RequestMeta, tokens};

/// What the audit record says of a request: the client once authenticated (or the one it
/// claimed to be), the grant type.
#[derive(Default)]
struct Attempt {
    client: Option<(String, String)>,
    claimed: Option<String>,
    grant_type: String,
}

pub async fn token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let mut attempt = Attempt::default();
    let meta = client_meta(&headers, Some(peer), state.settings.trust_forwarded_for);
    let result = issue(&state, &meta, &headers, &body, &mut attempt).await;
    let authenticated = attempt.client.is_some();
    // A refused client authentication is recorded in the organization of the app it
    // claimed to be, so its admins see the attempts.
    let (client_id, org_id) = match (attempt.client, attempt.claimed) {
        (Some(known), _) => known,
        (None, Some(claimed)) if claimed.len() <= 200 => {
            match crate::store::apps::find(&state.db.pool, &claimed).await {
                Ok(Some(app)) => (app.client_id, app.org_id),
                _ => Default::default(),
            }
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
    let event = match &result {
        Ok(t) => Event {
            org_id: Some(&org_id),
            action: "token.issued",
            object: ("app", &client_id),
            success: true,
            detail: json!({ "grant_type": grant_type, "scope": t.scope, "sub": t.sub,
                            "user_id": (t.sub != client_id).then_some(&t.sub),
                            "refresh_token": t.refresh_token.is_some() }),
        },
        Err(e) => Event {
            org_id: (!org_id.is_empty()).then_some(org_id.as_str()),
            action: "token.refused",
            object: ("app", &client_id),
            success: false,
            detail: json!({ "grant_type": grant_type, "error": e.code(), "client_authenticated": authenticated }),
        },
    };
    if state.audit.record(&caller, event).await.is_err() {
        return OAuthReply(OAuthError::ServerError).into_response();
    }
    match result {
        Ok(answer) => {
            let mut res = Json(answer).into_response();
            no_store(&mut res);
            res
        }
        Err(e) => OAuthReply(e).into_response(),
    }
}

async fn issue(
    state: &AppState,
    meta: &RequestMeta,
    headers: &HeaderMap,
    body: &Bytes,
    attempt: &mut Attempt,
) -> Result<tokens::TokenResponse, OAuthError> {
    let ring = state.key_ring();
    let params = super::params::Params::from_body(headers, body)?;
    let ctx = tokens::Issuer {
        db: &state.db,
        ring: &ring,
        url: &state.settings.issuer,
        resource: params.get("resource"),
    };
    attempt.grant_type = params.get("grant_type").unwrap_or_default().to_string();
    let presented = client_auth::presented(headers, &params)?;
    attempt.claimed = Some(presented.client_id.clone());
    let app = tokens::authenticate(&ctx, &presented.client_id, presented.proof).await?;
    attempt.client = Some((app.client_id.clone(), app.org_id.clone()));
    let grant = params.require("grant_type")?;
    let scope = params.get("scope");
    match GrantType::parse(grant) {
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
        _ => Err(OAuthError::UnsupportedGrantType(format!(
            "{} is not supported here",
            grant.chars().take(60).collect::<String>()
        ))),
    }
}
