//! External apps: the organization's policy (unrestricted or restricted), the apps of other
//! organizations it approved and with which scopes, and the approval form a blocked user's
//! "can't authorize" page links to (`?client_id=`).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;
use serde::{Deserialize, Serialize};

use crate::app::components::{
    Confirm, Csrf, Done, ErrorPage, FieldError, FormError, Need, Page, format_time,
};
use crate::app::error::AppError;
use crate::app::session::{form_error, succeeded};
use crate::domain::policy::AppPolicy;
use crate::domain::views::{ApprovalCandidate, PolicyView};

pub use crate::domain::paths::EXTERNAL_APPS_PATH as PATH;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ExternalAppsData {
    pub policy: PolicyView,
    /// The app named by `?client_id=`, when it is one this organization may approve.
    pub candidate: Option<ApprovalCandidate>,
    /// `?client_id=` named no app that can be approved here.
    pub unknown: bool,
}

#[server(prefix = "/api", endpoint = "get_external_apps")]
pub async fn get_external_apps(
    #[server(default)] client_id: String,
) -> Result<ExternalAppsData, AppError> {
    use crate::app::server as portal;
    use crate::services::{Error, policy};
    portal::admin_read(async |state, me| {
        let view = policy::get(&state.db, &me.principal)
            .await
            .map_err(portal::service_error)?;
        let (candidate, unknown) = if client_id.is_empty() {
            (None, false)
        } else {
            match policy::candidate(&state.db, &me.principal, &client_id).await {
                Ok(c) => (Some(c), false),
                Err(Error::NotFound) => (None, true),
                Err(e) => return Err(portal::service_error(e)),
            }
        };
        Ok(ExternalAppsData {
            policy: view,
            candidate,
            unknown,
        })
    })
    .await
}

#[server(prefix = "/api", endpoint = "set_app_policy")]
pub async fn set_app_policy(csrf: String, policy: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::policy::set(&state.db, &me.principal, &policy)
            .await
            .map(|_| ())
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "approve_app")]
pub async fn approve_app(
    csrf: String,
    client_id: String,
    #[server(default)] scopes: Vec<String>,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::policy::approve(&state.db, &me.principal, &client_id, &scopes)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "remove_approval")]
pub async fn remove_approval(csrf: String, client_id: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::policy::remove(&state.db, &me.principal, &client_id)
            .await
            .map(|_| ())
            .map_err(portal::service_error)
    })
    .await
}

#[component]
pub fn ExternalAppsPage() -> impl IntoView {
    let query = use_query_map();
    let client_id = move || query.with(|m| m.get("client_id").unwrap_or_default());
    let set = ServerAction::<SetAppPolicy>::new();
    let approve = ServerAction::<ApproveApp>::new();
    let remove = ServerAction::<RemoveApproval>::new();
    let data = Resource::new(
        move || {
            (
                client_id(),
                set.version().get(),
                approve.version().get(),
                remove.version().get(),
            )
        },
        |(id, ..)| get_external_apps(id),
    );
    view! {
        <Page title="External apps" need=Need::Admin>
            <ExternalApps set approve remove data/>
        </Page>
    }
}

