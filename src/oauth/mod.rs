//! Protocol endpoints: plain axum handlers with one error type that renders RFC 6749 JSON.

pub mod authorize;
pub mod client_auth;
pub mod errors;
pub mod introspect;
pub mod logout;
pub mod metadata;
pub mod params;
pub mod register;
pub mod token;
pub mod upstream;
pub mod userinfo;

use axum::Router;
use axum::routing::{get, post};
use http::{HeaderName, Method};
use tower_http::cors::{Any, CorsLayer};

use crate::web::AppState;

pub use crate::domain::oauth::{AUTHORIZE_PATH, TOKEN_PATH};
pub use crate::domain::paths::{
    EVALUATION_PATH, INTROSPECT_PATH, JWKS_PATH, REVOKE_PATH, USERINFO_PATH,
};
pub use crate::services::authorize::RESUME_PATH;
pub use logout::LOGOUT_PATH;

/// The protocol routes: the browser-facing ones (authorization, logout), then the ones
/// browser apps of any origin may call (no cookies involved).
pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            AUTHORIZE_PATH,
            get(authorize::get_authorize).post(authorize::post_authorize),
        )
        .route(RESUME_PATH, get(authorize::resume))
        .route(
            crate::services::upstream::CALLBACK_PATH,
            get(upstream::callback),
        )
        .route(
            LOGOUT_PATH,
            get(logout::end_session).post(logout::end_session),
        )
        .merge(cross_origin_routes())
}

fn cross_origin_routes() -> Router<AppState> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST, Method::PUT, Method::DELETE])
        .allow_headers([
            http::header::AUTHORIZATION,
            http::header::CONTENT_TYPE,
            HeaderName::from_static("dpop"),
        ]);
    Router::new()
        .route(
            "/.well-known/oauth-authorization-server",
            get(metadata::authorization_server),
        )
        .route(
            crate::domain::paths::DISCOVERY_PATH,
            get(metadata::openid_configuration),
        )
        .route(JWKS_PATH, get(metadata::jwks))
        .route(
            USERINFO_PATH,
            get(userinfo::userinfo).post(userinfo::userinfo),
        )
        .route(TOKEN_PATH, post(token::token))
        .route(
            crate::domain::paths::DEVICE_AUTHORIZATION_PATH,
            post(token::device_authorization),
        )
        .route(
            crate::domain::paths::PAR_PATH,
            post(token::pushed_authorization),
        )
        .route(
            crate::domain::paths::REGISTRATION_PATH,
            post(register::register),
        )
        .route(
            &format!("{}/{{client_id}}", crate::domain::paths::REGISTRATION_PATH),
            get(register::read)
                .put(register::update)
                .delete(register::delete),
        )
        .route(INTROSPECT_PATH, post(introspect::introspect))
        .route(EVALUATION_PATH, post(introspect::evaluation))
        .route(REVOKE_PATH, post(introspect::revoke))
        .layer(cors)
}
