//! `GET|POST /oauth2/userinfo` (OpenID Connect Core §5.3), with the Bearer errors of
//! RFC 6750 §3.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::HeaderMap;

use super::errors::no_store;
use crate::services::tokens::{self, BearerError};
use crate::web::AppState;
use crate::web::bearer::{bearer, bearer_error};

pub async fn userinfo(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let ring = state.key_ring();
    let ctx = state.issuer(&ring);
    let result = match bearer(&headers) {
        Some(token) => tokens::userinfo(&ctx, token).await,
        None => Err(BearerError::InvalidToken),
    };
    let mut res = match result {
        Ok(claims) => Json(claims).into_response(),
        Err(e) => bearer_error(e, None),
    };
    no_store(&mut res);
    res
}
