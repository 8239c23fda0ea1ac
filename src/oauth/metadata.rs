//! Discovery (OpenID Connect Discovery 1.0 and RFC 8414) and the JWKS document. The
//! document is built as `openidconnect`'s typed `ProviderMetadata`, the very model its
//! clients parse, and every list in it comes from the types that implement it (grant types,
//! client authentication methods, algorithms, scopes), never written by hand.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, header};
use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthUrl, IssuerUrl, JsonWebKeySetUrl, ProviderMetadata,
    ResponseTypes, Scope, TokenUrl, UserInfoUrl,
};
use serde::{Deserialize, Serialize};

use super::{
    AUTHORIZE_PATH, INTROSPECT_PATH, JWKS_PATH, LOGOUT_PATH, REVOKE_PATH, TOKEN_PATH, USERINFO_PATH,
};
use crate::crypto::assertions;
use crate::domain::GrantType;
use crate::domain::app::ID_TOKEN_ALGS;
use crate::domain::oauth::ClientAuthMethod;
use crate::domain::scope::CATALOGUE;
use crate::web::AppState;

/// What we publish beyond OpenID Connect Discovery: RFC 8414, 7662, 7009, 7636, 9207, 8628,
/// 9126, 9701, 9449 and RP-Initiated Logout fields.
#[derive(Clone, Debug, Deserialize, Serialize)]
struct Extra {
    introspection_endpoint: String,
    introspection_endpoint_auth_methods_supported: Vec<CoreClientAuthMethod>,
    revocation_endpoint: String,
    revocation_endpoint_auth_methods_supported: Vec<CoreClientAuthMethod>,
    end_session_endpoint: String,
    device_authorization_endpoint: String,
    pushed_authorization_request_endpoint: String,
    introspection_signing_alg_values_supported: Vec<String>,
    dpop_signing_alg_values_supported: Vec<String>,
    backchannel_logout_supported: bool,
    backchannel_logout_session_supported: bool,
    require_pushed_authorization_requests: bool,
    code_challenge_methods_supported: Vec<String>,
    authorization_response_iss_parameter_supported: bool,
    prompt_values_supported: Vec<String>,
}

impl AdditionalProviderMetadata for Extra {}

type Metadata = ProviderMetadata<
    Extra,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

fn grant_type(g: GrantType) -> CoreGrantType {
    match g {
        GrantType::AuthorizationCode => CoreGrantType::AuthorizationCode,
        GrantType::RefreshToken => CoreGrantType::RefreshToken,
        GrantType::ClientCredentials => CoreGrantType::ClientCredentials,
        GrantType::Password => CoreGrantType::Password,
        GrantType::JwtBearer => CoreGrantType::JwtBearer,
        GrantType::DeviceCode => CoreGrantType::DeviceCode,
        GrantType::TokenExchange => {
            CoreGrantType::Extension(GrantType::TokenExchange.as_str().to_string())
        }
    }
}

fn auth_method(m: ClientAuthMethod) -> CoreClientAuthMethod {
    match m {
        ClientAuthMethod::SecretBasic => CoreClientAuthMethod::ClientSecretBasic,
        ClientAuthMethod::SecretPost => CoreClientAuthMethod::ClientSecretPost,
        ClientAuthMethod::PrivateKeyJwt => CoreClientAuthMethod::PrivateKeyJwt,
        ClientAuthMethod::None => CoreClientAuthMethod::None,
    }
}

/// A JWS algorithm by its JOSE name (`RS256`, `EdDSA`...), as `openidconnect` names it.
fn signing_alg(name: &str) -> Option<CoreJwsSigningAlgorithm> {
    serde_json::from_value(serde_json::Value::String(name.into())).ok()
}

/// The client authentication methods; introspection is for confidential clients only.
fn auth_methods(public_too: bool) -> Vec<CoreClientAuthMethod> {
    ClientAuthMethod::ALL
        .iter()
        .filter(|m| public_too || **m != ClientAuthMethod::None)
        .map(|m| auth_method(*m))
        .collect()
}

