//! The authorization endpoint's use cases: check a request, send the user to sign in and
//! consent where needed, and answer the client's redirect URI with a code or an error.
//! The pending request waits in the store (the browser only carries its random id).

use super::audit::{self, Event};
use super::policy::{APPS_OFF, Access, access};
use super::{Caller, Error, Result, new_id, now};
use crate::crypto::{random_token, secrets};
use crate::domain::app::is_native_redirect;
use crate::domain::authorize::{
    self, AuthorizeRequest, CODE_TTL, ClientFacts, PENDING_TTL, PUSHED_TTL, REQUEST_URI_PREFIX,
    error_url, redirect_target, response_url,
};
use crate::domain::ids::{GrantId, OrgId, UserId};
use crate::domain::oauth::OAuthError;
use crate::domain::views::ConsentView;
use crate::domain::{AppKind, Audience, GrantType, ScopeSet};
use crate::store::{self, Db, apps::App, authz::CodeRow, grants::Grant};
use serde_json::json;

pub use crate::domain::paths::RESUME_PATH;
use crate::domain::paths::{CONSENT_PATH, LOGIN_PATH};

/// What the browser gets next.
#[derive(Debug, PartialEq)]
pub enum Step {
    /// An error page: the client or its redirect URI is not known good, so no redirect.
    Page(String),
    /// A redirect: to the client (code or error), the sign-in page or the consent page.
    Redirect(String),
    /// The user's organization restricts external apps and has not approved this one: a
    /// page saying so, with the link an admin opens to approve it.
    Blocked { app_name: String, client_id: String },
}

/// The browser's signed-in user, if any, and when they signed in.
pub struct Visitor {
    pub user_id: String,
    pub auth_time: Option<i64>,
    /// How they signed in (`amr`, space-separated).
    pub amr: String,
    /// The browser session's public id (OIDC `sid`).
    pub sid: Option<String>,
    /// The signed-in user as the audit names them, with where the request came from.
    pub caller: Caller,
}

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(e.to_string())
}

fn registered_uris(app: &App) -> Vec<String> {
    app.redirect_uris
        .iter()
        .map(|u| u.as_str().to_string())
        .collect()
}

/// What the authorization request's checks need to know of the app.
fn facts(app: &App) -> ClientFacts<'_> {
    ClientFacts {
        client_id: &app.client_id,
        enabled: app.enabled,
        may_use_code: app.kind == AppKind::OnBehalfOfUser && app.uses(GrantType::AuthorizationCode),
        allowed: &app.scopes,
    }
}

/// Checks a new authorization request (its parameters read through `get`): the parameters
/// themselves, or a pushed request's named by `request_uri` (RFC 9126 §4), which are used
/// alone (whatever else the URL says) and spent.
pub async fn start<'p>(
    db: &Db,
    issuer: &str,
    get: impl Fn(&str) -> Option<&'p str>,
    visitor: Option<Visitor>,
) -> Result<Step> {
    let Some(request_uri) = get("request_uri") else {
        return start_with(db, issuer, get, visitor, false).await;
    };
    const SPENT: &str = "The request_uri is unknown, expired or was already used. Go back to the app and start again.";
    let (Some(id), Some(client_id)) = (
        request_uri.strip_prefix(REQUEST_URI_PREFIX),
        get("client_id"),
    ) else {
        return Ok(Step::Page(
            "A request_uri needs the client_id it was pushed by, and must be one this server issued."
                .into(),
        ));
    };
    if id.len() > 100 || client_id.len() > 200 {
        return Ok(Step::Page(SPENT.into()));
    }
    let Some(json) = store::authz::take_pushed(&db.pool, id, client_id, now()).await? else {
        return Ok(Step::Page(SPENT.into()));
    };
    let params: std::collections::HashMap<String, String> =
        serde_json::from_str(&json).map_err(internal)?;
    let pushed = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    start_with(db, issuer, pushed, visitor, true).await
}

