//! Protocol endpoints: plain axum handlers with one error type that renders RFC 6749 JSON.

pub mod client_auth;
pub mod errors;
pub mod introspect;
pub mod metadata;
pub mod params;
pub mod token;

use axum::Router;
use axum::routing::{get, post};
use http::{HeaderName, Method};
use tower_http::cors::{Any, CorsLayer};

use crate::server::AppState;

pub use crate::domain::oauth::TOKEN_PATH;
pub const JWKS_PATH: &str = "/oauth2/jwks";
pub const INTROSPECT_PATH: &str = "/oauth2/introspect";
pub const REVOKE_PATH: &str = "/oauth2/revoke";

/// The protocol routes, callable from browser apps of any origin (no cookies involved).
pub fn routes() -> Router<AppState> {
    let cors = CorsLayer::new()
        .allow_origin(Any)
        .allow_methods([Method::GET, Method::POST])
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
        .route(JWKS_PATH, get(metadata::jwks))
        .route(TOKEN_PATH, post(token::token))
        .route(INTROSPECT_PATH, post(introspect::introspect))
        .route(REVOKE_PATH, post(introspect::revoke))
        .layer(cors)
}
