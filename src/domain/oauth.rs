//! OAuth 2.0 error codes (RFC 6749 §5.2) and the scope rule of the client credentials grant.

use super::{Audience, ScopeSet};

pub use super::paths::{AUTHORIZE_PATH, TOKEN_PATH};

/// How a client authenticates at the token, introspection and revocation endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuthMethod {
    SecretBasic,
    SecretPost,
    PrivateKeyJwt,
    /// A public client: its id alone (PKCE protects its codes).
    None,
}

impl ClientAuthMethod {
    pub const ALL: [ClientAuthMethod; 4] = [
        ClientAuthMethod::SecretBasic,
        ClientAuthMethod::SecretPost,
        ClientAuthMethod::PrivateKeyJwt,
        ClientAuthMethod::None,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            ClientAuthMethod::SecretBasic => "client_secret_basic",
            ClientAuthMethod::SecretPost => "client_secret_post",
            ClientAuthMethod::PrivateKeyJwt => "private_key_jwt",
            ClientAuthMethod::None => "none",
        }
    }
}

/// An error of the token endpoint, with a description safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OAuthError {
    InvalidRequest(String),
    InvalidClient(String),
    InvalidGrant(String),
    UnauthorizedClient(String),
    UnsupportedGrantType(String),
    InvalidScope(String),
    /// RFC 8707: the `resource` is not one this client may ask a token for.
    InvalidTarget(String),
    /// Errors of the authorization endpoint, sent back to the client's redirect URI.
    AccessDenied(String),
    UnsupportedResponseType(String),
    LoginRequired(String),
    ConsentRequired(String),
    RequestNotSupported(String),
    /// RFC 8628 §3.5: the user has not answered yet; poll again after the interval.
    AuthorizationPending,
    /// RFC 8628 §3.5: polled too soon; the interval grows by five seconds.
    SlowDown,
    /// RFC 8628 §3.5: the device code expired before the user answered.
    ExpiredToken,
    /// RFC 9449 §5: the DPoP proof is missing where required, malformed or not for this
    /// request.
    InvalidDpopProof(String),
    /// RFC 9449 §8: the proof must carry our nonce; this one (sent as `DPoP-Nonce`).
    UseDpopNonce(String),
    /// Too many failed client authentications from one address: refused before any check,
    /// 429 with the seconds to wait.
    TooManyAttempts(String, i64),
    /// Over a request rate limit: 429 with the seconds to wait (RFC 6585).
    RateLimited(i64),
    ServerError,
}

