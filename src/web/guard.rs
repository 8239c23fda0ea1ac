//! Input no Latchkey request may carry, refused before any handler reads it: a NUL
//! character (no identifier, name, URI or token of ours holds one, and PostgreSQL cannot
//! store one in text), and a path segment longer than any file name or identifier (255
//! bytes). A clear 400 (or 404 for the path) instead of a database or file-system error.

use axum::body::{Body, Bytes};
use axum::http::{Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Longest path segment any route or file can have.
const MAX_SEGMENT: usize = 255;
/// Bodies are read whole here; the router's body limit bounds them first.
const MAX_BODY: usize = 256 * 1024;

/// Whether `raw` holds a NUL: the byte itself, percent-encoded, or a JSON escape.
pub fn holds_nul(raw: &[u8]) -> bool {
    raw.contains(&0)
        || raw
            .windows(3)
            .any(|w| w[0] == b'%' && w[1] == b'0' && w[2] == b'0')
        || raw
            .windows(6)
            .any(|w| w[..2] == *b"\\u" && w[2..].iter().all(|b| *b == b'0'))
}

fn refusal(path: &str, status: StatusCode, description: &'static str) -> Response {
    if path.starts_with("/oauth2/") || path.starts_with("/api/") {
        let body =
            serde_json::json!({ "error": "invalid_request", "error_description": description });
        (status, axum::Json(body)).into_response()
    } else {
        // A browser's request: a page saying what is wrong.
        super::html::page(
            status,
            "Check the request",
            &format!(
                "<h1>Check the request</h1><ul class=\"errors\"><li>{description}</li></ul>\
                 <p><a href=\"/\">Back to Latchkey</a></p>"
            ),
        )
    }
}

pub async fn refuse_unusable_input(req: Request<Body>, next: Next) -> Response {
    let path = req.uri().path().to_string();
    if path.split('/').any(|s| s.len() > MAX_SEGMENT) {
        return refusal(&path, StatusCode::NOT_FOUND, "no such resource");
    }
    if req.uri().query().is_some_and(|q| holds_nul(q.as_bytes())) || holds_nul(path.as_bytes()) {
        return refusal(
            &path,
            StatusCode::BAD_REQUEST,
            "the request contains a NUL character",
        );
    }
    let has_body = req
        .headers()
        .get(header::CONTENT_LENGTH)
        .is_some_and(|v| v.as_bytes() != b"0")
        || req.headers().contains_key(header::TRANSFER_ENCODING);
    if !has_body {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let bytes: Bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => {
            return refusal(
                &path,
                StatusCode::PAYLOAD_TOO_LARGE,
                "the request body is too large",
            );
        }
    };
    if holds_nul(&bytes) {
        return refusal(
            &path,
            StatusCode::BAD_REQUEST,
            "the request contains a NUL character",
        );
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::holds_nul;

    #[test]
    fn nul_in_every_spelling() {
        for raw in [&b"a\0b"[..], b"x=%00", b"{\"a\":\"\\u0000\"}"] {
            assert!(holds_nul(raw), "{raw:?}");
        }
        for raw in [&b"x=%20%01"[..], b"{\"a\":\"\\u0041\"}", b"plain", b"100%"] {
            assert!(!holds_nul(raw), "{raw:?}");
        }
    }
}
