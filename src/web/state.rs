use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::Settings;
use crate::services::Db;
use crate::services::keys::KeyRing;

/// What every request handler and server function can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub leptos_options: LeptosOptions,
    /// The group-commit audit writer of the protocol endpoints.
    pub audit: crate::services::AuditLog,
    /// The request rate limits' counters.
    pub limiter: crate::services::limits::Limiter,
    keys: Arc<RwLock<Arc<KeyRing>>>,
    /// Set on SIGTERM: readiness turns false so a load balancer stops sending requests.
    draining: Arc<AtomicBool>,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    pub fn new(db: Db, settings: Settings, keys: KeyRing) -> Self {
        let leptos_options = LeptosOptions::builder()
            .output_name("latchkey")
            .site_root(settings.site_root.as_str())
            .site_pkg_dir("pkg")
            .site_addr(settings.bind)
            .build();
        Self {
            audit: crate::services::AuditLog::start(db.clone()),
            limiter: crate::services::limits::Limiter::new(db.clone()),
            draining: Arc::new(AtomicBool::new(false)),
            db,
            settings: Arc::new(settings),
            leptos_options,
            keys: Arc::new(RwLock::new(Arc::new(keys))),
        }
    }

    /// Whether this instance is shutting down (readiness false).
    pub fn is_draining(&self) -> bool {
        self.draining.load(Ordering::SeqCst)
    }

    pub fn start_draining(&self) {
        self.draining.store(true, Ordering::SeqCst);
    }

    /// The signing key ring as last loaded.
    /// What the token service needs, with `ring` (from `key_ring`) and no `resource`.
    pub fn issuer<'a>(&'a self, ring: &'a KeyRing) -> crate::services::tokens::Issuer<'a> {
        crate::services::tokens::Issuer {
            db: &self.db,
            ring,
            url: &self.settings.issuer,
            resource: None,
            dpop_jkt: None,
        }
    }

    pub fn key_ring(&self) -> Arc<KeyRing> {
        self.keys
            .read()
            .map(|k| k.clone())
            .unwrap_or_else(|poisoned| poisoned.into_inner().clone())
    }

    /// Reloads the key ring from the database (other instances may have rotated it).
    pub async fn reload_keys(&self) -> Result<(), crate::services::Error> {
        let ring =
            Arc::new(crate::services::keys::load(&self.db, &self.settings.master_key).await?);
        match self.keys.write() {
            Ok(mut k) => *k = ring,
            Err(poisoned) => *poisoned.into_inner() = ring,
        }
        Ok(())
    }
}
