//! The admins' overview: the organization's tokens per hour over the last 7 days, why
//! requests were refused, and the busiest apps, each linked to its records.

use leptos::prelude::*;

use super::audit::records_of;
use crate::app::chart::TokenChart;
use crate::app::components::{ErrorPage, Need, Page, url_encode};
use crate::app::error::AppError;
use crate::domain::views::OrgActivity;

pub const PATH: &str = "/admin/overview";

#[server(prefix = "/api", endpoint = "org_activity")]
pub async fn get_org_activity() -> Result<OrgActivity, AppError> {
    use crate::app::server as portal;
    portal::admin_read(async |state, me| {
        crate::services::audit::org_activity(&state.db, &me.principal)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[component]
pub fn OverviewPage() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_org_activity());
    view! {
        <Page title="Overview" need=Need::Admin>
            <h1>"Overview"</h1>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                        Ok(a) => view! { <Overview a/> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

/// A count beside a bar as long as its share of the largest.
fn bar(n: i64, max: i64, class: &'static str) -> impl IntoView {
    let pct = if max > 0 { n * 100 / max } else { 0 };
    view! {
        <span class="bar-cell">
            <span class=format!("bar {class}") style=format!("width: {}%", pct.max(1) / 2) aria-hidden="true"></span>
            {n}
        </span>
    }
}

#[component]
fn Overview(a: OrgActivity) -> impl IntoView {
    let most_refused = a.refusals.iter().map(|r| r.2).max().unwrap_or(0);
    let refusals = if a.refusals.is_empty() {
        view! { <p class="empty">"No token request was refused in the last 7 days."</p> }.into_any()
    } else {
        let rows = a.refusals.into_iter().map(|(code, words, n)| {
            let href = format!("{}?range=week&action=token.refused", super::audit::PATH);
            view! {
                <tr>
                    <td data-label="Reason">{words} <br/><code class="muted small">{code}</code></td>
                    <td data-label="Refusals">{bar(n, most_refused, "refused")}</td>
                    <td data-label="Records"><a href=href>"See them"</a></td>
                </tr>
            }
        }).collect_view();
        view! {
            <table class="list">
                <caption class="visually-hidden">"Refused token requests by reason"</caption>
                <thead><tr><th scope="col">"Reason"</th><th scope="col">"Refusals"</th><th scope="col">"Records"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }.into_any()
    };
    let busiest = a.apps.iter().map(|r| r.2 + r.3).max().unwrap_or(0);
    let apps = if a.apps.is_empty() {
        view! { <p class="empty">"No app asked for a token in the last 7 days. Create an app and run its Quick start command to see it here."</p> }.into_any()
    } else {
        let rows = a.apps.into_iter().map(|(id, name, issued, refused)| view! {
            <tr>
                <td data-label="App"><a href=format!("/admin/apps/{}/activity", url_encode(&id))>{name}</a></td>
                <td data-label="Issued">{bar(issued, busiest, "issued")}</td>
                <td data-label="Refused">{bar(refused, busiest, "refused")}</td>
                <td data-label="Records"><a href=format!("{}&range=week", records_of("app", &id))>"See them"</a></td>
            </tr>
        }).collect_view();
        view! {
            <table class="list">
                <caption class="visually-hidden">"The busiest apps over the last 7 days"</caption>
                <thead><tr><th scope="col">"App"</th><th scope="col">"Issued"</th><th scope="col">"Refused"</th><th scope="col">"Records"</th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
        }.into_any()
    };
    view! {
        <TokenChart hours=a.hours title="Tokens of the organization, last 7 days"/>
        <section class="panel">
            <h2>"Refusals by reason"</h2>
            {refusals}
        </section>
        <section class="panel">
            <h2>"Most active apps"</h2>
            {apps}
        </section>
    }
}
