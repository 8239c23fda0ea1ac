//! The organization's own APIs (resource servers): their identifier, which tokens carry as
//! audience, and the scopes they define, which apps may then be allowed.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::app::components::{
    Confirm, Csrf, Done, ErrorPage, FieldError, FormError, Need, Page, format_time,
};
use crate::app::error::AppError;
use crate::app::session::{form_error, succeeded};
use crate::domain::api::ApiInput;
use crate::domain::views::ApiView;

#[server(prefix = "/api", endpoint = "list_apis")]
pub async fn list_apis() -> Result<Vec<ApiView>, AppError> {
    use crate::app::server as portal;
    portal::admin_read(async |state, me| {
        crate::services::apis::list(&state.db, &me.principal)
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

#[component]
pub fn ApisPage() -> impl IntoView {
    let create = ServerAction::<CreateApi>::new();
    let delete = ServerAction::<DeleteApi>::new();
    let apis = Resource::new(
        move || (create.version().get(), delete.version().get()),
        |_| list_apis(),
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
    apis: Resource<Result<Vec<ApiView>, AppError>>,
) -> impl IntoView {
    let create_error = form_error(create.value());
    let delete_error = form_error(delete.value());
    view! {
        <h1>"APIs"</h1>
        <p class="hint">"Your own APIs. A token asked for with resource=<identifier>, or carrying an API's scopes, names the API in its audience; your API checks it against our JWKS or with introspection."</p>
        <FormError error=delete_error/>
        <Done done=succeeded(delete.value()) text="API deleted."/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match apis.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! { <p class="empty">"No API yet."</p> }.into_any(),
                    Ok(list) => {
                        let rows = list.into_iter().map(|a| {
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
                        view! {
                            <table class="list apis">
                                <thead><tr><th>"Name"</th><th>"Identifier (audience)"</th><th>"Scopes"</th><th>"Created"</th><th></th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
        <section class="panel">
            <h2>"Register an API"</h2>
            <FormError error=create_error/>
            <Done done=succeeded(create.value()) text="API registered."/>
            <ActionForm action=create attr:class="api-form">
                <Csrf/>
                <label>"Name" <input type="text" name="api[name]" required maxlength="100"/>
                    <FieldError error=create_error field="name"/></label>
                <label>"Identifier" <input type="text" name="api[identifier]" required maxlength="200" placeholder="https://api.example.com/orders"/>
                    <FieldError error=create_error field="identifier"/></label>
                <label>"Scopes (one per line: scope, then what it allows)"
                    <textarea name="api[scopes]" rows="4" placeholder="orders:read Read your orders\norders:write Place orders"></textarea>
                    <FieldError error=create_error field="scopes"/></label>
                <button type="submit" class="primary">"Register API"</button>
            </ActionForm>
        </section>
    }
}
