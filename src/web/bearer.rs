//! Bearer tokens in HTTP (RFC 6750): reading one from `Authorization`, and the
//! `WWW-Authenticate` answer when it is refused, for userinfo and the REST API alike.

use axum::response::{IntoResponse, Response};
use http::{HeaderMap, HeaderValue, StatusCode, header};

use crate::services::tokens::{BearerError, Presented};

/// The token of an `Authorization: Bearer` header.
pub fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    (scheme.eq_ignore_ascii_case("bearer") && !token.trim().is_empty()).then(|| token.trim())
}

/// The access token of a request to `path` with `method`, as `Authorization: Bearer` or
/// `Authorization: DPoP` (RFC 9449 §7.1) presents it, with the request's DPoP proofs.
pub fn presented<'a>(
    headers: &'a HeaderMap,
    method: &'a str,
    path: &'a str,
) -> Option<Presented<'a>> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    let token = token.trim();
    let dpop = scheme.eq_ignore_ascii_case("dpop");
    if token.is_empty() || !(dpop || scheme.eq_ignore_ascii_case("bearer")) {
        return None;
    }
    Some(Presented {
        token,
        dpop,
        proofs: headers
            .get_all("dpop")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .collect(),
        method,
        path,
    })
}

/// A refused bearer token: 401 `invalid_token` or 403 `insufficient_scope`, said in
/// `WWW-Authenticate`.
pub fn bearer_error(e: BearerError, scope: Option<&str>) -> Response {
    let (status, challenge) = match e {
        BearerError::InvalidToken => (
            StatusCode::UNAUTHORIZED,
            "Bearer error=\"invalid_token\", error_description=\"the access token is invalid, expired or revoked\"".to_string(),
        ),
        BearerError::InsufficientScope => (
            StatusCode::FORBIDDEN,
            format!(
                "Bearer error=\"insufficient_scope\", scope=\"{}\"",
                scope.unwrap_or("openid")
            ),
        ),
        BearerError::InvalidDpopProof => (
            StatusCode::UNAUTHORIZED,
            format!(
                "DPoP error=\"invalid_dpop_proof\", error_description=\"the DPoP proof is missing, invalid or not for this request\", algs=\"{}\"",
                crate::crypto::assertions::algorithm_names().join(" ")
            ),
        ),
        BearerError::Internal => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    let mut res = status.into_response();
    if let Ok(v) = HeaderValue::from_str(&challenge) {
        res.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_header() {
        let mut h = HeaderMap::new();
        assert_eq!(bearer(&h), None);
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("Bearer abc"),
        );
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(
            header::AUTHORIZATION,
            HeaderValue::from_static("bearer  abc "),
        );
        assert_eq!(bearer(&h), Some("abc"));
        h.insert(header::AUTHORIZATION, HeaderValue::from_static("Basic abc"));
        assert_eq!(bearer(&h), None);
    }
}
