//! The organization's own APIs (resource servers): their identifier, which tokens carry as
//! audience, and the scopes they define, which apps may then be allowed.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::app::components::{
    Confirm, Csrf, Done, ErrorPage, FieldError, FormError, Need, Page, clear_on_success,
    format_time, invalid,
};
use crate::app::error::AppError;
use crate::app::list::{ListSearch, Pager, SortHeader, use_list_query};
use crate::app::session::{form_error, kept, succeeded};
use crate::domain::api::ApiInput;
use crate::domain::listing::Listed;
use crate::domain::views::ApiView;

#[server(prefix = "/api", endpoint = "list_apis")]
pub async fn list_apis(
    #[server(default)] q: String,
    #[server(default)] sort: String,
    #[server(default)] page: String,
) -> Result<Listed<ApiView>, AppError> {
    use crate::app::server as portal;
    let list = crate::domain::listing::ListQuery { q, sort, page };
    portal::admin_read(async |state, me| {
        crate::services::apis::page(&state.db, &me.principal, &list)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "create_api")]
pub async fn create_api(csrf: String, api: ApiInput) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::apis::create(&state.db, &me.principal, &state.settings.issuer, &api)
            .await
            .map(|_| ())
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "delete_api")]
pub async fn delete_api(csrf: String, id: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::apis::delete(&state.db, &me.principal, &id)
            .await
            .map_err(portal::service_error)
    })
    .await
}

const BASE: &str = "/admin/apis";

#[component]
pub fn ApisPage() -> impl IntoView {
    let create = ServerAction::<CreateApi>::new();
    let delete = ServerAction::<DeleteApi>::new();
    let list = use_list_query();
    let apis = Resource::new(
        move || (list(), create.version().get(), delete.version().get()),
        |(l, ..)| list_apis(l.q, l.sort, l.page),
    );
    view! {
        <Page title="APIs" need=Need::Admin>
            <Apis create delete apis/>
        </Page>
    }
}

#[component]
fn Apis(
    create: ServerAction<CreateApi>,
    delete: ServerAction<DeleteApi>,
    apis: Resource<Result<Listed<ApiView>, AppError>>,
) -> impl IntoView {
    let create_error = form_error(create.value());
    let create_form = NodeRef::new();
    clear_on_success(succeeded(create.value()), create_form);
    let delete_error = form_error(delete.value());
    view! {
        <h1>"APIs"</h1>
        <p class="hint">"Your own APIs. A token asked for with resource=<identifier>, or carrying an API's scopes, names the API in its audience; your API checks it against our JWKS or with introspection."</p>
        <ListSearch base=BASE label="Find an API"/>
        <FormError error=delete_error/>
        <Done done=succeeded(delete.value()) text="API deleted."/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match apis.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(list) if list.items.is_empty() && use_list_query()().q.is_empty() => view! {
                        <p class="empty">"No API yet. Register one below to give apps scopes of your own and tokens with your API as their audience."</p>
                    }.into_any(),
                    Ok(list) if list.items.is_empty() => view! {
                        <p class="empty">"No API matches “" {use_list_query()().q} "”."</p>
                    }.into_any(),
                    Ok(list) => {
                        let sort = list.sort.clone();
                        let pages = list.pages();
                        let (total, page) = (list.total, list.page);
                        let rows = list.items.into_iter().map(|a| {
                            let scopes = a.scopes.iter().map(|(n, w)| view! { <li><code>{n.clone()}</code> " " {w.clone()}</li> }).collect_view();
                            view! {
                                <tr>
                                    <td data-label="Name">{a.name.clone()}</td>
                                    <td data-label="Identifier (audience)"><code>{a.identifier}</code></td>
                                    <td data-label="Scopes"><ul class="scopes">{scopes}</ul></td>
                                    <td data-label="Created">{format_time(a.created_at)}</td>
                                    <td>
                                        <ActionForm action=delete attr:class="inline">
                                            <Csrf/>
                                            <input type="hidden" name="id" value=a.id/>
                                            <Confirm label="Delete" small=true what=format!("Delete the API {}? Apps can no longer be given its scopes, and tokens for it stop being issued.", a.name)/>
                                        </ActionForm>
                                    </td>
                                </tr>
                            }
                        }).collect_view();
                        let th = |label: &'static str, key: &'static str| view! { <SortHeader base=BASE label key sort=sort.clone()/> };
                        view! {
                            <table class="list apis">
                                <caption class="visually-hidden">"The organization's APIs"</caption>
                                <thead><tr>{th("Name", "name")}{th("Identifier (audience)", "identifier")}<th scope="col">"Scopes"</th>{th("Created", "created")}<th scope="col"><span class="visually-hidden">"Delete"</span></th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                            <Pager base=BASE noun="API" total page pages sort/>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
        <section class="panel">
            <h2>"Register an API"</h2>
            <FormError error=create_error/>
            <Done done=succeeded(create.value()) text="API registered."/>
            <ActionForm action=create node_ref=create_form attr:class="api-form">
                <Csrf/>
                <label>"Name" <input type="text" name="api[name]" value=kept("api[name]") aria-invalid=invalid(create_error, "name") required maxlength="100"/>
                    <FieldError error=create_error field="name"/></label>
                <label>"Identifier" <input type="text" name="api[identifier]" value=kept("api[identifier]") aria-invalid=invalid(create_error, "identifier") required maxlength="200" placeholder="https://api.example.com/orders"/>
                    <FieldError error=create_error field="identifier"/></label>
                <label>"Scopes (one per line: scope, then what it allows)"
                    <textarea name="api[scopes]" aria-invalid=invalid(create_error, "scopes") rows="4" placeholder="orders:read Read your orders\norders:write Place orders">{kept("api[scopes]")}</textarea>
                    <FieldError error=create_error field="scopes"/></label>
                <button type="submit" class="primary">"Register API"</button>
            </ActionForm>
        </section>
    }
}
