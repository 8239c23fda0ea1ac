//! The portal session (tower-sessions, stored in the database): who is signed in and in
//! which organization, when they signed in, the CSRF token, and a new secret waiting to be
//! shown once. Used by the pages and by the browser-facing protocol endpoints alike.

use serde::{Deserialize, Serialize};
use subtle::ConstantTimeEq;
use tower_sessions::Session;

use super::AppState;
use crate::domain::Role;
use crate::domain::mfa::Method;
use crate::services::principal::{SignIn, Who};
use crate::services::{self, Principal, RequestMeta};

pub const USER_ID: &str = "user_id";
pub const ORG_ID: &str = "org_id";
/// When the session's user signed in (OpenID Connect `auth_time`).
pub const AUTH_TIME: &str = "auth_time";
/// How the session's user signed in (`amr`, space-separated).
pub const AMR: &str = "amr";
/// The session's public id (OIDC `sid`), and whose sign-in it belongs to: kept across a
/// fresh sign-in of the same user (`prompt=login`, a second factor), new for anyone else.
const SID: &str = "sid";
const SID_USER: &str = "sid_user";
/// A sign-in halfway: the password was right, a second factor is still to come.
const PENDING: &str = "pending_sign_in";
/// The user's session epoch at sign-in.
const EPOCH: &str = "epoch";
/// Where the session signed in from, and when it was last seen (within `SEEN_EVERY`).
const IP: &str = "ip";
const USER_AGENT: &str = "user_agent";
const LAST_SEEN: &str = "last_seen";
/// How often a session's "last seen" is written (each write also moves its expiry on).
const SEEN_EVERY: i64 = 5 * 60;
const CSRF: &str = "csrf";
const NEW_SECRET: &str = "new_secret";
const KEPT_FORM: &str = "kept_form";

/// Fields of a form never kept for the page that shows it again: the CSRF token, and
/// anything secret (a password typed once is typed again).
fn keepable(name: &str) -> bool {
    name != "csrf"
        && !name.contains("password")
        && !name.contains("secret")
        && !name.contains("token")
        && name != "code"
}

/// Most characters of a kept form (a form that big is not typed by hand).
const KEPT_MAX: usize = 16 * 1024;

/// Keeps what a form posted without JavaScript sent, when it failed, so the page it goes
/// back to shows the fields as they were typed (passwords and secrets excluded).
pub async fn keep_form(
    session: &Session,
    fields: Vec<(String, String)>,
) -> Result<(), SessionError> {
    let mut size = 0;
    let kept: Vec<(String, String)> = fields
        .into_iter()
        .filter(|(k, _)| keepable(k))
        .take_while(|(k, v)| {
            size += k.len() + v.len();
            size <= KEPT_MAX
        })
        .collect();
    session.insert(KEPT_FORM, kept).await?;
    Ok(())
}

/// The fields kept by `keep_form`, once.
pub async fn take_form(session: &Session) -> Vec<(String, String)> {
    // Read first: a removal marks the session changed, and a request that saves a changed
    // session writes back its whole snapshot, undoing what a parallel request wrote.
    match session.get::<Vec<(String, String)>>(KEPT_FORM).await {
        Ok(Some(kept)) => {
            let _ = session.remove::<Vec<(String, String)>>(KEPT_FORM).await;
            kept
        }
        _ => Vec::new(),
    }
}