/// Checks an authorization request's parameters; `pushed` when they came by PAR.
async fn start_with<'p>(
    db: &Db,
    issuer: &str,
    get: impl Fn(&str) -> Option<&'p str>,
    visitor: Option<Visitor>,
    pushed: bool,
) -> Result<Step> {
    let Some(client_id) = get("client_id") else {
        return Ok(Step::Page("The request names no client_id.".into()));
    };
    let unknown = || {
        Ok(Step::Page(
            "No app is registered with this client_id.".into(),
        ))
    };
    if client_id.len() > 200 {
        return unknown();
    }
    let Some(app) = db.app(client_id).await? else {
        return unknown();
    };
    let redirect_uri = match redirect_target(get("redirect_uri"), &registered_uris(&app)) {
        Ok(uri) => uri,
        Err(message) => return Ok(Step::Page(message.into())),
    };
    if app.require_par && !pushed {
        let e = OAuthError::InvalidRequest(
            "this app must push its authorization requests first (PAR, RFC 9126)".into(),
        );
        let state = get("state").filter(|s| s.len() <= 2048);
        return Ok(Step::Redirect(error_url(&redirect_uri, state, issuer, &e)));
    }
    match authorize::parse(&get, &facts(&app), redirect_uri.clone(), now()) {
        Ok(req) => proceed(db, issuer, &app, req, visitor, None).await,
        Err(e) => Ok(Step::Redirect(error_url(
            &redirect_uri,
            get("state").filter(|s| s.len() <= 2048),
            issuer,
            &e,
        ))),
    }
}

/// Client authentication parameters, never kept with a pushed request.
const CLIENT_AUTH_PARAMS: [&str; 3] =
    ["client_secret", "client_assertion", "client_assertion_type"];

/// A pushed authorization request (RFC 9126 §2) of the authenticated `app`: its parameters
/// are checked as the authorization endpoint checks them, then kept for `PUSHED_TTL`
/// seconds under a `request_uri` that only this client may use, once.
pub async fn push(
    db: &Db,
    app: &App,
    mut params: std::collections::HashMap<String, String>,
) -> std::result::Result<(String, i64), OAuthError> {
    let fail = |e: Error| {
        tracing::error!(error = %e, "pushed authorization request");
        OAuthError::ServerError
    };
    if params.contains_key("request_uri") {
        return Err(OAuthError::InvalidRequest(
            "a pushed request cannot name a request_uri".into(),
        ));
    }
    if params
        .get("client_id")
        .is_some_and(|id| id != app.client_id.as_str())
    {
        return Err(OAuthError::InvalidRequest(
            "the client_id differs from the authenticated client".into(),
        ));
    }
    params.insert("client_id".into(), app.client_id.to_string());
    for name in CLIENT_AUTH_PARAMS {
        params.remove(name);
    }
    let get = |k: &str| params.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let redirect_uri = redirect_target(get("redirect_uri"), &registered_uris(app))
        .map_err(|m| OAuthError::InvalidRequest(m.into()))?;
    authorize::parse(get, &facts(app), redirect_uri, now())?;
    let id = random_token(24);
    let json = serde_json::to_string(&params).map_err(|e| fail(internal(e)))?;
    store::authz::insert_pushed(&db.pool, &id, &app.client_id, &json, now() + PUSHED_TTL)
        .await
        .map_err(|e| fail(e.into()))?;
    Ok((format!("{REQUEST_URI_PREFIX}{id}"), PUSHED_TTL))
}

/// The pending request `id`, if it still waits.
async fn pending(db: &Db, id: &str) -> Result<Option<AuthorizeRequest>> {
    if id.len() > 100 {
        return Ok(None);
    }
    let Some(json) = store::authz::get_request(&db.pool, id, now()).await? else {
        return Ok(None);
    };
    serde_json::from_str(&json).map(Some).map_err(internal)
}

/// The origin a pending request's code goes to (`https://host:port`, or `scheme:` for a
/// private-use scheme), for the page that continues it to allow its form to post on there.
pub async fn pending_redirect_origin(db: &Db, id: &str) -> Option<String> {
    let req = pending(db, id).await.ok()??;
    let url = url::Url::parse(&req.redirect_uri).ok()?;
    match url.scheme() {
        "http" | "https" => Some(url.origin().ascii_serialization()),
        scheme => Some(format!("{scheme}:")),
    }
}

const EXPIRED: &str =
    "This sign-in request has expired or was already answered. Go back to the app and start again.";

/// Goes on with a pending request after the user signed in.
pub async fn resume(db: &Db, issuer: &str, id: &str, visitor: Option<Visitor>) -> Result<Step> {
    let Some(req) = pending(db, id).await? else {
        return Ok(Step::Page(EXPIRED.into()));
    };
    let Some(app) = db.app(&req.client_id).await? else {
        return Ok(Step::Page(EXPIRED.into()));
    };
    proceed(db, issuer, &app, req, visitor, Some(id.to_string())).await
}