/// The OpenID Provider metadata of `issuer`: exactly what is implemented.
fn provider_metadata(issuer: &str) -> Result<Metadata, String> {
    let url = |path: &str| format!("{issuer}{path}");
    let bad = |e: url::ParseError| format!("issuer URL: {e}");
    let extra = Extra {
        introspection_endpoint: url(INTROSPECT_PATH),
        introspection_endpoint_auth_methods_supported: auth_methods(false),
        revocation_endpoint: url(REVOKE_PATH),
        revocation_endpoint_auth_methods_supported: auth_methods(true),
        end_session_endpoint: url(LOGOUT_PATH),
        device_authorization_endpoint: url(crate::domain::paths::DEVICE_AUTHORIZATION_PATH),
        pushed_authorization_request_endpoint: url(crate::domain::paths::PAR_PATH),
        introspection_signing_alg_values_supported: vec!["ES256".into()],
        dpop_signing_alg_values_supported: assertions::algorithm_names(),
        backchannel_logout_supported: true,
        backchannel_logout_session_supported: true,
        // Per app (its settings), not for every client.
        require_pushed_authorization_requests: false,
        code_challenge_methods_supported: vec![crate::domain::authorize::PKCE_METHOD.into()],
        authorization_response_iss_parameter_supported: true,
        prompt_values_supported: ["none", "login", "consent"].map(String::from).to_vec(),
    };
    let claims = [
        "iss",
        "sub",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "acr",
        "amr",
        "nonce",
        "at_hash",
        "sid",
        "azp",
        "name",
        "email",
        "email_verified",
    ];
    Ok(Metadata::new(
        IssuerUrl::new(issuer.to_string()).map_err(bad)?,
        AuthUrl::new(url(AUTHORIZE_PATH)).map_err(bad)?,
        JsonWebKeySetUrl::new(url(JWKS_PATH)).map_err(bad)?,
        vec![ResponseTypes::new(vec![CoreResponseType::Code])],
        vec![CoreSubjectIdentifierType::Public],
        ID_TOKEN_ALGS
            .iter()
            .filter_map(|a| signing_alg(a))
            .collect(),
        extra,
    )
    .set_token_endpoint(Some(TokenUrl::new(url(TOKEN_PATH)).map_err(bad)?))
    .set_userinfo_endpoint(Some(UserInfoUrl::new(url(USERINFO_PATH)).map_err(bad)?))
    .set_registration_endpoint(Some(
        openidconnect::RegistrationUrl::new(url(crate::domain::paths::REGISTRATION_PATH))
            .map_err(bad)?,
    ))
    .set_grant_types_supported(Some(
        GrantType::ALL.iter().map(|g| grant_type(*g)).collect(),
    ))
    .set_response_modes_supported(Some(vec![CoreResponseMode::Query]))
    .set_token_endpoint_auth_methods_supported(Some(auth_methods(true)))
    .set_token_endpoint_auth_signing_alg_values_supported(Some(
        assertions::algorithm_names()
            .iter()
            .filter_map(|a| signing_alg(a))
            .collect(),
    ))
    .set_scopes_supported(Some(
        CATALOGUE
            .iter()
            .map(|(s, _)| Scope::new(s.to_string()))
            .collect(),
    ))
    .set_claims_supported(Some(
        claims
            .iter()
            .map(|c| CoreClaimName::new(c.to_string()))
            .collect(),
    ))
    .set_acr_values_supported(Some(
        crate::domain::mfa::ACR_SUPPORTED
            .iter()
            .map(|a| openidconnect::AuthenticationContextClass::new(a.to_string()))
            .collect(),
    ))
    .set_claims_parameter_supported(Some(false))
    .set_request_parameter_supported(Some(false))
    .set_request_uri_parameter_supported(Some(false)))
}

/// The fields only OpenID Connect defines, left out of the RFC 8414 document.
const OPENID_ONLY: &[&str] = &[
    "userinfo_endpoint",
    "end_session_endpoint",
    "subject_types_supported",
    "id_token_signing_alg_values_supported",
    "claims_supported",
    "acr_values_supported",
    "prompt_values_supported",
    "claims_parameter_supported",
    "request_parameter_supported",
    "request_uri_parameter_supported",
];

fn document(issuer: &str, openid: bool) -> Response {
    let mut doc = match provider_metadata(issuer)
        .and_then(|m| serde_json::to_value(&m).map_err(|e| format!("provider metadata: {e}")))
    {
        Ok(doc) => doc,
        Err(e) => {
            tracing::error!(error = %e, "discovery");
            return http::StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    if !openid && let Some(d) = doc.as_object_mut() {
        d.retain(|k, _| !OPENID_ONLY.contains(&k.as_str()));
    }
    Json(doc).into_response()
}

/// RFC 8414 metadata.
pub async fn authorization_server(State(state): State<AppState>) -> Response {
    document(&state.settings.issuer, false)
}

/// OpenID Connect Discovery 1.0: the RFC 8414 document plus the OpenID Provider fields.
pub async fn openid_configuration(State(state): State<AppState>) -> Response {
    document(&state.settings.issuer, true)
}

pub async fn jwks(State(state): State<AppState>) -> Response {
    let mut res = Json(state.key_ring().jwks.clone()).into_response();
    res.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=300"),
    );
    res
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn every_list_comes_from_the_types() {
        let doc = serde_json::to_value(provider_metadata("https://id.example").unwrap()).unwrap();
        assert_eq!(
            doc["grant_types_supported"].as_array().unwrap().len(),
            GrantType::ALL.len()
        );
        assert_eq!(
            doc["token_endpoint_auth_signing_alg_values_supported"]
                .as_array()
                .unwrap()
                .len(),
            assertions::ALGORITHMS.len(),
            "every assertion algorithm has its JOSE name"
        );
        assert_eq!(
            doc["id_token_signing_alg_values_supported"],
            serde_json::json!(ID_TOKEN_ALGS)
        );
        assert_eq!(
            doc["introspection_endpoint_auth_methods_supported"]
                .as_array()
                .unwrap()
                .len(),
            3
        );
        // What a client library parses back is what we meant.
        let parsed: openidconnect::core::CoreProviderMetadata =
            serde_json::from_value(doc).unwrap();
        assert_eq!(parsed.issuer().as_str(), "https://id.example");
    }
}
