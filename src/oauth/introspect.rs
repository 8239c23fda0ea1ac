//! `POST /oauth2/introspect` (RFC 7662) and `POST /oauth2/revoke` (RFC 7009).

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use http::HeaderMap;

use super::client_auth;
use super::errors::{OAuthReply, no_store};
use super::params::Params;
use crate::domain::context::Place;
use crate::domain::oauth::OAuthError;
use crate::services::App;
use crate::services::audit::Event;
use crate::services::{Actor, Caller, tokens};
use crate::web::AppState;
use crate::web::meta::client_meta;
use axum::extract::ConnectInfo;
use serde_json::json;
use std::net::SocketAddr;

/// Authenticates the client, then runs `action` on the request's parameters; RFC 6749
/// errors otherwise. Every answer is `no-store`.
async fn with_client<T, F>(
    state: &AppState,
    peer: SocketAddr,
    headers: &HeaderMap,
    params: Result<super::params::Params, OAuthError>,
    action: F,
) -> Response
where
    T: IntoResponse,
    F: AsyncFnOnce(&tokens::Issuer<'_>, &App, &super::params::Params) -> Result<T, OAuthError>,
{
    let ring = state.key_ring();
    let ctx = state.issuer(&ring);
    let meta = client_meta(headers, Some(peer), state.settings.trusted_proxies);
    let result = async {
        let limits = state.settings.limits;
        let anonymous = crate::services::Caller {
            actor: crate::services::Actor::Anonymous,
            meta: meta.clone(),
        };
        let key = crate::services::limits::token_ip(meta.ip.as_deref().unwrap_or("-"));
        state
            .limiter
            .enforce(&state.audit, &anonymous, &key, limits.token_per_ip, None)
            .await
            .map_err(|e| OAuthError::RateLimited(e.retry_after))?;
        let params = params?;
        let app = client_auth::authenticated(&ctx, headers, &params, meta.ip.as_deref())
            .await
            .map_err(OAuthError::from)?;
        action(&ctx, &app, &params).await
    }
    .await;
    let mut res = match result {
        Ok(answer) => answer.into_response(),
        Err(e) => return OAuthReply(e).into_response(),
    };
    no_store(&mut res);
    res
}

pub async fn introspect(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let params = Params::from_body(&headers, &body);
    // A resource server may ask for the answer as a signed JWT (RFC 9701 §4).
    let as_jwt = headers
        .get_all(http::header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|m| m.split(';').next().unwrap_or("").trim() == tokens::JWT_INTROSPECTION);
    with_client(&state, peer, &headers, params, async |ctx, app, params| {
        let token = params.require("token")?;
        // A resource server may ask what the token may do in one business group or one
        // of its environments: `scope` is then what holds there.
        let context = match (params.get("business_group"), params.get("environment")) {
            (Some(group), env) => Some(Place {
                group: group.to_string(),
                env: env.map(str::to_string),
            }),
            (None, Some(_)) => {
                return Err(OAuthError::InvalidRequest(
                    "an environment is asked with its business_group".into(),
                ));
            }
            (None, None) => None,
        };
        let answer = tokens::introspect(ctx, app, token, context.as_ref()).await?;
        if !as_jwt {
            return Ok(Json(answer).into_response());
        }
        let jwt = tokens::signed_answer(ctx, app, answer)?;
        Ok((
            [(
                http::header::CONTENT_TYPE,
                http::HeaderValue::from_static(tokens::JWT_INTROSPECTION),
            )],
            jwt,
        )
            .into_response())
    })
    .await
}

/// An AuthZEN evaluation request: may this token do this action at this place?
#[derive(Debug, serde::Deserialize)]
struct Evaluation {
    subject: Subject,
    action: Action,
    resource: Resource,
}

#[derive(Debug, serde::Deserialize)]
struct Subject {
    #[serde(rename = "type")]
    kind: String,
    id: String,
}

#[derive(Debug, serde::Deserialize)]
struct Action {
    name: String,
}

#[derive(Debug, serde::Deserialize)]
struct Resource {
    #[serde(rename = "type")]
    kind: String,
    id: String,
    #[serde(default)]
    properties: ResourceProperties,
}

#[derive(Debug, Default, serde::Deserialize)]
struct ResourceProperties {
    business_group: Option<String>,
}

impl Evaluation {
    /// The scope asked and the place it is asked at.
    fn parse(body: &[u8]) -> Result<(String, String, Place), OAuthError> {
        let bad = |m: String| OAuthError::InvalidRequest(m.chars().take(300).collect());
        let e: Evaluation = serde_json::from_slice(body)
            .map_err(|e| bad(format!("the evaluation request is not valid: {e}")))?;
        if e.subject.kind != "token" {
            return Err(bad(
                "subject.type must be token (the access token is subject.id)".into(),
            ));
        }
        let place = match e.resource.kind.as_str() {
            "business_group" => Place::group(&e.resource.id),
            "environment" => {
                let group = e.resource.properties.business_group.ok_or_else(|| {
                    bad("an environment is named with resource.properties.business_group".into())
                })?;
                Place::env(&group, &e.resource.id)
            }
            _ => {
                return Err(bad(
                    "resource.type must be business_group or environment".into()
                ));
            }
        };
        Ok((e.subject.id, e.action.name, place))
    }
}

/// `POST /access/v1/evaluation`: whether a token may use a scope in a business group or
/// environment, with the reason (the shape of AuthZEN's evaluation API). Asked by a
/// confidential client of the token's organization, as introspection is.
pub async fn evaluation(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    with_client(
        &state,
        peer,
        &headers,
        Ok(Params::default()),
        async |ctx, app, _| {
            let (token, scope, place) = Evaluation::parse(&body)?;
            let d = tokens::evaluate(ctx, app, &token, &scope, &place).await?;
            Ok(Json(
                json!({ "decision": d.allowed, "context": { "reason": d.reason } }),
            ))
        },
    )
    .await
}

/// Revocation is audited (app, what kind of token ended) before it is answered.
pub async fn revoke(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let audit = state.audit.clone();
    let meta = client_meta(&headers, Some(peer), state.settings.trusted_proxies);
    let params = Params::from_body(&headers, &body);
    with_client(&state, peer, &headers, params, async |ctx, app, params| {
        let ended = tokens::revoke(ctx, app, params.require("token")?).await?;
        let caller = Caller {
            actor: Actor::App {
                client_id: app.client_id.to_string(),
            },
            meta,
        };
        let event = Event {
            org_id: Some(&app.org_id),
            action: "token.revoked",
            object: ("app", &app.client_id),
            success: true,
            detail: json!({ "ended": ended }),
        };
        audit
            .record(&caller, event)
            .await
            .map_err(|_| OAuthError::ServerError)
    })
    .await
}
