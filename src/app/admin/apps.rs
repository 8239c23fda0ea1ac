//! The list of connected apps (search, sort, paging) and the create page.

use leptos::form::ActionForm;
use leptos::prelude::*;

use super::app_form::AppFields;
use crate::app::admin::groups::list_groups;
use crate::app::components::{
    Breadcrumbs, Csrf, ErrorPage, FormError, Need, Page, format_time, last_used,
};
use crate::app::error::AppError;
use crate::app::list::{ListSearch, Pager, SortHeader, use_list_query};
use crate::app::session::{form_error, kept};
use crate::domain::AppKind;
use crate::domain::app::AppInput;
use crate::domain::groups::GroupEntry;
use crate::domain::views::AppPage;

#[server(prefix = "/api", endpoint = "list_apps")]
pub async fn list_apps(
    #[server(default)] q: String,
    #[server(default)] sort: String,
    #[server(default)] page: String,
    #[server(default)] place: String,
) -> Result<AppPage, AppError> {
    use crate::app::server as portal;
    let list = crate::domain::listing::ListQuery { q, sort, page };
    portal::admin_read(async |state, me| {
        match parse_place(&place) {
            None => crate::services::apps::list(&state.db, &me.principal, &list).await,
            Some(at) => crate::services::apps::list_at(&state.db, &me.principal, &at, &list).await,
        }
        .map_err(portal::service_error)
    })
    .await
}

/// A place as the business-group select sends it: `group` or `group/environment`; empty
/// is none (the whole organization's apps, or the organization itself for a new app).
#[cfg(feature = "ssr")]
fn parse_place(raw: &str) -> Option<crate::domain::context::Place> {
    let raw = raw.trim();
    if raw.is_empty() {
        return None;
    }
    Some(match raw.split_once('/') {
        Some((g, e)) => crate::domain::context::Place::env(g, e),
        None => crate::domain::context::Place::group(raw),
    })
}

#[server(prefix = "/api", endpoint = "create_app")]
pub async fn create_app(
    csrf: String,
    app: AppInput,
    #[server(default)] public_keys: String,
    #[server(default)] place: String,
) -> Result<String, AppError> {
    use crate::app::server as portal;
    use secrecy::ExposeSecret;
    portal::admin_write(&csrf, async |state, me| {
        let input = app.only_fields_of_kind();
        let (app, secret) = match parse_place(&place) {
            None => {
                crate::services::apps::create(&state.db, &me.principal, &input, &public_keys).await
            }
            Some(at) => {
                crate::services::apps::create_at(
                    &state.db,
                    &me.principal,
                    &at,
                    &input,
                    &public_keys,
                )
                .await
            }
        }
        .map_err(portal::service_error)?;
        if let Some(secret) = secret {
            portal::keep_new_secret(&state, &app.client_id, secret.expose_secret()).await?;
        }
        leptos_axum::redirect(&format!("/admin/apps/{}", app.client_id));
        Ok(app.client_id)
    })
    .await
}

#[component]
pub fn AppsPage() -> impl IntoView {
    let list = use_list_query();
    let place = use_place_query();
    let apps = Resource::new(
        move || (list(), place()),
        |(l, place)| list_apps(l.q, l.sort, l.page, place),
    );
    let groups = Resource::new(|| (), |_| list_groups());
    view! {
        <Page title="Connected apps" need=Need::Admin>
            <AppList apps groups/>
        </Page>
    }
}

const BASE: &str = "/admin";

/// The business group (or environment) the apps list is filtered by: `?place=`.
fn use_place_query() -> impl Fn() -> String + Copy + Send + Sync + 'static {
    let query = leptos_router::hooks::use_query_map();
    move || query.with(|m| m.get("place").unwrap_or_default())
}

/// The options of a business-group select: each group, then each of its environments.
fn place_options(groups: &[GroupEntry], chosen: &str, with_root: bool) -> impl IntoView + use<> {
    crate::domain::groups::place_choices(groups, with_root)
        .into_iter()
        .map(|(value, label)| {
            let selected = value == chosen;
            view! { <option value=value selected=selected>{label}</option> }
        })
        .collect_view()
}

/// The business-group switcher above the list: a GET form, so it works without JavaScript.
#[component]
fn PlaceFilter(groups: Vec<GroupEntry>) -> impl IntoView {
    let place = use_place_query()();
    let list = use_list_query()();
    let options = place_options(&groups, &place, true);
    view! {
        <form method="get" action=BASE class="filters place-filter">
            <label>"Business group or environment"
                <select name="place">
                    <option value="" selected=place.is_empty()>"All apps of the organization"</option>
                    {options}
                </select>
            </label>
            {(!list.q.is_empty()).then(|| view! { <input type="hidden" name="q" value=list.q.clone()/> })}
            {(!list.sort.is_empty()).then(|| view! { <input type="hidden" name="sort" value=list.sort.clone()/> })}
            <div class="filter-actions">
                <button type="submit">"Show apps"</button>
                {(!place.is_empty()).then(|| view! { <a href=BASE>"All apps"</a> })}
            </div>
        </form>
    }
}

