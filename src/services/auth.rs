//! Password sign-in with throttling shared by every instance (it lives in the database).

use secrecy::SecretString;
use serde_json::json;

use super::audit::{self, Event};
use super::{Actor, Caller, Error, Result, now};
use crate::crypto::password;
use crate::domain::Email;
use crate::store::{self, Db};

/// Failures allowed before each further attempt must wait: for one account from one
/// address, for one address whatever the account, and for one account from everywhere (a
/// distributed guess). A stranger's guesses lock only their own address out of an account,
/// never its owner; the account-wide limit is high enough that only a distributed attack
/// reaches it.
const FREE_PER_ACCOUNT_AND_IP: i64 = 5;
const FREE_PER_IP: i64 = 20;
const FREE_PER_ACCOUNT: i64 = 50;
/// Failures older than this are forgotten.
pub const WINDOW_SECS: i64 = 15 * 60;
const MAX_WAIT_SECS: i64 = 15 * 60;

/// First wait once the free failures are used up; it doubles with each further failure.
const FIRST_WAIT_SECS: i64 = 30;

/// Seconds still to wait after `failures` failures, the last at `last`; pure, for tests.
pub fn wait_secs(failures: i64, free: i64, last: i64, now: i64) -> i64 {
    if failures < free || now - last >= WINDOW_SECS {
        return 0;
    }
    let exp = (failures - free).min(10) as u32;
    let wait = (FIRST_WAIT_SECS << exp).min(MAX_WAIT_SECS);
    (last + wait - now).max(0)
}

/// A successful sign-in.
#[derive(Debug, Clone)]
pub struct SignedIn {
    pub user_id: String,
    pub email: String,
    /// The organization the session works in: the first where the user is admin, else the first.
    pub org_id: Option<String>,
    /// The user's session epoch, which the new session carries.
    pub session_epoch: i64,
}

/// The counters one attempt is charged to, with the failures each allows.
fn counters(email: &str, meta: &super::RequestMeta) -> Vec<(String, i64)> {
    let ip = meta.ip.as_deref().unwrap_or("-");
    vec![
        (format!("account:{email}|ip:{ip}"), FREE_PER_ACCOUNT_AND_IP),
        (format!("ip:{ip}"), FREE_PER_IP),
        (format!("account:{email}"), FREE_PER_ACCOUNT),
    ]
}

/// Reserves the attempt on every counter before the password is checked, so a burst of
/// parallel guesses is counted in full before any of them is verified. Returns the wait
/// when a counter is spent.
pub(super) async fn reserve(db: &Db, counters: &[(String, i64)], t: i64) -> Result<i64> {
    for (key, free) in counters {
        let mut reserved = false;
        // Each lost race means another attempt was counted; a few rounds always settle.
        for _ in 0..16 {
            let seen = store::throttle::get(&db.pool, key).await?;
            if let Some((n, last)) = seen {
                let wait = wait_secs(n, *free, last, t);
                if wait > 0 {
                    return Ok(wait);
                }
            }
            if store::throttle::reserve(&db.pool, key, seen, t, t - WINDOW_SECS).await? {
                reserved = true;
                break;
            }
        }
        if !reserved {
            // Contention this high is itself an attack: refuse rather than check.
            return Ok(FIRST_WAIT_SECS);
        }
    }
    Ok(0)
}

/// Checks an e-mail and password. Unknown users cost the same time as wrong passwords;
/// repeated failures for one account or one IP must wait, longer each time.
pub async fn login(
    db: &Db,
    meta: &super::RequestMeta,
    email: &str,
    pw: SecretString,
) -> Result<SignedIn> {
    let t = now();
    let normalized = Email::parse(email)
        .map(|e| e.to_string())
        .unwrap_or_else(|_| email.trim().to_lowercase());
    let counters = counters(&normalized, meta);
    let wait = reserve(db, &counters, t).await?;
    let anonymous = Caller {
        actor: Actor::Anonymous,
        meta: meta.clone(),
    };
    if wait > 0 {
        audit::record_alone(
            db,
            &anonymous,
            Event {
                org_id: None,
                action: "login",
                object: ("user", &normalized.chars().take(254).collect::<String>()),
                success: false,
                detail: json!({ "reason": "throttled" }),
            },
        )
        .await?;
        return Err(Error::Throttled(wait));
    }
    // A member whose organization signs them in through its own provider, and requires it,
    // has no password here to check (the login page sends them there first).
    if let Some(provider) = super::upstream::required_for(db, &normalized).await? {
        return Err(Error::Forbidden(format!(
            "Your organization signs you in through {provider}: use single sign-on."
        )));
    }
    let user = store::users::find_by_email(&db.pool, &normalized).await?;
    // An invited user has no password yet: checked against the dummy hash, like no user.
    let hash = user
        .as_ref()
        .map(|u| u.password_hash.clone())
        .filter(|h| h != super::users::NO_PASSWORD);
    let ok = password::verify(pw, hash).await;
    let memberships = match &user {
        Some(u) => store::users::memberships_of(&db.pool, &u.id).await?,
        None => Vec::new(),
    };
    let org_id = memberships.first().map(|(org, _)| org.clone());
    let mut tx = db.begin().await?;
    match (user, ok) {
        (Some(u), true) => {
            // The attempt was counted as a failure in advance: give it back.
            for (key, free) in &counters {
                if *free == FREE_PER_IP {
                    store::throttle::release(&mut *tx, key).await?;
                } else {
                    store::throttle::clear(&mut *tx, key).await?;
                }
            }
            let caller = Caller {
                actor: Actor::User {
                    id: u.id.clone(),
                    email: u.email.clone(),
                },
                meta: meta.clone(),
            };
            audit::record(
                &mut tx,
                &caller,
                Event {
                    org_id: org_id.as_deref(),
                    action: "login",
                    object: ("user", &u.id),
                    success: true,
                    detail: json!({}),
                },
            )
            .await?;
            store::users::signed_in(&mut *tx, &u.id, t).await?;
            tx.commit().await?;
            Ok(SignedIn {
                user_id: u.id,
                email: u.email,
                org_id,
                session_epoch: u.session_epoch,
            })
        }
        (user, _) => {
            audit::record(
                &mut tx,
                &anonymous,
                Event {
                    org_id: org_id.as_deref(),
                    action: "login",
                    object: (
                        "user",
                        user.as_ref().map(|u| u.id.as_str()).unwrap_or("unknown"),
                    ),
                    success: false,
                    detail: json!({ "reason": "bad_credentials" }),
                },
            )
            .await?;
            tx.commit().await?;
            Err(Error::BadCredentials)
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_then_caps_and_forgets() {
        assert_eq!(wait_secs(4, 5, 1000, 1000), 0);
        assert_eq!(wait_secs(5, 5, 1000, 1000), 30);
        assert_eq!(wait_secs(6, 5, 1000, 1000), 60);
        assert_eq!(wait_secs(6, 5, 1000, 1050), 10);
        assert_eq!(wait_secs(40, 5, 1000, 1000), 900);
        assert_eq!(wait_secs(40, 5, 1000, 1000 + WINDOW_SECS), 0);
    }
}
