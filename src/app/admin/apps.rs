//! The list of connected apps (search, paging) and the create page.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::app_form::AppFields;
use crate::app::components::{Breadcrumbs, Csrf, ErrorPage, FormError, Need, Page, count};
use crate::app::error::AppError;
use crate::app::session::form_error;
use crate::domain::AppKind;
use crate::domain::app::AppInput;
use crate::domain::views::AppPage;

#[server(prefix = "/api", endpoint = "list_apps")]
pub async fn list_apps(
    #[server(default)] q: String,
    #[server(default)] page: i64,
) -> Result<AppPage, AppError> {
    use crate::app::server as portal;
    portal::admin_read(async |state, me| {
        crate::services::apps::list(&state.db, &me.principal, &q, page.max(1))
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
    let query = use_query_map();
    let q = move || query.with(|m| m.get("q").unwrap_or_default());
    let page = move || {
        query.with(|m| {
            m.get("page")
                .and_then(|p| p.parse::<i64>().ok())
                .unwrap_or(1)
        })
    };
    let apps = Resource::new(move || (q(), page()), |(q, page)| list_apps(q, page));
    view! {
        <Page title="Connected apps" need=Need::Admin>
            <AppList apps/>
        </Page>
    }
}

#[component]
fn AppList(apps: Resource<Result<AppPage, AppError>>) -> impl IntoView {
    let query = use_query_map();
    let q = move || query.with(|m| m.get("q").unwrap_or_default());
    view! {
        <div class="heading">
            <h1>"Connected apps"</h1>
            <a class="button primary" href="/admin/apps/new">"Create app"</a>
        </div>
        <form method="get" action="/admin" class="search">
            <input type="search" name="q" value=q placeholder="Search by name or client id" maxlength="100"/>
            <button type="submit">"Search"</button>
        </form>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match apps.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(p) if p.items.is_empty() => view! {
                        <p class="empty">{if q().is_empty() { "No connected apps yet." } else { "No app matches your search." }}</p>
                    }.into_any(),
                    Ok(p) => view! { <AppTable page=p q=q()/> }.into_any(),
                }
            })}
        </Suspense>
    }
}

#[component]
fn AppTable(page: AppPage, q: String) -> impl IntoView {
    let pages = page.pages();
    let link = move |n: i64| {
        format!(
            "/admin?q={}&page={n}",
            crate::app::components::url_encode(&q)
        )
    };
    let rows = page.items.into_iter().map(|a| {
        let kind = AppKind::parse(&a.kind).map(|k| k.label()).unwrap_or("");
        view! {
            <tr>
                <td data-label="Name"><a href=format!("/admin/apps/{}", a.client_id)>{a.name}</a></td>
                <td data-label="Kind">{kind}</td>
                <td data-label="Client id"><code>{a.client_id}</code></td>
                <td data-label="Status">{if a.enabled { view! { <span class="badge ok">"enabled"</span> } } else { view! { <span class="badge off">"disabled"</span> } }}</td>
            </tr>
        }
    }).collect_view();
    view! {
        <table class="list">
            <thead><tr><th>"Name"</th><th>"Kind"</th><th>"Client id"</th><th>"Status"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
        <nav class="pager">
            <span>{format!("{} · page {} of {}", count(page.total, "app"), page.page, pages)}</span>
            {(page.page > 1).then(|| view! { <a href=link(page.page - 1)>"← Previous"</a> })}
            {(page.page < pages).then(|| view! { <a href=link(page.page + 1)>"Next →"</a> })}
        </nav>
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
