//! Authorization-server metadata (RFC 8414) and the JWKS document.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use serde_json::json;

use super::{INTROSPECT_PATH, JWKS_PATH, REVOKE_PATH, TOKEN_PATH};
use crate::domain::GrantType;
use crate::domain::scope::CATALOGUE;
use crate::server::AppState;

/// Exactly what is implemented: the token grants so far, introspection and revocation.
pub async fn authorization_server(State(state): State<AppState>) -> Response {
    let issuer = &state.settings.issuer;
    Json(json!({
        "issuer": issuer,
        "token_endpoint": format!("{issuer}{TOKEN_PATH}"),
        "jwks_uri": format!("{issuer}{JWKS_PATH}"),
        "introspection_endpoint": format!("{issuer}{INTROSPECT_PATH}"),
        "introspection_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "revocation_endpoint": format!("{issuer}{REVOKE_PATH}"),
        "revocation_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "grant_types_supported": ["client_credentials", "password", "refresh_token", GrantType::JwtBearer.as_str()],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post", "private_key_jwt", "none"],
        "token_endpoint_auth_signing_alg_values_supported": ["ES256", "ES384", "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA"],
        "scopes_supported": CATALOGUE.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        "response_types_supported": [],
    }))
    .into_response()
}

pub async fn jwks(State(state): State<AppState>) -> Response {
    let mut res = Json(state.key_ring().jwks.clone()).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res
}
