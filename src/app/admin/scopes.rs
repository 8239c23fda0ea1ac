//! The scope catalogue (Anypoint's "Scopes documentation"): every scope an app of the
//! organization may be allowed, what it means, its product and which kinds of app may
//! hold it. Any member may read it (see `services::scopes`); it searches without
//! JavaScript (a GET form).

use leptos::prelude::*;

use crate::app::components::{ErrorPage, Need, Page};
use crate::app::error::AppError;
use crate::app::list::{ListSearch, Pager, SortHeader, use_list_query};
use crate::domain::AppKind;
use crate::domain::listing::Listed;
use crate::domain::views::ScopeView;

#[server(prefix = "/api", endpoint = "list_scopes")]
pub async fn list_scopes(
    #[server(default)] q: String,
    #[server(default)] sort: String,
    #[server(default)] page: String,
) -> Result<Listed<ScopeView>, AppError> {
    use crate::app::server as portal;
    let list = crate::domain::listing::ListQuery { q, sort, page };
    let result = async {
        let (state, _, me) = portal::require_signed_in().await?;
        crate::services::scopes::catalogue(&state.db, &me.principal, &list)
            .await
            .map_err(portal::service_error)
    }
    .await;
    portal::finish(result)
}

pub const BASE: &str = "/admin/scopes";

#[component]
pub fn ScopesPage() -> impl IntoView {
    let list = use_list_query();
    let scopes = Resource::new(list, |l| list_scopes(l.q, l.sort, l.page));
    view! {
        <Page title="Scopes" need=Need::SignedIn>
            <Scopes scopes/>
        </Page>
    }
}

fn kind_label(kind: &str) -> &'static str {
    AppKind::parse(kind).map(AppKind::label).unwrap_or("")
}

#[component]
fn Scopes(scopes: Resource<Result<Listed<ScopeView>, AppError>>) -> impl IntoView {
    view! {
        <h1>"Scopes"</h1>
        <p class="hint">
            "Every scope an app of this organization may be allowed: the sign-in scopes, the Latchkey API's and those of "
            <a href="/admin/apis">"your APIs"</a>
            ". An app asks for them at sign-in or with client credentials; a token holds only what both the app and the user (or, for an app acting on its own behalf, its assignments) allow."
        </p>
        <ListSearch base=BASE label="Find a scope"/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match scopes.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(list) if list.items.is_empty() => view! {
                        <p class="empty">"No scope matches “" {use_list_query()().q} "”."</p>
                    }.into_any(),
                    Ok(list) => {
                        let sort = list.sort.clone();
                        let pages = list.pages();
                        let (total, page) = (list.total, list.page);
                        let rows = list.items.into_iter().map(|s| {
                            let kinds = s.app_kinds.iter().map(|k| view! { <li>{kind_label(k)}</li> }).collect_view();
                            let description = if s.description.is_empty() { "—".to_string() } else { s.description.clone() };
                            view! {
                                <tr data-testid="scope-row">
                                    <td data-label="Scope">
                                        <code>{s.name.clone()}</code>
                                        {(s.display_name != s.name).then(|| view! { <br/><span class="title">{s.display_name.clone()}</span> })}
                                        {s.sensitive.then(|| view! { " " <span class="badge warn">"Sensitive"</span> })}
                                    </td>
                                    <td data-label="Description">{description}</td>
                                    <td data-label="Product">{s.product.clone()}</td>
                                    <td data-label="App kinds"><ul class="kinds">{kinds}</ul></td>
                                </tr>
                            }
                        }).collect_view();
                        let th = |label: &'static str, key: &'static str| view! { <SortHeader base=BASE label key sort=sort.clone()/> };
                        view! {
                            <table class="list scopes-catalogue">
                                <caption class="visually-hidden">"The scopes apps of the organization may be allowed"</caption>
                                <thead><tr>{th("Scope", "name")}<th scope="col">"Description"</th>{th("Product", "product")}<th scope="col">"App kinds"</th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                            <Pager base=BASE noun="scope" total page pages sort/>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
