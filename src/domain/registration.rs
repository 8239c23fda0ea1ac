//! Dynamic client registration (RFC 7591 §2, RFC 7592): client metadata as an app sends it,
//! read into the same `AppInput` the portal's form fills, so a registered app is checked by
//! exactly the portal's rules (kinds, redirect URIs, scopes, grant types); and the app's
//! settings written back as metadata.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::app::{AppInput, GrantType};
use super::errors::FieldErrors;
use super::views::AppView;

/// What the portal's form (or the REST API) submits to issue an initial access token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct InitialTokenInput {
    pub name: String,
    /// How many registrations it allows (1–1000).
    pub uses: String,
    /// For how many days (1–365).
    pub days: String,
    pub scopes: Vec<String>,
    pub grant_types: Vec<String>,
    /// A business group's id; empty for the organization.
    pub business_group: String,
}

/// Client metadata (RFC 7591 §2). Fields we do not use (`contacts`, `logo_uri`,
/// `software_id`...) are accepted and ignored, as §2 asks.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct ClientMetadata {
    pub client_id: Option<String>,
    pub redirect_uris: Vec<String>,
    pub token_endpoint_auth_method: Option<String>,
    pub grant_types: Option<Vec<String>>,
    pub response_types: Option<Vec<String>>,
    pub client_name: Option<String>,
    pub client_uri: Option<String>,
    pub scope: Option<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub id_token_signed_response_alg: Option<String>,
    pub backchannel_logout_uri: Option<String>,
    pub jwks: Option<Value>,
    pub jwks_uri: Option<String>,
    /// RFC 9126 §6.
    pub require_pushed_authorization_requests: Option<bool>,
    /// RFC 9449 §5.2.
    pub dpop_bound_access_tokens: Option<bool>,
}

/// A registration refused (RFC 7591 §3.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MetadataError {
    /// `invalid_redirect_uri` or `invalid_client_metadata`.
    pub error: &'static str,
    pub description: String,
}

impl MetadataError {
    fn metadata(description: impl Into<String>) -> Self {
        Self {
            error: "invalid_client_metadata",
            description: description.into(),
        }
    }

    /// The portal's field errors, in RFC 7591's words.
    pub fn of_fields(errors: &FieldErrors) -> Self {
        let redirect = errors
            .0
            .iter()
            .any(|f| f.field == "redirect_uris" || f.field == "post_logout_redirect_uris");
        Self {
            error: if redirect {
                "invalid_redirect_uri"
            } else {
                "invalid_client_metadata"
            },
            description: errors
                .0
                .iter()
                .map(|f| format!("{}: {}", f.field, f.message))
                .collect::<Vec<_>>()
                .join("; "),
        }
    }
}

/// The grant types and scopes a registration may ask for (its initial access token's).
pub struct Limits<'a> {
    pub grant_types: &'a [String],
    pub scopes: &'a super::ScopeSet,
}

/// Reads metadata into the portal's input and the public keys text (`jwks`), within the
/// limits of the token that allows the registration.
pub fn to_input(
    meta: &ClientMetadata,
    limits: &Limits<'_>,
) -> Result<(AppInput, String), MetadataError> {
    let grants: Vec<String> = meta
        .grant_types
        .clone()
        .unwrap_or_else(|| vec![GrantType::AuthorizationCode.as_str().to_string()]);
    if let Some(g) = grants.iter().find(|g| !limits.grant_types.contains(g)) {
        let shown: String = g.chars().take(80).collect();
        return Err(MetadataError::metadata(format!(
            "the grant type {shown} is not allowed by the initial access token"
        )));
    }
    let own_behalf = grants
        .iter()
        .any(|g| g == GrantType::ClientCredentials.as_str());
    if own_behalf && grants.len() > 1 {
        return Err(MetadataError::metadata(
            "client_credentials cannot be combined with user grants: register two apps",
        ));
    }
    let wants_code = grants
        .iter()
        .any(|g| g == GrantType::AuthorizationCode.as_str());
    match meta.response_types.as_deref() {
        None => {}
        Some([only]) if only == "code" && wants_code => {}
        Some([]) if !wants_code => {}
        Some(_) => {
            return Err(MetadataError::metadata(
                "response_types must be [\"code\"] with authorization_code (and empty without it)",
            ));
        }
    }
    if meta.jwks_uri.is_some() {
        return Err(MetadataError::metadata(
            "jwks_uri is not supported: send the keys as jwks",
        ));
    }
    let method = meta
        .token_endpoint_auth_method
        .as_deref()
        .unwrap_or("client_secret_basic");
    let public_keys = match (method, &meta.jwks) {
        ("client_secret_basic" | "client_secret_post" | "none", _) => String::new(),
        ("private_key_jwt", Some(jwks)) => jwks.to_string(),
        ("private_key_jwt", None) => {
            return Err(MetadataError::metadata("private_key_jwt needs jwks"));
        }
        _ => {
            return Err(MetadataError::metadata(
                "token_endpoint_auth_method must be client_secret_basic, client_secret_post, private_key_jwt or none",
            ));
        }
    };
    let asked = meta.scope.clone().unwrap_or_default();
    let scopes = if asked.trim().is_empty() {
        limits.scopes.to_space_separated()
    } else {
        let wanted = super::ScopeSet::parse([asked.as_str()])
            .map_err(|e| MetadataError::metadata(format!("scope: {}", e.message)))?;
        if let Some(s) = wanted.iter().find(|s| !limits.scopes.contains(s.as_str())) {
            return Err(MetadataError::metadata(format!(
                "the scope {} is not allowed by the initial access token",
                s.as_str()
            )));
        }
        wanted.to_space_separated()
    };
    let input = AppInput {
        name: meta
            .client_name
            .clone()
            .unwrap_or_else(|| "Registered app".into()),
        kind: if own_behalf {
            "own-behalf"
        } else {
            "on-behalf-of-user"
        }
        .into(),
        grant_types: grants,
        redirect_uris: vec![meta.redirect_uris.join("\n")],
        website_url: meta.client_uri.clone().unwrap_or_default(),
        audience: "internal".into(),
        scopes: vec![scopes],
        public_client: method == "none",
        id_token_alg: meta
            .id_token_signed_response_alg
            .clone()
            .unwrap_or_default(),
        post_logout_redirect_uris: vec![meta.post_logout_redirect_uris.join("\n")],
        backchannel_logout_uri: meta.backchannel_logout_uri.clone().unwrap_or_default(),
        require_par: meta.require_pushed_authorization_requests.unwrap_or(false),
        require_dpop: meta.dpop_bound_access_tokens.unwrap_or(false),
        ..AppInput::default()
    };
    Ok((input, public_keys))
}

