//! Password sign-in with throttling shared by every instance (it lives in the database).

use secrecy::SecretString;
use serde_json::json;

use super::audit::{self, Event};
use super::{Actor, Caller, Error, Result, now};
use crate::crypto::password;
use crate::domain::Email;
use crate::store::{self, Db};

/// Failures allowed before each further attempt must wait.
const FREE_PER_ACCOUNT: i64 = 5;
const FREE_PER_IP: i64 = 20;
/// Failures older than this are forgotten.
const WINDOW_SECS: i64 = 15 * 60;
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
}

fn keys(email: &str, meta: &super::RequestMeta) -> (String, Option<String>) {
    (
        format!("account:{email}"),
        meta.ip.as_ref().map(|ip| format!("ip:{ip}")),
    )
}

async fn throttled(db: &Db, account_key: &str, ip_key: Option<&str>, t: i64) -> Result<i64> {
    let mut wait = 0;
    if let Some((n, last)) = store::throttle::get(&db.pool, account_key).await? {
        wait = wait.max(wait_secs(n, FREE_PER_ACCOUNT, last, t));
    }
    if let Some(ip_key) = ip_key
        && let Some((n, last)) = store::throttle::get(&db.pool, ip_key).await?
    {
        wait = wait.max(wait_secs(n, FREE_PER_IP, last, t));
    }
    Ok(wait)
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
    let (account_key, ip_key) = keys(&normalized, meta);
    let wait = throttled(db, &account_key, ip_key.as_deref(), t).await?;
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
    let user = store::users::find_by_email(&db.pool, &normalized).await?;
    let ok = password::verify(pw, user.as_ref().map(|u| u.password_hash.clone())).await;
    let memberships = match (&user, ok) {
        (Some(u), true) => store::users::memberships_of(&db.pool, &u.id).await?,
        _ => Vec::new(),
    };
    let org_id = memberships.first().map(|(org, _)| org.clone());
    let mut tx = db.begin().await?;
    match (user, ok) {
        (Some(u), true) => {
            store::throttle::clear(&mut *tx, &account_key).await?;
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
            tx.commit().await?;
            Ok(SignedIn {
                user_id: u.id,
                email: u.email,
                org_id,
            })
        }
        (user, _) => {
            store::throttle::record_failure(&mut *tx, &account_key, t, t - WINDOW_SECS).await?;
            if let Some(ip_key) = &ip_key {
                store::throttle::record_failure(&mut *tx, ip_key, t, t - WINDOW_SECS).await?;
            }
            let user_orgs = match &user {
                Some(u) => store::users::memberships_of(&mut *tx, &u.id).await?,
                None => Vec::new(),
            };
            audit::record(
                &mut tx,
                &anonymous,
                Event {
                    org_id: user_orgs.first().map(|(o, _)| o.as_str()),
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
