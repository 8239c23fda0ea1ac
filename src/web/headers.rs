//! Security headers on every response. Pages carry a Content Security Policy with this
//! response's nonce (Leptos puts it on every script it writes): only our own scripts run,
//! forms post only here, nothing frames us. A page that continues an authorization request
//! (sign-in, consent) may also post on to that request's registered redirect URI, where a
//! browser without JavaScript is sent with the code. An https issuer adds HSTS.

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use http::HeaderValue;
use http::header::{
    CACHE_CONTROL, CONTENT_SECURITY_POLICY, REFERRER_POLICY, STRICT_TRANSPORT_SECURITY,
    X_CONTENT_TYPE_OPTIONS, X_FRAME_OPTIONS,
};

use super::AppState;
use crate::domain::paths::{CONSENT_PATH, LOGIN_PATH, RESUME_PATH};

/// The policy of every response that is not a rendered page: no script at all.
const NO_SCRIPT_POLICY: &str = "default-src 'self'; script-src 'none'; object-src 'none'; \
     base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// The policy of a rendered page: scripts only with `nonce` (and what they load), the
/// wasm they instantiate, styles and images of our own.
pub fn page_policy(nonce: &str) -> String {
    format!(
        "default-src 'self'; script-src 'nonce-{nonce}' 'strict-dynamic' 'wasm-unsafe-eval'; \
         style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; \
         object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
    )
}

/// The pending authorization request a page continues: `/consent?request=…`, or the
/// sign-in page sent to with `next=/oauth2/authorize/resume?id=…`.
fn continued_request(req: &Request) -> Option<String> {
    let path = req.uri().path();
    let query = req.uri().query()?;
    let param = |q: &str, name: &str| {
        url::form_urlencoded::parse(q.as_bytes())
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    match path {
        CONSENT_PATH => param(query, "request"),
        LOGIN_PATH => {
            let next = param(query, "next")?;
            let (resume, q) = next.split_once('?')?;
            (resume == RESUME_PATH).then(|| param(q, "id")).flatten()
        }
        _ => None,
    }
}

pub async fn security_headers(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let is_asset = req.uri().path().starts_with("/pkg/");
    let continued = continued_request(&req);
    let mut res = next.run(req).await;
    let page_policy = res
        .headers()
        .get(CONTENT_SECURITY_POLICY)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let policy = match (page_policy, continued) {
        (Some(policy), Some(id)) => {
            match crate::services::authorize::pending_redirect_origin(&state.db, &id).await {
                Some(origin) => policy.replace(
                    "form-action 'self'",
                    &format!("form-action 'self' {origin}"),
                ),
                None => policy,
            }
        }
        (Some(policy), None) => policy,
        (None, _) => NO_SCRIPT_POLICY.to_string(),
    };
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&policy) {
        h.insert(CONTENT_SECURITY_POLICY, v);
    }
    h.insert(X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    h.insert(X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    // same-origin keeps the Referer that no-JavaScript form posts are redirected back to.
    h.insert(REFERRER_POLICY, HeaderValue::from_static("same-origin"));
    if state.settings.issuer.starts_with("https://") {
        h.insert(
            STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        );
    }
    if !is_asset && !h.contains_key(CACHE_CONTROL) {
        h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    res
}
