//! `GET|POST /oauth2/authorize` and its resumption after sign-in: the browser side of the
//! authorization-code flow. Answers are redirects, or an error page when the client or its
//! redirect URI is not known good (never a redirect then).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, StatusCode, Uri, header};
use tower_sessions::Session;

use super::errors::no_store;
use super::params::Params;
use crate::services::RequestMeta;
use crate::services::authorize::{self, Step};
use crate::web::AppState;
pub use crate::web::html::{escape, page};
use crate::web::session as portal;

pub async fn get_authorize(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let meta = crate::web::meta::client_meta(&headers, Some(peer), state.settings.trusted_proxies);
    if let Some(refused) = over_limit(&state, &meta).await {
        return refused;
    }
    let params = Params::from_form(uri.query().unwrap_or("").as_bytes());
    answer(&state, &session, meta, params).await
}

pub async fn post_authorize(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let meta = crate::web::meta::client_meta(&headers, Some(peer), state.settings.trusted_proxies);
    if let Some(refused) = over_limit(&state, &meta).await {
        return refused;
    }
    let form = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"));
    if !form {
        return error_page(StatusCode::BAD_REQUEST, "The request must be form-encoded.");
    }
    answer(&state, &session, meta, Params::from_form(&body)).await
}

/// The per-address limit on authorization requests: 429 with `Retry-After` past it.
async fn over_limit(state: &AppState, meta: &RequestMeta) -> Option<Response> {
    let key = crate::services::limits::authorize_ip(meta.ip.as_deref().unwrap_or("-"));
    let caller = crate::services::Caller {
        actor: crate::services::Actor::Anonymous,
        meta: meta.clone(),
    };
    let limit = state.settings.limits.authorize_per_ip;
    let e = state
        .limiter
        .enforce(&state.audit, &caller, &key, limit, None)
        .await
        .err()?;
    let mut res = error_page(
        StatusCode::TOO_MANY_REQUESTS,
        &format!(
            "Too many sign-in requests from your network. Try again in {} seconds.",
            e.retry_after
        ),
    );
    if let Ok(v) = http::HeaderValue::from_str(&e.retry_after.to_string()) {
        res.headers_mut().insert(header::RETRY_AFTER, v);
    }
    Some(res)
}

async fn answer(
    state: &AppState,
    session: &Session,
    meta: RequestMeta,
    params: Result<Params, crate::domain::oauth::OAuthError>,
) -> Response {
    let params = match params {
        Ok(p) => p,
        // A repeated or oversized parameter: nothing in the request can be trusted.
        Err(e) => return error_page(StatusCode::BAD_REQUEST, e.description()),
    };
    let visitor = portal::visitor(state, session, meta).await;
    let step = authorize::start(
        &state.db,
        &state.settings.issuer,
        |k| params.get(k),
        visitor,
    )
    .await;
    reply(&state.settings.issuer, step)
}

pub async fn resume(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let params = Params::from_form(uri.query().unwrap_or("").as_bytes()).unwrap_or_default();
    let id = params.get("id").unwrap_or_default().to_string();
    let meta = crate::web::meta::client_meta(&headers, Some(peer), state.settings.trusted_proxies);
    let visitor = portal::visitor(&state, &session, meta).await;
    let step = authorize::resume(&state.db, &state.settings.issuer, &id, visitor).await;
    reply(&state.settings.issuer, step)
}

fn reply(issuer: &str, step: crate::services::Result<Step>) -> Response {
    let mut res = match step {
        Ok(Step::Redirect(url)) => Redirect::to(&url).into_response(),
        Ok(Step::Page(message)) => error_page(StatusCode::BAD_REQUEST, &message),
        Ok(Step::Blocked {
            app_name,
            client_id,
        }) => blocked_page(issuer, &app_name, &client_id),
        Err(e) => {
            tracing::error!(error = %e, "authorization endpoint");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Something went wrong on our side. Please try again.",
            )
        }
    };
    no_store(&mut res);
    res
}

/// A plain page for the browser: the authorization request cannot go back to the app.
pub fn error_page(status: StatusCode, message: &str) -> Response {
    page(
        status,
        "Cannot continue",
        &format!(
            "<h1>This request cannot continue</h1><p class=\"error\" role=\"alert\">{}</p>\
             <p>Go back to the app you came from and try again.</p>",
            escape(message)
        ),
    )
}

/// "Can't authorize this app": the user's organization restricts external apps. The link
/// opens the approval form for an admin of that organization.
fn blocked_page(issuer: &str, app_name: &str, client_id: &str) -> Response {
    let link = format!(
        "{issuer}{}?client_id={}",
        crate::domain::paths::EXTERNAL_APPS_PATH,
        url::form_urlencoded::byte_serialize(client_id.as_bytes()).collect::<String>()
    );
    page(
        StatusCode::FORBIDDEN,
        "Can't authorize this app",
        &format!(
            "<h1>You can't authorize this app</h1>             <p class=\"error\" role=\"alert\">Your organization allows only the external apps its              administrators approved, and <strong>{}</strong> is not one of them.</p>             <p>Ask an administrator of your organization to approve it. They can open this link:</p>             <p><a class=\"approval-link\" href=\"{}\">{}</a></p>",
            escape(app_name),
            escape(&link),
            escape(&link)
        ),
    )
}
