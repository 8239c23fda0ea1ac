//! The token service: one file per grant, one per concern. A newcomer finds a grant by its
//! name (`client_credentials`, `authorization_code`, `refresh`, `password`, `jwt_bearer`,
//! `device_code`);
//! what they share is here and in `grant` (user grants), `access` (access tokens),
//! `id_token`, `client_auth`, `introspect`, `userinfo` and `revoke`.

mod access;
mod authorization_code;
mod client_auth;
mod client_credentials;
mod device_code;
mod dpop;
mod grant;
mod id_token;
mod introspect;
mod jwt_bearer;
mod password;
mod refresh;
mod revoke;
mod token_exchange;
mod userinfo;

pub use access::{Aud, VerifiedAccess, active, active_here, verify_access};
pub use authorization_code::authorization_code;
pub use client_auth::{ClientProof, ClientRefusal, authenticate, claimed};
pub use client_credentials::client_credentials;
pub use device_code::{DeviceAuthorization, device_code, start_device};
pub use dpop::{Presented, check_presentation, par_proof, token_request_proof};
pub use grant::current_scopes;
pub use id_token::{
    BACKCHANNEL_LOGOUT_EVENT, IdTokenHint, UserClaims, id_token_hint, logout_token,
};
pub use introspect::{Decision, JWT_INTROSPECTION, evaluate, introspect, signed_answer};
pub use jwt_bearer::jwt_bearer;
pub use password::password;
pub use refresh::refresh;
pub use revoke::revoke;
pub use token_exchange::{ExchangeRequest, token_exchange};
pub use userinfo::{BearerError, userinfo};

use serde::Serialize;

use super::keys::KeyRing;
use crate::domain::oauth::OAuthError;
use crate::domain::{AppKind, GrantType};
use crate::store::{Db, apps::App};

/// What issuing and checking tokens needs: the store, the key ring and our issuer URL.
pub struct Issuer<'a> {
    pub db: &'a Db,
    pub ring: &'a KeyRing,
    pub url: &'a str,
    /// The API a token request targets (RFC 8707 `resource`), if it names one.
    pub resource: Option<&'a str>,
    /// The thumbprint of the key a token request proved it holds (RFC 9449), if it sent a
    /// DPoP proof: its tokens are bound to that key.
    pub dpop_jkt: Option<String>,
}

/// A token response (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// What a token exchange issued (RFC 8693 §2.2.1).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub issued_token_type: Option<&'static str>,
    /// The token's subject (for the audit record), not sent.
    #[serde(skip)]
    pub sub: String,
    /// The access token's id (for the audit record), not sent.
    #[serde(skip)]
    pub jti: String,
    /// The token a token exchange started from, for the audit record (not sent).
    #[serde(skip)]
    pub exchanged: Option<serde_json::Value>,
}

/// Logs an internal failure with its cause and answers `server_error`, which says nothing.
fn internal(e: impl std::fmt::Display) -> OAuthError {
    tracing::error!(error = %e, "token service");
    OAuthError::ServerError
}

/// The app may use `grant`: it is of `kind` and has the grant type registered.
fn may_use(app: &App, kind: AppKind, grant: GrantType) -> Result<(), OAuthError> {
    if app.kind != kind || !app.uses(grant) {
        return Err(OAuthError::UnauthorizedClient(format!(
            "the client may not use the {} grant",
            grant.as_str()
        )));
    }
    Ok(())
}
