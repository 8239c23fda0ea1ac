//! The person's side of the device authorization grant (RFC 8628 §3.3): on the device page
//! a signed-in user types the code their device shows, sees the same consent screen as any
//! app's request (always: a code read off another screen is how device phishing works), and
//! allows or denies it. The device learns the answer when it polls the token endpoint
//! (`tokens::device_code`).
//!
//! Guessing codes is throttled per user and per address (the sign-in's counters, with
//! growing waits) and every wrong code is audited.

use serde_json::json;

use super::audit::{self, Event};
use super::authorize::{Step, Visitor, new_grant, proceed};
use super::{Error, Result, now};
use crate::domain::GrantType;
use crate::domain::authorize::AuthorizeRequest;
use crate::domain::device::normalize_user_code;
use crate::domain::oauth::OAuthError;
use crate::domain::paths::DEVICE_PATH;
use crate::store::{self, Db, apps::App};

/// Wrong codes a user may type before waiting (the wait then grows with each one).
const FREE_GUESSES_PER_USER: i64 = 5;
/// Wrong codes typed from one address, whoever is signed in.
const FREE_GUESSES_PER_ADDRESS: i64 = 20;

/// What a wrong, expired or answered code is told: the same for each.
pub const WRONG_CODE: &str = "That code is not valid, has expired or was already used. Check the code your device shows and try again.";

/// The device page after an answer: `approved`, `denied` (by the user), `refused` (by a
/// rule) or `expired` (answered already, or too late).
fn result_url(result: &str) -> String {
    format!("{DEVICE_PATH}?result={result}")
}

/// The code a signed-in user typed: the consent page for its request, or why not.
#[tracing::instrument(skip_all, fields(user_id = %visitor.user_id))]
pub async fn enter(db: &Db, issuer: &str, visitor: Visitor, typed: &str) -> Result<Step> {
    let t = now();
    let ip = visitor.caller.meta.ip.as_deref().unwrap_or("-");
    let counters = [
        (
            format!("device:user:{}", visitor.user_id),
            FREE_GUESSES_PER_USER,
        ),
        (format!("device:ip:{ip}"), FREE_GUESSES_PER_ADDRESS),
    ];
    let refused = |reason: &str| Event {
        org_id: None,
        action: "device.code_refused",
        object: ("user", &visitor.user_id),
        success: false,
        detail: json!({ "reason": reason }),
    };
    let wait = super::auth::reserve(db, &counters, t).await?;
    if wait > 0 {
        audit::record_alone(db, &visitor.caller, refused("throttled")).await?;
        return Err(Error::Throttled(wait));
    }
    let found = match normalize_user_code(typed) {
        Some(code) => store::device::pending_by_user_code(&db.pool, &code, t).await?,
        None => None,
    };
    let app = match &found {
        Some(code) => db.app(&code.client_id).await?,
        None => None,
    };
    let (Some(code), Some(app)) = (found, app) else {
        audit::record_alone(db, &visitor.caller, refused("unknown")).await?;
        return Err(Error::Forbidden(WRONG_CODE.into()));
    };
    // The right code: this attempt was counted as a failure in advance; give it back.
    for (key, _) in &counters {
        store::throttle::release(&db.pool, key).await?;
    }
    let event = Event {
        org_id: Some(&app.org_id),
        action: "device.code_entered",
        object: ("app", &app.client_id),
        success: true,
        detail: json!({ "scope": code.scopes.to_space_separated() }),
    };
    audit::record_alone(db, &visitor.caller, event).await?;
    let req = AuthorizeRequest {
        client_id: app.client_id.to_string(),
        redirect_uri: String::new(),
        scopes: code.scopes.to_space_separated(),
        state: None,
        nonce: None,
        code_challenge: String::new(),
        prompt_none: false,
        // Always asked: the person must see which app their device is.
        prompt_consent: true,
        prompt_login: false,
        fresh_after: None,
        login_hint: None,
        acr_values: None,
        device: Some(code.id.clone()),
        dpop_jkt: None,
    };
    let user_id = visitor.user_id.clone();
    let step = proceed(db, issuer, &app, req, Some(visitor), None).await?;
    // A rule refused it (app disabled, not for this organization): the device hears so
    // at its next poll rather than waiting for the code to expire.
    if matches!(step, Step::Page(_) | Step::Blocked { .. }) {
        store::device::answer(&db.pool, &code.id, &user_id, None, t).await?;
    }
    Ok(step)
}

/// The user allowed a device's request: its grant is recorded and the code approved, once.
pub(super) async fn approve(
    db: &Db,
    device_id: &str,
    app: &App,
    req: &AuthorizeRequest,
    visitor: &Visitor,
    org_id: String,
) -> Result<String> {
    if !super::policy::within_authorized_apps(db, &visitor.user_id, app.client_id.as_str()).await? {
        let e = OAuthError::AccessDenied(super::policy::too_many_apps());
        return refuse(db, device_id, visitor, &e).await;
    }
    let grant = new_grant(app, req, visitor, org_id, GrantType::DeviceCode)?;
    let mut tx = db.begin().await?;
    store::grants::insert(&mut *tx, &grant).await?;
    if !store::device::answer(
        &mut *tx,
        device_id,
        &visitor.user_id,
        Some(&grant.id),
        now(),
    )
    .await?
    {
        tx.rollback().await?;
        return Ok(result_url("expired"));
    }
    let event = Event {
        org_id: Some(&app.org_id),
        action: "device.approved",
        object: ("app", &app.client_id),
        success: true,
        detail: json!({ "grant_id": grant.id, "scope": req.scopes, "user_id": visitor.user_id }),
    };
    audit::record(&mut tx, &visitor.caller, event).await?;
    tx.commit().await?;
    Ok(result_url("approved"))
}

/// The user denied a device's request, or a rule did: the code is denied, once.
pub(super) async fn refuse(
    db: &Db,
    device_id: &str,
    visitor: &Visitor,
    why: &OAuthError,
) -> Result<String> {
    if !store::device::answer(&db.pool, device_id, &visitor.user_id, None, now()).await? {
        return Ok(result_url("expired"));
    }
    let by_user = matches!(why, OAuthError::AccessDenied(d) if d == super::authorize::USER_DENIED);
    Ok(result_url(if by_user { "denied" } else { "refused" }))
}
