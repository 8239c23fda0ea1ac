//! Second factors: an authenticator app (TOTP) and single-use recovery codes; the second
//! step of a sign-in; the organization's multi-factor policy. Every change is audited, and
//! a change to one's own factors needs a sign-in of the last ten minutes.

use serde_json::json;

use super::audit::{self, Event};
use super::principal::{MANAGE_ORG, Principal, READ_ORG};
use super::{Actor, Caller, Error, RequestMeta, Result, now};
use crate::crypto::master_key::MasterKey;
use crate::crypto::{secrets, totp};
use crate::domain::mfa::{Method, MfaPolicy};
use crate::domain::views::{SecurityView, TotpEnrolment};
use crate::store::{self, Db, cache::Change};

/// Whether `user_id` has an authenticator app (enrolment confirmed).
pub async fn has_totp(db: &Db, user_id: &str) -> Result<bool> {
    Ok(store::factors::totp(&db.pool, user_id)
        .await?
        .is_some_and(|f| f.confirmed_at.is_some()))
}

/// Whether `user_id` has a second factor: an authenticator app or a passkey.
pub async fn has_factor(db: &Db, user_id: &str) -> Result<bool> {
    Ok(has_totp(db, user_id).await? || super::passkeys::has_passkey(db, user_id).await?)
}

/// New recovery codes for `user_id`, the old ones void: the codes, to show once.
pub async fn replace_recovery_codes(tx: &mut store::Tx, user_id: &str) -> Result<Vec<String>> {
    let codes = totp::new_recovery_codes();
    let digests: Vec<String> = codes.iter().map(|c| secrets::digest(c)).collect();
    store::factors::replace_recovery_codes(tx, user_id, &digests).await?;
    Ok(codes)
}

/// Whether a sign-in of `user_id` into `org_id` needs a second factor: they have one, or
/// the organization's policy requires one of their role.
pub async fn needs_second_factor(db: &Db, user_id: &str, org_id: &str) -> Result<bool> {
    if has_factor(db, user_id).await? {
        return Ok(true);
    }
    required(db, user_id, org_id).await
}

