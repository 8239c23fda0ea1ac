//! Business groups (Anypoint's): the organization's tree with each group's environments and
//! apps, a group's page (rename, move, delete, environments, roles). Anyone signed in may
//! open them; the services show each principal the groups it administers (an organization
//! admin all of them, a group's admin their subtree) and refuse the rest.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use crate::app::components::{
    Breadcrumbs, Confirm, Csrf, Done, ErrorPage, FieldError, FormError, Need, Page,
    clear_on_success, count, invalid,
};
use crate::app::error::AppError;
use crate::app::session::{form_error, kept, succeeded};
use crate::domain::Role;
use crate::domain::context::EnvKind;
use crate::domain::groups::{GroupDetail, GroupEntry};

#[server(prefix = "/api", endpoint = "list_groups")]
pub async fn list_groups() -> Result<Vec<GroupEntry>, AppError> {
    use crate::app::server as portal;
    portal::member_read(async |state, me| {
        crate::services::contexts::administered(&state.db, &me.principal)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "create_group")]
pub async fn create_group(
    csrf: String,
    name: String,
    #[server(default)] parent: String,
) -> Result<String, AppError> {
    use crate::app::server as portal;
    portal::member_write(&csrf, async |state, me| {
        let input = crate::services::contexts::GroupInput {
            name: Some(name),
            parent_id: (!parent.is_empty()).then_some(parent),
        };
        crate::services::contexts::create(&state.db, &me.principal, &input)
            .await
            .map(|g| g.id)
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "get_group")]
pub async fn get_group(id: String) -> Result<GroupDetail, AppError> {
    use crate::app::server as portal;
    portal::member_read(async |state, me| {
        crate::services::contexts::detail(&state.db, &me.principal, &id)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "update_group")]
pub async fn update_group(
    csrf: String,
    id: String,
    group_name: String,
    #[server(default)] group_parent: String,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::member_write(&csrf, async |state, me| {
        let input = crate::services::contexts::GroupInput {
            name: Some(group_name),
            parent_id: (!group_parent.is_empty()).then_some(group_parent),
        };
        crate::services::contexts::update(&state.db, &me.principal, &id, &input)
            .await
            .map(|_| ())
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "delete_group")]
pub async fn delete_group(csrf: String, id: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::member_write(&csrf, async |state, me| {
        crate::services::contexts::delete(&state.db, &me.principal, &id)
            .await
            .map_err(portal::service_error)?;
        leptos_axum::redirect("/admin/groups?deleted=1");
        Ok(())
    })
    .await
}

#[server(prefix = "/api", endpoint = "add_environment")]
pub async fn add_environment(
    csrf: String,
    group: String,
    env_name: String,
    env_type: String,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::member_write(&csrf, async |state, me| {
        let input = crate::services::contexts::EnvInput {
            name: env_name,
            kind: env_type,
        };
        crate::services::contexts::create_env(&state.db, &me.principal, &group, &input)
            .await
            .map(|_| ())
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "delete_environment")]
pub async fn delete_environment(csrf: String, group: String, env: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::member_write(&csrf, async |state, me| {
        crate::services::contexts::delete_env(&state.db, &me.principal, &group, &env)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "grant_group_role")]
pub async fn grant_group_role(
    csrf: String,
    group: String,
    user: String,
    role: String,
    #[server(default)] environment: String,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::member_write(&csrf, async |state, me| {
        let input = crate::services::contexts::RoleInput {
            role,
            environment: (!environment.is_empty()).then_some(environment),
        };
        crate::services::contexts::set_role_by_email(
            &state.db,
            &me.principal,
            &group,
            &user,
            &input,
        )
        .await
        .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "remove_group_role")]
pub async fn remove_group_role(
    csrf: String,
    group: String,
    user_id: String,
    #[server(default)] environment: String,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::member_write(&csrf, async |state, me| {
        let env = (!environment.is_empty()).then_some(environment.as_str());
        crate::services::contexts::remove_role(&state.db, &me.principal, &group, &user_id, env)
            .await
            .map_err(portal::service_error)
    })
    .await
}

pub fn env_kind_label(kind: EnvKind) -> &'static str {
    match kind {
        EnvKind::Production => "Production",
        EnvKind::Sandbox => "Sandbox",
        EnvKind::Design => "Design",
    }
}

/// A group's name in a list of options, indented by its depth.
pub fn indented(g: &GroupEntry) -> String {
    format!("{}{}", "\u{2003}".repeat(g.depth), g.name)
}

fn depth_class(depth: usize) -> String {
    format!("group-name depth-{}", depth.min(6))
}