#[component]
fn AppList(
    apps: Resource<Result<AppPage, AppError>>,
    groups: Resource<Result<Vec<GroupEntry>, AppError>>,
) -> impl IntoView {
    let list = use_list_query();
    let place = use_place_query();
    view! {
        <div class="heading">
            <h1>"Connected apps"</h1>
            <a class="button primary" href="/admin/apps/new">"Create app"</a>
        </div>
        <p class="hint">"Apps can also register themselves with an initial access token: "
            <a href="/admin/registration">"Dynamic registration"</a> "."</p>
        <ListSearch base=BASE label="Search by name or client id"/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let groups = groups.await.unwrap_or_default();
                let filter = (groups.len() > 1 || groups.iter().any(|g| !g.environments.is_empty()))
                    .then(|| view! { <PlaceFilter groups/> });
                let body = match apps.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(p) if p.items.is_empty() && !place().is_empty() => view! {
                        <p class="empty">"No app lives there. Pick another business group, or show all apps."</p>
                    }.into_any(),
                    Ok(p) if p.items.is_empty() && list().q.is_empty() => view! {
                        <div class="empty">
                            <p>"No connected apps yet. An app is how an outside program gets tokens: create one, then copy its Quick start command."</p>
                            <p><a class="button primary" href="/admin/apps/new">"Create your first app"</a></p>
                        </div>
                    }.into_any(),
                    Ok(p) if p.items.is_empty() => view! {
                        <p class="empty">"No app matches “" {list().q} "”. Try part of its name or client id."</p>
                    }.into_any(),
                    Ok(p) => view! { <AppTable page=p/> }.into_any(),
                };
                view! { {filter} {body} }.into_any()
            })}
        </Suspense>
    }
}

#[component]
fn AppTable(page: AppPage) -> impl IntoView {
    let pages = page.pages();
    let sort = page.sort.clone();
    let rows = page.items.into_iter().map(|a| {
        let kind = AppKind::parse(&a.kind).map(|k| k.label()).unwrap_or("");
        view! {
            <tr>
                <td data-label="Name"><a href=format!("/admin/apps/{}", a.client_id)>{a.name}</a>
                    {a.secret_expires_soon.then(|| view! { " " <span class="badge warn" title="A client secret has expired or expires within 14 days">"secret expiring"</span> })}
                    <br/><code class="muted small">{a.client_id}</code></td>
                <td data-label="Kind">{kind}</td>
                <td data-label="Status">{if a.enabled { view! { <span class="badge ok">"enabled"</span> } } else { view! { <span class="badge off">"disabled"</span> } }}</td>
                <td data-label="Created">{format_time(a.created_at)}</td>
                <td data-label="Last used">{last_used(a.last_used_at)}</td>
            </tr>
        }
    }).collect_view();
    let th = |label: &'static str, key: &'static str| view! { <SortHeader base=BASE label key sort=sort.clone()/> };
    view! {
        <table class="list">
            <caption class="visually-hidden">"Connected apps"</caption>
            <thead><tr>
                {th("Name", "name")}{th("Kind", "kind")}{th("Status", "status")}{th("Created", "created")}{th("Last used", "used")}
            </tr></thead>
            <tbody>{rows}</tbody>
        </table>
        <Pager base=BASE noun="app" total=page.total page=page.page pages sort=page.sort/>
    }
}

#[component]
pub fn NewAppPage() -> impl IntoView {
    let groups = Resource::new(|| (), |_| list_groups());
    view! {
        <Page title="Create app" need=Need::Admin>
            <NewAppForm groups/>
        </Page>
    }
}

#[component]
fn NewAppForm(groups: Resource<Result<Vec<GroupEntry>, AppError>>) -> impl IntoView {
    let action = ServerAction::<CreateApp>::new();
    let error = form_error(action.value());
    let place = kept("place").unwrap_or_else(use_place_query());
    view! {
        <Breadcrumbs above=vec![("Apps".into(), "/admin".into())] here="Create app"/>
        <h1>"Create a connected app"</h1>
        <FormError error/>
        <ActionForm action attr:class="app-form new">
            <Csrf/>
            <AppFields app=None error/>
            <Suspense fallback=|| ()>
                {move || {
                    let place = place.clone();
                    Suspend::new(async move {
                        let groups = groups.await.unwrap_or_default();
                        let options = place_options(&groups, &place, false);
                        view! {
                            <label>"Where it lives"
                                <select name="place">
                                    <option value="" selected=place.is_empty()>"The organization as a whole"</option>
                                    {options}
                                </select>
                                <span class="hint small">"An app that lives in a business group or environment holds nothing outside it."</span>
                            </label>
                        }
                    })
                }}
            </Suspense>
            <button type="submit" class="primary">"Create app"</button>
        </ActionForm>
    }
}
