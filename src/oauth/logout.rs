//! `GET|POST /oauth2/logout`: OpenID Connect RP-Initiated Logout. With a valid
//! `id_token_hint` the session ends at once; without one the user confirms first (so no
//! other site can sign them out). Only a redirect URI registered for the client is followed.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use http::{Method, StatusCode, Uri};
use tower_sessions::Session;

use super::authorize::{error_page, escape, page};
use super::errors::no_store;
use super::params::Params;
use crate::domain::authorize::response_url;
use crate::server::AppState;
use crate::server::portal;
use crate::services::tokens;
use crate::store;

pub const LOGOUT_PATH: &str = "/oauth2/logout";

pub async fn end_session(
    State(state): State<AppState>,
    session: Session,
    method: Method,
    uri: Uri,
    body: Bytes,
) -> Response {
    let raw: &[u8] = if method == Method::POST {
        &body
    } else {
        uri.query().unwrap_or("").as_bytes()
    };
    let mut res = match Params::from_form(raw) {
        Ok(params) => answer(&state, &session, method == Method::POST, &params).await,
        Err(e) => error_page(StatusCode::BAD_REQUEST, e.description()),
    };
    no_store(&mut res);
    res
}

async fn answer(state: &AppState, session: &Session, posted: bool, params: &Params) -> Response {
    let bad = |m: &str| error_page(StatusCode::BAD_REQUEST, m);
    let ring = state.key_ring();
    let hint = match params.get("id_token_hint") {
        None => None,
        Some(h) => match tokens::id_token_hint(&ring, &state.settings.issuer, h) {
            Some(claims) => Some(claims),
            None => return bad("The id_token_hint is not an ID token of ours."),
        },
    };
    let client_id = match (params.get("client_id"), hint.as_ref().map(|h| h.1.as_str())) {
        (Some(a), Some(b)) if a != b => {
            return bad("The client_id differs from the id_token_hint's audience.");
        }
        (a, b) => a.or(b).map(str::to_string),
    };
    let target = match params.get("post_logout_redirect_uri") {
        None => None,
        Some(uri) => {
            let Some(client_id) = &client_id else {
                return bad("A post_logout_redirect_uri needs a client_id or an id_token_hint.");
            };
            let app = match store::apps::find(&state.db.pool, client_id).await {
                Ok(app) => app,
                Err(e) => {
                    tracing::error!(error = %e, "logout");
                    return StatusCode::INTERNAL_SERVER_ERROR.into_response();
                }
            };
            if !app.is_some_and(|a| a.redirect_uris.split_whitespace().any(|u| u == uri)) {
                return bad("The post_logout_redirect_uri is not registered for this app.");
            }
            Some(response_url(uri, &[("state", params.get("state"))]))
        }
    };
    let me = portal::visitor(state, session).await;
    let hinted_user = hint
        .as_ref()
        .is_some_and(|(sub, _)| me.as_ref().is_none_or(|m| &m.user_id == sub));
    let confirmed = posted
        && portal::check_csrf(session, params.get("csrf").unwrap_or(""))
            .await
            .is_ok();
    if me.is_some() && !hinted_user && !confirmed {
        return confirm_page(session, params).await;
    }
    if let Err(e) = session.flush().await {
        tracing::error!(error = %e, "logout");
    }
    Redirect::to(&target.unwrap_or_else(|| "/login?signed_out=1".into())).into_response()
}

async fn confirm_page(session: &Session, params: &Params) -> Response {
    let Ok(csrf) = portal::csrf_token(session).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    let hidden: String = ["client_id", "post_logout_redirect_uri", "state"]
        .iter()
        .filter_map(|k| params.get(k).map(|v| (k, v)))
        .map(|(k, v)| {
            format!(
                "<input type=\"hidden\" name=\"{k}\" value=\"{}\">",
                escape(v)
            )
        })
        .collect();
    page(
        StatusCode::OK,
        "Sign out",
        &format!(
            "<h1>Sign out of Latchkey?</h1><form method=\"post\" action=\"{LOGOUT_PATH}\">{hidden}\
             <input type=\"hidden\" name=\"csrf\" value=\"{}\">\
             <button type=\"submit\" class=\"primary\">Sign out</button></form>",
            escape(&csrf)
        ),
    )
}
