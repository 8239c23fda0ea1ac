//! The organization's users: create, change role, remove.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::app::admin::audit::records_of;
use crate::app::components::{
    Confirm, Csrf, Done, ErrorPage, FieldError, FormError, Need, Page, clear_on_success,
    format_time, invalid,
};
use crate::app::error::AppError;
use crate::app::list::{ListSearch, Pager, SortHeader, use_list_query};
use crate::app::session::{PageCtx, form_error, kept, succeeded};
use crate::domain::Role;
use crate::domain::listing::Listed;
use crate::domain::views::MemberView;

#[server(prefix = "/api", endpoint = "list_users")]
pub async fn list_users(
    #[server(default)] q: String,
    #[server(default)] sort: String,
    #[server(default)] page: String,
) -> Result<Listed<MemberView>, AppError> {
    use crate::app::server as portal;
    let list = crate::domain::listing::ListQuery { q, sort, page };
    portal::admin_read(async |state, me| {
        crate::services::users::page(&state.db, &me.principal, &list)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "create_user")]
pub async fn create_user(
    csrf: String,
    email: String,
    name: String,
    role: String,
    #[server(default)] password: String,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        // No password: the user is invited by e-mail and chooses one.
        if password.is_empty() {
            return crate::services::recovery::invite(
                &state.db,
                &state.settings.mailer,
                &state.settings.issuer,
                &me.principal,
                (&email, &name, &role),
            )
            .await
            .map(|_| ())
            .map_err(portal::service_error);
        }
        crate::services::users::create(
            &state.db,
            &me.principal,
            &email,
            &name,
            &role,
            password.into(),
        )
        .await
        .map(|_| ())
        .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "change_role")]
pub async fn change_role(csrf: String, user_id: String, role: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::users::change_role(&state.db, &me.principal, &user_id, &role)
            .await
            .map(|_| ())
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "remove_user")]
pub async fn remove_user(csrf: String, user_id: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::users::remove(&state.db, &me.principal, &user_id)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "end_user_sessions")]
pub async fn end_user_sessions(csrf: String, user_id: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::sessions::end_user_sessions(&state.db, &me.principal, &user_id)
            .await
            .map(|_| ())
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "reset_second_factor")]
pub async fn reset_second_factor(csrf: String, user_id: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::mfa::reset_for_member(&state.db, &me.principal, &user_id)
            .await
            .map_err(portal::service_error)
    })
    .await
}

const BASE: &str = "/admin/users";

#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let change = ServerAction::<ChangeRole>::new();
    let remove = ServerAction::<RemoveUser>::new();
    let sign_out = ServerAction::<EndUserSessions>::new();
    let reset = ServerAction::<ResetSecondFactor>::new();
    let list = use_list_query();
    let users = Resource::new(
        move || {
            (
                list(),
                create.version().get(),
                change.version().get(),
                remove.version().get(),
            )
        },
        |(l, ..)| list_users(l.q, l.sort, l.page),
    );
    view! {
        <Page title="Users" need=Need::Admin>
            <Users create change remove sign_out reset users/>
        </Page>
    }
}

