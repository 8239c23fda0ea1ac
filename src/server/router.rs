//! The router: health checks, server functions, pages and static files, behind the
//! session and security-header layers.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::limit::RequestBodyLimitLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use super::AppState;
use crate::app::{App, shell};
use crate::store::session_store::DbSessionStore;

pub const SESSION_COOKIE: &str = "latchkey_session";
/// Largest request body accepted anywhere (a JWKS document fits comfortably).
const MAX_BODY: usize = 256 * 1024;
/// Longest a request may take. Pages render on the server; Leptos 0.8's SSR has a rare
/// lost-wakeup race (leptos-rs/leptos#4851, #4578) that can leave a render waiting forever,
/// so no request may hold its connection and memory longer than this (408).
const MAX_REQUEST_TIME: std::time::Duration = std::time::Duration::from_secs(30);
/// How long in-flight requests may take to finish once an instance stops accepting: every
/// request ends within `MAX_REQUEST_TIME`.
pub const SHUTDOWN_GRACE: std::time::Duration =
    MAX_REQUEST_TIME.saturating_add(std::time::Duration::from_secs(2));

/// The pages' routes, listed once per process. Listing them renders the app with every
/// resource load suspended through a process-wide switch (`SuppressResourceLoad` in
/// leptos_server 0.8): a page of another router whose resource first ran while it was on
/// would wait forever (leptos-rs/leptos#4773). Listing once, before any router exists, means
/// no render can ever overlap it (`tests/stall.rs` builds routers while pages render).
fn page_routes() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    let routes = page_routes();
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.settings.secure_cookies)
        .with_expiry(Expiry::OnInactivity(
            tower_sessions::cookie::time::Duration::hours(8),
        ));

    let page_state = state.clone();
    let pages = Router::new()
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(page_state.clone()),
            {
                let options = state.leptos_options.clone();
                move || shell(options.clone())
            },
        )
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            preload_page_context,
        ));

    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(super::telemetry::metrics))
        .route(
            crate::app::admin::audit::EXPORT_PATH,
            get(crate::web::export::portal_export),
        )
        .merge(crate::oauth::routes())
        .merge(crate::api::routes())
        .merge(pages)
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(axum::middleware::from_fn(bad_arguments_are_400))
        .layer(axum::middleware::from_fn(keep_failed_form))
        .route_layer(axum::middleware::from_fn(super::telemetry::track))
        .layer(sessions)
        .layer(axum::middleware::from_fn(
            crate::web::guard::refuse_unusable_input,
        ))
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            MAX_REQUEST_TIME,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::web::headers::security_headers,
        ))
        .layer(axum::middleware::from_fn(origin_form_only))
        // A panic anywhere is a bug: it is logged and answered 500, never a dropped
        // connection (the hostile campaign counts both).
        .layer(tower_http::catch_panic::CatchPanicLayer::custom(panicked))
        .with_state(state)
}

/// Requests whose target is not a path (`GET example.com:80`, `OPTIONS *`, garbage) are
/// refused here, 400, before any handler sees a URI without a path.
async fn origin_form_only(req: Request<Body>, next: Next) -> Response {
    match req.uri().path_and_query() {
        Some(p) if p.as_str().starts_with('/') => next.run(req).await,
        _ => (StatusCode::BAD_REQUEST, "the request target must be a path").into_response(),
    }
}

fn panicked(err: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let what = err
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| err.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %what, "a request handler panicked");
    (StatusCode::INTERNAL_SERVER_ERROR, "internal error").into_response()
}

/// Loads what every page's frame shows (the CSRF token, who is signed in) before the render
/// begins, so the frame never waits inside the render: each page then has one resource in
/// flight at most, awaited in its own `Suspend` (no nested pending `Suspense`, the shape of
/// Leptos 0.8's server-render stalls, leptos-rs/leptos#4851, #4578).
async fn preload_page_context(
    State(state): State<AppState>,
    session: tower_sessions::Session,
    mut req: Request<Body>,
    next: Next,
) -> Response {
    if req.method() == axum::http::Method::GET {
        let peer = req
            .extensions()
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0);
        let meta =
            crate::web::meta::client_meta(req.headers(), peer, state.settings.trusted_proxies);
        if let Ok(ctx) = crate::app::server::load_page_context(&state, &session, meta).await {
            req.extensions_mut().insert(ctx);
        }
    }
    next.run(req).await
}

/// Server-function arguments that do not deserialize (missing, duplicated, malformed) are
/// the client's fault: 400, not the 500 server_fn answers for them.
async fn bad_arguments_are_400(req: Request<Body>, next: Next) -> Response {
    let is_server_fn = req.uri().path().starts_with("/api/");
    let res = next.run(req).await;
    if !is_server_fn || res.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return res;
    }
    let (mut parts, body) = res.into_parts();
    let bytes = axum::body::to_bytes(body, MAX_BODY)
        .await
        .unwrap_or_default();
    if bytes.starts_with(b"{\"Request\"") {
        parts.status = StatusCode::BAD_REQUEST;
    }
    Response::from_parts(parts, Body::from(bytes))
}

/// A form posted without JavaScript that fails goes back to its page with the error in the
/// address (Leptos's no-script path): what it sent is kept in the session first, so the
/// page shows the fields as typed (`PageCtx::kept`), not empty.
async fn keep_failed_form(
    session: tower_sessions::Session,
    req: Request<Body>,
    next: Next,
) -> Response {
    use axum::http::header;
    let plain_post = req.method() == axum::http::Method::POST
        && req.uri().path().starts_with("/api/")
        && req
            .headers()
            .get(header::ACCEPT)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|a| a.contains("text/html"))
        && req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    if !plain_post {
        return next.run(req).await;
    }
    let (parts, body) = req.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request body too large").into_response();
    };
    let res = next
        .run(Request::from_parts(parts, Body::from(bytes.clone())))
        .await;
    let failed = res.status().is_redirection()
        && res
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|l| l.contains(NO_SCRIPT_ERROR));
    if failed {
        let fields: Vec<(String, String)> =
            url::form_urlencoded::parse(&bytes).into_owned().collect();
        if let Err(e) = crate::web::session::keep_form(&session, fields).await {
            tracing::warn!(error = %e, "could not keep a failed form");
        }
    }
    res
}

/// The query parameter Leptos puts a server function's error in when it sends a form
/// posted without JavaScript back to its page.
const NO_SCRIPT_ERROR: &str = "__err=";

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.is_draining() {
        (StatusCode::SERVICE_UNAVAILABLE, "shutting down")
    } else if state.db.ping().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}
