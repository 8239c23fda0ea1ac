//! Request rate limits: per client and per address at the token endpoint, per address on
//! sign-in and the authorization endpoint. Counted in one-minute windows, answered 429 with
//! the seconds left in the window (RFC 6585 `Retry-After`).
//!
//! A check costs a lock and a map lookup, never a database round trip: each instance counts
//! in memory and, on PostgreSQL, adds its counts to the shared table every
//! `SYNC_EVERY`, reading back what all instances counted, so the instances share one budget
//! (a burst can overshoot by what the others counted since their last sync). Crossing a limit
//! is recorded once per key and window across all instances.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::store::{self, Backend, Db};

/// The counting window.
pub const WINDOW_SECS: i64 = 60;
/// How often an instance adds its counts to the shared ones (PostgreSQL).
const SYNC_EVERY: Duration = Duration::from_millis(250);
/// Keys tracked at once per instance; past this, the oldest window's are dropped first.
const MAX_KEYS: usize = 100_000;

/// Requests allowed per window (0: no limit).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Token requests of one authenticated client.
    pub token_per_client: u32,
    /// Token, introspection and revocation requests from one address.
    pub token_per_ip: u32,
    /// Sign-in attempts from one address.
    pub signin_per_ip: u32,
    /// Authorization requests from one address.
    pub authorize_per_ip: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            token_per_client: 30_000,
            token_per_ip: 60_000,
            signin_per_ip: 120,
            authorize_per_ip: 600,
        }
    }
}

impl Limits {
    /// No limits at all.
    pub fn none() -> Self {
        Self {
            token_per_client: 0,
            token_per_ip: 0,
            signin_per_ip: 0,
            authorize_per_ip: 0,
        }
    }
}

/// A request over its limit: seconds until the window ends, and whether this refusal is
/// the first of its key and window (the one to record).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded {
    pub retry_after: i64,
    pub first: bool,
}

#[derive(Debug, Default)]
struct Slot {
    window: i64,
    /// Counted here since the last sync.
    unsynced: u32,
    /// All instances' count at the last sync (this one's included).
    shared: u32,
    /// This instance already reported the crossing of this window.
    reported: bool,
}

/// The counters of one instance.
#[derive(Debug, Clone)]
pub struct Limiter {
    db: Db,
    slots: Arc<Mutex<HashMap<String, Slot>>>,
}

