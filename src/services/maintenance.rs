//! The hourly clean-up every instance runs: expired sessions, revoked tokens past their
//! expiry, used assertion ids, authorization requests and codes, sign-in and client
//! authentication counters, and audit records past their organization's retention (leaving
//! a checkpoint). Each failure is logged and the others still run.

use super::{Caller, now};
use crate::store::{self, Db};

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
    if let Err(e) = store::throttle::purge(pool, t - super::auth::WINDOW_SECS).await {
        tracing::warn!(error = %e, "throttle purge failed");
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
