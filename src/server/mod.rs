//! Process wiring, on top of everything: configuration, the router and its layers,
//! serving, and the background jobs.

pub mod config;
pub mod router;
pub mod telemetry;

pub use crate::web::AppState;
pub use router::router;

use std::net::SocketAddr;

use config::Settings;

use crate::store::Db;

/// Connects to the database, applies the migrations and loads the signing keys (creating
/// the first one on a new database).
pub async fn prepare(settings: Settings) -> Result<AppState, String> {
    telemetry::install();
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

/// Serves the router on `listener` until `shutdown` completes, then shuts down gracefully:
/// readiness turns false and stays so for the drain time (a load balancer stops sending),
/// the listener closes, in-flight requests finish (each within the request time limit),
/// and the audit writer commits what it holds. Bounded: past the drain time plus
/// `SHUTDOWN_GRACE`, whatever is left is abandoned.
pub async fn serve(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), String> {
    state.db.start_cache().await;
    state.limiter.spawn_sync();
    spawn_purge(state.db.clone());
    spawn_key_reload(state.clone());
    spawn_logout_deliveries(state.clone());
    let app = router(state.clone()).into_make_service_with_connect_info::<SocketAddr>();
    let (stopping_tx, stopping) = tokio::sync::oneshot::channel::<()>();
    let drain = state.settings.drain;
    let draining = state.clone();
    let signal = async move {
        shutdown.await;
        draining.start_draining();
        let _ = stopping_tx.send(());
        tracing::info!(
            drain_secs = drain.as_secs(),
            "shutting down: not ready, draining"
        );
        tokio::time::sleep(drain).await;
        tracing::info!("no longer accepting; finishing in-flight requests");
    };
    let server = axum::serve(listener, app).with_graceful_shutdown(signal);
    let bound = async move {
        if stopping.await.is_err() {
            return std::future::pending().await;
        }
        tokio::time::sleep(drain + router::SHUTDOWN_GRACE).await;
    };
    tokio::select! {
        served = server => served.map_err(|e| format!("server error: {e}"))?,
        () = bound => tracing::warn!("requests still running at the shutdown bound; abandoned"),
    }
    if !state.audit.flush().await {
        return Err("the audit writer could not commit its last records".into());
    }
    tracing::info!("stopped");
    Ok(())
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
            db.cache.load_revoked(&db).await;
        }
    });
}

/// Sends back-channel logout tokens as they fall due (every second; each instance takes
/// its own by compare-and-set).
fn spawn_logout_deliveries(state: AppState) {
    tokio::spawn(async move {
        let http = match crate::services::backchannel::http_client() {
            Ok(h) => h,
            Err(e) => {
                tracing::error!(error = %e, "back-channel logout deliveries cannot start");
                return;
            }
        };
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(1));
        loop {
            tick.tick().await;
            let ring = state.key_ring();
            let issuer = &state.settings.issuer;
            if let Err(e) =
                crate::services::backchannel::deliver_due(&state.db, &ring, issuer, &http).await
            {
                tracing::warn!(error = %e, "back-channel logout deliveries");
            }
        }
    });
}

/// Reloads the key ring when any instance changed it (the cache's notification, or its
/// restart after a lost connection), and every minute in any case.
fn spawn_key_reload(state: AppState) {
    tokio::spawn(async move {
        let mut changed = state.db.cache.keys_changed();
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                gone = changed.changed() => if gone.is_err() { return },
            }
            if let Err(e) = state.reload_keys().await {
                tracing::warn!(error = %e, "key ring reload failed");
            }
        }
    });
}
