//! Audit exports as files to download: the portal's link (`/admin/audit/export`, the
//! signed-in admin's session) and the REST API's operation answer the same way.

use axum::extract::{ConnectInfo, Query, State};
use axum::response::{IntoResponse, Response};
use http::StatusCode;
use serde::Deserialize;
use tower_sessions::Session;

use super::AppState;
use super::session::signed_in;
use crate::domain::audit::AuditQuery;
use crate::services::audit::{self, ExportFormat};

/// An export's query: the viewer's filter and the format.
#[derive(Debug, Deserialize)]
pub struct ExportQuery {
    #[serde(default)]
    pub format: String,
    #[serde(flatten)]
    pub filter: AuditQuery,
}

/// The file: its type, a download name, never cached.
pub fn export_response(format: ExportFormat, body: Vec<u8>) -> Response {
    (
        [
            (http::header::CONTENT_TYPE, format.content_type()),
            (
                http::header::CONTENT_DISPOSITION,
                match format {
                    ExportFormat::Csv => "attachment; filename=\"audit.csv\"",
                    ExportFormat::Ndjson => "attachment; filename=\"audit.ndjson\"",
                },
            ),
            (http::header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// `GET /admin/audit/export?format=csv|ndjson&<filter>`: the signed-in admin's or auditor's
/// organization's records matching the filter.
pub async fn portal_export(
    State(state): State<AppState>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    headers: http::HeaderMap,
    session: Session,
    Query(q): Query<ExportQuery>,
) -> Response {
    let refused = |status: StatusCode, message: String| (status, message).into_response();
    let meta = super::meta::client_meta(&headers, Some(peer), state.settings.trusted_proxies);
    let me = match signed_in(&state, &session, meta).await {
        Ok(Some(me)) => me,
        Ok(None) => return refused(StatusCode::UNAUTHORIZED, "Sign in first.".into()),
        Err(_) => return StatusCode::INTERNAL_SERVER_ERROR.into_response(),
    };
    if !me.role.may(crate::domain::role::READ_AUDIT) {
        return refused(
            StatusCode::FORBIDDEN,
            "Only administrators and auditors may export the audit log.".into(),
        );
    }
    let (format, filter) = match (
        ExportFormat::parse(&q.format),
        q.filter.parse(crate::services::now()),
    ) {
        (Ok(format), Ok(filter)) => (format, filter),
        (Err(e), _) => return refused(StatusCode::BAD_REQUEST, e.to_string()),
        (_, Err(errors)) => {
            let text: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
            return refused(StatusCode::BAD_REQUEST, text.join("\n"));
        }
    };
    let body = match audit::export(&state.db, &me.principal, &filter).await {
        Ok(rows) => format.encode(&rows),
        Err(e) => Err(e),
    };
    match body {
        Ok(body) => export_response(format, body),
        Err(e) => {
            tracing::error!(error = %e, "audit export");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
