//! `POST /oauth2/introspect` (RFC 7662) and `POST /oauth2/revoke` (RFC 7009).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::HeaderMap;

use super::client_auth;
use super::errors::{OAuthReply, no_store};
use super::params::Params;
use crate::domain::oauth::OAuthError;
use crate::server::AppState;
use crate::services::tokens;
use crate::store::apps::AppRow;

/// The parameters and the authenticated client of an introspection or revocation request.
async fn authenticated(
    state: &AppState,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Params, AppRow), OAuthError> {
    let params = Params::from_body(headers, body)?;
    let presented = client_auth::presented(headers, &params)?;
    let ring = state.key_ring();
    let ctx = tokens::Issuer {
        db: &state.db,
        ring: &ring,
        url: &state.settings.issuer,
    };
    let app = tokens::authenticate(&ctx, &presented.client_id, presented.proof).await?;
    params.require("token")?;
    Ok((params, app))
}

pub async fn introspect(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let (params, app) = authenticated(&state, &headers, &body).await?;
        let token = params.require("token")?;
        tokens::introspect(
            &tokens::Issuer {
                db: &state.db,
                ring: &state.key_ring(),
                url: &state.settings.issuer,
            },
            &app,
            token,
        )
        .await
    }
    .await;
    match result {
        Ok(answer) => {
            let mut res = Json(answer).into_response();
            no_store(&mut res);
            res
        }
        Err(e) => OAuthReply(e).into_response(),
    }
}

pub async fn revoke(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let (params, app) = authenticated(&state, &headers, &body).await?;
        let token = params.require("token")?;
        tokens::revoke(
            &tokens::Issuer {
                db: &state.db,
                ring: &state.key_ring(),
                url: &state.settings.issuer,
            },
            &app,
            token,
        )
        .await
    }
    .await;
    match result {
        Ok(()) => {
            let mut res = ().into_response();
            no_store(&mut res);
            res
        }
        Err(e) => OAuthReply(e).into_response(),
    }
}
