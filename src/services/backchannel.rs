//! OpenID Connect Back-Channel Logout 1.0: when a browser session ends — its user signs
//! out (here or by RP-initiated logout), ends it from their security page, or an admin ends
//! a member's sessions — every app the session signed into that registered a back-channel
//! logout URI is posted a signed logout token naming the user (`sub`) and the session
//! (`sid`, as in the ID tokens it got). Deliveries wait in a bounded queue (per app) and are
//! retried with growing delays; each one delivered, given up or dropped is audited.
//!
//! An http URI is posted to only while this server itself runs on http (development): a
//! production server reaches apps over https alone.

use serde_json::json;

use super::audit::{self, Event};
use super::keys::KeyRing;
use super::{Caller, Result, new_id, now};
use crate::store::{self, Db, logout::Delivery};

/// Deliveries waiting per app at most; past this, new ones are dropped (and audited).
pub const MAX_PENDING_PER_APP: i64 = 1000;
/// Attempts before a delivery is given up.
pub const MAX_ATTEMPTS: i64 = 6;
/// How long one attempt may take.
const ATTEMPT_TIMEOUT_SECS: u64 = 5;
/// Deliveries sent per round.
const BATCH: i64 = 20;

/// The wait before attempt `n + 1` after `n` failed: 5 s, 20 s, 80 s... up to an hour.
pub fn retry_delay(attempts: i64) -> i64 {
    (5_i64 << (2 * attempts.clamp(0, 10))).min(3600)
}

/// A session of `user_id` ended: queues a logout token for each app it signed into.
pub async fn session_ended(db: &Db, user_id: &str, sid: &str) -> Result<u64> {
    let t = now();
    let mut queued = 0;
    for client_id in store::grants::clients_of_session(&db.pool, sid, user_id).await? {
        let Some(app) = db.app(&client_id).await? else {
            continue;
        };
        if app.backchannel_logout_uri.is_none() {
            continue;
        }
        if store::logout::pending_of(&db.pool, &client_id).await? >= MAX_PENDING_PER_APP {
            let event = Event {
                org_id: Some(&app.org_id),
                action: "logout.dropped",
                object: ("app", &client_id),
                success: false,
                detail: json!({ "user_id": user_id, "sid": sid, "reason": "queue full" }),
            };
            audit::record_alone(db, &Caller::system(), event).await?;
            continue;
        }
        store::logout::enqueue(&db.pool, &new_id(), &client_id, user_id, sid, t).await?;
        queued += 1;
    }
    Ok(queued)
}

/// Sessions of `user_id` ended together (their `sid`s, where they had one).
pub async fn sessions_ended(db: &Db, user_id: &str, sids: &[Option<String>]) -> Result<u64> {
    let mut queued = 0;
    for sid in sids.iter().flatten() {
        queued += session_ended(db, user_id, sid).await?;
    }
    Ok(queued)
}

/// How one attempt went.
enum Attempt {
    Delivered,
    /// Worth another try (a network error, a 5xx).
    Retry(String),
    /// Never worth another (no URI any more, an http URI in production, a 4xx).
    Fail(String),
}

async fn attempt(
    http: &openidconnect::reqwest::Client,
    ring: &KeyRing,
    db: &Db,
    issuer: &str,
    d: &Delivery,
) -> Result<(Attempt, Option<String>)> {
    let Some(app) = db.app(&d.client_id).await? else {
        return Ok((Attempt::Fail("the app no longer exists".into()), None));
    };
    let org = Some(app.org_id.to_string());
    let Some(uri) = app.backchannel_logout_uri.clone() else {
        return Ok((
            Attempt::Fail("the app has no back-channel logout URI now".into()),
            org,
        ));
    };
    if uri.starts_with("http://") && !issuer.starts_with("http://") {
        return Ok((
            Attempt::Fail("an http URI is used only while this server runs on http".into()),
            org,
        ));
    }
    let token = match crate::services::tokens::logout_token(ring, issuer, &app, &d.sub, &d.sid) {
        Ok(t) => t,
        Err(e) => return Ok((Attempt::Retry(format!("signing: {}", e.description())), org)),
    };
    let sent = http
        .post(&uri)
        .form(&[("logout_token", token.as_str())])
        .timeout(std::time::Duration::from_secs(ATTEMPT_TIMEOUT_SECS))
        .send()
        .await;
    Ok((
        match sent {
            Ok(res) if res.status().is_success() => Attempt::Delivered,
            Ok(res) if res.status().is_client_error() => {
                Attempt::Fail(format!("the app answered {}", res.status().as_u16()))
            }
            Ok(res) => Attempt::Retry(format!("the app answered {}", res.status().as_u16())),
            Err(e) => Attempt::Retry(if e.is_timeout() {
                "no answer in time".into()
            } else {
                "could not reach the app".into()
            }),
        },
        org,
    ))
}

/// Sends the deliveries due now; how many were attempted.
pub async fn deliver_due(
    db: &Db,
    ring: &KeyRing,
    issuer: &str,
    http: &openidconnect::reqwest::Client,
) -> Result<usize> {
    let t = now();
    let mut n = 0;
    for d in store::logout::due(&db.pool, t, BATCH).await? {
        if !store::logout::claim(&db.pool, &d.id, t, t + 2 * ATTEMPT_TIMEOUT_SECS as i64).await? {
            continue;
        }
        n += 1;
        let (outcome, org) = attempt(http, ring, db, issuer, &d).await?;
        let (finished, error) = match &outcome {
            Attempt::Delivered => (Some("delivered"), None),
            Attempt::Fail(e) => (Some("failed"), Some(e.clone())),
            Attempt::Retry(e) if d.attempts + 1 >= MAX_ATTEMPTS => {
                (Some("failed"), Some(e.clone()))
            }
            Attempt::Retry(e) => (None, Some(e.clone())),
        };
        let retry_at = now() + retry_delay(d.attempts);
        store::logout::attempted(&db.pool, &d.id, now(), finished, retry_at, error.as_deref())
            .await?;
        if let Some(result) = finished {
            let event = Event {
                org_id: org.as_deref(),
                action: if result == "delivered" {
                    "logout.delivered"
                } else {
                    "logout.failed"
                },
                object: ("app", &d.client_id),
                success: result == "delivered",
                detail: json!({ "user_id": d.sub, "sid": d.sid, "attempts": d.attempts + 1, "error": error }),
            };
            audit::record_alone(db, &Caller::system(), event).await?;
        }
    }
    Ok(n)
}

/// The HTTP client deliveries use: no redirects followed (a logout token goes where the app
/// registered, nowhere else).
pub fn http_client() -> Result<openidconnect::reqwest::Client> {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| super::Error::failed("building the logout HTTP client")(e.into()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::retry_delay;

    #[test]
    fn retries_wait_longer_each_time_up_to_an_hour() {
        assert_eq!(retry_delay(0), 5);
        assert_eq!(retry_delay(1), 20);
        assert_eq!(retry_delay(2), 80);
        assert_eq!(retry_delay(9), 3600);
        assert_eq!(retry_delay(-3), 5);
    }
}
