//! A resource server for one of your own APIs registered in Latchkey (Admin → APIs): it
//! accepts Latchkey's access tokens meant for it and checks the scope each route needs.
//!
//! Two ways to check a token, both shown:
//! - `Check::Jwks`: verify the JWT locally with Latchkey's published keys (ES256, `typ`
//!   `at+jwt`, our issuer, your API's identifier in `aud`, not expired). Fast, no call per
//!   request; a revoked token stays usable until it expires (minutes).
//! - `Check::Introspection`: ask Latchkey (RFC 7662) with a confidential app of your
//!   organization. One call per request; revocation takes effect at once.
//!
//! Run it: `LATCHKEY_ISSUER=http://127.0.0.1:3000 API_IDENTIFIER=https://api.example.com/orders \
//!   cargo run --example resource_server` (add INTROSPECTION_CLIENT_ID and _SECRET to introspect).
#![allow(dead_code)]

use std::sync::Arc;

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::{Json, Router, routing::get};
use jsonwebtoken::jwk::JwkSet;
use serde::Deserialize;
use serde_json::{Value, json};

pub enum Check {
    Jwks(JwkSet),
    Introspection { client_id: String, secret: String },
}

pub struct Api {
    pub issuer: String,
    pub audience: String,
    pub check: Check,
}

/// What the API needs from a token.
#[derive(Deserialize)]
struct Claims {
    sub: String,
    scope: String,
}

impl Api {
    /// JWKS mode: reads the keys from the issuer's discovery document.
    pub async fn with_jwks(issuer: &str, audience: &str) -> Result<Self, reqwest::Error> {
        let meta: Value = reqwest::get(format!("{issuer}/.well-known/openid-configuration"))
            .await?
            .json()
            .await?;
        let jwks_uri = meta["jwks_uri"].as_str().unwrap_or_default();
        let keys: JwkSet = reqwest::get(jwks_uri).await?.json().await?;
        Ok(Self {
            issuer: issuer.into(),
            audience: audience.into(),
            check: Check::Jwks(keys),
        })
    }

    async fn claims(&self, token: &str) -> Option<Claims> {
        match &self.check {
            Check::Jwks(keys) => {
                use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
                let head = decode_header(token).ok()?;
                if head.alg != Algorithm::ES256 || head.typ.as_deref() != Some("at+jwt") {
                    return None;
                }
                // (A long-running server re-reads the JWKS when it meets an unknown kid.)
                let key = DecodingKey::from_jwk(keys.find(head.kid.as_deref()?)?).ok()?;
                let mut v = Validation::new(Algorithm::ES256);
                v.set_issuer(&[&self.issuer]);
                v.set_audience(&[&self.audience]);
                decode::<Claims>(token, &key, &v).ok().map(|d| d.claims)
            }
            Check::Introspection { client_id, secret } => {
                let answer: Value = reqwest::Client::new()
                    .post(format!("{}/oauth2/introspect", self.issuer))
                    .basic_auth(client_id, Some(secret))
                    .form(&[("token", token)])
                    .send()
                    .await
                    .ok()?
                    .json()
                    .await
                    .ok()?;
                let aud_ok = match &answer["aud"] {
                    Value::String(a) => *a == self.audience,
                    Value::Array(list) => list.iter().any(|a| *a == *self.audience),
                    _ => false,
                };
                (answer["active"] == true && aud_ok).then(|| serde_json::from_value(answer).ok())?
            }
        }
    }

    /// The token's claims if it is good and carries `scope`; else the RFC 6750 refusal.
    async fn require(&self, headers: &HeaderMap, scope: &str) -> Result<Claims, Response> {
        let challenge = |status: StatusCode, error: &str| {
            let value = format!("Bearer error=\"{error}\", scope=\"{scope}\"");
            (
                status,
                [(header::WWW_AUTHENTICATE, value)],
                Json(json!({ "error": error })),
            )
                .into_response()
        };
        let token = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "));
        let claims = match token {
            Some(t) => self.claims(t).await,
            None => None,
        }
        .ok_or_else(|| challenge(StatusCode::UNAUTHORIZED, "invalid_token"))?;
        if !claims.scope.split(' ').any(|s| s == scope) {
            return Err(challenge(StatusCode::FORBIDDEN, "insufficient_scope"));
        }
        Ok(claims)
    }
}

async fn list_orders(State(api): State<Arc<Api>>, headers: HeaderMap) -> Response {
    match api.require(&headers, "orders:read").await {
        Ok(c) => Json(json!({ "orders": [{ "id": 1, "for": c.sub }] })).into_response(),
        Err(refusal) => refusal,
    }
}

async fn place_order(State(api): State<Arc<Api>>, headers: HeaderMap) -> Response {
    match api.require(&headers, "orders:write").await {
        Ok(c) => (StatusCode::CREATED, Json(json!({ "id": 2, "for": c.sub }))).into_response(),
        Err(refusal) => refusal,
    }
}

pub fn router(api: Api) -> Router {
    Router::new()
        .route("/orders", get(list_orders).post(place_order))
        .with_state(Arc::new(api))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let issuer =
        std::env::var("LATCHKEY_ISSUER").unwrap_or_else(|_| "http://127.0.0.1:3000".into());
    let audience = std::env::var("API_IDENTIFIER")?;
    let api = match (
        std::env::var("INTROSPECTION_CLIENT_ID"),
        std::env::var("INTROSPECTION_CLIENT_SECRET"),
    ) {
        (Ok(client_id), Ok(secret)) => Api {
            issuer,
            audience,
            check: Check::Introspection { client_id, secret },
        },
        _ => Api::with_jwks(&issuer, &audience).await?,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:8080").await?;
    println!("orders API on http://127.0.0.1:8080/orders");
    axum::serve(listener, router(api)).await?;
    Ok(())
}
