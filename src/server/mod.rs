//! Process wiring: configuration, shared state, sessions, the router and its layers.

pub mod config;
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

/// Connects to the database and applies the migrations.
pub async fn prepare(settings: Settings) -> Result<AppState, String> {
    let db = Db::connect(&settings.database_url).await?;
    db.migrate().await?;
    Ok(AppState::new(db, settings))
}

/// Serves the router on `listener` until `shutdown` completes.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    spawn_session_purge(state.db.clone());
    let app = router(state).into_make_service_with_connect_info::<SocketAddr>();
    axum::serve(listener, app)
        .with_graceful_shutdown(shutdown)
        .await
        .map_err(|e| format!("server error: {e}"))
}

/// Deletes expired sessions once an hour.
fn spawn_session_purge(db: Db) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(3600));
        loop {
            tick.tick().await;
            if let Err(e) =
                crate::store::sessions::purge_expired(&db.pool, crate::services::now()).await
            {
                tracing::warn!(error = %e, "session purge failed");
            }
        }
    });
}
