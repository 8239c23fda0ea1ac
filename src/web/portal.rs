//! Glue between the pages' server functions and the services: the session, CSRF,
//! who is signed in, request metadata, and error responses that work with and
//! without JavaScript.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use http::StatusCode;
use http::request::Parts;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use super::AppState;
use crate::app::error::AppError;
use crate::domain::Role;
use crate::services::principal::Who;
use crate::services::{self, Principal, RequestMeta};

pub const USER_ID: &str = "user_id";
pub const ORG_ID: &str = "org_id";
/// When the session's user signed in (OpenID Connect `auth_time`).
pub const AUTH_TIME: &str = "auth_time";
const CSRF: &str = "csrf";
const NEW_SECRET: &str = "new_secret";

pub fn state() -> Result<AppState, AppError> {
    use_context::<AppState>().ok_or(AppError::Internal)
}

pub async fn session() -> Result<Session, AppError> {
    leptos_axum::extract::<Session>()
        .await
        .map_err(|_| AppError::Internal)
}

fn internal<E: std::fmt::Display>(e: E) -> AppError {
    tracing::error!(error = %e, "internal error");
    AppError::Internal
}

/// Client IP and user agent of the current request.
pub fn request_meta(state: &AppState) -> RequestMeta {
    let Some(parts) = use_context::<Parts>() else {
        return RequestMeta::default();
    };
    client_meta(
        &parts.headers,
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0),
        state.settings.trusted_proxies,
    )
}

/// Client IP (from the socket, or X-Forwarded-For behind trusted proxies) and user agent.
pub fn client_meta(
    headers: &http::HeaderMap,
    peer: Option<SocketAddr>,
    trusted_proxies: usize,
) -> RequestMeta {
    let forwarded: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    RequestMeta {
        ip: client_ip(&forwarded, peer.map(|p| p.ip()), trusted_proxies).map(|ip| ip.to_string()),
        user_agent: headers
            .get(http::header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string),
    }
}

/// The client's address behind `trusted` proxies, each of which appends the address it
/// received from to X-Forwarded-For: the entry `trusted` places from the right. Whatever
/// stands further left was written by the client and is ignored; a list shorter than that
/// was written by our proxies alone, so its first entry is good. Anything malformed falls
/// back to the socket's peer.
pub fn client_ip(
    forwarded: &[&str],
    peer: Option<std::net::IpAddr>,
    trusted: usize,
) -> Option<std::net::IpAddr> {
    if trusted == 0 {
        return peer;
    }
    let entries: Vec<&str> = forwarded
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .collect();
    if entries.is_empty() || entries.len() > 64 {
        return peer;
    }
    let at = entries.len().saturating_sub(trusted);
    entries[at].parse().ok().or(peer)
}

/// The session's CSRF token, created on first use.
pub async fn csrf_token(session: &Session) -> Result<String, AppError> {
    if let Some(t) = session.get::<String>(CSRF).await.map_err(internal)? {
        return Ok(t);
    }
    let t = crate::crypto::random_token(32);
    session.insert(CSRF, &t).await.map_err(internal)?;
    Ok(t)
}

pub async fn check_csrf(session: &Session, presented: &str) -> Result<(), AppError> {
    let expected = session
        .get::<String>(CSRF)
        .await
        .map_err(internal)?
        .unwrap_or_default();
    if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) {
        return Err(AppError::Csrf);
    }
    Ok(())
}

/// The signed-in user as the portal sees them: their principal (what services are given)
/// and what the pages show.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub principal: Principal,
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub org_id: String,
    pub role: Role,
}

