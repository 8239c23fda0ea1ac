//! Dynamic client registration (RFC 7591) in the portal: the organization's initial access
//! tokens — each allows some registrations, until a date, of apps with at most its scopes
//! and grant types, into the organization or a business group — issued (the value shown
//! once), listed and revoked.

use leptos::form::ActionForm;
use leptos::prelude::*;

use crate::app::components::{
    Confirm, Csrf, Done, ErrorPage, FieldError, FormError, Need, Page, clear_on_success,
    format_time, invalid,
};
use crate::app::error::AppError;
use crate::app::session::{form_error, kept, succeeded};
use crate::domain::GrantType;
use crate::domain::scope::CATALOGUE;
use crate::domain::views::InitialTokensView;

/// Where the session keeps a new token's value until the page shows it.
#[cfg(feature = "ssr")]
const KEPT: &str = "initial-access-token";

#[server(prefix = "/api", endpoint = "list_initial_tokens")]
pub async fn list_initial_tokens() -> Result<InitialTokensView, AppError> {
    use crate::app::server as portal;
    portal::admin_read(async |state, me| {
        let mut view = crate::services::registration::list_initial_tokens(&state.db, &me.principal)
            .await
            .map_err(portal::service_error)?;
        view.new_value = portal::take_new_secret(&state, &portal::session().await?, KEPT).await;
        Ok(view)
    })
    .await
}

