//! The organization's users: create, change role, remove.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::app::components::{
    Confirm, Csrf, Done, ErrorPage, FieldError, FormError, Need, Page, format_time,
};
use crate::app::error::AppError;
use crate::app::session::{PageCtx, form_error, succeeded};
use crate::domain::Role;
use crate::domain::views::MemberView;

#[server(prefix = "/api", endpoint = "list_users")]
pub async fn list_users() -> Result<Vec<MemberView>, AppError> {
    use crate::app::server as portal;
    portal::admin_read(async |state, me| {
        crate::services::users::list(&state.db, &me.principal)
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
    password: String,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
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

#[component]
pub fn UsersPage() -> impl IntoView {
    let create = ServerAction::<CreateUser>::new();
    let change = ServerAction::<ChangeRole>::new();
    let remove = ServerAction::<RemoveUser>::new();
    let users = Resource::new(
        move || {
            (
                create.version().get(),
                change.version().get(),
                remove.version().get(),
            )
        },
        |_| list_users(),
    );
    view! {
        <Page title="Users" need=Need::Admin>
            <Users create change remove users/>
        </Page>
    }
}

#[component]
fn Users(
    create: ServerAction<CreateUser>,
    change: ServerAction<ChangeRole>,
    remove: ServerAction<RemoveUser>,
    users: Resource<Result<Vec<MemberView>, AppError>>,
) -> impl IntoView {
    let create_error = form_error(create.value());
    let row_error = Signal::derive({
        let a = form_error(change.value());
        let b = form_error(remove.value());
        move || a.get().or_else(|| b.get())
    });
    let my_id = use_context::<PageCtx>()
        .and_then(|c| c.me)
        .map(|m| m.user_id)
        .unwrap_or_default();
    view! {
        <h1>"Users"</h1>
        <FormError error=row_error/>
        <Done done=succeeded(change.value()) text="Role changed."/>
        <Done done=succeeded(remove.value()) text="User removed from the organization."/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let my_id = my_id.clone();
                Suspend::new(async move {
                    match users.await {
                        Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                        Ok(list) => {
                            let rows = list.into_iter().map(|u| {
                                let me = u.user_id == my_id;
                                let remove_id = u.user_id.clone();
                                let options = Role::ALL.iter().map(|r| view! {
                                    <option value=r.as_str() selected=u.role == r.as_str()>{r.as_str()}</option>
                                }).collect_view();
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
                                        <td data-label="Added">{format_time(u.created_at)}</td>
                                        <td>
                                            {(!me).then(|| view! {
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
                            view! {
                                <table class="list">
                                    <thead><tr><th>"Name"</th><th>"E-mail"</th><th>"Role"</th><th>"Added"</th><th></th></tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
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
            <ActionForm action=create>
                <Csrf/>
                <label>"E-mail" <input type="email" name="email" required maxlength="254" autocomplete="off"/>
                    <FieldError error=create_error field="email"/></label>
                <label>"Name" <input type="text" name="name" required maxlength="100"/>
                    <FieldError error=create_error field="name"/></label>
                <label>"Role"
                    <select name="role"><option value="member">"member"</option><option value="auditor">"auditor"</option><option value="admin">"admin"</option></select>
                    <FieldError error=create_error field="role"/></label>
                <label>"Initial password (at least 12 characters)"
                    <input type="password" name="password" required minlength="12" maxlength="256" autocomplete="new-password"/>
                    <FieldError error=create_error field="password"/></label>
                <button type="submit" class="primary">"Add user"</button>
            </ActionForm>
        </section>
    }
}
