//! OAuth 2.0 error codes (RFC 6749 §5.2) and the scope rule of the client credentials grant.

use super::ScopeSet;

/// An error of the token endpoint, with a description safe to show to the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OAuthError {
    InvalidRequest(String),
    InvalidClient(String),
    InvalidGrant(String),
    UnauthorizedClient(String),
    UnsupportedGrantType(String),
    InvalidScope(String),
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
            | OAuthError::InvalidScope(d) => d,
            OAuthError::ServerError => "the server could not complete the request",
        }
    }

    /// 401 for client authentication failures, 500 for our own, 400 for the rest.
    pub fn status(&self) -> u16 {
        match self {
            OAuthError::InvalidClient(_) => 401,
            OAuthError::ServerError => 500,
            _ => 400,
        }
    }
}

/// The scopes granted to a client-credentials request: all the app's scopes when none are
/// requested; otherwise the requested ones, which must all be allowed.
pub fn client_credentials_scopes(
    requested: Option<&str>,
    allowed: &ScopeSet,
) -> Result<ScopeSet, OAuthError> {
    let Some(requested) = requested.filter(|r| !r.trim().is_empty()) else {
        return Ok(allowed.clone());
    };
    let set = ScopeSet::parse([requested]).map_err(|e| OAuthError::InvalidScope(e.message))?;
    if let Some(extra) = set.iter().find(|s| !allowed.contains(s.as_str())) {
        return Err(OAuthError::InvalidScope(format!(
            "the client is not allowed the scope {}",
            extra.as_str()
        )));
    }
    Ok(set)
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
    fn statuses() {
        assert_eq!(OAuthError::InvalidClient("x".into()).status(), 401);
        assert_eq!(OAuthError::InvalidScope("x".into()).status(), 400);
        assert_eq!(OAuthError::ServerError.status(), 500);
    }
}