/// What can go wrong with a session, its cause kept.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("the form's CSRF token does not match the session's")]
    Csrf,
    #[error("session store: {0}")]
    Store(#[from] tower_sessions::session::Error),
    #[error(transparent)]
    Service(#[from] services::Error),
}

/// The session's CSRF token, created on first use.
pub async fn csrf_token(session: &Session) -> Result<String, SessionError> {
    if let Some(t) = session.get::<String>(CSRF).await? {
        return Ok(t);
    }
    let t = crate::crypto::random_token(32);
    session.insert(CSRF, &t).await?;
    Ok(t)
}

/// Checks a form's CSRF token against the session's, in constant time.
pub async fn check_csrf(session: &Session, presented: &str) -> Result<(), SessionError> {
    let expected = session.get::<String>(CSRF).await?.unwrap_or_default();
    if expected.is_empty() || !bool::from(expected.as_bytes().ct_eq(presented.as_bytes())) {
        return Err(SessionError::Csrf);
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
pub async fn signed_in(
    state: &AppState,
    session: &Session,
    meta: RequestMeta,
) -> Result<Option<SignedIn>, SessionError> {
    let (Some(user_id), Some(org_id)) = (
        session.get::<String>(USER_ID).await?,
        session.get::<String>(ORG_ID).await?,
    ) else {
        return Ok(None);
    };
    let sign_in = SignIn {
        auth_time: session.get::<i64>(AUTH_TIME).await?,
        amr: session.get::<String>(AMR).await?.unwrap_or_default(),
        epoch: session.get::<i64>(EPOCH).await?.unwrap_or_default(),
    };
    let Some(principal) =
        services::principal::of_session(&state.db, &user_id, &org_id, sign_in, meta).await?
    else {
        return Ok(None);
    };
    let Who::Member {
        email, name, role, ..
    } = principal.who().clone()
    else {
        return Ok(None);
    };
    let t = services::now();
    if session
        .get::<i64>(LAST_SEEN)
        .await?
        .is_none_or(|seen| t - seen >= SEEN_EVERY)
    {
        session.insert(LAST_SEEN, t).await?;
    }
    Ok(Some(SignedIn {
        principal,
        user_id,
        email,
        name,
        org_id,
        role,
    }))
}

/// How long a new client secret waits for its app page.
const NEW_SECRET_TTL_SECS: i64 = 600;

/// A new client secret, sealed with the master key, waiting for its app page, with the
/// one-time id that page spends to show it.
#[derive(Serialize, Deserialize)]
struct KeptSecret {
    client_id: String,
    sealed: String,
    once: String,
    expires_at: i64,
}

/// Keeps a new client secret until its app page shows it once.
pub async fn keep_new_secret(
    state: &AppState,
    session: &Session,
    client_id: &str,
    secret: &str,
) -> Result<(), SessionError> {
    let kept = KeptSecret {
        client_id: client_id.to_string(),
        sealed: state.settings.master_key.seal(secret.as_bytes()),
        once: crate::crypto::random_token(16),
        expires_at: services::now() + NEW_SECRET_TTL_SECS,
    };
    session.insert(NEW_SECRET, kept).await?;
    Ok(())
}

/// The new secret of `client_id`, once. Requests of one page run in parallel and each may
/// write back the session as it read it, so removing the secret from the session cannot
/// be trusted to stick: its one-time id is spent in the database, which only one request
/// can do.
pub async fn take_new_secret(
    state: &AppState,
    session: &Session,
    client_id: &str,
) -> Option<String> {
    let kept = session.get::<KeptSecret>(NEW_SECRET).await.ok().flatten()?;
    if kept.client_id != client_id {
        return None;
    }
    let _ = session.remove::<KeptSecret>(NEW_SECRET).await;
    let key = format!("new-secret:{}", kept.once);
    let spent = services::spend_once(&state.db, &key, kept.expires_at).await;
    if kept.expires_at <= services::now() || !matches!(spent, Ok(true)) {
        return None;
    }
    state
        .settings
        .master_key
        .open(&kept.sealed)
        .and_then(|b| String::from_utf8(b).ok())
}

/// Starts a signed-in session under a new id (no session fixation) with a new CSRF token,
/// saying how the user signed in.
pub async fn start_session(
    session: &Session,
    user_id: &str,
    org_id: &str,
    methods: &[Method],
    epoch: i64,
    meta: &RequestMeta,
) -> Result<(), SessionError> {
    session.cycle_id().await?;
    session.remove::<String>(CSRF).await?;
    session.remove::<Pending>(PENDING).await?;
    let same_user = session.get::<String>(SID_USER).await?.as_deref() == Some(user_id);
    if !same_user || session.get::<String>(SID).await?.is_none() {
        session.insert(SID, crate::crypto::random_token(16)).await?;
        session.insert(SID_USER, user_id).await?;
    }
    session.insert(USER_ID, user_id).await?;
    session.insert(AUTH_TIME, services::now()).await?;
    session
        .insert(AMR, crate::domain::mfa::amr(methods).join(" "))
        .await?;
    session.insert(EPOCH, epoch).await?;
    // Where the session was started, for the user's list of their sessions.
    session.insert(IP, meta.ip.clone()).await?;
    session.insert(USER_AGENT, meta.user_agent.clone()).await?;
    session.insert(LAST_SEEN, services::now()).await?;
    session.insert(ORG_ID, org_id).await?;
    Ok(())
}

/// A WebAuthn ceremony between its two requests: which one, the state webauthn-rs keeps for
/// it, and the one-time id its second request spends.
const CEREMONY: &str = "webauthn";
/// How long a ceremony waits for the browser's answer.
const CEREMONY_TTL_SECS: i64 = 5 * 60;

#[derive(Serialize, Deserialize)]
struct Ceremony {
    kind: String,
    state: serde_json::Value,
    once: String,
    expires_at: i64,
}

/// Keeps a WebAuthn ceremony's state until its answer comes (one at a time per session).
pub async fn keep_ceremony<T: Serialize>(
    session: &Session,
    kind: &str,
    state: &T,
) -> Result<(), SessionError> {
    let state = serde_json::to_value(state).map_err(|e| {
        SessionError::Service(services::Error::failed("a passkey ceremony")(e.into()))
    })?;
    let kept = Ceremony {
        kind: kind.to_string(),
        state,
        once: crate::crypto::random_token(16),
        expires_at: services::now() + CEREMONY_TTL_SECS,
    };
    session.insert(CEREMONY, kept).await?;
    Ok(())
}

/// The ceremony of `kind`, once, while it is fresh. Its one-time id is spent in the
/// database (parallel requests each write back the session as they read it, so removing it
/// from the session alone would not stop an answer from being used twice).
pub async fn take_ceremony<T: serde::de::DeserializeOwned>(
    state: &AppState,
    session: &Session,
    kind: &str,
) -> Option<T> {
    let kept = session.get::<Ceremony>(CEREMONY).await.ok().flatten()?;
    let _ = session.remove::<Ceremony>(CEREMONY).await;
    if kept.kind != kind || kept.expires_at <= services::now() {
        return None;
    }
    let key = format!("webauthn:{}", kept.once);
    if !matches!(
        services::spend_once(&state.db, &key, kept.expires_at).await,
        Ok(true)
    ) {
        return None;
    }
    serde_json::from_value(kept.state).ok()
}

/// How long a half-done sign-in waits for its second factor.
const PENDING_TTL_SECS: i64 = 5 * 60;

/// A sign-in whose password was right, waiting for the second factor (or for the user to
/// enrol one, when their organization requires it and they have none).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pending {
    pub user_id: String,
    pub email: String,
    pub org_id: String,
    /// The user has no second factor and must enrol one to go on.
    pub enrol: bool,
    /// The user's session epoch at the password step.
    pub epoch: i64,
    /// How the first step signed in (a password, or the organization's provider).
    #[serde(default = "password_first")]
    pub first: Method,
    pub expires_at: i64,
}

fn password_first() -> Method {
    Method::Pwd
}

/// Keeps a half-done sign-in, under a new session id, no one signed in yet.
async fn keep_pending(session: &Session, pending: Pending) -> Result<(), SessionError> {
    session.cycle_id().await?;
    session.remove::<String>(USER_ID).await?;
    session.remove::<String>(ORG_ID).await?;
    session.insert(PENDING, pending).await?;
    Ok(())
}

/// Who proved their first factor, and where.
pub struct FirstFactor<'a> {
    pub user_id: &'a str,
    pub email: &'a str,
    pub org_id: &'a str,
    pub epoch: i64,
    pub method: Method,
}

/// Where a sign-in goes once its first factor is proven: signed in and on to `next`, or on
/// to the second step (the user has an authenticator app) or to setting one up (the
/// organization requires one, or the app asked for it with `acr_values`). A provider's
/// sign-in that was itself multi-factor needs no second step.
pub async fn after_first_factor(
    state: &AppState,
    session: &Session,
    first: FirstFactor<'_>,
    meta: &RequestMeta,
    next: &str,
    mfa_asked: bool,
) -> Result<String, SessionError> {
    let db = &state.db;
    let has_factor = services::mfa::has_factor(db, first.user_id).await?;
    let required = mfa_asked || services::mfa::required_anywhere(db, first.user_id).await?;
    // The provider's own second factor stands in for one here only when the user has none
    // of their own: an app they set up is always asked.
    if has_factor || (required && first.method != Method::FedMfa) {
        let pending = Pending {
            user_id: first.user_id.into(),
            email: first.email.into(),
            org_id: first.org_id.into(),
            enrol: !has_factor,
            epoch: first.epoch,
            first: first.method,
            expires_at: services::now() + PENDING_TTL_SECS,
        };
        keep_pending(session, pending).await?;
        let step = if has_factor { "verify" } else { "enrol" };
        let next: String = url::form_urlencoded::byte_serialize(next.as_bytes()).collect();
        return Ok(format!("/login/{step}?next={next}"));
    }
    start_session(
        session,
        first.user_id,
        first.org_id,
        &[first.method],
        first.epoch,
        meta,
    )
    .await?;
    Ok(next.to_string())
}

/// A sign-in sent to the organization's provider, with where it goes on to afterwards.
const OUTGOING: &str = "sso";

#[derive(Serialize, Deserialize)]
struct Outgoing {
    out: services::upstream::Outgoing,
    next: String,
}

/// Keeps a sign-in sent to the organization's provider until it comes back.
pub async fn keep_outgoing(
    session: &Session,
    out: services::upstream::Outgoing,
    next: &str,
) -> Result<(), SessionError> {
    session
        .insert(
            OUTGOING,
            Outgoing {
                out,
                next: next.to_string(),
            },
        )
        .await?;
    Ok(())
}

/// The sign-in that went to the provider, once, if it is fresh and `state` is its own.
pub async fn take_outgoing(
    session: &Session,
    state: &str,
) -> Option<(services::upstream::Outgoing, String)> {
    let kept = session.get::<Outgoing>(OUTGOING).await.ok().flatten()?;
    let _ = session.remove::<Outgoing>(OUTGOING).await;
    let same = bool::from(kept.out.state.as_bytes().ct_eq(state.as_bytes()));
    (same && kept.out.expires_at > services::now()).then_some((kept.out, kept.next))
}

/// The half-done sign-in, while it is fresh.
pub async fn pending(session: &Session) -> Option<Pending> {
    let p = session.get::<Pending>(PENDING).await.ok().flatten()?;
    (p.expires_at > services::now()).then_some(p)
}

/// The signed-in user as the authorization endpoint sees them, with their sign-in time.
pub async fn visitor(
    state: &AppState,
    session: &Session,
    meta: RequestMeta,
) -> Option<services::authorize::Visitor> {
    let me = signed_in(state, session, meta).await.ok()??;
    Some(visitor_of(&me, session).await)
}

/// `me` with the time the session signed in.
pub async fn visitor_of(me: &SignedIn, session: &Session) -> services::authorize::Visitor {
    services::authorize::Visitor {
        user_id: me.user_id.clone(),
        auth_time: session.get::<i64>(AUTH_TIME).await.ok().flatten(),
        amr: session
            .get::<String>(AMR)
            .await
            .ok()
            .flatten()
            .unwrap_or_default(),
        caller: me.principal.caller().clone(),
        sid: session.get::<String>(SID).await.ok().flatten(),
    }
}

/// Ends the session (sign-out); the apps it signed into hear of it (back-channel logout).
pub async fn end_session(state: &AppState, session: &Session) -> Result<(), SessionError> {
    let user = session.get::<String>(USER_ID).await?;
    let sid = session.get::<String>(SID).await?;
    session.flush().await?;
    if let (Some(user), Some(sid)) = (user, sid)
        && let Err(e) = services::backchannel::session_ended(&state.db, &user, &sid).await
    {
        // The sign-out stands; the apps are not told (logged, never silently).
        tracing::error!(error = %e, "back-channel logout could not be queued");
    }
    Ok(())
}
