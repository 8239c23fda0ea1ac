//! RFC 6749 §5.2 error responses, in one place.

use axum::Json;
use axum::response::{IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};
use serde_json::json;

use crate::domain::oauth::OAuthError;

/// Headers every token-endpoint answer carries (RFC 6749 §5.1).
pub fn no_store(res: &mut Response) {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res.headers_mut()
        .insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

/// An OAuth error as the token endpoint sends it.
pub struct OAuthReply(pub OAuthError);

impl IntoResponse for OAuthReply {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = StatusCode::from_u16(e.status()).unwrap_or(StatusCode::BAD_REQUEST);
        let mut res = (
            status,
            Json(json!({ "error": e.code(), "error_description": e.description() })),
        )
            .into_response();
        if let OAuthError::TooManyAttempts(_, secs) | OAuthError::RateLimited(secs) = &e
            && let Ok(v) = HeaderValue::from_str(&secs.to_string())
        {
            res.headers_mut().insert(header::RETRY_AFTER, v);
        }
        if let OAuthError::UseDpopNonce(nonce) = &e
            && let Ok(v) = HeaderValue::from_str(nonce)
        {
            res.headers_mut().insert("dpop-nonce", v);
        }
        if status == StatusCode::UNAUTHORIZED {
            res.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"latchkey\""),
            );
        }
        no_store(&mut res);
        res
    }
}

impl From<OAuthError> for OAuthReply {
    fn from(e: OAuthError) -> Self {
        Self(e)
    }
}