#[server(prefix = "/api", endpoint = "issue_initial_token")]
pub async fn issue_initial_token(
    csrf: String,
    token: crate::domain::registration::InitialTokenInput,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    use secrecy::ExposeSecret;
    portal::admin_write(&csrf, async |state, me| {
        let (_, value) =
            crate::services::registration::issue_initial_token(&state.db, &me.principal, &token)
                .await
                .map_err(portal::service_error)?;
        portal::keep_new_secret(&state, KEPT, value.expose_secret()).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "revoke_initial_token")]
pub async fn revoke_initial_token(csrf: String, id: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::registration::revoke_initial_token(&state.db, &me.principal, &id)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[component]
pub fn RegistrationPage() -> impl IntoView {
    let issue = ServerAction::<IssueInitialToken>::new();
    let revoke = ServerAction::<RevokeInitialToken>::new();
    let data = Resource::new(
        move || (issue.version().get(), revoke.version().get()),
        |_| list_initial_tokens(),
    );
    view! {
        <Page title="Dynamic registration" need=Need::Admin>
            <Registration issue revoke data/>
        </Page>
    }
}

#[component]
fn Registration(
    issue: ServerAction<IssueInitialToken>,
    revoke: ServerAction<RevokeInitialToken>,
    data: Resource<Result<InitialTokensView, AppError>>,
) -> impl IntoView {
    let issue_error = form_error(issue.value());
    let issue_form = NodeRef::new();
    clear_on_success(succeeded(issue.value()), issue_form);
    let revoke_error = form_error(revoke.value());
    let registration = crate::domain::paths::REGISTRATION_PATH;
    view! {
        <h1>"Dynamic registration"</h1>
        <p class="hint">"Platforms that provision apps on their own register them at " <code>{registration}</code>
            " (RFC 7591) with an initial access token you issue here. Each registered app is checked like one made in the portal, gets at most the token's scopes and grant types, and manages its own registration with the registration access token it receives (RFC 7592)."</p>
        <FormError error=revoke_error/>
        <Done done=succeeded(revoke.value()) text="Token revoked. Apps it registered stay."/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match data.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(d) => {
                        let shown = d.new_value.clone().map(|v| view! {
                            <div class="status saved" role="status">
                                <p>"The new initial access token, shown once: copy it now."</p>
                                <p><code class="secret" data-testid="new-initial-token">{v}</code></p>
                            </div>
                        });
                        let empty = d.tokens.is_empty();
                        let rows = d.tokens.into_iter().map(|t| {
                            let state = if t.revoked { "revoked" } else if t.live { "usable" } else { "spent or expired" };
                            let badge = if t.live { "badge ok" } else { "badge off" };
                            let place = t.business_group.clone().unwrap_or_else(|| "the organization".into());
                            let name = t.name.clone();
                            view! {
                                <tr>
                                    <td data-label="Name">{name.clone()}</td>
                                    <td data-label="State"><span class=badge>{state}</span></td>
                                    <td data-label="Registers into">{place}</td>
                                    <td data-label="Scopes"><code>{t.scopes.join(" ")}</code></td>
                                    <td data-label="Grant types">{t.grant_types.join(", ")}</td>
                                    <td data-label="Uses left">{t.uses_left}</td>
                                    <td data-label="Expires">{format_time(t.expires_at)}</td>
                                    <td>
                                        {t.live.then(move || view! {
                                            <ActionForm action=revoke attr:class="inline">
                                                <Csrf/>
                                                <input type="hidden" name="id" value=t.id/>
                                                <Confirm label="Revoke" small=true what=format!("Revoke the token {name}? No app can register with it any more; apps it registered stay.")/>
                                            </ActionForm>
                                        })}
                                    </td>
                                </tr>
                            }
                        }).collect_view();
                        let table = if empty {
                            view! { <p class="empty">"No initial access token yet."</p> }.into_any()
                        } else {
                            view! {
                                <table class="list initial-tokens">
                                    <caption class="visually-hidden">"Initial access tokens"</caption>
                                    <thead><tr><th scope="col">"Name"</th><th scope="col">"State"</th><th scope="col">"Registers into"</th><th scope="col">"Scopes"</th><th scope="col">"Grant types"</th><th scope="col">"Uses left"</th><th scope="col">"Expires"</th><th scope="col"><span class="visually-hidden">"Revoke"</span></th></tr></thead>
                                    <tbody>{rows}</tbody>
                                </table>
                            }.into_any()
                        };
                        let groups = d.groups.iter().map(|(id, name)| view! { <option value=id.clone()>{name.clone()}</option> }).collect_view();
                        view! {
                            {shown}
                            {table}
                            <section class="panel">
                                <h2>"Issue an initial access token"</h2>
                                <FormError error=issue_error/>
                                <ActionForm action=issue node_ref=issue_form attr:class="initial-token-form">
                                    <Csrf/>
                                    <label>"Name" <input type="text" name="token[name]" value=kept("token[name]") aria-invalid=invalid(issue_error, "name") required maxlength="100" placeholder="Partner platform"/>
                                        <FieldError error=issue_error field="name"/></label>
                                    <div class="row">
                                        <label>"Registrations allowed" <input type="number" name="token[uses]" value=kept("token[uses]").unwrap_or_else(|| "1".into()) min="1" max="1000" aria-invalid=invalid(issue_error, "uses") required/>
                                            <FieldError error=issue_error field="uses"/></label>
                                        <label>"Valid for (days)" <input type="number" name="token[days]" value=kept("token[days]").unwrap_or_else(|| "7".into()) min="1" max="365" aria-invalid=invalid(issue_error, "days") required/>
                                            <FieldError error=issue_error field="days"/></label>
                                    </div>
                                    <label>"Registers apps into"
                                        <select name="token[business_group]">
                                            <option value="">"The organization"</option>
                                            {groups}
                                        </select>
                                    </label>
                                    <fieldset>
                                        <legend>"Grant types a registered app may have"</legend>
                                        {GrantType::ALL.iter().map(|g| view! {
                                            <label class="check"><input type="checkbox" name="token[grant_types][]" value=g.as_str()/> {g.label()}</label>
                                        }).collect_view()}
                                        <FieldError error=issue_error field="grant_types"/>
                                    </fieldset>
                                    <fieldset>
                                        <legend>"Scopes a registered app may have"</legend>
                                        {CATALOGUE.iter().map(|(s, desc)| view! {
                                            <label class="check"><input type="checkbox" name="token[scopes][]" value=*s/> <code>{*s}</code> " — " {*desc}</label>
                                        }).collect_view()}
                                        <label>"Scopes of your APIs (space-separated)" <input type="text" name="token[scopes][]" maxlength="2000" placeholder="orders:read"/></label>
                                        <FieldError error=issue_error field="scopes"/>
                                    </fieldset>
                                    <button type="submit" class="primary">"Issue token"</button>
                                </ActionForm>
                            </section>
                        }.into_any()
                    }
                }
            })}
        </Suspense>
    }
}