#[component]
pub fn GroupsPage() -> impl IntoView {
    let create = ServerAction::<CreateGroup>::new();
    let groups = Resource::new(move || create.version().get(), |_| list_groups());
    view! {
        <Page title="Business groups" need=Need::SignedIn>
            <Groups create groups/>
        </Page>
    }
}

#[component]
fn Groups(
    create: ServerAction<CreateGroup>,
    groups: Resource<Result<Vec<GroupEntry>, AppError>>,
) -> impl IntoView {
    let create_error = form_error(create.value());
    let form = NodeRef::new();
    clear_on_success(succeeded(create.value()), form);
    let deleted =
        leptos_router::hooks::use_query_map().with_untracked(|q| q.get("deleted").is_some());
    view! {
        <h1>"Business groups"</h1>
        <p class="hint">"The organization is a tree of business groups, each with its environments. A role or a scope given in a group holds in it, in its environments and in every group below it; one given in an environment holds there only."</p>
        <div role="status" class="status-region">
            {deleted.then(|| view! { <p class="status saved">"Business group deleted."</p> })}
        </div>
        <Done done=succeeded(create.value()) text="Business group created."/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match groups.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="empty">"You administer no business group. An organization admin can make you an admin of one on its page."</p>
                    }.into_any(),
                    Ok(list) => {
                        let options = list.iter().map(|g| {
                            let selected = kept("parent").as_deref() == Some(g.id.as_str());
                            view! { <option value=g.id.clone() selected=selected>{indented(g)}</option> }
                        }).collect_view();
                        view! {
                            <GroupTable groups=list.clone()/>
                            <section class="panel">
                                <h2>"Create a business group"</h2>
                                <FormError error=create_error/>
                                <ActionForm action=create node_ref=form>
                                    <Csrf/>
                                    <div class="row">
                                        <label>"Name"
                                            <input type="text" name="name" value=kept("name") aria-invalid=invalid(create_error, "name") required maxlength="100"/>
                                            <FieldError error=create_error field="name"/>
                                        </label>
                                        <label>"Parent group"
                                            <select name="parent" aria-invalid=invalid(create_error, "parent")>{options}</select>
                                            <FieldError error=create_error field="parent"/>
                                        </label>
                                    </div>
                                    <p class="hint">"A new group starts with a Production and a Sandbox environment."</p>
                                    <button type="submit" class="primary">"Create group"</button>
                                </ActionForm>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}

#[component]
fn GroupTable(groups: Vec<GroupEntry>) -> impl IntoView {
    let rows = groups
        .into_iter()
        .map(|g| {
            let envs = g
                .environments
                .iter()
                .map(|e| {
                    view! {
                        <li>{e.name.clone()} " " <span class="muted small">"(" {env_kind_label(e.kind)} ")"</span></li>
                    }
                })
                .collect_view();
            let apps_href = format!("/admin?place={}", g.id);
            view! {
                <tr data-testid="group-row">
                    <td data-label="Business group" class=depth_class(g.depth)>
                        <a href=format!("/admin/groups/{}", g.id)>{g.name.clone()}</a>
                        {g.is_root().then(|| view! { " " <span class="badge ok">"organization"</span> })}
                    </td>
                    <td data-label="Environments"><ul class="envs">{envs}</ul></td>
                    <td data-label="Apps"><a href=apps_href>{count(g.apps as i64, "app")}</a></td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <table class="list groups">
            <caption class="visually-hidden">"Business groups you administer, the organization first"</caption>
            <thead><tr><th scope="col">"Business group"</th><th scope="col">"Environments"</th><th scope="col">"Apps"</th></tr></thead>
            <tbody>{rows}</tbody>
        </table>
    }
}

/// What can be done on a group's page.
#[derive(Clone, Copy)]
struct GroupActions {
    update: ServerAction<UpdateGroup>,
    delete: ServerAction<DeleteGroup>,
    add_env: ServerAction<AddEnvironment>,
    delete_env: ServerAction<DeleteEnvironment>,
    grant: ServerAction<GrantGroupRole>,
    revoke: ServerAction<RemoveGroupRole>,
}

#[component]
pub fn GroupPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let actions = GroupActions {
        update: ServerAction::new(),
        delete: ServerAction::new(),
        add_env: ServerAction::new(),
        delete_env: ServerAction::new(),
        grant: ServerAction::new(),
        revoke: ServerAction::new(),
    };
    let a = actions;
    let detail = Resource::new(
        move || {
            (
                id(),
                a.update.version().get(),
                a.add_env.version().get(),
                a.delete_env.version().get(),
                a.grant.version().get(),
                a.revoke.version().get(),
            )
        },
        |(id, ..)| get_group(id),
    );
    view! {
        <Page title="Business group" need=Need::SignedIn>
            <GroupView actions detail/>
        </Page>
    }
}

#[component]
fn GroupView(
    actions: GroupActions,
    detail: Resource<Result<GroupDetail, AppError>>,
) -> impl IntoView {
    let GroupActions {
        update,
        delete,
        add_env,
        delete_env,
        grant,
        revoke,
    } = actions;
    let update_error = form_error(update.value());
    let delete_error = form_error(delete.value());
    let add_env_error = form_error(add_env.value());
    let env_row_error = form_error(delete_env.value());
    let grant_error = form_error(grant.value());
    let revoke_error = form_error(revoke.value());
    let env_form = NodeRef::new();
    clear_on_success(succeeded(add_env.value()), env_form);
    let grant_form = NodeRef::new();
    clear_on_success(succeeded(grant.value()), grant_form);
    // The audit viewer is the organization's admins' and auditors'.
    let can_audit = use_context::<crate::app::session::PageCtx>()
        .and_then(|c| c.me)
        .is_some_and(|m| m.can_audit);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let d = match detail.await {
                    Ok(d) => d,
                    Err(e) => return view! { <ErrorPage error=e/> }.into_any(),
                };
                let g = d.group.clone();
                let gid = g.id.clone();
                let root = g.is_root();
                let parent_fact = match (&g.parent_id, &d.parent_name) {
                    (Some(pid), Some(name)) => view! { <a href=format!("/admin/groups/{pid}")>{name.clone()}</a> }.into_any(),
                    _ => view! { "—, this is the organization itself" }.into_any(),
                };
                let env_names: Vec<String> = g.environments.iter().map(|e| e.name.clone()).collect();
                view! {
                    <Breadcrumbs above=vec![("Business groups".into(), "/admin/groups".into())] here=g.name.clone()/>
                    <div class="heading">
                        <h1>{g.name.clone()}</h1>
                        {root.then(|| view! { <span class="badge ok">"organization"</span> })}
                    </div>
                    <dl class="facts">
                        <dt>"Parent"</dt><dd>{parent_fact}</dd>
                        <dt>"Apps"</dt><dd><a href=format!("/admin?place={gid}")>{count(g.apps as i64, "app")}</a>
                            " · " <a href=format!("/admin/apps/new?place={gid}")>"Create an app here"</a></dd>
                        <dt>"Groups below"</dt><dd>{g.children}</dd>
                        {can_audit.then(|| view! {
                            <dt>"Audit"</dt><dd><a href=format!("/admin/audit?business_group={gid}")>"Records of this group and below"</a></dd>
                        })}
                    </dl>
                    <Environments group=g.clone() add_env delete_env add_env_error env_row_error env_form/>
                    <Roles detail=d.clone() grant revoke grant_error revoke_error grant_form/>
                    {(!root).then(|| view! { <RenameMove detail=d.clone() update update_error/> })}
                    {root.then(|| view! {
                        <p class="hint">"The organization itself is renamed on the " <a href="/admin/org">"Organization"</a> " page; it never moves and is not deleted here."</p>
                    })}
                    {(!root && g.may_move).then(|| {
                        let what = if env_names.is_empty() {
                            format!("Delete {}? The scope assignments and roles given in it end.", g.name)
                        } else {
                            format!("Delete {}? Its environments {} end, with the scope assignments and roles given in them.", g.name, env_names.join(", "))
                        };
                        view! {
                            <section class="panel danger-zone">
                                <h2>"Delete"</h2>
                                <FormError error=delete_error/>
                                {move || delete_error.get().and_then(|e| e.field("business_group")).map(|m| view! { <p class="field-error">"This group " {m}</p> })}
                                {if g.is_empty() {
                                    view! {
                                        <ActionForm action=delete>
                                            <Csrf/>
                                            <input type="hidden" name="id" value=gid.clone()/>
                                            <Confirm label="Delete group" what/>
                                        </ActionForm>
                                    }.into_any()
                                } else {
                                    view! { <p class="hint">"A group can be deleted once no business group and no app is below it: move or delete them first."</p> }.into_any()
                                }}
                            </section>
                        }
                    })}
                }.into_any()
            })}
        </Suspense>
    }
}

