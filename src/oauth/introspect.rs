//! `POST /oauth2/introspect` (RFC 7662) and `POST /oauth2/revoke` (RFC 7009).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::HeaderMap;

use super::client_auth;
use super::errors::{OAuthReply, no_store};
use crate::domain::oauth::OAuthError;
use crate::services::App;
use crate::services::audit::Event;
use crate::services::{Actor, Caller, tokens};
use crate::web::AppState;
use crate::web::meta::client_meta;
use axum::extract::ConnectInfo;
use serde_json::json;
use std::net::SocketAddr;

/// Authenticates the client, then runs `action` on the `token` parameter; RFC 6749 errors
/// otherwise. Every answer is `no-store`.
async fn with_token<T, F>(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    body: &Bytes,
    action: F,
) -> Response
where
    T: IntoResponse,
    F: AsyncFnOnce(&tokens::Issuer<'_>, &App, &str) -> Result<T, OAuthError>,
{
    let ring = state.key_ring();
    let ctx = state.issuer(&ring);
    let meta = client_meta(headers, Some(peer), state.settings.trusted_proxies);
    let result = async {
        let limits = state.settings.limits;
        let anonymous = crate::services::Caller {
            actor: crate::services::Actor::Anonymous,
            meta: meta.clone(),
        };
        let key = crate::services::limits::token_ip(meta.ip.as_deref().unwrap_or("-"));
        state
            .limiter
            .enforce(&state.audit, &anonymous, &key, limits.token_per_ip, None)
            .await
            .map_err(|e| OAuthError::RateLimited(e.retry_after))?;
        let params = super::params::Params::from_body(headers, body)?;
        let app = client_auth::authenticated(&ctx, headers, &params, meta.ip.as_deref())
            .await
            .map_err(OAuthError::from)?;
        action(&ctx, &app, params.require("token")?).await
    }
    .await;
    let mut res = match result {
        Ok(answer) => answer.into_response(),
        Err(e) => return OAuthReply(e).into_response(),
    };
    no_store(&mut res);
    res
}

pub async fn introspect(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    with_token(&state, peer, &headers, &body, async |ctx, app, token| {
        tokens::introspect(ctx, app, token).await.map(Json)
    })
    .await
}

/// Revocation is audited (app, what kind of token ended) before it is answered.
pub async fn revoke(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let audit = state.audit.clone();
    let meta = client_meta(&headers, Some(peer), state.settings.trusted_proxies);
    with_token(&state, peer, &headers, &body, async |ctx, app, token| {
        let ended = tokens::revoke(ctx, app, token).await?;
        let caller = Caller {
            actor: Actor::App {
                client_id: app.client_id.to_string(),
            },
            meta,
        };
        let event = Event {
            org_id: Some(&app.org_id),
            action: "token.revoked",
            object: ("app", &app.client_id),
            success: true,
            detail: json!({ "ended": ended }),
        };
        audit
            .record(&caller, event)
            .await
            .map_err(|_| OAuthError::ServerError)
    })
    .await
}
