//! Process wiring, on top of everything: configuration, the router and its layers,
//! serving, and the background jobs.

pub mod config;
pub mod router;

pub use crate::web::AppState;
pub use router::router;

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
            crate::services::maintenance::hourly(&db).await;
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
