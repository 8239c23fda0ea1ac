//! An own-behalf app's "Scopes in context" tab: its scope assignments (scope, business
//! group, environment or the whole group) and Anypoint's Add Scopes dialog in three steps
//! (the scopes, then the business groups, then the environments of each), one form with a
//! fieldset per step, so it works without JavaScript; hydrated, the third step shows only
//! the groups chosen in the second.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::app::components::{Confirm, Csrf, Done, ErrorPage, FormError, invalid};
use crate::app::error::AppError;
use crate::app::session::{form_error, kept, kept_all, succeeded};
use crate::domain::groups::{AddScopes, AppContexts, AssignGroup, PlaceName, mode_key};

#[server(prefix = "/api", endpoint = "app_contexts")]
pub async fn get_app_contexts(client_id: String) -> Result<AppContexts, AppError> {
    use crate::app::server as portal;
    portal::member_read(async |state, me| {
        crate::services::contexts::app_contexts(&state.db, &me.principal, &client_id)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "add_app_scopes")]
pub async fn add_app_scopes(
    csrf: String,
    client_id: String,
    #[server(default)] add: AddScopes,
) -> Result<usize, AppError> {
    use crate::app::server as portal;
    portal::member_write(&csrf, async |state, me| {
        crate::services::contexts::add_assignments(&state.db, &me.principal, &client_id, &add)
            .await
            .map(|l| l.len())
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "remove_app_scope")]
pub async fn remove_app_scope(
    csrf: String,
    client_id: String,
    scope: String,
    business_group: String,
    #[server(default)] environment: String,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::member_write(&csrf, async |state, me| {
        let gone = crate::services::contexts::Assignment {
            scope,
            business_group,
            environment: (!environment.is_empty()).then_some(environment),
        };
        crate::services::contexts::remove_assignment(&state.db, &me.principal, &client_id, &gone)
            .await
            .map(|_| ())
            .map_err(portal::service_error)
    })
    .await
}

fn place_text(p: &PlaceName) -> (String, String) {
    (
        p.group_name.clone(),
        p.env_name
            .clone()
            .unwrap_or_else(|| "Whole group".to_string()),
    )
}

/// The tab's body: reads its own data (only this tab does).
#[component]
pub fn ScopesInContext(client_id: String) -> impl IntoView {
    let add = ServerAction::<AddAppScopes>::new();
    let remove = ServerAction::<RemoveAppScope>::new();
    let cid = client_id.clone();
    let data = Resource::new(
        move || (cid.clone(), add.version().get(), remove.version().get()),
        |(id, ..)| get_app_contexts(id),
    );
    let add_error = form_error(add.value());
    let remove_error = form_error(remove.value());
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let client_id = client_id.clone();
                Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                        Ok(c) if !c.own_behalf => view! {
                            <p class="notice">"Scopes are assigned in context to apps acting on their own behalf. An app acting for users holds, in each place, what each user may do there."</p>
                        }.into_any(),
                        Ok(c) => view! {
                            <Assignments c=c.clone() client_id=client_id.clone() remove remove_error/>
                            <AddScopesDialog c client_id add add_error/>
                        }.into_any(),
                    }
                })
            }}
        </Suspense>
    }
}

