//! Telemetry: Prometheus metrics at `/metrics` and the log format.
//!
//! | metric | type | what it counts |
//! | --- | --- | --- |
//! | `latchkey_http_requests_total{route,method,status}` | counter | answered requests |
//! | `latchkey_http_request_duration_seconds{route}` | histogram | time to answer |
//! | `latchkey_tokens_total{grant_type,outcome}` | counter | token requests issued / refused |
//! | `latchkey_audit_queue_depth` | gauge | records waiting for the audit writer |
//! | `latchkey_audit_commit_seconds` | histogram | one group commit of the audit writer |
//! | `latchkey_audit_batch_records` | histogram | records per group commit |
//! | `latchkey_cache_hits_total{cache}` / `_misses_total{cache}` | counter | hot-path cache reads |
//! | `latchkey_cache_invalidations_total{change}` | counter | entries dropped by a change |
//! | `latchkey_cache_restarts_total` | counter | cache started over (listener (re)connected) |
//! | `latchkey_cache_live` | gauge | 1 while the cache serves, 0 while bypassed |
//! | `latchkey_rate_limited_total{limit}` | counter | requests refused by a rate limit |
//! | `latchkey_db_pool_connections{state}` | gauge | database connections idle / in use |

use std::sync::OnceLock;
use std::time::Instant;

use axum::body::Body;
use axum::extract::{MatchedPath, State};
use axum::http::{Request, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

use super::AppState;

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// Installs the process's metrics recorder (once; later calls reuse it).
pub fn install() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let latency = [
                0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
            ];
            let built = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), &latency)
                .and_then(|b| {
                    b.set_buckets_for_metric(
                        Matcher::Full("latchkey_audit_batch_records".into()),
                        &[1.0, 2.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 1024.0],
                    )
                })
                .and_then(|b| b.install_recorder());
            match built {
                Ok(h) => Some(h),
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed");
                    None
                }
            }
        })
        .as_ref()
}

/// `GET /metrics`: the Prometheus text format.
pub async fn metrics(State(state): State<AppState>) -> Response {
    let Some(handle) = install() else {
        return (StatusCode::SERVICE_UNAVAILABLE, "metrics are off").into_response();
    };
    let size = state.db.pool.size();
    let idle = u32::try_from(state.db.pool.num_idle()).unwrap_or(u32::MAX);
    metrics::gauge!("latchkey_db_pool_connections", "state" => "idle").set(f64::from(idle));
    metrics::gauge!("latchkey_db_pool_connections", "state" => "in_use")
        .set(f64::from(size.saturating_sub(idle)));
    metrics::gauge!("latchkey_cache_live").set(if state.db.cache.is_live() { 1.0 } else { 0.0 });
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        handle.render(),
    )
        .into_response()
}

/// Counts and times every request by its route (the pattern, never the raw path, so the
/// series stay few), and logs it (debug; a server error at warn).
pub async fn track(req: Request<Body>, next: Next) -> Response {
    let started = Instant::now();
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "other".to_string());
    let method = req.method().as_str().to_string();
    let res = next.run(req).await;
    let status = res.status().as_u16();
    let elapsed = started.elapsed();
    metrics::counter!("latchkey_http_requests_total",
        "route" => route.clone(), "method" => method.clone(), "status" => status.to_string())
    .increment(1);
    metrics::histogram!("latchkey_http_request_duration_seconds", "route" => route.clone())
        .record(elapsed.as_secs_f64());
    if status >= 500 {
        tracing::warn!(target: "latchkey::http", %method, %route, status, ms = elapsed.as_millis() as u64, "request");
    } else {
        tracing::debug!(target: "latchkey::http", %method, %route, status, ms = elapsed.as_millis() as u64, "request");
    }
    res
}

/// Starts the log: JSON objects, one per line, or text (colour only on a terminal).
pub fn init_logs(json: bool) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
        tracing_subscriber::EnvFilter::new("info,sqlx=warn,tower_sessions=warn")
    });
    let builder = tracing_subscriber::fmt().with_env_filter(filter);
    let done = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init()
    } else {
        builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .try_init()
    };
    if let Err(e) = done {
        eprintln!("logging not started: {e}");
    }
}
