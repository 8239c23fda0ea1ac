//! The list of connected apps (search, sort, paging) and the create page.

use leptos::form::ActionForm;
use leptos::prelude::*;

use super::app_form::AppFields;
use crate::app::components::{
    Breadcrumbs, Csrf, ErrorPage, FormError, Need, Page, format_time, last_used,
};
use crate::app::error::AppError;
use crate::app::list::{ListSearch, Pager, SortHeader, use_list_query};
use crate::app::session::form_error;
use crate::domain::AppKind;
use crate::domain::app::AppInput;
use crate::domain::views::AppPage;

#[server(prefix = "/api", endpoint = "list_apps")]
pub async fn list_apps(
    #[server(default)] q: String,
    #[server(default)] sort: String,
    #[server(default)] page: String,
) -> Result<AppPage, AppError> {
    use crate::app::server as portal;
    let list = crate::domain::listing::ListQuery { q, sort, page };
    portal::admin_read(async |state, me| {
        crate::services::apps::list(&state.db, &me.principal, &list)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "create_app")]
pub async fn create_app(
    csrf: String,
    app: AppInput,
    #[server(default)] public_keys: String,
) -> Result<String, AppError> {
    use crate::app::server as portal;
    use secrecy::ExposeSecret;
    portal::admin_write(&csrf, async |state, me| {
        let input = app.only_fields_of_kind();
        let (app, secret) =
            crate::services::apps::create(&state.db, &me.principal, &input, &public_keys)
                .await
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
    let apps = Resource::new(list, |l| list_apps(l.q, l.sort, l.page));
    view! {
        <Page title="Connected apps" need=Need::Admin>
            <AppList apps/>
        </Page>
    }
}

const BASE: &str = "/admin";

#[component]
fn AppList(apps: Resource<Result<AppPage, AppError>>) -> impl IntoView {
    let list = use_list_query();
    view! {
        <div class="heading">
            <h1>"Connected apps"</h1>
            <a class="button primary" href="/admin/apps/new">"Create app"</a>
        </div>
        <ListSearch base=BASE label="Search by name or client id"/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match apps.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
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
                }
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
    view! {
        <Page title="Create app" need=Need::Admin>
            <NewAppForm/>
        </Page>
    }
}

#[component]
fn NewAppForm() -> impl IntoView {
    let action = ServerAction::<CreateApp>::new();
    let error = form_error(action.value());
    view! {
        <Breadcrumbs above=vec![("Apps".into(), "/admin".into())] here="Create app"/>
        <h1>"Create a connected app"</h1>
        <FormError error/>
        <ActionForm action attr:class="app-form new">
            <Csrf/>
            <AppFields app=None error/>
            <button type="submit" class="primary">"Create app"</button>
        </ActionForm>
    }
}
