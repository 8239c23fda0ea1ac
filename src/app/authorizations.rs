//! Authorizations: an app's page lists who authorized it, and an admin withdraws it from one
//! user or everyone; every user's "My authorized apps" lists theirs, each with a Revoke.

use leptos::form::ActionForm;
use leptos::prelude::*;

use super::components::{
    Confirm, Csrf, Done, ErrorPage, FormError, Need, Page, format_time, last_used,
};
use super::error::AppError;
use super::list::{ListSearch, Pager, SortHeader, use_list_query};
use super::session::{form_error, succeeded};
use crate::domain::listing::Listed;
use crate::domain::views::AuthorizationView;

#[server(prefix = "/api", endpoint = "app_authorizations")]
pub async fn app_authorizations(
    client_id: String,
    #[server(default)] q: String,
    #[server(default)] sort: String,
    #[server(default)] page: String,
) -> Result<Listed<AuthorizationView>, AppError> {
    use crate::app::server as portal;
    let list = crate::domain::listing::ListQuery { q, sort, page };
    portal::admin_read(async |state, me| {
        crate::services::authorizations::of_app(&state.db, &me.principal, &client_id)
            .await
            .map(|all| crate::domain::listing::apply(all, &list))
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "revoke_app_authorization")]
pub async fn revoke_app_authorization(
    csrf: String,
    client_id: String,
    #[server(default)] user_id: String,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        let user = (!user_id.is_empty()).then_some(user_id.as_str());
        crate::services::authorizations::revoke_for_app(&state.db, &me.principal, &client_id, user)
            .await
            .map(|_| ())
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "my_authorizations")]
pub async fn my_authorizations() -> Result<Vec<AuthorizationView>, AppError> {
    use crate::app::server as portal;
    let result = async {
        let (state, _, me) = portal::require_signed_in().await?;
        crate::services::authorizations::of_user(&state.db, &me.principal)
            .await
            .map_err(portal::service_error)
    }
    .await;
    portal::finish(result)
}

#[server(prefix = "/api", endpoint = "revoke_my_authorization")]
pub async fn revoke_my_authorization(csrf: String, client_id: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    let result = async {
        let (state, session, me) = portal::require_signed_in().await?;
        portal::check_csrf(&session, &csrf).await?;
        crate::services::authorizations::revoke_mine(&state.db, &me.principal, &client_id)
            .await
            .map(|_| ())
            .map_err(portal::service_error)
    }
    .await;
    portal::finish(result)
}