#[component]
fn Users(
    create: ServerAction<CreateUser>,
    change: ServerAction<ChangeRole>,
    remove: ServerAction<RemoveUser>,
    sign_out: ServerAction<EndUserSessions>,
    reset: ServerAction<ResetSecondFactor>,
    users: Resource<Result<Listed<MemberView>, AppError>>,
) -> impl IntoView {
    let create_error = form_error(create.value());
    let create_form = NodeRef::new();
    clear_on_success(succeeded(create.value()), create_form);
    let row_error = Signal::derive({
        let a = form_error(change.value());
        let b = form_error(remove.value());
        let c = form_error(sign_out.value());
        let d = form_error(reset.value());
        move || {
            a.get()
                .or_else(|| b.get())
                .or_else(|| c.get())
                .or_else(|| d.get())
        }
    });
    let my_id = use_context::<PageCtx>()
        .and_then(|c| c.me)
        .map(|m| m.user_id)
        .unwrap_or_default();
    view! {
        <h1>"Users"</h1>
        <ListSearch base=BASE label="Find a user"/>
        <FormError error=row_error/>
        <Done done=succeeded(change.value()) text="Role changed."/>
        <Done done=succeeded(remove.value()) text="User removed from the organization."/>
        <Done done=succeeded(sign_out.value()) text="Their sessions are ended."/>
        <Done done=succeeded(reset.value()) text="Their second factor is removed; they sign in with their password."/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let my_id = my_id.clone();
                Suspend::new(async move {
                    match users.await {
                        Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                        Ok(list) if list.items.is_empty() => view! {
                            <p class="empty">"No user matches “" {use_list_query()().q} "”. Try part of their name or e-mail."</p>
                        }.into_any(),
                        Ok(list) => {
                            let sort = list.sort.clone();
                            let pages = list.pages();
                            let (total, page) = (list.total, list.page);
                            let rows = list.items.into_iter().map(|u| {
                                let me = u.user_id == my_id;
                                let remove_id = u.user_id.clone();
                                let records = records_of("user", &u.user_id);
                                let records_who = u.email.clone();
                                let options = Role::ALL.iter().map(|r| view! {
                                    <option value=r.as_str() selected=u.role == r.as_str()>{r.as_str()}</option>
                                }).collect_view();
                                let sign_out_id = u.user_id.clone();
                                let reset_id = u.user_id.clone();
                                let reset_what = format!("Remove the authenticator app and recovery codes of {}? Do it only when they lost both and you know it is them: they sign in with their password alone (and set up a new app if a policy requires one).", u.email);
                                let sign_out_what = format!("End every session of {}? They sign in again; the apps they authorized keep their access.", u.email);
                                let remove_what = format!("Remove {} from the organization? Their sessions end and the apps they authorized here lose their access.", u.email);
                                view! {
                                    <tr>
                                        <td data-label="Name">{u.name}</td>
                                        <td data-label="E-mail">{u.email.clone()}</td>
                                        <td data-label="Role">
                                            <ActionForm action=change attr:class="inline">
                                                <Csrf/>
                                                <input type="hidden" name="user_id" value=u.user_id.clone()/>
                                                <select name="role" aria-label=format!("Role of {}", u.email)>{options}</select>
                                                <button type="submit" class="small">"Change"</button>
                                            </ActionForm>
                                        </td>
                                        <td data-label="In business groups">{if u.group_roles.is_empty() {
                                            view! { <span class="muted">"—"</span> }.into_any()
                                        } else {
                                            view! { <ul class="plain">{u.group_roles.iter().map(|r| view! { <li>{r.clone()}</li> }).collect_view()}</ul> }.into_any()
                                        }}</td>
                                        <td data-label="Added">{format_time(u.created_at)}</td>
                                        <td data-label="Last sign-in">{u.last_sign_in_at.map(format_time).unwrap_or_else(|| "never".into())}</td>
                                        <td data-label="Activity"><a href=records>"Records"<span class="visually-hidden">" of " {records_who}</span></a></td>
                                        <td>
                                            {(!me).then(|| view! {
                                                <ActionForm action=sign_out attr:class="inline">
                                                    <Csrf/>
                                                    <input type="hidden" name="user_id" value=sign_out_id/>
                                                    <Confirm label="Sign out" small=true what=sign_out_what/>
                                                </ActionForm>
                                                <ActionForm action=reset attr:class="inline">
                                                    <Csrf/>
                                                    <input type="hidden" name="user_id" value=reset_id/>
                                                    <Confirm label="Reset two-step" small=true what=reset_what/>
                                                </ActionForm>
                                                <ActionForm action=remove attr:class="inline">
                                                    <Csrf/>
                                                    <input type="hidden" name="user_id" value=remove_id.clone()/>
                                                    <Confirm label="Remove" small=true what=remove_what/>
                                                </ActionForm>
                                            })}
                                        </td>
                                    </tr>
                                }
                            }).collect_view();
                            let th = |label: &'static str, key: &'static str| view! { <SortHeader base=BASE label key sort=sort.clone()/> };
                            view! {
                                <table class="list">
                                    <caption class="visually-hidden">"Users of the organization"</caption>
                                    <thead><tr>
                                        {th("Name", "name")}{th("E-mail", "email")}{th("Role", "role")}<th scope="col">"In business groups"</th>{th("Added", "added")}{th("Last sign-in", "signed_in")}
                                        <th scope="col">"Activity"</th><th scope="col"><span class="visually-hidden">"Remove"</span></th>
                                    </tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                                <Pager base=BASE noun="user" total page pages sort/>
                            }.into_any()
                        }
                    }
                })
            }}
        </Suspense>
        <section class="panel">
            <h2>"Add a user"</h2>
            <FormError error=create_error/>
            <Done done=succeeded(create.value()) text="User added."/>
            <ActionForm action=create node_ref=create_form>
                <Csrf/>
                <label>"E-mail" <input type="email" name="email" value=kept("email") aria-invalid=invalid(create_error, "email") required maxlength="254" autocomplete="off"/>
                    <FieldError error=create_error field="email"/></label>
                <label>"Name" <input type="text" name="name" value=kept("name") aria-invalid=invalid(create_error, "name") required maxlength="100"/>
                    <FieldError error=create_error field="name"/></label>
                <label>"Role"
                    <select name="role"><option value="member">"member"</option><option value="auditor">"auditor"</option><option value="admin">"admin"</option></select>
                    <FieldError error=create_error field="role"/></label>
                <label>"Initial password (at least 12 characters)"
                    <input type="password" name="password" aria-invalid=invalid(create_error, "password") minlength="12" maxlength="256" autocomplete="new-password"/>
                    <FieldError error=create_error field="password"/></label>
                <p class="hint">"Leave the password empty to invite the user by e-mail: they get a link, valid 7 days, to choose their own."</p>
                <button type="submit" class="primary">"Add user"</button>
            </ActionForm>
        </section>
    }
}