/// Stores `req` as pending, once, and returns its id.
async fn keep(db: &Db, req: &AuthorizeRequest, id: Option<String>) -> Result<String> {
    if let Some(id) = id {
        return Ok(id);
    }
    let id = random_token(24);
    let json = serde_json::to_string(req).map_err(internal)?;
    store::authz::insert_request(&db.pool, &id, &req.client_id, &json, now() + PENDING_TTL).await?;
    Ok(id)
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The sign-in page for pending request `id`: again (`prompt=login`, `max_age`, a second
/// factor owed), with the client's `login_hint`.
fn sign_in_url(req: &AuthorizeRequest, id: &str, mfa: bool) -> String {
    let next = encode(&format!("{RESUME_PATH}?id={id}"));
    let mut login = format!("{LOGIN_PATH}?next={next}");
    if req.fresh_after.is_some() || mfa {
        login.push_str("&reauth=1");
    }
    if mfa {
        login.push_str("&mfa=1");
    }
    if let Some(hint) = &req.login_hint {
        login.push_str(&format!("&login_hint={}", encode(hint)));
    }
    login
}

/// Why a request the user denied on the consent page was refused.
pub const USER_DENIED: &str = "the user denied the request";
const NOT_APPROVED: &str = "the user's organization has not approved this app";
const NONE_APPROVED: &str = "none of the requested scopes is approved by the user's organization";

/// The requested scopes within the approved ones; None when none is left.
fn narrowed(requested: &str, within: &ScopeSet) -> Option<String> {
    let kept: Vec<&str> = requested
        .split_whitespace()
        .filter(|s| within.contains(s))
        .collect();
    (!kept.is_empty()).then(|| kept.join(" "))
}

/// Sign-in, then consent, then a code: whichever the request still needs.
pub(super) async fn proceed(
    db: &Db,
    issuer: &str,
    app: &App,
    req: AuthorizeRequest,
    visitor: Option<Visitor>,
    id: Option<String>,
) -> Result<Step> {
    let (back, state) = (req.redirect_uri.clone(), req.state.clone());
    let device = req.device.is_some();
    let refuse = |e: OAuthError| {
        if device {
            // A device has no redirect URI: the person at the browser reads why.
            Step::Page(format!(
                "The device cannot be connected: {}.",
                e.description()
            ))
        } else {
            Step::Redirect(error_url(&back, state.as_deref(), issuer, &e))
        }
    };
    if !app.enabled {
        return Ok(refuse(OAuthError::UnauthorizedClient(
            "the app is disabled".into(),
        )));
    }
    let visitor = visitor.filter(|v| {
        !req.needs_sign_in(v.auth_time, id.is_some())
            && (!req.wants_mfa() || crate::domain::mfa::amr_is_multi_factor(&v.amr))
    });
    let Some(visitor) = visitor else {
        if req.prompt_none {
            return Ok(refuse(OAuthError::LoginRequired(
                "the user is not signed in".into(),
            )));
        }
        let id = keep(db, &req, id).await?;
        return Ok(Step::Redirect(sign_in_url(&req, &id, req.wants_mfa())));
    };
    let (org_id, within) = match access(db, app, &visitor.user_id).await? {
        Access::Denied => {
            return Ok(refuse(OAuthError::AccessDenied(
                "this app is not available to the user's organization".into(),
            )));
        }
        Access::Off => return Ok(refuse(OAuthError::AccessDenied(APPS_OFF.into()))),
        Access::Blocked { .. } if req.prompt_none => {
            return Ok(refuse(OAuthError::AccessDenied(NOT_APPROVED.into())));
        }
        Access::Blocked { .. } => {
            return Ok(Step::Blocked {
                app_name: app.name.clone(),
                client_id: app.client_id.to_string(),
            });
        }
        Access::Open { org_id, within } => (org_id, within),
    };
    // The organization the user acts in may require a second factor this sign-in did not
    // use (the session may have signed in for another of the user's organizations).
    if !crate::domain::mfa::amr_is_multi_factor(&visitor.amr)
        && super::mfa::required(db, &visitor.user_id, &org_id).await?
    {
        if req.prompt_none {
            return Ok(refuse(OAuthError::LoginRequired(
                "the user's organization requires a second factor".into(),
            )));
        }
        let id = keep(db, &req, id).await?;
        return Ok(Step::Redirect(sign_in_url(&req, &id, true)));
    }
    // Within what the user's organization approved; a narrowed request waits anew.
    let (mut req, mut id) = (req, id);
    if let Some(within) = within {
        let Some(scopes) = narrowed(&req.scopes, &within) else {
            return Ok(refuse(OAuthError::AccessDenied(NONE_APPROVED.into())));
        };
        if scopes != req.scopes {
            req.scopes = scopes;
            if let Some(old) = id.take()
                && !store::authz::take_request(&db.pool, &old).await?
            {
                return Ok(Step::Page(EXPIRED.into()));
            }
        }
    }
    // A public client redirecting to loopback or a private-use scheme may be any app on
    // the device claiming that URI: the user answers every time (RFC 8252 §8.6).
    let native = app.public_client && is_native_redirect(&req.redirect_uri);
    // A first-party app of the user's own organization is not asked about (never a native
    // public client, never with prompt=consent); the audit says so.
    let first_party = app.skip_consent
        && app.audience == Audience::Internal
        && org_id == app.org_id.as_str()
        && !native
        && !req.prompt_consent;
    let remembered = if first_party {
        None
    } else {
        store::authz::consent(&db.pool, &visitor.user_id, &app.client_id).await?
    };
    let remembered = remembered.map(|s| s.to_space_separated());
    if !first_party && (native || req.needs_consent(remembered.as_deref())) {
        if req.prompt_none {
            return Ok(refuse(OAuthError::ConsentRequired(if native {
                "a native app's request needs the user's interaction".into()
            } else {
                "the user has not consented".into()
            })));
        }
        let id = keep(db, &req, id).await?;
        return Ok(Step::Redirect(format!("{CONSENT_PATH}?request={id}")));
    }
    if let Some(id) = &id
        && !store::authz::take_request(&db.pool, id).await?
    {
        return Ok(Step::Page(EXPIRED.into()));
    }
    if first_party {
        let event = Event {
            org_id: Some(&app.org_id),
            action: "consent.skipped",
            object: ("app", &app.client_id),
            success: true,
            detail: json!({ "scope": req.scopes, "user_id": visitor.user_id, "first_party": true }),
        };
        audit::record_alone(db, &visitor.caller, event).await?;
    }
    let url = issue_code(db, issuer, app, &req, &visitor, org_id).await?;
    Ok(Step::Redirect(url))
}

/// The grant a user's answer starts (not stored yet).
pub(super) fn new_grant(
    app: &App,
    req: &AuthorizeRequest,
    visitor: &Visitor,
    org_id: String,
    grant_type: GrantType,
) -> Result<Grant> {
    Ok(Grant {
        id: GrantId::new(new_id()),
        org_id: OrgId::new(org_id),
        client_id: app.client_id.clone(),
        user_id: UserId::new(visitor.user_id.clone()),
        scopes: ScopeSet::parse([req.scopes.as_str()])?,
        grant_type,
        created_at: now(),
        revoked_at: None,
        auth_time: visitor.auth_time,
        amr: Some(visitor.amr.clone()).filter(|a| !a.is_empty()),
        sid: visitor.sid.clone(),
    })
}

/// Records the grant and its single-use code; the client's redirect URI with the code.
async fn issue_code(
    db: &Db,
    issuer: &str,
    app: &App,
    req: &AuthorizeRequest,
    visitor: &Visitor,
    org_id: String,
) -> Result<String> {
    if req.device.is_some() {
        return Err(internal("a device's request never gets a code"));
    }
    if !super::policy::within_authorized_apps(db, &visitor.user_id, app.client_id.as_str()).await? {
        let refused = OAuthError::AccessDenied(super::policy::too_many_apps());
        return Ok(error_url(
            &req.redirect_uri,
            req.state.as_deref(),
            issuer,
            &refused,
        ));
    }
    let grant = new_grant(app, req, visitor, org_id, GrantType::AuthorizationCode)?;
    let code = format!("lkc_{}", random_token(32));
    let row = CodeRow {
        digest: secrets::digest(&code),
        grant_id: grant.id.to_string(),
        client_id: app.client_id.to_string(),
        redirect_uri: req.redirect_uri.clone(),
        code_challenge: req.code_challenge.clone(),
        nonce: req.nonce.clone(),
        expires_at: grant.created_at + CODE_TTL,
        used_at: None,
        dpop_jkt: req.dpop_jkt.clone(),
    };
    let mut tx = db.begin().await?;
    store::grants::insert(&mut *tx, &grant).await?;
    store::authz::insert_code(&mut *tx, &row).await?;
    tx.commit().await?;
    Ok(response_url(
        &req.redirect_uri,
        &[
            ("code", Some(&code)),
            ("state", req.state.as_deref()),
            ("iss", Some(issuer)),
        ],
    ))
}

/// The name of the app a sign-in continues to, when `next` resumes a pending authorization
/// request (the sign-in page says "to continue to …").
pub async fn app_asking(db: &Db, next: &str) -> Result<Option<String>> {
    let id = next
        .strip_prefix(RESUME_PATH)
        .and_then(|q| q.strip_prefix("?id="))
        .or_else(|| {
            next.strip_prefix(CONSENT_PATH)
                .and_then(|q| q.strip_prefix("?request="))
        });
    let Some(id) = id.filter(|id| id.len() <= 100) else {
        return Ok(None);
    };
    let Some(req) = pending(db, id).await? else {
        return Ok(None);
    };
    Ok(db
        .app(&req.client_id)
        .await?
        .filter(|a| a.enabled)
        .map(|a| a.name))
}

/// The consent page of pending request `id` for `user_id`.
pub async fn consent_view(db: &Db, id: &str) -> Result<ConsentView> {
    let req = pending(db, id).await?.ok_or(Error::NotFound)?;
    let app = db.app(&req.client_id).await?.ok_or(Error::NotFound)?;
    let org = store::orgs::get(&db.pool, &app.org_id)
        .await?
        .ok_or(Error::NotFound)?;
    let requested = ScopeSet::parse([req.scopes.as_str()]).map_err(|e| internal(e.message))?;
    let scopes = super::apis::describe(db, &app.org_id, &requested).await?;
    Ok(ConsentView {
        app_name: app.name,
        org_name: org.name,
        website_url: app.website_url,
        scopes,
    })
}

/// The user's answer on the consent page: a code (remembering the consent) or
/// `access_denied`, as the redirect to the client; for a device's request, the device page
/// saying how it ended (the device gets its tokens, or the refusal, when it polls).
pub async fn decide(
    db: &Db,
    issuer: &str,
    id: &str,
    (visitor, caller): (Visitor, &Caller),
    allow: bool,
) -> Result<String> {
    let req = pending(db, id).await?.ok_or(Error::NotFound)?;
    let app = db.app(&req.client_id).await?.ok_or(Error::NotFound)?;
    let settled = settle(db, id, req.clone(), &app, &visitor, caller, allow).await?;
    match (settled, &req.device) {
        (Ok((req, org_id)), None) => issue_code(db, issuer, &app, &req, &visitor, org_id).await,
        (Ok((req, org_id)), Some(device)) => {
            super::device::approve(db, device, &app, &req, &visitor, org_id).await
        }
        (Err(e), None) => Ok(error_url(
            &req.redirect_uri,
            req.state.as_deref(),
            issuer,
            &e,
        )),
        (Err(e), Some(device)) => super::device::refuse(db, device, &visitor, &e).await,
    }
}

/// Audits the answer, ends the pending request and, when the user allowed it and the rules
/// still do, remembers the consent: the request as it may be granted (narrowed to what the
/// user's organization approves) and that organization; or why it may not.
async fn settle(
    db: &Db,
    id: &str,
    mut req: AuthorizeRequest,
    app: &App,
    visitor: &Visitor,
    caller: &Caller,
    allow: bool,
) -> Result<std::result::Result<(AuthorizeRequest, String), OAuthError>> {
    let action = if allow {
        "consent.granted"
    } else {
        "consent.denied"
    };
    let event = Event {
        org_id: Some(&app.org_id),
        action,
        object: ("app", &app.client_id),
        success: allow,
        detail: json!({ "scope": req.scopes, "device": req.device.is_some() }),
    };
    audit::record_alone(db, caller, event).await?;
    let refusal = if !allow {
        OAuthError::AccessDenied(USER_DENIED.into())
    } else if !app.enabled {
        OAuthError::UnauthorizedClient("the app is disabled".into())
    } else {
        match access(db, app, &visitor.user_id).await? {
            Access::Open { org_id, within } => {
                let narrowed = match within {
                    None => Some(req.scopes.clone()),
                    Some(within) => narrowed(&req.scopes, &within),
                };
                match narrowed {
                    None => OAuthError::AccessDenied(NONE_APPROVED.into()),
                    Some(scopes) => {
                        req.scopes = scopes;
                        if !store::authz::take_request(&db.pool, id).await? {
                            return Err(Error::NotFound);
                        }
                        let before =
                            store::authz::consent(&db.pool, &visitor.user_id, &app.client_id)
                                .await?;
                        let asked = ScopeSet::parse([req.scopes.as_str()])?;
                        let granted = before.map_or(asked.clone(), |b| b.union(&asked));
                        store::authz::save_consent(
                            &db.pool,
                            &visitor.user_id,
                            &app.client_id,
                            &granted.to_space_separated(),
                            now(),
                        )
                        .await?;
                        return Ok(Ok((req, org_id)));
                    }
                }
            }
            Access::Off => OAuthError::AccessDenied(APPS_OFF.into()),
            Access::Denied | Access::Blocked { .. } => OAuthError::AccessDenied(
                "this app is not available to the user's organization".into(),
            ),
        }
    };
    store::authz::take_request(&db.pool, id).await?;
    Ok(Err(refusal))
}