/// An app's settings as client metadata (RFC 7591 §3.2.1, RFC 7592 §3).
#[derive(Debug, Clone, Serialize)]
pub struct MetadataView {
    pub client_id: String,
    pub client_name: String,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub response_types: Vec<String>,
    pub token_endpoint_auth_method: String,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_uri: Option<String>,
    pub id_token_signed_response_alg: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_session_required: Option<bool>,
    pub require_pushed_authorization_requests: bool,
    pub dpop_bound_access_tokens: bool,
}

impl MetadataView {
    pub fn of(app: &AppView) -> Self {
        let code = app
            .grant_types
            .iter()
            .any(|g| g == GrantType::AuthorizationCode.as_str());
        Self {
            client_id: app.client_id.clone(),
            client_name: app.name.clone(),
            redirect_uris: app.redirect_uris.clone(),
            post_logout_redirect_uris: app.post_logout_redirect_uris.clone(),
            grant_types: app.grant_types.clone(),
            response_types: if code {
                vec!["code".into()]
            } else {
                Vec::new()
            },
            token_endpoint_auth_method: if app.public_client {
                "none"
            } else if app.public_keys.is_some() {
                "private_key_jwt"
            } else {
                "client_secret_basic"
            }
            .into(),
            scope: app.scopes.join(" "),
            client_uri: app.website_url.clone(),
            id_token_signed_response_alg: app.id_token_alg.clone(),
            backchannel_logout_session_required: app.backchannel_logout_uri.as_ref().map(|_| true),
            backchannel_logout_uri: app.backchannel_logout_uri.clone(),
            require_pushed_authorization_requests: app.require_par,
            dpop_bound_access_tokens: app.require_dpop,
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::domain::ScopeSet;

    fn limits(scopes: &ScopeSet) -> Limits<'_> {
        Limits {
            grant_types: &[],
            scopes,
        }
    }

    #[test]
    fn metadata_stays_within_the_initial_token() {
        let scopes = ScopeSet::parse(["openid email"]).unwrap();
        let grants = vec![
            "authorization_code".to_string(),
            "refresh_token".to_string(),
        ];
        let l = Limits {
            grant_types: &grants,
            scopes: &scopes,
        };
        let meta = ClientMetadata {
            redirect_uris: vec!["https://app.example.com/cb".into()],
            client_name: Some("App".into()),
            scope: Some("openid".into()),
            ..Default::default()
        };
        let (input, keys) = to_input(&meta, &l).unwrap();
        assert_eq!(input.kind, "on-behalf-of-user");
        assert_eq!(input.grant_types, vec!["authorization_code"]);
        assert_eq!(input.scopes, vec!["openid"]);
        assert!(keys.is_empty());
        let wider = ClientMetadata {
            scope: Some("openid admin:org".into()),
            ..meta.clone()
        };
        assert_eq!(
            to_input(&wider, &l).unwrap_err().error,
            "invalid_client_metadata"
        );
        let other_grant = ClientMetadata {
            grant_types: Some(vec!["password".into()]),
            ..meta.clone()
        };
        assert!(to_input(&other_grant, &l).is_err());
        let token_flow = ClientMetadata {
            response_types: Some(vec!["token".into()]),
            ..meta.clone()
        };
        assert!(to_input(&token_flow, &l).is_err());
        let remote_keys = ClientMetadata {
            jwks_uri: Some("https://app.example.com/jwks".into()),
            ..meta
        };
        assert!(to_input(&remote_keys, &limits(&scopes)).is_err());
    }
}