impl OAuthError {
    pub fn code(&self) -> &'static str {
        match self {
            OAuthError::InvalidRequest(_) => "invalid_request",
            OAuthError::InvalidClient(_) => "invalid_client",
            OAuthError::InvalidGrant(_) => "invalid_grant",
            OAuthError::UnauthorizedClient(_) => "unauthorized_client",
            OAuthError::UnsupportedGrantType(_) => "unsupported_grant_type",
            OAuthError::InvalidScope(_) => "invalid_scope",
            OAuthError::InvalidTarget(_) => "invalid_target",
            OAuthError::AccessDenied(_) => "access_denied",
            OAuthError::UnsupportedResponseType(_) => "unsupported_response_type",
            OAuthError::LoginRequired(_) => "login_required",
            OAuthError::ConsentRequired(_) => "consent_required",
            OAuthError::RequestNotSupported(_) => "request_not_supported",
            OAuthError::AuthorizationPending => "authorization_pending",
            OAuthError::SlowDown => "slow_down",
            OAuthError::ExpiredToken => "expired_token",
            OAuthError::InvalidDpopProof(_) => "invalid_dpop_proof",
            OAuthError::UseDpopNonce(_) => "use_dpop_nonce",
            OAuthError::TooManyAttempts(..) => "invalid_client",
            OAuthError::RateLimited(_) => "temporarily_unavailable",
            OAuthError::ServerError => "server_error",
        }
    }

    pub fn description(&self) -> &str {
        match self {
            OAuthError::InvalidRequest(d)
            | OAuthError::InvalidClient(d)
            | OAuthError::InvalidGrant(d)
            | OAuthError::UnauthorizedClient(d)
            | OAuthError::UnsupportedGrantType(d)
            | OAuthError::InvalidTarget(d)
            | OAuthError::InvalidScope(d)
            | OAuthError::AccessDenied(d)
            | OAuthError::UnsupportedResponseType(d)
            | OAuthError::LoginRequired(d)
            | OAuthError::ConsentRequired(d)
            | OAuthError::RequestNotSupported(d)
            | OAuthError::InvalidDpopProof(d)
            | OAuthError::TooManyAttempts(d, _) => d,
            OAuthError::RateLimited(_) => {
                "too many requests; try again after the Retry-After seconds"
            }
            OAuthError::AuthorizationPending => "the user has not answered yet",
            OAuthError::SlowDown => "polling too often; wait five seconds more between polls",
            OAuthError::ExpiredToken => "the device code has expired; start again",
            OAuthError::UseDpopNonce(_) => {
                "the DPoP proof must carry the nonce sent in the DPoP-Nonce header"
            }
            OAuthError::ServerError => "the server could not complete the request",
        }
    }

    /// 401 for client authentication failures, 500 for our own, 400 for the rest.
    pub fn status(&self) -> u16 {
        match self {
            OAuthError::InvalidClient(_) => 401,
            OAuthError::TooManyAttempts(..) | OAuthError::RateLimited(_) => 429,
            OAuthError::ServerError => 500,
            _ => 400,
        }
    }
}

/// The scopes a request names, parsed; `None` when it names none.
fn requested_scopes(requested: Option<&str>) -> Result<Option<ScopeSet>, OAuthError> {
    match requested.filter(|r| !r.trim().is_empty()) {
        None => Ok(None),
        Some(r) => ScopeSet::parse([r])
            .map(Some)
            .map_err(|e| OAuthError::InvalidScope(e.message)),
    }
}

/// The requested scopes when every one of them is in `within` (all of `within` when none
/// are requested); otherwise `invalid_scope` naming the first one outside.
fn scopes_within(
    requested: Option<&str>,
    within: &ScopeSet,
    outside: impl Fn(&str) -> String,
) -> Result<ScopeSet, OAuthError> {
    let Some(set) = requested_scopes(requested)? else {
        return Ok(within.clone());
    };
    if let Some(extra) = set.iter().find(|s| !within.contains(s.as_str())) {
        return Err(OAuthError::InvalidScope(outside(extra.as_str())));
    }
    Ok(set)
}

/// The scopes granted to a client-credentials request: all the app's scopes when none are
/// requested; otherwise the requested ones, which must all be allowed.
pub fn client_credentials_scopes(
    requested: Option<&str>,
    allowed: &ScopeSet,
) -> Result<ScopeSet, OAuthError> {
    scopes_within(requested, allowed, |s| {
        format!("the client is not allowed the scope {s}")
    })
}

/// A narrower scope on refresh: every requested scope must be in the grant.
pub fn narrowed_scopes(
    requested: Option<&str>,
    granted: &ScopeSet,
) -> Result<ScopeSet, OAuthError> {
    scopes_within(requested, granted, |s| {
        format!("{s} was not granted; a refresh may only narrow the scope")
    })
}

/// The scopes of an exchanged token (RFC 8693): the requested ones when the subject token
/// may use each now and the app may have it (all of those when none are requested).
pub fn exchanged_scopes(
    requested: Option<&str>,
    within: &ScopeSet,
) -> Result<ScopeSet, OAuthError> {
    scopes_within(requested, within, |s| {
        format!("{s} is beyond what the subject token and this app may use")
    })
}

