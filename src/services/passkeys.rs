//! Passkeys (WebAuthn, with webauthn-rs): several per user, each named; a second factor after
//! a password, or a sign-in of their own (a discoverable credential, the user verified by
//! their device). Every ceremony has two requests; the caller keeps the state webauthn-rs
//! returns between them, server side, and spends it once (`spend_once`). Registration, removal
//! and renaming are audited; adding and removing need a sign-in of the last ten minutes.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use webauthn_rs::prelude::{
    CreationChallengeResponse, DiscoverableAuthentication, Passkey, PasskeyAuthentication,
    PasskeyRegistration, PublicKeyCredential, RegisterPublicKeyCredential,
    RequestChallengeResponse, Url, Uuid, Webauthn, WebauthnBuilder,
};

use super::audit::{self, Event};
use super::principal::Principal;
use super::{Actor, Caller, Error, RequestMeta, Result, new_id, now};
use crate::domain::FieldError;
use crate::domain::mfa::Method;
use crate::domain::views::PasskeyView;
use crate::store::passkeys::StoredPasskey;
use crate::store::{self, Db};

/// Most passkeys one user may register.
pub const MAX_PER_USER: i64 = 20;
/// Most characters of a passkey's name.
const NAME_MAX: usize = 60;

/// The relying party of the server at `issuer`: its host is the RP id, its origin the only
/// origin accepted. None when the issuer cannot be one (browsers refuse an IP address as
/// the RP id; webauthn-rs refuses what is not a host of the origin).
pub fn relying_party(issuer: &str) -> Option<Webauthn> {
    let url = Url::parse(issuer).ok()?;
    let host = url.host_str()?.to_string();
    let origin = Url::parse(&url.origin().ascii_serialization()).ok()?;
    WebauthnBuilder::new(&host, &origin)
        .ok()?
        .rp_name("Latchkey")
        .build()
        .ok()
}

fn rp(issuer: &str) -> Result<Webauthn> {
    relying_party(issuer).ok_or_else(|| {
        Error::Forbidden("Passkeys need this server at a domain name (its issuer).".into())
    })
}

/// Whether browsers can use passkeys with the server at `issuer`: a domain name (an IP
/// address is not a valid RP id to them; `localhost` is).
pub fn available(issuer: &str) -> bool {
    Url::parse(issuer).is_ok_and(|u| matches!(u.host(), Some(url::Host::Domain(_))))
}

/// The WebAuthn user handle of a user: their id (a UUID, nothing personal).
fn handle(user_id: &str) -> Result<Uuid> {
    Uuid::parse_str(user_id).map_err(|_| Error::Internal("a user id is not a UUID".into()))
}

fn credential_id(p: &Passkey) -> String {
    URL_SAFE_NO_PAD.encode(p.cred_id())
}

fn parse(stored: &StoredPasskey) -> Result<Passkey> {
    serde_json::from_str(&stored.credential)
        .map_err(|e| Error::failed("a stored passkey")(e.into()))
}

fn serialize(p: &Passkey) -> Result<String> {
    serde_json::to_string(p).map_err(|e| Error::failed("a passkey")(e.into()))
}

/// Whether `user_id` has a passkey.
pub async fn has_passkey(db: &Db, user_id: &str) -> Result<bool> {
    Ok(store::passkeys::count(&db.pool, user_id).await? > 0)
}

/// The signed-in user's passkeys, for their account page.
pub async fn mine(db: &Db, p: &Principal) -> Result<Vec<PasskeyView>> {
    let own = p.own_account()?;
    Ok(store::passkeys::of_user(&db.pool, own.user_id)
        .await?
        .into_iter()
        .map(|k| PasskeyView {
            id: k.id,
            name: k.name,
            synced: k.synced,
            created_at: k.created_at,
            last_used_at: k.last_used_at,
        })
        .collect())
}

/// Starts registering a passkey for the signed-in user (a recent sign-in): the options for
/// the browser and the state to keep. A credential of theirs already registered is excluded;
/// a discoverable credential is preferred, so the passkey can also sign in on its own.
pub async fn begin_registration(
    db: &Db,
    issuer: &str,
    p: &Principal,
) -> Result<(serde_json::Value, PasskeyRegistration)> {
    let own = p.own_account_fresh(now())?;
    let existing = store::passkeys::of_user(&db.pool, own.user_id).await?;
    if existing.len() as i64 >= MAX_PER_USER {
        return Err(Error::Forbidden(format!(
            "You have {MAX_PER_USER} passkeys: remove one before adding another."
        )));
    }
    let exclude = existing
        .iter()
        .map(|k| parse(k).map(|p| p.cred_id().clone()))
        .collect::<Result<Vec<_>>>()?;
    let (options, state): (CreationChallengeResponse, _) = rp(issuer)?
        .start_passkey_registration(handle(own.user_id)?, own.email, own.email, Some(exclude))
        .map_err(|e| Error::failed("starting a passkey registration")(e.into()))?;
    // webauthn-rs discourages a resident key here; the prelude does not export the type
    // to say otherwise, so the JSON says it (the state checks nothing of it).
    let mut options =
        serde_json::to_value(&options).map_err(|e| Error::failed("passkey options")(e.into()))?;
    if let Some(sel) = options
        .pointer_mut("/publicKey/authenticatorSelection")
        .and_then(|v| v.as_object_mut())
    {
        sel.insert("residentKey".into(), json!("preferred"));
        sel.insert("requireResidentKey".into(), json!(false));
    }
    Ok((options, state))
}