/// Who is signed in, checked against the database on every request, so a removed user
/// or a lowered role takes effect at once.
pub async fn signed_in(state: &AppState, session: &Session) -> Result<Option<SignedIn>, AppError> {
    let (Some(user_id), Some(org_id)) = (
        session.get::<String>(USER_ID).await.map_err(internal)?,
        session.get::<String>(ORG_ID).await.map_err(internal)?,
    ) else {
        return Ok(None);
    };
    let principal =
        services::principal::of_session(&state.db, &user_id, &org_id, request_meta(state))
            .await
            .map_err(service_error)?;
    let Some(principal) = principal else {
        return Ok(None);
    };
    let Who::Member {
        email, name, role, ..
    } = principal.who().clone()
    else {
        return Ok(None);
    };
    Ok(Some(SignedIn {
        principal,
        user_id,
        email,
        name,
        org_id,
        role,
    }))
}

/// Anyone signed in, with their session.
pub async fn require_signed_in() -> Result<(AppState, Session, SignedIn), AppError> {
    let state = state()?;
    let session = session().await?;
    let me = signed_in(&state, &session)
        .await?
        .ok_or(AppError::Unauthenticated)?;
    Ok((state, session, me))
}

/// An organization admin, for reads.
pub async fn require_admin() -> Result<(AppState, SignedIn), AppError> {
    let (state, _, me) = require_signed_in().await?;
    if !me.role.is_admin() {
        return Err(AppError::NotAllowed);
    }
    Ok((state, me))
}

/// An organization admin submitting a form: the CSRF token must match too.
pub async fn admin_action(csrf: &str) -> Result<(AppState, SignedIn), AppError> {
    check_csrf(&session().await?, csrf).await?;
    require_admin().await
}

/// Runs a portal read for an organization admin and finishes it (`finish`).
pub async fn admin_read<T>(
    run: impl AsyncFnOnce(AppState, SignedIn) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let result = async {
        let (state, me) = require_admin().await?;
        run(state, me).await
    }
    .await;
    finish(result)
}

/// Runs a portal read of the audit log, for admins and auditors.
pub async fn audit_read<T>(
    run: impl AsyncFnOnce(AppState, SignedIn) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let result = async {
        let (state, _, me) = require_signed_in().await?;
        if !me.role.may(crate::domain::role::READ_AUDIT) {
            return Err(AppError::NotAllowed);
        }
        run(state, me).await
    }
    .await;
    finish(result)
}

/// Runs a portal change for an organization admin (CSRF checked) and finishes it.
pub async fn admin_write<T>(
    csrf: &str,
    run: impl AsyncFnOnce(AppState, SignedIn) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let result = async {
        let (state, me) = admin_action(csrf).await?;
        run(state, me).await
    }
    .await;
    finish(result)
}

/// Maps a service error to what the page shows; internal details are logged, never shown.
pub fn service_error(e: services::Error) -> AppError {
    match e {
        services::Error::Invalid(errors) => AppError::Invalid(errors),
        services::Error::Conflict(error) => AppError::Invalid(error.into()),
        services::Error::NotFound => AppError::NotFound,
        services::Error::Forbidden(m) => AppError::Refused(m),
        services::Error::MissingPermission(_) => AppError::NotAllowed,
        services::Error::Unauthenticated => AppError::Unauthenticated,
        services::Error::BadCredentials => AppError::Refused("Wrong e-mail or password.".into()),
        services::Error::Throttled(secs) => AppError::Throttled(format!(
            "Too many failed sign-in attempts. Try again in {secs} seconds."
        )),
        e @ (services::Error::Internal(_) | services::Error::Database(_)) => internal(e),
    }
}

fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Unauthenticated => StatusCode::UNAUTHORIZED,
        AppError::NotAllowed | AppError::Csrf => StatusCode::FORBIDDEN,
        AppError::NotFound => StatusCode::NOT_FOUND,
        AppError::Refused(_) => StatusCode::CONFLICT,
        AppError::Throttled(_) => StatusCode::TOO_MANY_REQUESTS,
        AppError::Request(_) => StatusCode::BAD_REQUEST,
        AppError::Internal => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

fn is_plain_form_post() -> bool {
    use_context::<Parts>()
        .and_then(|p| {
            p.headers
                .get(http::header::ACCEPT)
                .and_then(|v| v.to_str().ok())
                .map(|v| v.contains("text/html"))
        })
        .unwrap_or(false)
}