#[component]
fn Environments(
    group: GroupEntry,
    add_env: ServerAction<AddEnvironment>,
    delete_env: ServerAction<DeleteEnvironment>,
    add_env_error: Signal<Option<AppError>>,
    env_row_error: Signal<Option<AppError>>,
    env_form: NodeRef<leptos::html::Form>,
) -> impl IntoView {
    let gid = group.id.clone();
    let rows = group
        .environments
        .iter()
        .map(|e| {
            let gid = gid.clone();
            let env_id = e.id.clone();
            let what = format!(
                "Delete the environment {} of {}? The scope assignments and roles given in it end.",
                e.name, group.name
            );
            view! {
                <tr data-testid="env-row">
                    <td data-label="Environment">{e.name.clone()}</td>
                    <td data-label="Type">{env_kind_label(e.kind)}</td>
                    <td data-label="Apps">{count(e.apps as i64, "app")}</td>
                    <td>
                        {(e.apps == 0).then(move || view! {
                            <ActionForm action=delete_env attr:class="inline">
                                <Csrf/>
                                <input type="hidden" name="group" value=gid/>
                                <input type="hidden" name="env" value=env_id/>
                                <Confirm label="Delete" small=true what/>
                            </ActionForm>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    let kinds = [EnvKind::Production, EnvKind::Sandbox, EnvKind::Design]
        .into_iter()
        .map(|k| {
            let selected = kept("env_type").as_deref() == Some(k.as_str());
            view! { <option value=k.as_str() selected=selected>{env_kind_label(k)}</option> }
        })
        .collect_view();
    view! {
        <section class="panel">
            <h2>"Environments"</h2>
            <FormError error=env_row_error/>
            {move || env_row_error.get().and_then(|e| e.field("environment")).map(|m| view! { <p class="field-error">"This environment " {m}</p> })}
            <Done done=succeeded(delete_env.value()) text="Environment deleted."/>
            {if group.environments.is_empty() {
                view! { <p class="empty">"No environment yet."</p> }.into_any()
            } else {
                view! {
                    <table class="list">
                        <caption class="visually-hidden">{format!("Environments of {}", group.name)}</caption>
                        <thead><tr><th scope="col">"Environment"</th><th scope="col">"Type"</th><th scope="col">"Apps"</th><th scope="col"><span class="visually-hidden">"Delete"</span></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                }.into_any()
            }}
            <h3>"Add an environment"</h3>
            <FormError error=add_env_error/>
            <Done done=succeeded(add_env.value()) text="Environment added."/>
            <ActionForm action=add_env node_ref=env_form>
                <Csrf/>
                <input type="hidden" name="group" value=group.id.clone()/>
                <div class="row">
                    <label>"Environment name"
                        <input type="text" name="env_name" value=kept("env_name") aria-invalid=invalid(add_env_error, "name") required maxlength="100"/>
                        <FieldError error=add_env_error field="name"/>
                        <FieldError error=add_env_error field="environment"/>
                    </label>
                    <label>"Type"
                        <select name="env_type" aria-invalid=invalid(add_env_error, "type")>{kinds}</select>
                        <FieldError error=add_env_error field="type"/>
                    </label>
                </div>
                <button type="submit">"Add environment"</button>
            </ActionForm>
        </section>
    }
}

#[component]
fn Roles(
    detail: GroupDetail,
    grant: ServerAction<GrantGroupRole>,
    revoke: ServerAction<RemoveGroupRole>,
    grant_error: Signal<Option<AppError>>,
    revoke_error: Signal<Option<AppError>>,
    grant_form: NodeRef<leptos::html::Form>,
) -> impl IntoView {
    let g = detail.group.clone();
    let gid = g.id.clone();
    let root = g.is_root();
    let may = detail.may_manage_users;
    let rows = detail
        .roles
        .iter()
        .map(|r| {
            let gid = gid.clone();
            let user_id = r.user_id.clone();
            let env_id = r.environment.clone().unwrap_or_default();
            let place = r
                .environment_name
                .clone()
                .map_or_else(|| "The whole group".to_string(), |e| format!("Environment {e}"));
            let what = format!(
                "Take back the {} role of {} here? They hold what they inherit from above again.",
                r.role, r.email
            );
            view! {
                <tr data-testid="role-row">
                    <td data-label="User">{r.name.clone()} <br/><span class="muted small">{r.email.clone()}</span></td>
                    <td data-label="Where">{place}</td>
                    <td data-label="Role">{r.role.clone()}</td>
                    <td>
                        {may.then(move || view! {
                            <ActionForm action=revoke attr:class="inline">
                                <Csrf/>
                                <input type="hidden" name="group" value=gid/>
                                <input type="hidden" name="user_id" value=user_id/>
                                <input type="hidden" name="environment" value=env_id/>
                                <Confirm label="Remove" small=true what/>
                            </ActionForm>
                        })}
                    </td>
                </tr>
            }
        })
        .collect_view();
    let members = detail
        .members
        .iter()
        .map(|m| view! { <option value=m.email.clone()>{format!("{} ({})", m.name, m.email)}</option> })
        .collect_view();
    let kept_env = kept("environment");
    let places = (!root)
        .then(|| view! { <option value="">"The whole group (and the groups below)"</option> })
        .into_iter()
        .collect_view();
    let env_options = g
        .environments
        .iter()
        .map(|e| {
            let selected = kept_env.as_deref() == Some(e.id.as_str());
            view! { <option value=e.id.clone() selected=selected>{format!("Environment {}", e.name)}</option> }
        })
        .collect_view();
    let role_options = Role::ALL
        .iter()
        .map(|r| {
            let selected = kept("role").as_deref() == Some(r.as_str());
            view! { <option value=r.as_str() selected=selected>{r.as_str()}</option> }
        })
        .collect_view();
    view! {
        <section class="panel">
            <h2>"Roles in this group"</h2>
            <p class="hint">"A role given here overrides what the user holds from above, in this group and below (an environment's: there only). Everyone else holds their role in the organization."</p>
            <FormError error=revoke_error/>
            <Done done=succeeded(revoke.value()) text="Role taken back."/>
            {if detail.roles.is_empty() {
                view! { <p class="empty">"No role is given in this group or its environments."</p> }.into_any()
            } else {
                view! {
                    <table class="list">
                        <caption class="visually-hidden">{format!("Roles in {}", g.name)}</caption>
                        <thead><tr><th scope="col">"User"</th><th scope="col">"Where"</th><th scope="col">"Role"</th><th scope="col"><span class="visually-hidden">"Remove"</span></th></tr></thead>
                        <tbody>{rows}</tbody>
                    </table>
                }.into_any()
            }}
            {may.then(|| view! {
                <h3>"Give a role"</h3>
                <FormError error=grant_error/>
                <Done done=succeeded(grant.value()) text="Role given."/>
                <ActionForm action=grant node_ref=grant_form>
                    <Csrf/>
                    <input type="hidden" name="group" value=gid.clone()/>
                    <div class="row">
                        <label>"User (name or e-mail)"
                            <input type="text" name="user" list="group-members" value=kept("user") aria-invalid=invalid(grant_error, "user") required maxlength="254" autocomplete="off"/>
                            <FieldError error=grant_error field="user"/>
                        </label>
                        <label>"Where"
                            <select name="environment">{places}{env_options}</select>
                            <FieldError error=grant_error field="environment"/>
                        </label>
                        <label>"Role"
                            <select name="role" aria-invalid=invalid(grant_error, "role")>{role_options}</select>
                            <FieldError error=grant_error field="role"/>
                        </label>
                    </div>
                    <datalist id="group-members">{members}</datalist>
                    <button type="submit">"Give role"</button>
                </ActionForm>
            })}
        </section>
    }
}

#[component]
fn RenameMove(
    detail: GroupDetail,
    update: ServerAction<UpdateGroup>,
    update_error: Signal<Option<AppError>>,
) -> impl IntoView {
    let g = detail.group.clone();
    let current_parent = g.parent_id.clone().unwrap_or_default();
    let chosen = kept("group_parent").unwrap_or_else(|| current_parent.clone());
    let name = kept("group_name").unwrap_or_else(|| g.name.clone());
    let options = detail
        .parents
        .iter()
        .map(|p| {
            let selected = p.id == chosen;
            view! { <option value=p.id.clone() selected=selected>{indented(p)}</option> }
        })
        .collect_view();
    view! {
        <section class="panel">
            <h2>"Rename or move"</h2>
            <FormError error=update_error/>
            <Done done=succeeded(update.value()) text="Business group saved."/>
            <ActionForm action=update>
                <Csrf/>
                <input type="hidden" name="id" value=g.id.clone()/>
                <div class="row">
                    <label>"Name"
                        <input type="text" name="group_name" value=name aria-invalid=invalid(update_error, "name") required maxlength="100"/>
                        <FieldError error=update_error field="name"/>
                    </label>
                    {if g.may_move {
                        view! {
                            <label>"Parent group"
                                <select name="group_parent" aria-invalid=invalid(update_error, "parent")>{options}</select>
                                <FieldError error=update_error field="parent"/>
                            </label>
                        }.into_any()
                    } else {
                        view! {
                            <p class="hint">"It stays below " {detail.parent_name.clone().unwrap_or_default()} ": moving it needs an admin of that group."</p>
                        }.into_any()
                    }}
                </div>
                <p class="hint">"Moving a group ends the scope assignments it takes out of their app's reach."</p>
                <button type="submit" class="primary">"Save"</button>
            </ActionForm>
        </section>
    }
}