#[component]
fn ExternalApps(
    set: ServerAction<SetAppPolicy>,
    approve: ServerAction<ApproveApp>,
    remove: ServerAction<RemoveApproval>,
    data: Resource<Result<ExternalAppsData, AppError>>,
) -> impl IntoView {
    let set_error = form_error(set.value());
    let approve_error = form_error(approve.value());
    let remove_error = form_error(remove.value());
    view! {
        <h1>"External apps"</h1>
        <p class="hint">"Apps of other organizations that your users may authorize. Apps of your own organization are not affected."</p>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let d = match data.await {
                    Ok(d) => d,
                    Err(e) => return view! { <ErrorPage error=e/> }.into_any(),
                };
                let current = d.policy.policy.clone();
                let options = AppPolicy::ALL.iter().map(|p| {
                    let value = p.as_str();
                    view! {
                        <label class="choice">
                            <input type="radio" name="policy" value=value checked=current == value/>
                            {p.label()}
                        </label>
                    }
                }).collect_view();
                let rows = d.policy.approved.iter().cloned().map(|a| view! {
                    <tr>
                        <td data-label="App">{a.app_name.clone()}</td>
                        <td data-label="Organization">{a.app_org_name}</td>
                        <td data-label="Scopes">{a.scopes.join(" ")}</td>
                        <td data-label="Approved by">{a.approved_by.unwrap_or_else(|| "already authorized when restricted".into())}</td>
                        <td data-label="When">{format_time(a.approved_at)}</td>
                        <td>
                            <ActionForm action=remove attr:class="inline">
                                <Csrf/>
                                <input type="hidden" name="client_id" value=a.client_id/>
                                <Confirm label="Remove" small=true what=format!("Remove the approval of {}? Your users can no longer authorize it, and the access they gave it ends.", a.app_name)/>
                            </ActionForm>
                        </td>
                    </tr>
                }).collect_view();
                let approved_empty = d.policy.approved.is_empty();
                view! {
                    {d.unknown.then(|| view! {
                        <p class="error" role="alert">"No app of another organization, open to everyone, has that client id."</p>
                    })}
                    {d.candidate.map(|c| view! { <Approve c approve error=approve_error/> })}
                    <section class="panel">
                        <h2>"Policy"</h2>
                        <FormError error=set_error/>
                        <Done done=succeeded(set.value()) text="Policy saved."/>
                        <ActionForm action=set attr:class="policy">
                            <Csrf/>
                            {options}
                            <FieldError error=set_error field="app_policy"/>
                            <p class="hint">"Switching to restricted approves the external apps your users already authorized, with the scopes they granted."</p>
                            <button type="submit" class="primary">"Save policy"</button>
                        </ActionForm>
                    </section>
                    <section class="panel">
                        <h2>"Approved apps"</h2>
                        <FormError error=remove_error/>
                        <Done done=succeeded(remove.value()) text="Approval removed."/>
                        {if approved_empty {
                            view! { <p class="empty">"No external app is approved."</p> }.into_any()
                        } else {
                            view! {
                                <table class="list approved">
                                    <thead><tr><th>"App"</th><th>"Organization"</th><th>"Scopes"</th><th>"Approved by"</th><th>"When"</th><th></th></tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            }.into_any()
                        }}
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}

/// The approval form: the app, its organization, and a checkbox per scope it may ask for.
#[component]
fn Approve(
    c: ApprovalCandidate,
    approve: ServerAction<ApproveApp>,
    error: Signal<Option<AppError>>,
) -> impl IntoView {
    let approved = c.approved.clone();
    let boxes = c
        .scopes
        .iter()
        .cloned()
        .map(|(scope, words)| {
            let checked = approved.as_ref().is_none_or(|a| a.contains(&scope));
            view! {
                <label class="choice">
                    <input type="checkbox" name="scopes[]" value=scope.clone() checked=checked/>
                    <code>{scope}</code> " — " {words}
                </label>
            }
        })
        .collect_view();
    view! {
        <section class="panel approve">
            <h2>{format!("Approve {}", c.app_name)}</h2>
            <p>
                "An app of " <strong>{c.app_org_name}</strong>
                {c.website_url.map(|w| view! { " (" <a href=w.clone() rel="noopener noreferrer">{w.clone()}</a> ")" })}
                {if c.approved.is_some() { ". It is approved now; change its scopes below." } else { ". Your users cannot authorize it until you approve it." }}
            </p>
            <FormError error/>
            <ActionForm action=approve>
                <Csrf/>
                <input type="hidden" name="client_id" value=c.client_id/>
                {boxes}
                <FieldError error field="scopes"/>
                <button type="submit" class="primary">"Approve with these scopes"</button>
            </ActionForm>
        </section>
    }
}
