//! `GET|POST /oauth2/logout`: OpenID Connect RP-Initiated Logout. With a valid
//! `id_token_hint` the session ends at once; without one the user confirms first (so no
//! other site can sign them out). The browser goes back to the app only with that hint and
//! a post-logout redirect URI registered for the app (see `services::logout`).

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Redirect, Response};
use http::{Method, StatusCode, Uri};
use tower_sessions::Session;

use super::authorize::{error_page, escape, page};
use super::errors::no_store;
use super::params::Params;
use crate::services;
use crate::web::AppState;
use crate::web::session as portal;

use crate::domain::paths::LOGIN_PATH;
pub use crate::domain::paths::LOGOUT_PATH;

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
    let ring = state.key_ring();
    let checked = services::logout::check(
        &state.db,
        &ring,
        &state.settings.issuer,
        params.get("id_token_hint"),
        params.get("client_id"),
        params.get("post_logout_redirect_uri"),
        params.get("state"),
    )
    .await;
    let services::logout::Logout {
        hinted_user,
        target,
    } = match checked {
        Ok(c) => c,
        Err(services::Error::Forbidden(m)) => return error_page(StatusCode::BAD_REQUEST, &m),
        Err(e) => {
            tracing::error!(error = %e, "logout");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let me = portal::visitor(state, session, crate::services::RequestMeta::default()).await;
    let hinted_user = hinted_user
        .as_ref()
        .is_some_and(|sub| me.as_ref().is_none_or(|m| &m.user_id == sub));
    let confirmed = posted
        && portal::check_csrf(session, params.get("csrf").unwrap_or(""))
            .await
            .is_ok();
    if me.is_some() && !hinted_user && !confirmed {
        return confirm_page(session, params).await;
    }
    if let Err(e) = portal::end_session(state, session).await {
        tracing::error!(error = %e, "logout");
    }
    Redirect::to(&target.unwrap_or_else(|| format!("{LOGIN_PATH}?signed_out=1"))).into_response()
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
