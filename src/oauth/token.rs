//! `POST /oauth2/token` (RFC 6749 §3.2).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::HeaderMap;

use super::client_auth;
use super::errors::{OAuthReply, no_store};
use super::params::Params;
use crate::domain::GrantType;
use crate::domain::oauth::OAuthError;
use crate::server::AppState;
use crate::services::tokens;

pub async fn token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    match issue(&state, &headers, &body).await {
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
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<tokens::TokenResponse, OAuthError> {
    let params = Params::from_body(headers, body)?;
    let grant = params.require("grant_type")?;
    let presented = client_auth::presented(headers, &params)?;
    let app = tokens::authenticate(&state.db, &presented.client_id, presented.secret).await?;
    match GrantType::parse(grant) {
        Ok(GrantType::ClientCredentials) => {
            let ring = state.key_ring();
            tokens::client_credentials(&ring, &state.settings.issuer, &app, params.get("scope"))
        }
        _ => Err(OAuthError::UnsupportedGrantType(format!(
            "{} is not supported here",
            grant.chars().take(60).collect::<String>()
        ))),
    }
}