/// Finishes a server function. A call from the hydrated page or an API client gets the
/// error with its HTTP status; a plain form post (no JavaScript) is redirected back to its
/// page by leptos_axum with the error in the URL, where its `ServerAction` picks it up.
pub fn finish<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(e) = &result
        && !is_plain_form_post()
        && let Some(res) = use_context::<ResponseOptions>()
    {
        res.set_status(status_of(e));
    }
    result
}

/// Keeps a new client secret, sealed with the master key, until its app page shows it once.
pub async fn keep_new_secret(
    state: &AppState,
    client_id: &str,
    secret: &str,
) -> Result<(), AppError> {
    let sealed = state.settings.master_key.seal(secret.as_bytes());
    session()
        .await?
        .insert(NEW_SECRET, (client_id.to_string(), sealed))
        .await
        .map_err(internal)
}

/// The new secret of `client_id`, once.
pub async fn take_new_secret(
    state: &AppState,
    session: &Session,
    client_id: &str,
) -> Option<String> {
    let (id, sealed) = session
        .get::<(String, String)>(NEW_SECRET)
        .await
        .ok()
        .flatten()?;
    if id != client_id {
        return None;
    }
    let _ = session.remove::<(String, String)>(NEW_SECRET).await;
    state
        .settings
        .master_key
        .open(&sealed)
        .and_then(|b| String::from_utf8(b).ok())
}

/// Starts a signed-in session under a new id (no session fixation) with a new CSRF token.
pub async fn start_session(session: &Session, user_id: &str, org_id: &str) -> Result<(), AppError> {
    session.cycle_id().await.map_err(internal)?;
    session.remove::<String>(CSRF).await.map_err(internal)?;
    session.insert(USER_ID, user_id).await.map_err(internal)?;
    session
        .insert(AUTH_TIME, services::now())
        .await
        .map_err(internal)?;
    session.insert(ORG_ID, org_id).await.map_err(internal)
}

/// The signed-in user as the authorization endpoint sees them, with their sign-in time.
pub async fn visitor(state: &AppState, session: &Session) -> Option<services::authorize::Visitor> {
    let me = signed_in(state, session).await.ok()??;
    Some(visitor_of(&me, session).await)
}

/// `me` with the time the session signed in.
pub async fn visitor_of(me: &SignedIn, session: &Session) -> services::authorize::Visitor {
    services::authorize::Visitor {
        user_id: me.user_id.clone(),
        auth_time: session.get::<i64>(AUTH_TIME).await.ok().flatten(),
    }
}

pub async fn end_session(session: &Session) -> Result<(), AppError> {
    session.flush().await.map_err(internal)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::client_ip;
    use std::net::IpAddr;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    #[test]
    fn forwarded_for_is_read_from_the_right() {
        let peer = ip("10.0.0.1");
        // The client wrote "6.6.6.6" itself; our one proxy appended the real address.
        assert_eq!(
            client_ip(&["6.6.6.6, 203.0.113.7"], peer, 1),
            ip("203.0.113.7")
        );
        // Two proxies: the second appended the first's address.
        assert_eq!(
            client_ip(&["6.6.6.6, 203.0.113.7, 10.0.0.9"], peer, 2),
            ip("203.0.113.7")
        );
        // Several headers count as one list.
        assert_eq!(
            client_ip(&["6.6.6.6", "203.0.113.7"], peer, 1),
            ip("203.0.113.7")
        );
        // Not trusted: the socket's address whatever the header says.
        assert_eq!(client_ip(&["203.0.113.7"], peer, 0), peer);
        // Nothing, garbage or a list shorter than the proxies.
        assert_eq!(client_ip(&[], peer, 1), peer);
        assert_eq!(client_ip(&["not-an-ip"], peer, 1), peer);
        assert_eq!(client_ip(&["203.0.113.7"], peer, 2), ip("203.0.113.7"));
    }
}