fn check_name(raw: &str) -> Result<String> {
    let name = raw.trim();
    let name = if name.is_empty() { "Passkey" } else { name };
    if name.chars().count() > NAME_MAX || name.chars().any(char::is_control) {
        return Err(Error::Invalid(
            FieldError::new("name", "must be at most 60 characters, on one line").into(),
        ));
    }
    Ok(name.to_string())
}

fn refused(what: &str) -> Error {
    Error::Forbidden(format!("The passkey was refused: {what}. Try again."))
}

/// Finishes registering the signed-in user's passkey (a recent sign-in), named `name`.
/// Returns new recovery codes, shown once, when this is the user's first second factor.
pub async fn finish_registration(
    db: &Db,
    issuer: &str,
    p: &Principal,
    state: &PasskeyRegistration,
    credential: &RegisterPublicKeyCredential,
    name: &str,
) -> Result<Option<Vec<String>>> {
    let own = p.own_account_fresh(now())?;
    let name = check_name(name)?;
    let passkey = match rp(issuer)?.finish_passkey_registration(credential, state) {
        Ok(k) => k,
        Err(e) => {
            audit::record_alone(
                db,
                own.caller,
                Event {
                    org_id: Some(own.org_id),
                    action: "mfa.passkey_added",
                    object: ("user", own.user_id),
                    success: false,
                    detail: json!({ "reason": e.to_string() }),
                },
            )
            .await?;
            return Err(refused("the browser's answer did not match this request"));
        }
    };
    let had_factor = super::mfa::has_factor(db, own.user_id).await?;
    let synced = serde_json::to_value(&passkey)
        .ok()
        .and_then(|v| v.pointer("/cred/backup_eligible").and_then(|b| b.as_bool()))
        .unwrap_or(false);
    let stored = StoredPasskey {
        id: new_id(),
        user_id: own.user_id.to_string(),
        credential_id: credential_id(&passkey),
        name: name.clone(),
        credential: serialize(&passkey)?,
        counter: 0,
        synced,
        created_at: now(),
        last_used_at: None,
    };
    let mut tx = db.begin().await?;
    if store::passkeys::count(&mut *tx, own.user_id).await? >= MAX_PER_USER {
        return Err(Error::Forbidden(format!(
            "You have {MAX_PER_USER} passkeys: remove one before adding another."
        )));
    }
    if !store::passkeys::insert(&mut *tx, &stored).await? {
        return Err(Error::Invalid(
            FieldError::new("name", "this passkey is registered already").into(),
        ));
    }
    let codes = if had_factor {
        None
    } else {
        Some(super::mfa::replace_recovery_codes(&mut tx, own.user_id).await?)
    };
    audit::record(
        &mut tx,
        own.caller,
        Event {
            org_id: Some(own.org_id),
            action: "mfa.passkey_added",
            object: ("passkey", &stored.id),
            success: true,
            detail: json!({ "name": name, "synced": synced, "user_id": own.user_id }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(codes)
}

/// Renames one of the signed-in user's passkeys.
pub async fn rename(db: &Db, p: &Principal, id: &str, name: &str) -> Result<()> {
    let own = p.own_account()?;
    let name = check_name(name)?;
    let mut tx = db.begin().await?;
    if id.len() > 100 || !store::passkeys::rename(&mut *tx, own.user_id, id, &name).await? {
        return Err(Error::NotFound);
    }
    audit::record(
        &mut tx,
        own.caller,
        Event {
            org_id: Some(own.org_id),
            action: "mfa.passkey_renamed",
            object: ("passkey", id),
            success: true,
            detail: json!({ "name": name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Removes one of the signed-in user's passkeys (a recent sign-in). Refused when it is the
/// last second factor of a user whose organization requires one; the recovery codes go
/// with the last factor.
pub async fn remove(db: &Db, p: &Principal, id: &str) -> Result<()> {
    let own = p.own_account_fresh(now())?;
    let mut tx = db.begin().await?;
    if id.len() > 100 || !store::passkeys::delete(&mut *tx, own.user_id, id).await? {
        return Err(Error::NotFound);
    }
    let left = store::passkeys::count(&mut *tx, own.user_id).await?
        + i64::from(
            store::factors::totp(&mut *tx, own.user_id)
                .await?
                .is_some_and(|f| f.confirmed_at.is_some()),
        );
    if left == 0 {
        if super::mfa::required_anywhere(db, own.user_id).await? {
            return Err(Error::Forbidden(
                "Your organization requires a second factor: set up another before removing this one."
                    .into(),
            ));
        }
        store::factors::delete_recovery_codes(&mut *tx, own.user_id).await?;
    }
    audit::record(
        &mut tx,
        own.caller,
        Event {
            org_id: Some(own.org_id),
            action: "mfa.passkey_removed",
            object: ("passkey", id),
            success: true,
            detail: json!({ "user_id": own.user_id, "factors_left": left }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Starts a passkey as the second step of a sign-in of `user_id` (their password was
/// right): the options name the user's credentials.
pub async fn begin_second_factor(
    db: &Db,
    issuer: &str,
    user_id: &str,
) -> Result<(RequestChallengeResponse, PasskeyAuthentication)> {
    let keys = store::passkeys::of_user(&db.pool, user_id)
        .await?
        .iter()
        .map(parse)
        .collect::<Result<Vec<_>>>()?;
    if keys.is_empty() {
        return Err(Error::Forbidden(
            "You have no passkey: use your code.".into(),
        ));
    }
    rp(issuer)?
        .start_passkey_authentication(&keys)
        .map_err(|e| Error::failed("starting a passkey sign-in")(e.into()))
}

/// Starts a sign-in with a passkey alone: the browser offers the user's discoverable
/// credentials for this server.
pub fn begin_sign_in(
    issuer: &str,
) -> Result<(RequestChallengeResponse, DiscoverableAuthentication)> {
    let (mut options, state) = rp(issuer)?
        .start_discoverable_authentication()
        .map_err(|e| Error::failed("starting a passkey sign-in")(e.into()))?;
    // A button starts it: the browser's own dialog, not the autofill list.
    options.mediation = None;
    Ok((options, state))
}

/// A passkey sign-in that worked: who, and how.
#[derive(Debug, Clone)]
pub struct PasskeySignIn {
    pub user_id: String,
    pub email: String,
    pub org_id: String,
    pub session_epoch: i64,
    pub method: Method,
}

/// Records the use of `stored` after webauthn-rs accepted an assertion: its counter must
/// grow (or stay zero), once, so a replayed, cloned or parallel assertion is refused.
async fn record_use(
    tx: &mut store::Tx,
    stored: &StoredPasskey,
    result: &webauthn_rs::prelude::AuthenticationResult,
) -> Result<Option<Method>> {
    let mut key = parse(stored)?;
    key.update_credential(result);
    let synced = result.backup_eligible() || stored.synced;
    let recorded = store::passkeys::record_use(
        &mut **tx,
        &stored.id,
        (stored.counter, i64::from(result.counter())),
        &serialize(&key)?,
        synced,
        now(),
    )
    .await?;
    Ok(recorded.then(|| Method::passkey(synced)))
}

fn user_caller(user_id: &str, email: &str, meta: &RequestMeta) -> Caller {
    Caller {
        actor: Actor::User {
            id: user_id.to_string(),
            email: email.to_string(),
        },
        meta: meta.clone(),
    }
}

/// Finishes a passkey as the second step of the sign-in of `user_id`; audited either way.
pub async fn finish_second_factor(
    db: &Db,
    issuer: &str,
    meta: &RequestMeta,
    (user_id, email, org_id): (&str, &str, &str),
    state: &PasskeyAuthentication,
    credential: &PublicKeyCredential,
) -> Result<Method> {
    let caller = user_caller(user_id, email, meta);
    let failed = |reason: String| Event {
        org_id: Some(org_id),
        action: "login.second_factor",
        object: ("user", user_id),
        success: false,
        detail: json!({ "method": "passkey", "reason": reason }),
    };
    let result = match rp(issuer)?.finish_passkey_authentication(credential, state) {
        Ok(r) => r,
        Err(e) => {
            audit::record_alone(db, &caller, failed(e.to_string())).await?;
            return Err(refused("it did not answer this request"));
        }
    };
    let cred_id = URL_SAFE_NO_PAD.encode(result.cred_id());
    let stored = store::passkeys::by_credential_id(&db.pool, &cred_id)
        .await?
        .filter(|k| k.user_id == user_id);
    let Some(stored) = stored else {
        audit::record_alone(db, &caller, failed("not_this_users_passkey".into())).await?;
        return Err(refused("it is not one of yours"));
    };
    let mut tx = db.begin().await?;
    let Some(method) = record_use(&mut tx, &stored, &result).await? else {
        audit::record(&mut tx, &caller, failed("counter".into())).await?;
        tx.commit().await?;
        return Err(refused("it was used already"));
    };
    audit::record(
        &mut tx,
        &caller,
        Event {
            org_id: Some(org_id),
            action: "login.second_factor",
            object: ("user", user_id),
            success: true,
            detail: json!({ "method": "passkey" }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(method)
}

/// Finishes a sign-in with a passkey alone. The credential names its user (the user
/// handle); both must match a stored passkey. A member whose organization requires its
/// own provider is sent there, as with a password. Audited either way.
pub async fn finish_sign_in(
    db: &Db,
    issuer: &str,
    meta: &RequestMeta,
    state: DiscoverableAuthentication,
    credential: &PublicKeyCredential,
) -> Result<PasskeySignIn> {
    let anonymous = Caller {
        actor: Actor::Anonymous,
        meta: meta.clone(),
    };
    fn failed<'a>(reason: &str, user: &'a str) -> Event<'a> {
        Event {
            org_id: None,
            action: "login",
            object: ("user", user),
            success: false,
            detail: json!({ "method": "passkey", "reason": reason }),
        }
    }
    let webauthn = rp(issuer)?;
    let cred_id = URL_SAFE_NO_PAD.encode(credential.get_credential_id());
    let handle = webauthn
        .identify_discoverable_authentication(credential)
        .ok()
        .map(|(uuid, _)| uuid.to_string());
    let stored = store::passkeys::by_credential_id(&db.pool, &cred_id)
        .await?
        .filter(|k| handle.as_deref() == Some(k.user_id.as_str()));
    let Some(stored) = stored else {
        audit::record_alone(db, &anonymous, failed("unknown_passkey", "unknown")).await?;
        return Err(refused("it is not registered here"));
    };
    let key = parse(&stored)?;
    let result = match webauthn.finish_discoverable_authentication_v2(credential, state, &key) {
        Ok(r) => r,
        Err(e) => {
            audit::record_alone(db, &anonymous, failed(&e.to_string(), &stored.user_id)).await?;
            return Err(refused("it did not answer this request"));
        }
    };
    let user = store::users::get(&db.pool, &stored.user_id)
        .await?
        .ok_or(Error::BadCredentials)?;
    if let Some(provider) = super::upstream::required_for(db, &user.email).await? {
        return Err(Error::Forbidden(format!(
            "Your organization signs you in through {provider}: use single sign-on."
        )));
    }
    let memberships = store::users::memberships_of(&db.pool, &user.id).await?;
    let Some((org_id, _)) = memberships.first().cloned() else {
        return Err(Error::Forbidden(
            "Your account does not belong to any organization.".into(),
        ));
    };
    let caller = user_caller(&user.id, &user.email, meta);
    let mut tx = db.begin().await?;
    let Some(method) = record_use(&mut tx, &stored, &result).await? else {
        audit::record(&mut tx, &caller, failed("counter", &user.id)).await?;
        tx.commit().await?;
        return Err(refused("it was used already"));
    };
    audit::record(
        &mut tx,
        &caller,
        Event {
            org_id: Some(&org_id),
            action: "login",
            object: ("user", &user.id),
            success: true,
            detail: json!({ "method": "passkey", "passkey": stored.id }),
        },
    )
    .await?;
    store::users::signed_in(&mut *tx, &user.id, now()).await?;
    tx.commit().await?;
    Ok(PasskeySignIn {
        user_id: user.id,
        email: user.email,
        org_id,
        session_epoch: user.session_epoch,
        method,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn the_relying_party_is_the_issuer_at_a_domain_name() {
        assert!(relying_party("http://127.0.0.1:3000").is_none());
        assert!(!available("http://127.0.0.1:3000"));
        assert!(!available("http://[::1]:3000"));
        assert!(relying_party("http://localhost:3000").is_some());
        assert!(available("http://localhost:3000"));
        // An issuer with a path: the origin is its scheme, host and port.
        assert!(relying_party("https://id.example.com/latchkey").is_some());
        assert!(available("https://id.example.com/latchkey"));
        assert!(relying_party("not a url").is_none());
    }

    #[test]
    fn passkey_names() {
        assert_eq!(check_name("  Laptop ").unwrap(), "Laptop");
        assert_eq!(check_name("").unwrap(), "Passkey");
        assert!(check_name(&"x".repeat(61)).is_err());
        assert!(check_name("two\nlines").is_err());
        assert_eq!(check_name(&"é".repeat(60)).unwrap().chars().count(), 60);
    }
}