#[component]
fn Assignments(
    c: AppContexts,
    client_id: String,
    remove: ServerAction<RemoveAppScope>,
    remove_error: Signal<Option<AppError>>,
) -> impl IntoView {
    let (home_group, home_env) = place_text(&c.home);
    let rows = c
        .assignments
        .iter()
        .map(|a| {
            let (group, env) = place_text(&a.place);
            let client_id = client_id.clone();
            let scope = a.scope.clone();
            let group_id = a.place.group_id.clone();
            let env_id = a.place.env_id.clone().unwrap_or_default();
            let what = format!(
                "Remove {} in {} ({})? The app's tokens stop holding it there at once.",
                a.scope, group, env
            );
            view! {
                <tr data-testid="assignment-row">
                    <td data-label="Scope"><code>{a.scope.clone()}</code></td>
                    <td data-label="Business group">{group}</td>
                    <td data-label="Environment">{env}</td>
                    <td>
                        <ActionForm action=remove attr:class="inline">
                            <Csrf/>
                            <input type="hidden" name="client_id" value=client_id/>
                            <input type="hidden" name="scope" value=scope/>
                            <input type="hidden" name="business_group" value=group_id/>
                            <input type="hidden" name="environment" value=env_id/>
                            <Confirm label="Remove" small=true what/>
                        </ActionForm>
                    </td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <section class="panel">
            <h2>"Scopes in context"</h2>
            <p class="hint">"The app lives in " <strong>{home_group}</strong> " (" {home_env} "). Each scope holds only where it is assigned: in a group as a whole (its environments and the groups below), or in one environment."</p>
            <FormError error=remove_error/>
            <Done done=succeeded(remove.value()) text="Assignment removed."/>
            {if c.assignments.is_empty() {
                view! { <p class="empty">"No scope is assigned: the app's tokens hold nothing anywhere. Add scopes below."</p> }.into_any()
            } else {
                view! {
                    <table class="list assignments">
                        <caption class="visually-hidden">"The app's scope assignments"</caption>
                        <thead><tr><th scope="col">"Scope"</th><th scope="col">"Business group"</th><th scope="col">"Environment"</th><th scope="col"><span class="visually-hidden">"Remove"</span></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                }.into_any()
            }}
        </section>
    }
}

#[component]
fn AddScopesDialog(
    c: AppContexts,
    client_id: String,
    add: ServerAction<AddAppScopes>,
    add_error: Signal<Option<AppError>>,
) -> impl IntoView {
    let kept_scopes = kept_all("add[scopes][]").unwrap_or_default();
    let kept_groups = kept_all("add[groups][]").unwrap_or_default();
    let kept_envs = kept_all("add[envs][]").unwrap_or_default();
    // The groups ticked in step 2 (hydrated, step 3 shows only theirs).
    let chosen = RwSignal::new(kept_groups.clone());
    let live = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| live.set(true));
    let scopes = c
        .scopes
        .iter()
        .map(|s| {
            let checked = kept_scopes.contains(s);
            view! {
                <label class="check"><input type="checkbox" name="add[scopes][]" value=s.clone() checked=checked/> " " <code>{s.clone()}</code></label>
            }
        })
        .collect_view();
    let groups = c
        .groups
        .iter()
        .map(|g| {
            let id = g.id.clone();
            let checked = kept_groups.contains(&g.id);
            let toggle = move |ev: leptos::ev::Event| {
                let on = event_target_checked(&ev);
                let id = id.clone();
                chosen.update(|c| {
                    c.retain(|x| *x != id);
                    if on {
                        c.push(id);
                    }
                });
            };
            view! {
                <label class=format!("check group-name depth-{}", g.depth.min(6))>
                    <input type="checkbox" name="add[groups][]" value=g.id.clone() checked=checked on:change=toggle/>
                    " " {g.name.clone()}
                </label>
            }
        })
        .collect_view();
    let envs = c
        .groups
        .iter()
        .map(|g| env_step(g, &kept_envs, chosen, live))
        .collect_view();
    let no_scopes = c.scopes.is_empty();
    view! {
        <section class="panel add-scopes">
            <h2>"Add scopes"</h2>
            <FormError error=add_error/>
            {move || add_error.get().map(|e| match e {
                AppError::Invalid(errors) => view! {
                    <ul class="errors field-error">{errors.0.into_iter().map(|f| view! { <li>{f.message}</li> }).collect_view()}</ul>
                }.into_any(),
                _ => ().into_any(),
            })}
            <Done done=succeeded(add.value()) text="Scopes added."/>
            {if no_scopes {
                view! { <p class="empty">"The app is allowed no scope: allow some in its Settings first."</p> }.into_any()
            } else if c.groups.is_empty() {
                view! { <p class="empty">"You may assign nowhere this app lives."</p> }.into_any()
            } else {
                view! {
                    <ActionForm action=add attr:class="add-scopes-form">
                        <Csrf/>
                        <input type="hidden" name="client_id" value=client_id.clone()/>
                        <fieldset class:invalid=move || invalid(add_error, "scopes")().is_some()>
                            <legend>"1. Scopes"</legend>
                            <p class="hint">"The app's scopes to assign."</p>
                            {scopes}
                        </fieldset>
                        <fieldset class:invalid=move || invalid(add_error, "groups")().is_some()>
                            <legend>"2. Business groups"</legend>
                            <p class="hint">"Where they hold: groups where the app lives or below it, that you manage."</p>
                            {groups}
                        </fieldset>
                        <fieldset class:invalid=move || invalid(add_error, "environments")().is_some()>
                            <legend>"3. Environments"</legend>
                            <p class="hint">"For each chosen group: the whole group, or only some of its environments."</p>
                            {envs}
                        </fieldset>
                        <button type="submit" class="primary">"Add scopes"</button>
                    </ActionForm>
                }.into_any()
            }}
        </section>
    }
}

/// Step 3 for one group: the whole group, or some of its environments.
fn env_step(
    g: &AssignGroup,
    kept_envs: &[String],
    chosen: RwSignal<Vec<String>>,
    live: RwSignal<bool>,
) -> impl IntoView + use<> {
    let id = g.id.clone();
    let mode_name = format!("add[modes][{}]", mode_key(&g.id));
    let kept_mode = kept(&mode_name);
    let some = kept_mode.as_deref() == Some("some") || !g.whole;
    let hidden = {
        let id = id.clone();
        move || live.get() && !chosen.with(|c| c.contains(&id))
    };
    let envs = g
        .environments
        .iter()
        .map(|e| {
            let value = format!("{}/{}", g.id, e.id);
            let checked = kept_envs.contains(&value);
            view! {
                <label class="check"><input type="checkbox" name="add[envs][]" value=value checked=checked/> " " {e.name.clone()}</label>
            }
        })
        .collect_view();
    view! {
        <fieldset class="env-step" data-group=id hidden=hidden>
            <legend>{g.name.clone()}</legend>
            {g.whole.then(|| view! {
                <label class="check"><input type="radio" name=mode_name.clone() value="all" checked=!some/> " The whole group (all its environments and the groups below)"</label>
            })}
            <label class="check"><input type="radio" name=mode_name value="some" checked=some/> " Only these environments:"</label>
            <div class="env-choices">{envs}</div>
        </fieldset>
    }
}
