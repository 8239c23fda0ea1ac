//! `GET|POST /oauth2/userinfo` (OpenID Connect Core §5.3), with the Bearer errors of
//! RFC 6750 §3.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::HeaderMap;

use super::errors::no_store;
use crate::domain::paths::USERINFO_PATH;
use crate::services::tokens::{self, BearerError};
use crate::web::AppState;
use crate::web::bearer::{bearer_error, presented};

pub async fn userinfo(
    State(state): State<AppState>,
    method: http::Method,
    headers: HeaderMap,
) -> Response {
    let ring = state.key_ring();
    let ctx = state.issuer(&ring);
    let result = match presented(&headers, method.as_str(), USERINFO_PATH) {
        Some(p) => tokens::userinfo(&ctx, &p).await,
        None => Err(BearerError::InvalidToken),
    };
    let mut res = match result {
        Ok(claims) => Json(claims).into_response(),
        Err(e) => bearer_error(e, None),
    };
    no_store(&mut res);
    res
}