/// Whether any organization of `user_id` requires a second factor of them: a sign-in
/// serves every organization the user belongs to (apps of each), so it meets the strictest.
pub async fn required_anywhere(db: &Db, user_id: &str) -> Result<bool> {
    for (org_id, _) in db.memberships(user_id).await?.iter() {
        if required(db, user_id, org_id).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether the organization's policy requires a second factor of `user_id`.
pub async fn required(db: &Db, user_id: &str, org_id: &str) -> Result<bool> {
    let Some(member) = db.member(org_id, user_id).await? else {
        return Ok(false);
    };
    Ok(db.mfa_policy(org_id).await?.requires(member.role))
}

/// The account security page of the signed-in user.
pub async fn status(db: &Db, issuer: &str, p: &Principal) -> Result<SecurityView> {
    let own = p.own_account()?;
    let factor = store::factors::totp(&db.pool, own.user_id).await?;
    let user = store::users::get(&db.pool, own.user_id)
        .await?
        .ok_or(Error::NotFound)?;
    let policy = db.mfa_policy(own.org_id).await?;
    let t = now();
    Ok(SecurityView {
        email: user.email,
        email_verified: user.email_verified_at.is_some(),
        totp: factor.is_some_and(|f| f.confirmed_at.is_some()),
        passkeys: super::passkeys::mine(db, p).await?,
        passkeys_available: super::passkeys::available(issuer),
        recovery_codes_left: store::factors::recovery_codes_left(&db.pool, own.user_id).await?,
        required: required_anywhere(db, own.user_id).await?,
        policy: policy.label().to_string(),
        fresh: own
            .sign_in
            .auth_time
            .is_some_and(|a| t - a <= super::principal::FRESH_SECS),
        signed_in_with_mfa: own.sign_in.is_mfa(),
    })
}

/// Starts enrolling an authenticator app for `user_id` (a new secret each time until it is
/// confirmed): what the page shows to scan or type.
async fn begin(
    db: &Db,
    key: &MasterKey,
    issuer_name: &str,
    user_id: &str,
    email: &str,
) -> Result<TotpEnrolment> {
    if has_totp(db, user_id).await? {
        return Err(Error::Forbidden(
            "An authenticator app is already set up; remove it first to set up another.".into(),
        ));
    }
    let secret = totp::new_secret();
    store::factors::begin_totp(&db.pool, user_id, &key.seal(&secret), now()).await?;
    let uri = totp::otpauth_uri(&secret, issuer_name, email);
    Ok(TotpEnrolment {
        qr_svg: totp::qr_svg(&uri).unwrap_or_default(),
        secret: totp::base32(&secret),
        uri,
    })
}

/// Enrolment from the account page (a recent sign-in).
pub async fn begin_totp(
    db: &Db,
    key: &MasterKey,
    issuer_name: &str,
    p: &Principal,
) -> Result<TotpEnrolment> {
    let own = p.own_account_fresh(now())?;
    begin(db, key, issuer_name, own.user_id, own.email).await
}

/// Enrolment during a sign-in that the organization's policy holds until the user has a
/// second factor (the password was checked; `user_id` comes from the session).
pub async fn begin_totp_at_sign_in(
    db: &Db,
    key: &MasterKey,
    issuer_name: &str,
    user_id: &str,
    email: &str,
) -> Result<TotpEnrolment> {
    begin(db, key, issuer_name, user_id, email).await
}

fn secret_of(key: &MasterKey, sealed: &str) -> Result<Vec<u8>> {
    key.open(sealed).ok_or_else(|| {
        Error::Internal("an authenticator secret does not open with the master key".into())
    })
}

fn wrong_code() -> Error {
    Error::Invalid(crate::domain::FieldError::new("code", "is not the current code").into())
}

/// Confirms an enrolment with a code from the app; returns the new recovery codes, shown
/// once. `caller` is the signed-in user, or the user halfway through signing in.
pub async fn confirm_totp(
    db: &Db,
    key: &MasterKey,
    caller: &Caller,
    (user_id, org_id): (&str, &str),
    code: &str,
) -> Result<Vec<String>> {
    let factor = store::factors::totp(&db.pool, user_id)
        .await?
        .filter(|f| f.confirmed_at.is_none())
        .ok_or_else(|| Error::Forbidden("Start setting up the authenticator app again.".into()))?;
    let secret = secret_of(key, &factor.sealed_secret)?;
    let t = now();
    let Some(step) = totp::check(&secret, code, t as u64) else {
        return Err(wrong_code());
    };
    let mut tx = db.begin().await?;
    if !store::factors::accept_step(&mut *tx, user_id, step as i64, Some(t)).await? {
        return Err(wrong_code());
    }
    let codes = replace_recovery_codes(&mut tx, user_id).await?;
    audit::record(
        &mut tx,
        caller,
        Event {
            org_id: Some(org_id),
            action: "mfa.totp_enrolled",
            object: ("user", user_id),
            success: true,
            detail: json!({ "recovery_codes": codes.len() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Confirms the signed-in user's enrolment (a recent sign-in).
pub async fn confirm_own_totp(
    db: &Db,
    key: &MasterKey,
    p: &Principal,
    code: &str,
) -> Result<Vec<String>> {
    let own = p.own_account_fresh(now())?;
    confirm_totp(db, key, own.caller, (own.user_id, own.org_id), code).await
}

/// Removes the signed-in user's authenticator app and recovery codes (a recent sign-in).
/// Refused when their organization requires a second factor of them: they would lose it.
pub async fn remove_totp(db: &Db, p: &Principal) -> Result<()> {
    let own = p.own_account_fresh(now())?;
    let passkeys = super::passkeys::has_passkey(db, own.user_id).await?;
    if !passkeys && required_anywhere(db, own.user_id).await? {
        return Err(Error::Forbidden(
            "Your organization requires a second factor: set up another before removing this one."
                .into(),
        ));
    }
    let mut tx = db.begin().await?;
    if !store::factors::delete_totp(&mut *tx, own.user_id).await? {
        return Err(Error::NotFound);
    }
    // The recovery codes stay while a passkey remains (they stand in for it too).
    if !passkeys {
        store::factors::delete_recovery_codes(&mut *tx, own.user_id).await?;
    }
    audit::record(
        &mut tx,
        own.caller,
        Event {
            org_id: Some(own.org_id),
            action: "mfa.totp_removed",
            object: ("user", own.user_id),
            success: true,
            detail: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// New recovery codes for the signed-in user, the old ones void (a recent sign-in).
pub async fn new_recovery_codes(db: &Db, p: &Principal) -> Result<Vec<String>> {
    let own = p.own_account_fresh(now())?;
    if !has_factor(db, own.user_id).await? {
        return Err(Error::Forbidden(
            "Recovery codes come with a second factor: set up an authenticator app or a passkey first.".into(),
        ));
    }
    let mut tx = db.begin().await?;
    let codes = replace_recovery_codes(&mut tx, own.user_id).await?;
    audit::record(
        &mut tx,
        own.caller,
        Event {
            org_id: Some(own.org_id),
            action: "mfa.recovery_codes_created",
            object: ("user", own.user_id),
            success: true,
            detail: json!({ "recovery_codes": codes.len() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Removes a member's authenticator app and recovery codes (`manage:users`), for a user who
/// lost both: they sign in with their password and, where a policy requires one, set up a new
/// app at once. Only for a user who belongs to the principal's organization alone: an admin
/// never weakens the sign-in another organization relies on. Their sessions end.
pub async fn reset_for_member(db: &Db, p: &Principal, user_id: &str) -> Result<()> {
    let at = p.act(super::principal::MANAGE_USERS)?;
    if user_id.len() > 100 || db.member(at.org_id, user_id).await?.is_none() {
        return Err(Error::NotFound);
    }
    if db.memberships(user_id).await?.len() != 1 {
        return Err(Error::Forbidden(
            "This user belongs to other organizations too: the server's operator resets their second factor.".into(),
        ));
    }
    let mut tx = db.begin().await?;
    let totp = store::factors::delete_totp(&mut *tx, user_id).await?;
    let passkeys = store::passkeys::delete_of_user(&mut *tx, user_id).await?;
    if !totp && passkeys == 0 {
        return Err(Error::NotFound);
    }
    store::factors::delete_recovery_codes(&mut *tx, user_id).await?;
    store::users::end_sessions(&mut *tx, user_id).await?;
    let ended = store::sessions::delete_of_user(&mut *tx, user_id, None).await?;
    audit::record(
        &mut tx,
        at.caller,
        Event {
            org_id: Some(at.org_id),
            action: "mfa.reset_by_admin",
            object: ("user", user_id),
            success: true,
            detail: json!({ "authenticator_app": totp, "passkeys": passkeys }),
        },
    )
    .await?;
    db.commit(tx, &[Change::User(user_id.to_string())]).await?;
    super::backchannel::sessions_ended(db, user_id, &ended).await?;
    Ok(())
}

/// Wrong second-factor codes allowed for one account before each further try must wait
/// (doubling, as for passwords): a six-digit code cannot be guessed within them.
const FREE_CODE_FAILURES: i64 = 5;

/// The second step of a sign-in: a code from the authenticator app (each time step once)
/// or an unused recovery code. Throttled per account like passwords; audited either way.
pub async fn verify(
    db: &Db,
    key: &MasterKey,
    meta: &RequestMeta,
    (user_id, email, org_id): (&str, &str, &str),
    code: &str,
) -> Result<Method> {
    let counter = format!("second-factor:{user_id}");
    let caller = Caller {
        actor: Actor::User {
            id: user_id.to_string(),
            email: email.to_string(),
        },
        meta: meta.clone(),
    };
    let t = now();
    let wait = super::auth::reserve(db, &[(counter.clone(), FREE_CODE_FAILURES)], t).await?;
    let failed = |reason: &'static str| Event {
        org_id: Some(org_id),
        action: "login.second_factor",
        object: ("user", user_id),
        success: false,
        detail: json!({ "reason": reason }),
    };
    if wait > 0 {
        audit::record_alone(db, &caller, failed("throttled")).await?;
        return Err(Error::Throttled(wait));
    }
    if code.len() > 64 {
        audit::record_alone(db, &caller, failed("bad_code")).await?;
        return Err(wrong_code());
    }
    let factor = store::factors::totp(&db.pool, user_id)
        .await?
        .filter(|f| f.confirmed_at.is_some());
    let mut tx = db.begin().await?;
    let mut method = None;
    if let Some(f) = &factor {
        let secret = secret_of(key, &f.sealed_secret)?;
        if let Some(step) = totp::check(&secret, code, t as u64)
            && store::factors::accept_step(&mut *tx, user_id, step as i64, None).await?
        {
            method = Some(Method::Otp);
        }
    }
    // Recovery codes exist only beside a factor (an app or a passkey).
    if method.is_none() {
        let digest = secrets::digest(&totp::normalize_recovery_code(code));
        if store::factors::use_recovery_code(&mut *tx, user_id, &digest, t).await? {
            method = Some(Method::Recovery);
        }
    }
    let Some(method) = method else {
        audit::record(&mut tx, &caller, failed("bad_code")).await?;
        tx.commit().await?;
        return Err(wrong_code());
    };
    store::throttle::clear(&mut *tx, &counter).await?;
    let left = if method == Method::Recovery {
        Some(store::factors::recovery_codes_left(&mut *tx, user_id).await?)
    } else {
        None
    };
    audit::record(
        &mut tx,
        &caller,
        Event {
            org_id: Some(org_id),
            action: "login.second_factor",
            object: ("user", user_id),
            success: true,
            detail: match left {
                Some(left) => json!({ "method": "recovery_code", "recovery_codes_left": left }),
                None => json!({ "method": "totp" }),
            },
        },
    )
    .await?;
    tx.commit().await?;
    Ok(method)
}

/// The organization's multi-factor policy.
pub async fn policy(db: &Db, p: &Principal) -> Result<MfaPolicy> {
    let org_id = p.act(READ_ORG)?.org_id;
    Ok(db.mfa_policy(org_id).await?)
}

/// Sets the organization's multi-factor policy (`manage:org`). Members it newly covers
/// enrol a second factor at their next sign-in, and sessions signed in without one end.
pub async fn set_policy(db: &Db, p: &Principal, raw: &str) -> Result<MfaPolicy> {
    let at = p.act(MANAGE_ORG)?;
    let policy = MfaPolicy::parse(raw).ok_or_else(|| {
        Error::Invalid(
            crate::domain::FieldError::new("mfa_policy", "must be optional, admins or everyone")
                .into(),
        )
    })?;
    let before = db.mfa_policy(at.org_id).await?;
    let mut tx = db.begin().await?;
    store::orgs::set_mfa_policy(&mut *tx, at.org_id, policy).await?;
    audit::record(
        &mut tx,
        at.caller,
        Event {
            org_id: Some(at.org_id),
            action: "org.mfa_policy",
            object: ("org", at.org_id),
            success: true,
            detail: json!({ "from": before.as_str(), "to": policy.as_str() }),
        },
    )
    .await?;
    db.commit(tx, &[Change::Policy(at.org_id.to_string())])
        .await?;
    Ok(policy)
}
