//! Authorization-server metadata (RFC 8414) and the JWKS document.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use serde_json::json;

use super::{
    AUTHORIZE_PATH, INTROSPECT_PATH, JWKS_PATH, LOGOUT_PATH, REVOKE_PATH, TOKEN_PATH, USERINFO_PATH,
};
use crate::crypto::assertions;
use crate::domain::GrantType;
use crate::domain::app::ID_TOKEN_ALGS;
use crate::domain::oauth::ClientAuthMethod;
use crate::domain::scope::CATALOGUE;
use crate::web::AppState;

/// The client authentication methods, as discovery names them; introspection is for
/// confidential clients only.
fn auth_methods(public_too: bool) -> Vec<&'static str> {
    ClientAuthMethod::ALL
        .iter()
        .filter(|m| public_too || **m != ClientAuthMethod::None)
        .map(|m| m.as_str())
        .collect()
}

/// RFC 8414 metadata: exactly what is implemented, listed from the types that implement it.
fn metadata(issuer: &str) -> serde_json::Value {
    let assertion_algs: Vec<String> = assertions::ALGORITHMS
        .iter()
        .map(|a| format!("{a:?}"))
        .collect();
    json!({
        "issuer": issuer,
        "authorization_endpoint": format!("{issuer}{AUTHORIZE_PATH}"),
        "token_endpoint": format!("{issuer}{TOKEN_PATH}"),
        "jwks_uri": format!("{issuer}{JWKS_PATH}"),
        "introspection_endpoint": format!("{issuer}{INTROSPECT_PATH}"),
        "introspection_endpoint_auth_methods_supported": auth_methods(false),
        "revocation_endpoint": format!("{issuer}{REVOKE_PATH}"),
        "revocation_endpoint_auth_methods_supported": auth_methods(true),
        "grant_types_supported": GrantType::ALL.iter().map(|g| g.as_str()).collect::<Vec<_>>(),
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": auth_methods(true),
        "token_endpoint_auth_signing_alg_values_supported": assertion_algs,
        "scopes_supported": CATALOGUE.iter().map(|(s, _)| *s).collect::<Vec<_>>(),
        "authorization_response_iss_parameter_supported": true,
    })
}

pub async fn authorization_server(State(state): State<AppState>) -> Response {
    Json(metadata(&state.settings.issuer)).into_response()
}

/// OpenID Connect Discovery 1.0: the RFC 8414 document plus the OpenID Provider fields.
pub async fn openid_configuration(State(state): State<AppState>) -> Response {
    let issuer = &state.settings.issuer;
    let mut doc = metadata(issuer);
    let extra = json!({
        "userinfo_endpoint": format!("{issuer}{USERINFO_PATH}"),
        "end_session_endpoint": format!("{issuer}{LOGOUT_PATH}"),
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ID_TOKEN_ALGS,
        "claims_supported": ["iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "at_hash", "azp", "name", "email", "email_verified"],
        "prompt_values_supported": ["none", "login", "consent"],
        "claims_parameter_supported": false,
        "request_parameter_supported": false,
        "request_uri_parameter_supported": false,
    });
    if let (Some(d), Some(e)) = (doc.as_object_mut(), extra.as_object()) {
        d.extend(e.clone());
    }
    Json(doc).into_response()
}

pub async fn jwks(State(state): State<AppState>) -> Response {
    let mut res = Json(state.key_ring().jwks.clone()).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res
}
