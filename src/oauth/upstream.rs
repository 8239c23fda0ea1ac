//! Where the organization's identity provider sends the browser back
//! (`/login/sso/callback`): the `state` must be the one this session sent, the code is
//! exchanged and the ID token verified (`services::upstream::finish`), then the sign-in
//! goes on like a password's (a second step where one is owed).

use std::net::SocketAddr;

use axum::extract::{ConnectInfo, State};
use axum::response::{IntoResponse, Redirect, Response};
use http::{HeaderMap, Uri};
use tower_sessions::Session;

use super::params::Params;
use crate::services::upstream;
use crate::web::AppState;
use crate::web::session::{self as portal, FirstFactor};

fn back(code: &str) -> Response {
    Redirect::to(&format!("/login/sso?error={code}")).into_response()
}

pub async fn callback(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    session: Session,
    headers: HeaderMap,
    uri: Uri,
) -> Response {
    let params = Params::from_form(uri.query().unwrap_or("").as_bytes()).unwrap_or_default();
    let meta = crate::web::meta::client_meta(&headers, Some(peer), state.settings.trusted_proxies);
    let (Some(st), code) = (params.get("state"), params.get("code")) else {
        return back("expired");
    };
    let Some((out, next)) = portal::take_outgoing(&session, st).await else {
        return back("expired");
    };
    let Some(code) = code.filter(|c| c.len() <= 2048) else {
        // The provider answered with an error (the user cancelled, say).
        return back("provider");
    };
    let arrived = match upstream::finish(
        &state.db,
        &state.settings.master_key,
        &state.settings.issuer,
        &meta,
        &out,
        code,
    )
    .await
    {
        Ok(a) => a,
        Err(crate::services::Error::Forbidden(m)) => {
            tracing::info!(reason = %m, "single sign-on refused");
            return back(if m.contains("could not be verified") {
                "provider"
            } else {
                "refused"
            });
        }
        Err(e) => {
            tracing::error!(error = %e, "single sign-on");
            return back("provider");
        }
    };
    let first = FirstFactor {
        user_id: &arrived.user_id,
        email: &arrived.email,
        org_id: &arrived.org_id,
        epoch: arrived.session_epoch,
        method: arrived.method,
    };
    match portal::after_first_factor(&state, &session, first, &meta, &next, false).await {
        Ok(to) => Redirect::to(&to).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "single sign-on session");
            back("provider")
        }
    }
}
