//! The organization's settings.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::app::components::{
    Confirm, Csrf, Done, ErrorPage, FieldError, FormError, Need, Page, format_time, invalid,
};
use crate::app::error::AppError;
use crate::app::session::OrgName;
use crate::app::session::{form_error, succeeded};
use crate::domain::upstream::{ProviderInput, ProviderView};
use crate::domain::views::OrgView;

#[server(prefix = "/api", endpoint = "get_org")]
pub async fn get_org() -> Result<OrgView, AppError> {
    use crate::app::server as portal;
    portal::admin_read(async |state, me| {
        crate::services::orgs::get(&state.db, &me.principal)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "rename_org")]
pub async fn rename_org(csrf: String, name: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::orgs::rename(&state.db, &me.principal, &name)
            .await
            .map(|_| ())
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "set_audit_retention")]
pub async fn set_audit_retention(csrf: String, days: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::orgs::set_retention(&state.db, &me.principal, &days)
            .await
            .map(|_| ())
            .map_err(portal::service_error)
    })
    .await
}

/// Turns connected apps on (`enabled` = "on") or off for the whole organization.
#[server(prefix = "/api", endpoint = "set_connected_apps")]
pub async fn set_connected_apps(csrf: String, enabled: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::orgs::set_apps_enabled(&state.db, &me.principal, enabled == "on")
            .await
            .map(|_| ())
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "set_mfa_policy")]
pub async fn set_mfa_policy(csrf: String, mfa_policy: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::mfa::set_policy(&state.db, &me.principal, &mfa_policy)
            .await
            .map(|_| ())
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "get_identity_provider")]
pub async fn get_identity_provider() -> Result<Option<ProviderView>, AppError> {
    use crate::app::server as portal;
    portal::admin_read(async |state, me| {
        crate::services::upstream::get(&state.db, &me.principal, &state.settings.issuer)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "save_identity_provider")]
pub async fn save_identity_provider(
    csrf: String,
    #[server(default)] provider: ProviderInput,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::upstream::set(
            &state.db,
            &state.settings.master_key,
            &state.settings.issuer,
            &me.principal,
            &provider,
        )
        .await
        .map(|_| ())
        .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "remove_identity_provider")]
pub async fn remove_identity_provider(csrf: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::upstream::remove(&state.db, &me.principal)
            .await
            .map_err(portal::service_error)
    })
    .await
}

/// The organization's own identity provider: set up, changed or removed.
#[component]
fn IdentityProvider(
    provider: Resource<Result<Option<ProviderView>, AppError>>,
    save: ServerAction<SaveIdentityProvider>,
    remove: ServerAction<RemoveIdentityProvider>,
) -> impl IntoView {
    let error = form_error(save.value());
    let remove_error = form_error(remove.value());
    view! {
        <h2>"Single sign-on"</h2>
        <p class="hint">"Your people sign in through your organization's OpenID Connect provider. Addresses in its domains are sent there from the sign-in page."</p>
        <FormError error/>
        <FormError error=remove_error/>
        <Done done=succeeded(save.value()) text="Identity provider saved."/>
        <Done done=succeeded(remove.value()) text="Identity provider removed."/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let current = provider.await.ok().flatten();
                let v = |f: fn(&ProviderView) -> String| current.as_ref().map(f).unwrap_or_default();
                let (name, issuer, client_id) = (v(|p| p.name.clone()), v(|p| p.issuer.clone()), v(|p| p.client_id.clone()));
                let domains = v(|p| p.domains.join("\n"));
                let redirect = current.as_ref().map(|p| p.redirect_uri.clone());
                let provisioning = v(|p| p.provisioning.clone());
                let role = v(|p| p.default_role.clone());
                let required = current.as_ref().is_some_and(|p| p.required);
                let has = current.is_some();
                view! {
                    {redirect.map(|r| view! {
                        <p data-testid="sso-redirect">"Register this redirect URI at the provider: " <code>{r}</code></p>
                    })}
                    <ActionForm action=save attr:class="sso">
                        <Csrf/>
                        <label>"Name" <input type="text" name="provider[name]" value=name required maxlength="100" placeholder="Acme SSO" aria-invalid=invalid(error, "name")/>
                            <FieldError error field="name"/></label>
                        <label>"Issuer" <input type="url" name="provider[issuer]" value=issuer required placeholder="https://login.example.com" aria-invalid=invalid(error, "issuer")/>
                            <FieldError error field="issuer"/></label>
                        <label>"Client id" <input type="text" name="provider[client_id]" value=client_id required maxlength="255" aria-invalid=invalid(error, "client_id")/>
                            <FieldError error field="client_id"/></label>
                        <label>{if has { "Client secret (leave empty to keep it)" } else { "Client secret" }}
                            <input type="password" name="provider[client_secret]" autocomplete="off" required=!has aria-invalid=invalid(error, "client_secret")/>
                            <FieldError error field="client_secret"/></label>
                        <label>"E-mail domains (one per line)"
                            <textarea name="provider[domains]" rows="2" required aria-invalid=invalid(error, "domains")>{domains}</textarea>
                            <FieldError error field="domains"/></label>
                        <label>"New people"
                            <select name="provider[provisioning]">
                                <option value="jit" selected=provisioning != "link">"Get an account at their first sign-in"</option>
                                <option value="link" selected=provisioning == "link">"Only existing members may sign in"</option>
                            </select></label>
                        <label>"Their role"
                            <select name="provider[default_role]">
                                <option value="member" selected=role != "auditor">"member"</option>
                                <option value="auditor" selected=role == "auditor">"auditor"</option>
                            </select></label>
                        <label class="check"><input type="checkbox" name="provider[required]" value="true" checked=required/>
                            " Addresses in these domains must sign in through the provider (no password)"</label>
                        <button type="submit" class="primary">"Save identity provider"</button>
                    </ActionForm>
                    {has.then(|| view! {
                        <ActionForm action=remove attr:class="inline">
                            <Csrf/>
                            <Confirm label="Remove identity provider" what="Remove the identity provider? Its people sign in with passwords again; those who never had one choose one with “Forgot your password?”."/>
                        </ActionForm>
                    })}
                }
            })}
        </Suspense>
    }
}