/// Who authorized an app (the Authorizations tab of its page): search, sort, revoke one
/// or everyone.
#[component]
pub fn AppAuthorizations(
    client_id: String,
    revoke: ServerAction<RevokeAppAuthorization>,
    list: Resource<Result<Option<Listed<AuthorizationView>>, AppError>>,
) -> impl IntoView {
    let error = form_error(revoke.value());
    let base = format!("/admin/apps/{client_id}/authorizations");
    let query = use_list_query();
    view! {
        <p class="hint">"Users who authorized this app. Revoking ends their refresh tokens at once; their access tokens turn inactive at introspection and at our API."</p>
        <ListSearch base=base.clone() label="Find an authorization"/>
        <FormError error/>
        <Done done=succeeded(revoke.value()) text="Access revoked."/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let client_id = client_id.clone();
                let base = base.clone();
                Suspend::new(async move {
                    match list.await {
                        Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                        Ok(None) => ().into_any(),
                        Ok(Some(l)) if l.items.is_empty() && query().q.is_empty() => view! {
                            <p class="empty">"No one has authorized this app yet. Users appear here once they sign in through it and allow access."</p>
                        }.into_any(),
                        Ok(Some(l)) if l.items.is_empty() => view! {
                            <p class="empty">"No authorization matches “" {query().q} "”."</p>
                        }.into_any(),
                        Ok(Some(l)) => {
                            let sort = l.sort.clone();
                            let pages = l.pages();
                            let (total, page) = (l.total, l.page);
                            let rows = l.items.into_iter().map(|a| {
                                let client_id = client_id.clone();
                                view! {
                                    <tr>
                                        <td data-label="User">{a.user_email.clone()}</td>
                                        <td data-label="Scopes">{a.scopes.join(" ")}</td>
                                        <td data-label="Authorized">{format_time(a.granted_at)}</td>
                                        <td data-label="Last used">{last_used(a.last_used_at)}</td>
                                        <td>
                                            <ActionForm action=revoke attr:class="inline">
                                                <Csrf/>
                                                <input type="hidden" name="client_id" value=client_id/>
                                                <input type="hidden" name="user_id" value=a.user_id/>
                                                <Confirm label="Revoke" small=true what=format!("Revoke {}'s authorization? The app's refresh tokens for them end at once.", a.user_email)/>
                                            </ActionForm>
                                        </td>
                                    </tr>
                                }
                            }).collect_view();
                            let th = |label: &'static str, key: &'static str| view! { <SortHeader base=base.clone() label key sort=sort.clone()/> };
                            view! {
                                <table class="list">
                                    <caption class="visually-hidden">"Users who authorized this app"</caption>
                                    <thead><tr>{th("User", "user")}<th scope="col">"Scopes"</th>{th("Authorized", "granted")}{th("Last used", "used")}<th scope="col"><span class="visually-hidden">"Revoke"</span></th></tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                                <Pager base=base.clone() noun="authorization" total page pages sort=sort.clone()/>
                                <ActionForm action=revoke>
                                    <Csrf/>
                                    <input type="hidden" name="client_id" value=client_id/>
                                    <Confirm label="Revoke everyone" what="Revoke every user's authorization of this app? All its refresh tokens end at once; each user must consent again."/>
                                </ActionForm>
                            }.into_any()
                        }
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
pub fn MyAppsPage() -> impl IntoView {
    let revoke = ServerAction::<RevokeMyAuthorization>::new();
    let list = Resource::new(move || revoke.version().get(), |_| my_authorizations());
    view! {
        <Page title="My authorized apps" need=Need::SignedIn>
            <MyApps revoke list/>
        </Page>
    }
}

#[component]
fn MyApps(
    revoke: ServerAction<RevokeMyAuthorization>,
    list: Resource<Result<Vec<AuthorizationView>, AppError>>,
) -> impl IntoView {
    let error = form_error(revoke.value());
    view! {
        <h1>"My authorized apps"</h1>
        <p class="hint">"Apps you allowed to act for you. Revoke one and it loses its access at once."</p>
        <FormError error/>
        <Done done=succeeded(revoke.value()) text="Access revoked."/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match list.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(items) if items.is_empty() => view! { <p class="empty">"You have not authorized any app."</p> }.into_any(),
                    Ok(items) => {
                        let rows = items.into_iter().map(|a| view! {
                            <tr>
                                <td data-label="App">{a.app_name.clone()}</td>
                                <td data-label="Scopes">{a.scopes.join(" ")}</td>
                                <td data-label="Authorized">{format_time(a.granted_at)}</td>
                                <td data-label="Last used">{last_used(a.last_used_at)}</td>
                                <td>
                                    <ActionForm action=revoke attr:class="inline">
                                        <Csrf/>
                                        <input type="hidden" name="client_id" value=a.client_id/>
                                        <Confirm label="Revoke" small=true what=format!("Revoke the access of {} to your account? It loses it at once.", a.app_name)/>
                                    </ActionForm>
                                </td>
                            </tr>
                        }).collect_view();
                        view! {
                            <table class="list">
                                <thead><tr><th>"App"</th><th>"Scopes"</th><th>"Authorized"</th><th>"Last used"</th><th></th></tr></thead>
                                <tbody>{rows}</tbody>
                            </table>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
