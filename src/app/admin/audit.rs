//! The organization's audit log, newest first (the full viewer with filters comes later).

use leptos::prelude::*;

use crate::app::components::{ErrorPage, Need, Page, format_time};
use crate::app::error::AppError;
use crate::domain::views::AuditView;

pub const SHOWN: i64 = 200;

#[server(prefix = "/api", endpoint = "list_audit")]
pub async fn list_audit() -> Result<Vec<AuditView>, AppError> {
    use crate::server::portal;
    let result = async {
        let (state, me) = portal::require_admin().await?;
        crate::services::audit::recent(&state.db, &me.org_id, SHOWN)
            .await
            .map_err(portal::service_error)
    }
    .await;
    portal::finish(result)
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let events = Resource::new(|| (), |_| list_audit());
    view! {
        <Page title="Audit log" need=Need::Admin>
            <Audit events/>
        </Page>
    }
}

#[component]
fn Audit(events: Resource<Result<Vec<AuditView>, AppError>>) -> impl IntoView {
    view! {
        <h1>"Audit log"</h1>
        <p class="hint">{format!("The newest {SHOWN} events of this organization.")}</p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match events.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(list) => {
                        let rows = list.into_iter().map(|e| view! {
                            <tr class=if e.outcome == "success" { "ok" } else { "failed" }>
                                <td>{format_time(e.at)}</td>
                                <td>{e.actor}</td>
                                <td><code>{e.action}</code></td>
                                <td>{e.object}</td>
                                <td>{e.outcome.clone()}</td>
                                <td>{e.ip.unwrap_or_default()}</td>
                                <td><code class="detail">{e.detail}</code></td>
                            </tr>
                        }).collect_view();
                        view! {
                            <table class="list audit">
                                <thead><tr><th>"When"</th><th>"Who"</th><th>"Action"</th><th>"Object"</th><th>"Outcome"</th><th>"IP"</th><th>"Detail"</th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