#[component]
pub fn OrgPage() -> impl IntoView {
    // Resources live outside the page frame, whose children may render more than once.
    let rename = ServerAction::<RenameOrg>::new();
    let retention = ServerAction::<SetAuditRetention>::new();
    let switch = ServerAction::<SetConnectedApps>::new();
    let mfa = ServerAction::<SetMfaPolicy>::new();
    let save_provider = ServerAction::<SaveIdentityProvider>::new();
    let remove_provider = ServerAction::<RemoveIdentityProvider>::new();
    let provider = Resource::new(
        move || {
            (
                save_provider.version().get(),
                remove_provider.version().get(),
            )
        },
        |_| get_identity_provider(),
    );
    let org = Resource::new(
        move || {
            (
                rename.version().get(),
                retention.version().get(),
                switch.version().get(),
                mfa.version().get(),
            )
        },
        |_| get_org(),
    );
    view! {
        <Page title="Organization" need=Need::Admin>
            <Org rename retention switch mfa org/>
            <IdentityProvider provider save=save_provider remove=remove_provider/>
        </Page>
    }
}

#[component]
fn Org(
    rename: ServerAction<RenameOrg>,
    retention: ServerAction<SetAuditRetention>,
    switch: ServerAction<SetConnectedApps>,
    mfa: ServerAction<SetMfaPolicy>,
    org: Resource<Result<OrgView, AppError>>,
) -> impl IntoView {
    let mfa_error = form_error(mfa.value());
    let error = form_error(rename.value());
    let retention_error = form_error(retention.value());
    let switch_error = form_error(switch.value());
    view! {
        <h1>"Organization"</h1>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match org.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(o) => {
                        // The header shows the name as it is now.
                        if let Some(name) = use_context::<OrgName>() {
                            name.0.set(o.name.clone());
                        }
                        view! {
                        <dl class="facts">
                            <dt>"Id"</dt><dd><code>{o.id}</code></dd>
                            <dt>"Created"</dt><dd>{format_time(o.created_at)}</dd>
                        </dl>
                        <FormError error/>
                        <Done done=succeeded(rename.value()) text="Organization renamed."/>
                        <ActionForm action=rename>
                            <Csrf/>
                            <label>"Name" <input type="text" name="name" value=o.name required maxlength="100" aria-invalid=invalid(error, "name")/>
                                <FieldError error field="name"/></label>
                            <button type="submit" class="primary">"Save"</button>
                        </ActionForm>
                        <h2>"Audit log"</h2>
                        <FormError error=retention_error/>
                        <Done done=succeeded(retention.value()) text="Audit retention saved."/>
                        <ActionForm action=retention attr:class="retention">
                            <Csrf/>
                            <label>"Keep audit records for (days)"
                                <input type="number" name="days" value=o.audit_retention_days min="1" max="3650" required aria-invalid=invalid(retention_error, "retention_days")/>
                                <FieldError error=retention_error field="retention_days"/></label>
                            <p class="hint">"Older records are removed hourly; the hash chain keeps verifying from a checkpoint."</p>
                            <button type="submit" class="primary">"Save retention"</button>
                        </ActionForm>
                        <h2>"Sign-in"</h2>
                        <FormError error=mfa_error/>
                        <Done done=succeeded(mfa.value()) text="Sign-in policy saved."/>
                        <ActionForm action=mfa>
                            <Csrf/>
                            <label>"Two-step verification"
                                <select name="mfa_policy">
                                    {crate::domain::mfa::MfaPolicy::ALL.into_iter().map(|p| {
                                        let selected = p.as_str() == o.mfa_policy;
                                        view! { <option value=p.as_str() selected=selected>{p.label()}</option> }
                                    }).collect_view()}
                                </select>
                            </label>
                            <p class="hint">"Members it newly covers set up an authenticator app at their next sign-in; sessions signed in without one end at once."</p>
                            <button type="submit" class="primary">"Save sign-in policy"</button>
                        </ActionForm>
                        <h2>"Connected apps"</h2>
                        <FormError error=switch_error/>
                        <Done done=succeeded(switch.value()) text="Connected apps switch saved."/>
                        {if o.connected_apps_enabled {
                            view! {
                                <p data-testid="apps-switch">"Connected apps are on: apps get tokens as their settings and grants allow."</p>
                                <ActionForm action=switch>
                                    <Csrf/>
                                    <input type="hidden" name="enabled" value="off"/>
                                    <Confirm label="Turn connected apps off" what="Turn connected apps off for the whole organization? No app gets a token here and every token already issued (its own apps', and other organizations' apps acting for its users) stops working at once. Nothing is deleted: turning them on again restores every grant."/>
                                </ActionForm>
                            }.into_any()
                        } else {
                            view! {
                                <p class="notice" role="alert" data-testid="apps-switch">"Connected apps are off: no app gets a token in this organization and every token is inactive."</p>
                                <ActionForm action=switch>
                                    <Csrf/>
                                    <input type="hidden" name="enabled" value="on"/>
                                    <button type="submit" class="primary">"Turn connected apps on"</button>
                                </ActionForm>
                            }.into_any()
                        }}
                    }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
