//! The hourly clean-up every instance runs: expired sessions, revoked tokens past their
//! expiry, used assertion ids, authorization requests and codes, sign-in and client
//! authentication counters, and audit records past their organization's retention (leaving
//! a checkpoint), and the audit events of client secrets coming up to or past their expiry.
//! Each failure is logged and the others still run.

use serde_json::json;

use super::audit::{self, Event};
use super::{Caller, now};
use crate::domain::secret_expiry::WARNING_SECS;
use crate::store::{self, Db};

/// Secrets noted per run at most; the rest wait for the next hour.
const NOTICES_PER_RUN: i64 = 1000;

pub async fn hourly(db: &Db) {
    let t = now();
    let pool = &db.pool;
    if let Err(e) = store::sessions::purge_expired(pool, t).await {
        tracing::warn!(error = %e, "session purge failed");
    }
    if let Err(e) = store::tokens::purge_expired(pool, t).await {
        tracing::warn!(error = %e, "revoked-token purge failed");
    }
    if let Err(e) = store::tokens::purge_used_jtis(pool, t).await {
        tracing::warn!(error = %e, "used-jti purge failed");
    }
    if let Err(e) = store::authz::purge_expired(pool, t).await {
        tracing::warn!(error = %e, "authorization request purge failed");
    }
    if let Err(e) = store::logout::purge_finished(pool, t).await {
        tracing::warn!(error = %e, "logout delivery purge failed");
    }
    if let Err(e) = store::device::purge_expired(pool, t).await {
        tracing::warn!(error = %e, "device code purge failed");
    }
    if let Err(e) = store::throttle::purge(pool, t - super::auth::WINDOW_SECS).await {
        tracing::warn!(error = %e, "throttle purge failed");
    }
    match note_secret_expiry(db, t).await {
        Ok(0) => {}
        Ok(noted) => tracing::info!(noted, "client secret expiry recorded"),
        Err(e) => tracing::warn!(error = %e, "client secret expiry notices failed"),
    }
    match super::audit::purge_expired(db, &Caller::system()).await {
        Ok(purged) => {
            for (org, removed) in purged {
                tracing::info!(org, removed, "audit records past retention removed");
            }
        }
        Err(e) => tracing::warn!(error = %e, "audit purge failed"),
    }
}

/// Records, once per secret, `app.secret_expiring` when it comes within `WARNING_SECS` of
/// its expiry and `app.secret_expired` once `t` passes it, in the app's organization. Each
/// record is written in the transaction that marks the secret, and only if the mark lands:
/// instances running this at once record each event once. Changing an expiry clears the
/// marks (`services::apps::set_secret_expiry`). Returns how many events it recorded.
pub async fn note_secret_expiry(db: &Db, t: i64) -> super::Result<u64> {
    let due = store::apps::expiry_notices(&db.pool, t + WARNING_SECS, t, NOTICES_PER_RUN).await?;
    let mut noted = 0;
    for n in due {
        let expired = n.expires_at <= t;
        let mut tx = db.begin().await?;
        if !store::apps::mark_expiry_noted(&mut *tx, &n.secret_id, n.expires_at, expired, t).await?
        {
            continue;
        }
        audit::record(
            &mut tx,
            &Caller::system(),
            Event {
                org_id: Some(&n.org_id),
                action: if expired {
                    "app.secret_expired"
                } else {
                    "app.secret_expiring"
                },
                object: ("app", &n.client_id),
                success: true,
                detail: json!({ "secret_id": n.secret_id, "hint": n.hint,
                            "expires_at": crate::domain::when::iso8601(n.expires_at),
                            "warned_before": n.warned }),
            },
        )
        .await?;
        tx.commit().await?;
        noted += 1;
    }
    Ok(noted)
}
