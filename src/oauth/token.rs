//! `POST /oauth2/token` (RFC 6749 §3.2).

use axum::Json;
use axum::body::Bytes;
use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Response};
use http::HeaderMap;

use super::client_auth;
use super::errors::{OAuthReply, no_store};
use crate::domain::GrantType;
use crate::domain::oauth::OAuthError;
use crate::server::AppState;
use crate::server::portal::client_meta;
use crate::services::tokens;

pub async fn token(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    match issue(&state, Some(peer), &headers, &body).await {
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
    peer: Option<SocketAddr>,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<tokens::TokenResponse, OAuthError> {
    let ring = state.key_ring();
    let ctx = tokens::Issuer {
        db: &state.db,
        ring: &ring,
        url: &state.settings.issuer,
    };
    let (params, app) = client_auth::authenticated(&ctx, headers, body).await?;
    let grant = params.require("grant_type")?;
    let scope = params.get("scope");
    match GrantType::parse(grant) {
        Ok(GrantType::ClientCredentials) => tokens::client_credentials(&ring, ctx.url, &app, scope),
        Ok(GrantType::Password) => {
            let (username, password) = (params.require("username")?, params.require("password")?);
            let meta = client_meta(headers, peer, state.settings.trust_forwarded_for);
            tokens::password(
                &ctx,
                &meta,
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
        Ok(GrantType::AuthorizationCode) => {
            let code = params.require("code")?;
            let verifier = params.require("code_verifier")?;
            tokens::authorization_code(&ctx, &app, code, params.get("redirect_uri"), verifier).await
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
