//! The audit viewer: one line per record (when, who, what, outcome) with a details drawer,
//! filtered by period or dates, app and user (picked by name), action and outcome, newest
//! first, paged by cursor, and exported as CSV or NDJSON. The filter is a plain GET form,
//! so every view has its own URL and works without JavaScript.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::app::components::{ErrorPage, LocalTime, Need, Page, url_encode};
use crate::app::error::AppError;
use crate::domain::audit::{ACTION_FAMILIES, ACTIONS, AuditQuery, RANGES};
use crate::domain::views::{AuditChoices, AuditPage, AuditView};

pub const PATH: &str = "/admin/audit";
/// The portal's export link (an axum handler; see `server::export`).
pub use crate::domain::paths::AUDIT_EXPORT_PATH as EXPORT_PATH;

#[server(prefix = "/api", endpoint = "list_audit")]
pub async fn list_audit(#[server(default)] q: AuditQuery) -> Result<AuditPage, AppError> {
    use crate::app::server as portal;
    portal::audit_read(async |state, me| {
        let filter = q.parse(crate::services::now()).map_err(AppError::Invalid)?;
        crate::services::audit::search(&state.db, &me.principal, &filter)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "audit_choices")]
pub async fn audit_filter_choices() -> Result<AuditChoices, AppError> {
    use crate::app::server as portal;
    portal::audit_read(async |state, me| {
        crate::services::audit::choices(&state.db, &me.principal)
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
                range: get("range"),
                app: get("app"),
                user: get("user"),
                action: get("action"),
                outcome: get("outcome"),
                business_group: get("business_group"),
                environment: get("environment"),
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
        ("range", q.range.as_str()),
        ("from", q.from.as_str()),
        ("to", q.to.as_str()),
        ("app", q.app.as_str()),
        ("user", q.user.as_str()),
        ("action", q.action.as_str()),
        ("outcome", q.outcome.as_str()),
        ("business_group", q.business_group.as_str()),
        ("environment", q.environment.as_str()),
        ("limit", q.limit.as_str()),
        ("before", before.as_str()),
    ]
    .iter()
    .filter(|(_, v)| !v.is_empty())
    .map(|(k, v)| format!("{k}={}", url_encode(v)))
    .collect::<Vec<_>>()
    .join("&")
}

/// The viewer's link for one app's or one user's records (app and user pages link here).
pub fn records_of(key: &str, id: &str) -> String {
    format!("{PATH}?{key}={}", url_encode(id))
}

#[component]
pub fn AuditPage() -> impl IntoView {
    let q = current_query();
    let events = Resource::new(q, list_audit);
    let choices = Resource::new(|| (), |_| audit_filter_choices());
    view! {
        <Page title="Audit log" need=Need::Audit>
            <Audit events choices/>
        </Page>
    }
}

/// A `<select>` of `options` (value, words) with `selected` chosen, and "Any" first.
fn select(
    name: &'static str,
    selected: &str,
    any: &'static str,
    options: Vec<(String, String)>,
) -> impl IntoView + use<> {
    let known = selected.is_empty() || options.iter().any(|(v, _)| v == selected);
    // A value the list does not hold (a deleted app, a hand-written URL) stays selectable.
    let unknown = (!known).then(|| {
        let v = selected.to_string();
        view! { <option value=v.clone() selected=true>{v.clone()}</option> }
    });
    let options = options
        .into_iter()
        .map(|(v, words)| {
            let on = v == selected;
            view! { <option value=v selected=on>{words}</option> }
        })
        .collect_view();
    view! {
        <select name=name id=format!("filter-{name}")>
            <option value="" selected=selected.is_empty()>{any}</option>
            {unknown}
            {options}
        </select>
    }
}

#[component]
fn Filters(q: AuditQuery, choices: AuditChoices) -> impl IntoView {
    let export = |format: &str| {
        let rest = query_string(&q, None);
        format!(
            "{EXPORT_PATH}?format={format}{}{rest}",
            if rest.is_empty() { "" } else { "&" }
        )
    };
    let owned = |list: &[(&str, &str)]| -> Vec<(String, String)> {
        list.iter()
            .map(|(v, w)| ((*v).to_string(), (*w).to_string()))
            .collect()
    };
    let mut actions = owned(ACTION_FAMILIES);
    actions.extend(owned(ACTIONS));
    let outcomes = vec![
        ("success".to_string(), "Succeeded".to_string()),
        ("failure".to_string(), "Failed".to_string()),
    ];
    // Business groups and environments, offered once the organization has more than itself.
    let groups: Vec<(String, String)> = choices
        .groups
        .iter()
        .map(|g| (g.id.clone(), crate::app::admin::groups::indented(g)))
        .collect();
    let envs: Vec<(String, String)> = choices
        .groups
        .iter()
        .flat_map(|g| {
            g.environments
                .iter()
                .map(move |e| (e.id.clone(), format!("{} / {}", g.name, e.name)))
        })
        .collect();
    let places = (choices.groups.len() > 1).then(|| {
        view! {
            <div class="field"><label for="filter-business_group">"Business group"</label> {select("business_group", &q.business_group, "Any business group", groups)}</div>
            <div class="field"><label for="filter-environment">"Environment"</label> {select("environment", &q.environment, "Any environment", envs)}</div>
        }
    });
    view! {
        <form method="get" action=PATH class="filters">
            <div class="field"><label for="filter-app">"App"</label> {select("app", &q.app, "Any app", choices.apps)}</div>
            <div class="field"><label for="filter-user">"User"</label> {select("user", &q.user, "Any user", choices.users)}</div>
            <div class="field"><label for="filter-action">"What"</label> {select("action", &q.action, "Anything", actions)}</div>
            <div class="field"><label for="filter-outcome">"Outcome"</label> {select("outcome", &q.outcome, "Any outcome", outcomes)}</div>
            {places}
            <div class="field"><label for="filter-range">"When"</label> {select("range", &q.range, "Any time, or the dates", owned(RANGES))}</div>
            <div class="field"><label for="filter-from">"From (UTC)"</label> <input type="date" id="filter-from" name="from" value=q.from.clone()/></div>
            <div class="field"><label for="filter-to">"To (UTC, included)"</label> <input type="date" id="filter-to" name="to" value=q.to.clone()/></div>
            <div class="filter-actions">
                <button type="submit" class="primary">"Show records"</button>
                <a href=PATH>"Clear"</a>
            </div>
        </form>
        <p class="exports">
            "Export these records: "
            <a href=export("csv") download="audit.csv">"CSV"</a> " · "
            <a href=export("ndjson") download="audit.ndjson">"NDJSON"</a>
        </p>
    }
}

/// Who acted, by name, linked to their page.
fn who(e: &AuditView) -> AnyView {
    match e.actor_type.as_str() {
        "app" => {
            let id = e.app_id.clone().unwrap_or_default();
            let name = e.app_name.clone().unwrap_or_else(|| e.actor.clone());
            view! { <a href=format!("/admin/apps/{id}")>{name}</a> " " <span class="muted">"(app)"</span> }
                .into_any()
        }
        "user" => {
            let name = e.actor.clone();
            let href = format!("/admin/users?q={}", url_encode(&name));
            view! { <a href=href>{name}</a> }.into_any()
        }
        "cli" => "The command line".into_any(),
        "system" => "Latchkey".into_any(),
        _ => "Someone not signed in".into_any(),
    }
}

/// The detail JSON laid out for reading.
fn pretty(detail: &str) -> String {
    serde_json::from_str::<serde_json::Value>(detail)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| detail.to_string())
}

#[component]
fn Record(e: AuditView) -> impl IntoView {
    let ok = e.outcome == "success";
    let about = {
        let mut parts = Vec::new();
        if e.actor_type != "app"
            && let Some(id) = &e.app_id
        {
            parts.push((
                "App",
                e.app_name.clone().unwrap_or_else(|| id.clone()),
                Some(format!("/admin/apps/{id}")),
            ));
        }
        if let Some(id) = &e.user_id
            && e.actor_id.as_deref() != Some(id.as_str())
        {
            parts.push((
                "User",
                e.user_name.clone().unwrap_or_else(|| id.clone()),
                Some(records_of("user", id)),
            ));
        }
        parts
    };
    let about = (!about.is_empty()).then(|| view! {
        <span class="about">
            {about.into_iter().map(|(k, v, href)| view! {
                <span>{k} ": " {match href { Some(h) => view! { <a href=h>{v}</a> }.into_any(), None => v.into_any() }}</span>
            }).collect_view()}
        </span>
    });
    let who_view = who(&e);
    view! {
        <tr class=if ok { "ok" } else { "failed" }>
            <td data-label="When"><LocalTime at=e.at/></td>
            <td data-label="Who">{who_view}</td>
            <td data-label="What"><span class="what">{e.action_words.clone()}</span> {about}</td>
            <td data-label="Outcome">{if ok {
                view! { <span class="badge ok">"Succeeded"</span> }
            } else {
                view! { <span class="badge failed">"Failed"</span> }
            }}</td>
            <td data-label="Details">
                <details class="drawer">
                    <summary>"Details" <span class="visually-hidden">" of record " {e.id}</span></summary>
                    <dl>
                        <dt>"Time (UTC)"</dt><dd><code>{crate::domain::when::iso8601(e.at)}</code></dd>
                        <dt>"Action"</dt><dd><code>{e.action.clone()}</code></dd>
                        <dt>"Actor"</dt><dd>{e.actor.clone()} " (" {e.actor_type.clone()} ")"</dd>
                        <dt>"Object"</dt><dd><code>{e.object.clone()}</code></dd>
                        <dt>"IP address"</dt><dd>{e.ip.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>"User agent"</dt><dd>{e.user_agent.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>"Record"</dt><dd>{e.id}</dd>
                        <dt>"Detail"</dt><dd><pre class="detail">{pretty(&e.detail)}</pre></dd>
                    </dl>
                </details>
            </td>
        </tr>
    }
}

/// Records, one line each, newest first.
#[component]
pub fn RecordTable(items: Vec<AuditView>) -> impl IntoView {
    let rows = items
        .into_iter()
        .map(|e| view! { <Record e/> })
        .collect_view();
    view! {
        <table class="list audit">
            <caption class="visually-hidden">"Audit records, newest first"</caption>
            <thead><tr><th scope="col">"When"</th><th scope="col">"Who"</th><th scope="col">"What"</th><th scope="col">"Outcome"</th><th scope="col">"Details"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

#[component]
fn Audit(
    events: Resource<Result<AuditPage, AppError>>,
    choices: Resource<Result<AuditChoices, AppError>>,
) -> impl IntoView {
    let q = current_query();
    view! {
        <h1>"Audit log"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let choices = match choices.await {
                    Ok(c) => c,
                    Err(e) => return view! { <ErrorPage error=e/> }.into_any(),
                };
                let filters = view! { <Filters q=q() choices/> };
                match events.await {
                    Err(e) => view! { {filters} <ErrorPage error=e/> }.into_any(),
                    Ok(page) if page.items.is_empty() => view! {
                        {filters}
                        <p class="empty">"No record matches. Widen the period, or choose “Any” in a filter."</p>
                    }.into_any(),
                    Ok(page) => {
                        let older = page.next.map(|c| format!("{PATH}?{}", query_string(&q(), Some(c))));
                        view! {
                            {filters}
                            <RecordTable items=page.items/>
                            <nav class="pager" aria-label="Pages">
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
