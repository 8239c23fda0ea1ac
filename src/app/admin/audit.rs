//! The audit viewer: the organization's records filtered by time, app, user, action and
//! outcome, newest first, paged by cursor, and exported as CSV or NDJSON. The filter is a
//! plain GET form, so every view has its own URL and works without JavaScript.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::app::components::{ErrorPage, Need, Page, format_time, url_encode};
use crate::app::error::AppError;
use crate::domain::audit::AuditQuery;
use crate::domain::views::AuditPage;

pub const PATH: &str = "/admin/audit";
/// The portal's export link (an axum handler; see `server::export`).
pub use crate::domain::paths::AUDIT_EXPORT_PATH as EXPORT_PATH;

#[server(prefix = "/api", endpoint = "list_audit")]
pub async fn list_audit(#[server(default)] q: AuditQuery) -> Result<AuditPage, AppError> {
    use crate::app::server as portal;
    portal::audit_read(async |state, me| {
        let filter = q.parse().map_err(AppError::Invalid)?;
        crate::services::audit::search(&state.db, &me.principal, &filter)
            .await
            .map_err(portal::service_error)
    })
    .await
}

/// The query of the current URL.
fn current_query() -> impl Fn() -> AuditQuery + Copy {
    let query = use_query_map();
    move || {
        query.with(|m| {
            let get = |k: &str| m.get(k).unwrap_or_default();
            AuditQuery {
                from: get("from"),
                to: get("to"),
                app: get("app"),
                user: get("user"),
                action: get("action"),
                outcome: get("outcome"),
                before: get("before"),
                limit: get("limit"),
            }
        })
    }
}

/// `q` as URL parameters (empty ones left out), with `before` replaced by `cursor`.
fn query_string(q: &AuditQuery, cursor: Option<i64>) -> String {
    let before = cursor.map(|c| c.to_string()).unwrap_or_default();
    [
        ("from", q.from.as_str()),
        ("to", q.to.as_str()),
        ("app", q.app.as_str()),
        ("user", q.user.as_str()),
        ("action", q.action.as_str()),
        ("outcome", q.outcome.as_str()),
        ("limit", q.limit.as_str()),
        ("before", before.as_str()),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}={}", url_encode(v)))
    .collect::<Vec<_>>()
    .join("&")
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let q = current_query();
    let events = Resource::new(q, list_audit);
    view! {
        <Page title="Audit log" need=Need::Audit>
            <Audit events/>
        </Page>
    }
}

#[component]
fn Filters() -> impl IntoView {
    // Read inside the view's closure, so the form follows the URL (and the query is read
    // where it is tracked).
    let query = current_query();
    move || {
        let q = query();
        let outcome = q.outcome.clone();
        let export = |format: &str| {
            let rest = query_string(&q, None);
            format!(
                "{EXPORT_PATH}?format={format}{}{rest}",
                if rest.is_empty() { "" } else { "&" }
            )
        };
        view! {
            <form method="get" action=PATH class="filters">
                <label>"From (UTC)" <input type="text" name="from" value=q.from.clone() placeholder="YYYY-MM-DD or YYYY-MM-DDTHH:MM" maxlength="40"/></label>
                <label>"To (UTC)" <input type="text" name="to" value=q.to.clone() placeholder="YYYY-MM-DD" maxlength="40"/></label>
                <label>"App (client id)" <input type="text" name="app" value=q.app.clone() maxlength="200"/></label>
                <label>"User (id)" <input type="text" name="user" value=q.user.clone() maxlength="200"/></label>
                <label>"Action" <input type="text" name="action" value=q.action.clone() placeholder="token.issued or token.*" maxlength="200"/></label>
                <label>"Outcome"
                    <select name="outcome">
                        <option value="" selected=outcome.is_empty()>"Any"</option>
                        <option value="success" selected=outcome == "success">"Success"</option>
                        <option value="failure" selected=outcome == "failure">"Failure"</option>
                    </select>
                </label>
                <button type="submit">"Filter"</button>
                <a href=PATH>"Clear"</a>
            </form>
            <p class="exports">
                "Export these records: "
                <a href=export("csv") download="audit.csv">"CSV"</a> " · "
                <a href=export("ndjson") download="audit.ndjson">"NDJSON"</a>
            </p>
        }
    }
}

#[component]
fn Audit(events: Resource<Result<AuditPage, AppError>>) -> impl IntoView {
    let q = current_query();
    view! {
        <h1>"Audit log"</h1>
        <Filters/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! {
                        <p class="empty">"No audit record matches."</p>
                    }.into_any(),
                    Ok(page) => {
                        let older = page.next.map(|c| format!("{PATH}?{}", query_string(&q(), Some(c))));
                        let rows = page.items.into_iter().map(|e| view! {
                            <tr class=if e.outcome == "success" { "ok" } else { "failed" }>
                                <td data-label="When">{format_time(e.at)}</td>
                                <td data-label="Who">{e.actor}</td>
                                <td data-label="Action"><code>{e.action}</code></td>
                                <td data-label="Object">{e.object}</td>
                                <td data-label="Outcome">{e.outcome.clone()}</td>
                                <td data-label="IP">{e.ip.unwrap_or_default()}</td>
                                <td data-label="Detail"><code class="detail">{e.detail}</code></td>
                            </tr>
                        }).collect_view();
                        view! {
                            <table class="list audit">
                                <thead><tr><th>"When"</th><th>"Who"</th><th>"Action"</th><th>"Object"</th><th>"Outcome"</th><th>"IP"</th><th>"Detail"</th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                            <nav class="pager">
                                {(!q().before.is_empty()).then(|| view! { <a href=format!("{PATH}?{}", query_string(&q(), None))>"← Newest"</a> })}
                                {older.map(|href| view! { <a href=href>"Older →"</a> })}
                            </nav>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