impl Limiter {
    pub fn new(db: Db) -> Self {
        Self {
            db,
            slots: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Counts one request under `key` at `now` against `limit` per window.
    pub fn check(&self, key: &str, limit: u32, now: i64) -> Result<(), Exceeded> {
        if limit == 0 {
            return Ok(());
        }
        let window = now.div_euclid(WINDOW_SECS);
        let retry_after = WINDOW_SECS - now.rem_euclid(WINDOW_SECS);
        let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
        if slots.len() >= MAX_KEYS && !slots.contains_key(key) {
            slots.retain(|_, s| s.window >= window);
            if slots.len() >= MAX_KEYS {
                // Flooded with distinct keys in one window: refuse what cannot be counted.
                metrics::counter!("latchkey_rate_limited_total", "limit" => "keys").increment(1);
                return Err(Exceeded {
                    retry_after,
                    first: false,
                });
            }
        }
        // No allocation for a key already counted (the common case).
        if !slots.contains_key(key) {
            slots.insert(key.to_string(), Slot::default());
        }
        let Some(slot) = slots.get_mut(key) else {
            return Ok(());
        };
        if slot.window != window {
            *slot = Slot {
                window,
                ..Slot::default()
            };
        }
        if slot.shared.saturating_add(slot.unsynced) >= limit {
            let first = !slot.reported;
            slot.reported = true;
            metrics::counter!("latchkey_rate_limited_total", "limit" => limit_name(key))
                .increment(1);
            return Err(Exceeded { retry_after, first });
        }
        slot.unsynced += 1;
        Ok(())
    }

    /// Whether this crossing is the first of its key and window on any instance (the one
    /// to record).
    pub async fn first_crossing(&self, key: &str, now: i64) -> bool {
        if self.db.backend == Backend::Sqlite {
            return true;
        }
        let marker = format!("ratelimit-crossed:{key}|{}", now.div_euclid(WINDOW_SECS));
        match store::throttle::add(&self.db.pool, &marker, 1, now).await {
            Ok(n) => n == 1,
            Err(e) => {
                tracing::warn!(error = %e, "rate limit crossing");
                true
            }
        }
    }

    /// Adds this instance's counts to the shared ones and reads back the totals.
    pub async fn sync(&self, now: i64) {
        let window = now.div_euclid(WINDOW_SECS);
        let pending: Vec<(String, i64, u32)> = {
            let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
            slots.retain(|_, s| s.window >= window - 1);
            slots
                .iter_mut()
                .filter(|(_, s)| s.unsynced > 0)
                .map(|(k, s)| {
                    let n = std::mem::take(&mut s.unsynced);
                    if self.db.backend == Backend::Sqlite {
                        // One instance: the count is already the whole count.
                        s.shared += n;
                    }
                    (k.clone(), s.window, n)
                })
                .collect()
        };
        if self.db.backend == Backend::Sqlite {
            return;
        }
        for (key, window, n) in pending {
            let shared_key = format!("ratelimit:{key}|{window}");
            match store::throttle::add(&self.db.pool, &shared_key, i64::from(n), now).await {
                Ok(total) => {
                    let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some(s) = slots.get_mut(&key)
                        && s.window == window
                    {
                        s.shared = u32::try_from(total).unwrap_or(u32::MAX);
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "rate limit sync");
                    let mut slots = self.slots.lock().unwrap_or_else(|p| p.into_inner());
                    if let Some(s) = slots.get_mut(&key)
                        && s.window == window
                    {
                        s.unsynced += n;
                    }
                }
            }
        }
    }

    /// Counts one request of `caller` under `key`; past `limit`, refuses it and records the
    /// crossing in `org_id`'s audit chain (or the one of no organization), once per key and
    /// window across all instances.
    pub async fn enforce(
        &self,
        audit: &super::AuditLog,
        caller: &super::Caller,
        key: &str,
        limit: u32,
        org_id: Option<&str>,
    ) -> Result<(), Exceeded> {
        let now = super::now();
        let Err(e) = self.check(key, limit, now) else {
            return Ok(());
        };
        if e.first && self.first_crossing(key, now).await {
            tracing::warn!(limit = limit_name(key), "rate limit crossed");
            let event = super::audit::Event {
                org_id,
                action: "ratelimit.exceeded",
                object: ("limit", limit_name(key)),
                success: false,
                detail: serde_json::json!({
                    "limit_per_minute": limit,
                    "window_secs": WINDOW_SECS,
                    "note": "further requests over the limit in this window are refused, not recorded",
                }),
            };
            if let Err(err) = audit.record(caller, event).await {
                tracing::error!(error = %err, "recording a rate limit crossing");
            }
        }
        Err(e)
    }

    /// Syncs every `SYNC_EVERY` for as long as the process runs.
    pub fn spawn_sync(&self) {
        let me = self.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SYNC_EVERY);
            loop {
                tick.tick().await;
                me.sync(super::now()).await;
            }
        });
    }
}

fn limit_name(key: &str) -> &'static str {
    match key.split(':').next() {
        Some("token-client") => "token_per_client",
        Some("token-ip") => "token_per_ip",
        Some("signin-ip") => "signin_per_ip",
        Some("authorize-ip") => "authorize_per_ip",
        _ => "other",
    }
}

/// The key of a client's token requests.
pub fn token_client(client_id: &str) -> String {
    format!("token-client:{client_id}")
}

/// The key of an address's token-endpoint requests.
pub fn token_ip(ip: &str) -> String {
    format!("token-ip:{ip}")
}

/// The key of an address's sign-in attempts.
pub fn signin_ip(ip: &str) -> String {
    format!("signin-ip:{ip}")
}

/// The key of an address's authorization requests.
pub fn authorize_ip(ip: &str) -> String {
    format!("authorize-ip:{ip}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    async fn limiter() -> Limiter {
        let db = Db::connect("sqlite::memory:").await.unwrap();
        Limiter::new(db)
    }

    #[tokio::test]
    async fn counts_per_key_and_window() {
        let l = limiter().await;
        let t = 600; // the start of a window
        for _ in 0..3 {
            assert!(l.check("k", 3, t).is_ok());
        }
        let e = l.check("k", 3, t + 10).unwrap_err();
        assert_eq!(
            e,
            Exceeded {
                retry_after: 50,
                first: true
            }
        );
        assert!(!l.check("k", 3, t + 59).unwrap_err().first, "reported once");
        assert!(l.check("other", 3, t + 10).is_ok(), "keys are apart");
        assert!(l.check("k", 3, t + 60).is_ok(), "a new window starts over");
        assert!(l.check("k", 0, t).is_ok(), "0 is no limit");
    }

    #[tokio::test]
    async fn a_sync_keeps_the_count() {
        let l = limiter().await;
        for _ in 0..2 {
            l.check("k", 3, 600).unwrap();
        }
        l.sync(601).await;
        l.check("k", 3, 602).unwrap();
        assert!(l.check("k", 3, 603).is_err());
    }
}
