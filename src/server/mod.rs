//! Process wiring: configuration, shared state, sessions, the router and its layers.

pub mod config;
pub mod export;
pub mod headers;
pub mod portal;
pub mod router;
pub mod session_store;
pub mod state;

pub use router::router;
pub use state::AppState;

use std::net::SocketAddr;

use config::Settings;

use crate::store::Db;

/// Connects to the database, applies the migrations and loads the signing keys (creating
/// the first one on a new database).
pub async fn prepare(settings: Settings) -> Result<AppState, String> {
    let db = Db::connect(&settings.database_url).await?;
    db.migrate().await?;
    crate::services::keys::ensure(&db, &settings.master_key)
        .await
        .map_err(|e| format!("signing keys: {e}"))?;
    let ring = crate::services::keys::load(&db, &settings.master_key)
        .await
        .map_err(|e| format!("signing keys: {e}"))?;
    Ok(AppState::new(db, settings, ring))
}

/// Serves the router on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    spawn_purge(state.db.clone());
    spawn_key_reload(state.clone());
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| format!("server error: {e}"))
}

/// Deletes expired sessions, revocations of expired tokens, assertion ids, pending
/// authorization requests and codes, and audit records past their organization's
/// retention (leaving a checkpoint), hourly.
fn spawn_purge(db: Db) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            let now = crate::services::now();
            if let Err(e) = crate::store::sessions::purge_expired(&db.pool, now).await {
                tracing::warn!(error = %e, "session purge failed");
            }
            if let Err(e) = crate::store::tokens::purge_expired(&db.pool, now).await {
                tracing::warn!(error = %e, "revoked-token purge failed");
            }
            if let Err(e) = crate::store::tokens::purge_used_jtis(&db.pool, now).await {
                tracing::warn!(error = %e, "used-jti purge failed");
            }
            if let Err(e) = crate::store::authz::purge_expired(&db.pool, now).await {
                tracing::warn!(error = %e, "authorization request purge failed");
            }
            let system = crate::services::Caller::system();
            match crate::services::audit::purge_expired(&db, &system).await {
                Ok(purged) => {
                    for (org, removed) in purged {
                        tracing::info!(org, removed, "audit records past retention removed");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "audit purge failed"),
            }
        }
    });
}

/// Reloads the key ring every minute, so a rotation on any instance reaches all of them
/// well before the new key starts signing.
fn spawn_key_reload(state: AppState) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        tick.tick().await;
        loop {
            tick.tick().await;
            if let Err(e) = state.reload_keys().await {
                tracing::warn!(error = %e, "key ring reload failed");
            }
        }
    });
}
