//! The router: health checks, server functions, pages and static files, behind the
//! session and security-header layers.

use axum::Router;
use axum::body::Body;
use axum::extract::State;
use axum::http::{Request, StatusCode};
use axum::response::IntoResponse;
use axum::routing::get;
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list, handle_server_fns_with_context};
use tower_http::limit::RequestBodyLimitLayer;
use tower_sessions::cookie::SameSite;
use tower_sessions::{Expiry, SessionManagerLayer};

use super::AppState;
use super::session_store::DbSessionStore;
use crate::app::{App, shell};

pub const SESSION_COOKIE: &str = "latchkey_session";
/// Largest request body accepted anywhere (a JWKS document fits comfortably).
const MAX_BODY: usize = 256 * 1024;

pub fn router(state: AppState) -> Router {
    let routes = generate_route_list(App);
    let sessions = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name(SESSION_COOKIE)
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(state.settings.secure_cookies)
        .with_expiry(Expiry::OnInactivity(tower_sessions::cookie::time::Duration::hours(8)));

    let ctx_state = state.clone();
    let context = move || provide_context(ctx_state.clone());
    let fn_context = context.clone();
    let page_state = state.clone();

    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route(
            "/api/{*fn_name}",
            get(move |req: Request<Body>| handle_server_fns_with_context(fn_context.clone(), req))
                .post(move |req: Request<Body>| handle_server_fns_with_context(context.clone(), req)),
        )
        .leptos_routes_with_context(&state, routes, move || provide_context(page_state.clone()), {
            let options = state.leptos_options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler::<AppState, _>(shell))
        .layer(sessions)
        .layer(RequestBodyLimitLayer::new(MAX_BODY))
        .layer(axum::middleware::from_fn(super::headers::security_headers))
        .with_state(state)
}

async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    if state.db.ping().await {
        (StatusCode::OK, "ready")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "database unreachable")
    }
}