/// The scopes granted to a user grant: requested ∩ allowed (all allowed when none are
/// requested); unknown scopes, or nothing left, are `invalid_scope`.
pub fn user_grant_scopes(
    requested: Option<&str>,
    allowed: &ScopeSet,
) -> Result<ScopeSet, OAuthError> {
    let Some(set) = requested_scopes(requested)? else {
        return Ok(allowed.clone());
    };
    let granted = set.intersect(allowed);
    if granted.is_empty() {
        return Err(OAuthError::InvalidScope(
            "none of the requested scopes is allowed for this client".into(),
        ));
    }
    Ok(granted)
}

/// The organization a user acts in through an on-behalf-of-user app: the app's own
/// organization when the user belongs to it; otherwise, for an `everyone` app, the user's
/// first organization; an `internal` app has no one else.
pub fn acting_org(app_org: &str, audience: Audience, user_orgs: &[String]) -> Option<String> {
    if user_orgs.iter().any(|o| o == app_org) {
        return Some(app_org.to_string());
    }
    match audience {
        Audience::Internal => None,
        Audience::Everyone => user_orgs.first().cloned(),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn scope_rule() {
        let allowed = ScopeSet::parse(["read:apps manage:apps"]).unwrap();
        assert_eq!(client_credentials_scopes(None, &allowed).unwrap(), allowed);
        assert_eq!(
            client_credentials_scopes(Some(" "), &allowed).unwrap(),
            allowed
        );
        assert_eq!(
            client_credentials_scopes(Some("read:apps"), &allowed)
                .unwrap()
                .to_space_separated(),
            "read:apps"
        );
        assert_eq!(
            client_credentials_scopes(Some("read:audit"), &allowed)
                .unwrap_err()
                .code(),
            "invalid_scope"
        );
        assert_eq!(
            client_credentials_scopes(Some("bogus"), &allowed)
                .unwrap_err()
                .code(),
            "invalid_scope"
        );
    }

    #[test]
    fn user_scopes_and_narrowing() {
        let allowed = ScopeSet::parse(["openid email offline_access read:apps"]).unwrap();
        assert_eq!(user_grant_scopes(None, &allowed).unwrap(), allowed);
        assert_eq!(
            user_grant_scopes(Some("email manage:apps"), &allowed)
                .unwrap()
                .to_space_separated(),
            "email"
        );
        assert_eq!(
            user_grant_scopes(Some("manage:apps"), &allowed)
                .unwrap_err()
                .code(),
            "invalid_scope"
        );
        assert_eq!(
            user_grant_scopes(Some("nope"), &allowed)
                .unwrap_err()
                .code(),
            "invalid_scope"
        );
        let granted = ScopeSet::parse(["email read:apps"]).unwrap();
        assert_eq!(
            narrowed_scopes(Some("email"), &granted)
                .unwrap()
                .to_space_separated(),
            "email"
        );
        assert_eq!(narrowed_scopes(None, &granted).unwrap(), granted);
        assert_eq!(
            narrowed_scopes(Some("email openid"), &granted)
                .unwrap_err()
                .code(),
            "invalid_scope"
        );
    }

    #[test]
    fn acting_organization() {
        let orgs = vec!["b".to_string(), "a".to_string()];
        assert_eq!(
            acting_org("a", Audience::Internal, &orgs).as_deref(),
            Some("a")
        );
        assert_eq!(acting_org("c", Audience::Internal, &orgs), None);
        assert_eq!(
            acting_org("c", Audience::Everyone, &orgs).as_deref(),
            Some("b")
        );
        assert_eq!(acting_org("c", Audience::Everyone, &[]), None);
    }

    #[test]
    fn statuses() {
        assert_eq!(OAuthError::InvalidClient("x".into()).status(), 401);
        assert_eq!(OAuthError::InvalidScope("x".into()).status(), 400);
        assert_eq!(OAuthError::ServerError.status(), 500);
    }
}
