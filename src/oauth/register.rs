//! `POST /oauth2/register` (RFC 7591) and `GET|PUT|DELETE /oauth2/register/{client_id}`
//! (RFC 7592): JSON in and out, `Cache-Control: no-store`, RFC 7591 §3.2.2 errors; a
//! missing or wrong token is 401 with `WWW-Authenticate: Bearer error="invalid_token"`.

use std::net::SocketAddr;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, Path, State};
use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};
use serde_json::json;

use super::errors::no_store;
use crate::domain::registration::ClientMetadata;
use crate::services::RequestMeta;
use crate::services::registration::{self, RegistrationError};
use crate::web::AppState;
use crate::web::bearer::bearer;
use crate::web::meta::client_meta;

fn refused(e: RegistrationError) -> Response {
    let mut res = match e {
        RegistrationError::InvalidToken => {
            let mut res = (
                StatusCode::UNAUTHORIZED,
                Json(json!({ "error": "invalid_token",
                             "error_description": "the access token is missing, unknown, spent, expired or revoked" })),
            )
                .into_response();
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer error=\"invalid_token\""),
            );
            res
        }
        RegistrationError::Metadata(m) => (
            StatusCode::BAD_REQUEST,
            Json(json!({ "error": m.error, "error_description": m.description })),
        )
            .into_response(),
        RegistrationError::Internal(e) => {
            tracing::error!(error = %e, "dynamic registration");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                Json(json!({ "error": "server_error" })),
            )
                .into_response()
        }
    };
    no_store(&mut res);
    res
}

fn answer(status: StatusCode, body: impl serde::Serialize) -> Response {
    let mut res = (status, Json(body)).into_response();
    no_store(&mut res);
    res
}

/// The metadata of a JSON body; anything else is `invalid_client_metadata`.
fn metadata(headers: &HeaderMap, body: &Bytes) -> Result<ClientMetadata, RegistrationError> {
    let json = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let bad = |m: &str| {
        RegistrationError::Metadata(crate::domain::registration::MetadataError {
            error: "invalid_client_metadata",
            description: m.into(),
        })
    };
    if !json {
        return Err(bad("the body must be a JSON object (application/json)"));
    }
    if body.len() > 64 * 1024 {
        return Err(bad("the body is too large"));
    }
    serde_json::from_slice(body).map_err(|_| bad("the body is not valid client metadata"))
}

/// The per-address limit of the token endpoint applies here too.
async fn over_limit(state: &AppState, meta: &RequestMeta) -> Option<Response> {
    let key = crate::services::limits::token_ip(meta.ip.as_deref().unwrap_or("-"));
    let caller = crate::services::Caller {
        actor: crate::services::Actor::Anonymous,
        meta: meta.clone(),
    };
    let e = state
        .limiter
        .enforce(
            &state.audit,
            &caller,
            &key,
            state.settings.limits.token_per_ip,
            None,
        )
        .await
        .err()?;
    Some(
        super::errors::OAuthReply(crate::domain::oauth::OAuthError::RateLimited(e.retry_after))
            .into_response(),
    )
}

pub async fn register(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let meta = client_meta(&headers, Some(peer), state.settings.trusted_proxies);
    if let Some(r) = over_limit(&state, &meta).await {
        return r;
    }
    let result = async {
        let m = metadata(&headers, &body)?;
        registration::register(
            &state.db,
            &state.settings.issuer,
            bearer(&headers),
            &m,
            meta,
        )
        .await
    }
    .await;
    match result {
        Ok(r) => answer(StatusCode::CREATED, r),
        Err(e) => refused(e),
    }
}

pub async fn read(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let meta = client_meta(&headers, Some(peer), state.settings.trusted_proxies);
    match registration::read(&state.db, &client_id, bearer(&headers), meta).await {
        Ok(m) => answer(StatusCode::OK, m),
        Err(e) => refused(e),
    }
}

pub async fn update(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let meta = client_meta(&headers, Some(peer), state.settings.trusted_proxies);
    let result = async {
        let m = metadata(&headers, &body)?;
        registration::update(&state.db, &client_id, bearer(&headers), &m, meta).await
    }
    .await;
    match result {
        Ok(m) => answer(StatusCode::OK, m),
        Err(e) => refused(e),
    }
}

pub async fn delete(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    Path(client_id): Path<String>,
    headers: HeaderMap,
) -> Response {
    let meta = client_meta(&headers, Some(peer), state.settings.trusted_proxies);
    match registration::delete(&state.db, &client_id, bearer(&headers), meta).await {
        Ok(()) => {
            let mut res = StatusCode::NO_CONTENT.into_response();
            no_store(&mut res);
            res
        }
        Err(e) => refused(e),
    }
}
