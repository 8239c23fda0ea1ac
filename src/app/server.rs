//! The pages' server functions and the services: the request's state and session, the
//! signed-in principal, and errors that work with and without JavaScript (server only).

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use http::StatusCode;
use http::request::Parts;
use leptos::prelude::*;
use leptos_axum::ResponseOptions;
use tower_sessions::Session;

use crate::app::error::AppError;
use crate::services::{self, RequestMeta};
use crate::web::AppState;
use crate::web::session::{self as web_session, SessionError};

pub use crate::web::session::{
    SignedIn, check_csrf, csrf_token, end_session, keep_ceremony, start_session, take_ceremony,
    take_new_secret, visitor_of,
};

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

impl From<SessionError> for AppError {
    fn from(e: SessionError) -> Self {
        match e {
            SessionError::Csrf => AppError::Csrf,
            SessionError::Service(e) => service_error(e),
            e @ SessionError::Store(_) => internal(e),
        }
    }
}

/// Client IP and user agent of the current request.
/// Counts this request against a per-address limit (`key` of the address); past it, the
/// answer is 429 with `Retry-After`.
pub async fn rate_limit(
    state: &AppState,
    meta: &RequestMeta,
    key: impl Fn(&str) -> String,
    limit: u32,
) -> Result<(), AppError> {
    let caller = services::Caller {
        actor: services::Actor::Anonymous,
        meta: meta.clone(),
    };
    let key = key(meta.ip.as_deref().unwrap_or("-"));
    match state
        .limiter
        .enforce(&state.audit, &caller, &key, limit, None)
        .await
    {
        Ok(()) => Ok(()),
        Err(e) => {
            retry_after(e.retry_after);
            Err(AppError::Throttled(format!(
                "Too many attempts from your network. Try again in {} seconds.",
                e.retry_after
            )))
        }
    }
}

/// Tells the client when to try again (RFC 6585, with a 429).
pub fn retry_after(secs: i64) {
    if let Some(res) = use_context::<ResponseOptions>()
        && let Ok(v) = http::HeaderValue::from_str(&secs.to_string())
    {
        res.insert_header(http::header::RETRY_AFTER, v);
    }
}

pub fn request_meta(state: &AppState) -> RequestMeta {
    let Some(parts) = use_context::<Parts>() else {
        return RequestMeta::default();
    };
    crate::web::meta::client_meta(
        &parts.headers,
        parts
            .extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|c| c.0),
        state.settings.trusted_proxies,
    )
}

/// Who is signed in to this request's session.
/// What every page needs: the CSRF token and who is signed in, in which organization.
pub async fn load_page_context(
    state: &AppState,
    session: &Session,
    meta: RequestMeta,
) -> Result<crate::app::session::PageCtx, AppError> {
    use crate::app::session::{Me, PageCtx};
    let csrf = csrf_token(session).await?;
    let me = match web_session::signed_in(state, session, meta).await? {
        Some(s) => {
            let org = services::orgs::get(&state.db, &s.principal)
                .await
                .map_err(service_error)?;
            let manages_groups = s.role.is_admin()
                || services::contexts::administers_any(&state.db, &s.principal)
                    .await
                    .map_err(service_error)?;
            // The header's business-group switcher, once the organization has groups.
            let places = if s.role.is_admin() {
                let groups = services::contexts::groups_where(
                    &state.db,
                    &s.principal,
                    services::principal::READ_APPS,
                )
                .await
                .map_err(service_error)?;
                if groups.len() > 1 {
                    crate::domain::groups::place_choices(&groups, true)
                } else {
                    Vec::new()
                }
            } else {
                Vec::new()
            };
            Some(Me {
                user_id: s.user_id,
                email: s.email,
                name: s.name,
                org_id: s.org_id,
                org_name: org.name,
                is_admin: s.role.is_admin(),
                can_audit: s.role.may(crate::domain::role::READ_AUDIT),
                manages_groups,
                places,
            })
        }
        None => None,
    };
    let kept = web_session::take_form(session).await;
    Ok(PageCtx {
        csrf,
        me,
        kept,
        passkeys: services::passkeys::available(&state.settings.issuer),
    })
}

pub async fn signed_in(state: &AppState, session: &Session) -> Result<Option<SignedIn>, AppError> {
    Ok(web_session::signed_in(state, session, request_meta(state)).await?)
}

/// Keeps a new client secret until its app page shows it once.
pub async fn keep_new_secret(
    state: &AppState,
    client_id: &str,
    secret: &str,
) -> Result<(), AppError> {
    let session = session().await?;
    Ok(web_session::keep_new_secret(state, &session, client_id, secret).await?)
}

/// A sign-in form's post (nobody signed in yet: sign-in, second step, reset, single sign-on):
/// the CSRF token checked and the address's sign-in rate counted.
pub async fn sign_in_post(csrf: &str) -> Result<(AppState, Session, RequestMeta), AppError> {
    let state = state()?;
    let session = session().await?;
    check_csrf(&session, csrf).await?;
    let meta = request_meta(&state);
    rate_limit(
        &state,
        &meta,
        services::limits::signin_ip,
        state.settings.limits.signin_per_ip,
    )
    .await?;
    Ok((state, session, meta))
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

/// Runs a portal read for anyone signed in: the service decides what they may see (a
/// business group's admins, say, who are members of the organization as a whole).
pub async fn member_read<T>(
    run: impl AsyncFnOnce(AppState, SignedIn) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let result = async {
        let (state, _, me) = require_signed_in().await?;
        run(state, me).await
    }
    .await;
    finish(result)
}

/// Runs a portal change for anyone signed in (CSRF checked); the service decides whether
/// they may make it.
pub async fn member_write<T>(
    csrf: &str,
    run: impl AsyncFnOnce(AppState, SignedIn) -> Result<T, AppError>,
) -> Result<T, AppError> {
    let result = async {
        check_csrf(&session().await?, csrf).await?;
        let (state, _, me) = require_signed_in().await?;
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
        services::Error::BadCredentials => AppError::BadCredentials,
        services::Error::Throttled(secs) => {
            retry_after(secs);
            AppError::Throttled(format!(
                "Too many failed sign-in attempts. Try again in {secs} seconds."
            ))
        }
        e @ (services::Error::Internal(_)
        | services::Error::Database(_)
        | services::Error::Failed { .. }) => internal(e),
    }
}

fn status_of(e: &AppError) -> StatusCode {
    match e {
        AppError::Invalid(_) => StatusCode::UNPROCESSABLE_ENTITY,
        AppError::Unauthenticated | AppError::BadCredentials => StatusCode::UNAUTHORIZED,
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
