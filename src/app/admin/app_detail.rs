//! One app: its client id, secrets (shown once), settings, enable/disable and delete.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_params_map;
use serde::{Deserialize, Serialize};

use super::app_form::AppFields;
use crate::app::components::{
    Breadcrumbs, Confirm, CopyButton, Csrf, Done, ErrorPage, FieldError, FormError, Need, Page,
    format_duration, format_time, last_used,
};
use crate::app::error::AppError;
use crate::app::session::{form_error, succeeded};
use crate::domain::AppKind;
use crate::domain::app::AppInput;
use crate::domain::quick_start::QuickStart;
use crate::domain::views::{AppDetail, HourCount};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppPageData {
    pub detail: AppDetail,
    /// A secret created by the last action, shown this once.
    pub new_secret: Option<String>,
    /// Token requests per hour over the last 7 days.
    pub activity: Vec<HourCount>,
    pub quick_start: QuickStart,
}

#[server(prefix = "/api", endpoint = "get_app")]
pub async fn get_app(client_id: String) -> Result<AppPageData, AppError> {
    use crate::app::server as portal;
    portal::admin_read(async |state, me| {
        let detail = crate::services::apps::get(&state.db, &me.principal, &client_id)
            .await
            .map_err(portal::service_error)?;
        let new_secret =
            portal::take_new_secret(&state, &portal::session().await?, &client_id).await;
        let activity = crate::services::audit::token_chart(&state.db, &me.principal, &client_id)
            .await
            .map_err(portal::service_error)?;
        let quick_start = crate::services::apps::quick_start(
            &state.settings.issuer,
            &detail.app,
            new_secret.as_deref(),
        );
        Ok(AppPageData {
            detail,
            new_secret,
            activity,
            quick_start,
        })
    })
    .await
}

#[server(prefix = "/api", endpoint = "update_app")]
pub async fn update_app(
    csrf: String,
    client_id: String,
    app: AppInput,
    #[server(default)] public_keys: String,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::apps::update(&state.db, &me.principal, &client_id, &app, &public_keys)
            .await
            .map(|_| ())
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "set_app_enabled")]
pub async fn set_app_enabled(
    csrf: String,
    client_id: String,
    enabled: bool,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::apps::set_enabled(&state.db, &me.principal, &client_id, enabled)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "delete_app")]
pub async fn delete_app(
    csrf: String,
    client_id: String,
    #[server(default)] confirm_name: String,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::apps::delete(&state.db, &me.principal, &client_id, &confirm_name)
            .await
            .map_err(portal::service_error)?;
        leptos_axum::redirect("/admin");
        Ok(())
    })
    .await
}

#[server(prefix = "/api", endpoint = "add_secret")]
pub async fn add_secret(csrf: String, client_id: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    use secrecy::ExposeSecret;
    portal::admin_write(&csrf, async |state, me| {
        let secret = crate::services::apps::add_secret(&state.db, &me.principal, &client_id)
            .await
            .map_err(portal::service_error)?;
        portal::keep_new_secret(&state, &client_id, secret.expose_secret()).await
    })
    .await
}

#[server(prefix = "/api", endpoint = "delete_secret")]
pub async fn delete_secret(
    csrf: String,
    client_id: String,
    secret_id: String,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::apps::delete_secret(&state.db, &me.principal, &client_id, &secret_id)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[component]
pub fn AppDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let update = ServerAction::<UpdateApp>::new();
    let enable = ServerAction::<SetAppEnabled>::new();
    let delete = ServerAction::<DeleteApp>::new();
    let add = ServerAction::<AddSecret>::new();
    let remove = ServerAction::<DeleteSecret>::new();
    let data = Resource::new(
        move || {
            (
                id(),
                update.version().get(),
                enable.version().get(),
                add.version().get(),
                remove.version().get(),
            )
        },
        |(id, ..)| get_app(id),
    );
    view! {
        <Page title="Connected app" need=Need::Admin>
            <AppDetailView update enable delete add remove data/>
        </Page>
    }
}

#[component]
fn AppDetailView(
    update: ServerAction<UpdateApp>,
    enable: ServerAction<SetAppEnabled>,
    delete: ServerAction<DeleteApp>,
    add: ServerAction<AddSecret>,
    remove: ServerAction<DeleteSecret>,
    data: Resource<Result<AppPageData, AppError>>,
) -> impl IntoView {
    let update_error = form_error(update.value());
    let delete_error = form_error(delete.value());
    let secret_error = Signal::derive({
        let add_err = form_error(add.value());
        let remove_err = form_error(remove.value());
        let enable_err = form_error(enable.value());
        move || {
            add_err
                .get()
                .or_else(|| remove_err.get())
                .or_else(|| enable_err.get())
        }
    });

    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let d = match data.await {
                    Ok(d) => d,
                    Err(e) => return view! { <ErrorPage error=e/> }.into_any(),
                };
                let app = d.detail.app.clone();
                let client_id = app.client_id.clone();
                let kind = AppKind::parse(&app.kind).map(|k| k.label()).unwrap_or("");
                let app_name = app.name.clone();
                let (cid_add, cid_update, cid_enable, cid_delete) = (client_id.clone(), client_id.clone(), client_id.clone(), client_id.clone());
                let app_for_form = app.clone();
                let secrets = d.detail.secrets.clone();
                let n_secrets = secrets.len();
                let secret_rows = secrets.into_iter().map(|s| {
                    let client_id = client_id.clone();
                    view! {
                        <tr>
                            <td data-label="Secret"><code>{s.hint.clone()}</code></td>
                            <td data-label="Created">{format_time(s.created_at)}</td>
                            <td data-label="Last used">{last_used(s.last_used_at)}</td>
                            <td>
                                {(n_secrets > 1).then(|| view! {
                                    <ActionForm action=remove attr:class="inline">
                                        <Csrf/>
                                        <input type="hidden" name="client_id" value=client_id/>
                                        <input type="hidden" name="secret_id" value=s.id/>
                                        <Confirm label="Delete" small=true what=format!("Delete the secret {}? Requests that authenticate with it are refused at once.", s.hint)/>
                                    </ActionForm>
                                })}
                            </td>
                        </tr>
                    }
                }).collect_view();
                view! {
                    <Breadcrumbs above=vec![("Apps".into(), "/admin".into())] here=app.name.clone()/>
                    <div class="heading">
                        <h1>{app.name.clone()}</h1>
                        {if app.enabled { view! { <span class="badge ok">"enabled"</span> } } else { view! { <span class="badge off">"disabled"</span> } }}
                    </div>
                    {d.new_secret.map(|s| view! {
                        <div class="secret-once" role="status">
                            <strong>"New client secret — copy it now, it will not be shown again:"</strong>
                            <code class="secret" data-testid="new-secret">{s.clone()}</code>
                            <CopyButton text=s what="the client secret"/>
                        </div>
                    })}
                    <QuickStartPanel q=d.quick_start.clone()/>
                    <dl class="facts">
                        <dt>"Client id"</dt><dd><code data-testid="client-id">{client_id}</code></dd>
                        <dt>"Kind"</dt><dd>{kind}</dd>
                        <dt>"Client type"</dt><dd>{if app.public_client { "public (no secret, PKCE)" } else { "confidential" }}</dd>
                        <dt>"Grant types"</dt><dd>{app.grant_types.join(", ")}</dd>
                        {(app.kind == "on-behalf-of-user").then(|| view! { <dt>"ID tokens"</dt><dd>{app.id_token_alg.clone()}</dd> })}
                        <dt>"Token lifetimes"</dt><dd>{if app.kind == "on-behalf-of-user" {
                            format!("access {}, refresh {}", format_duration(app.access_token_ttl), format_duration(app.refresh_token_ttl))
                        } else {
                            format!("access {}", format_duration(app.access_token_ttl))
                        }}</dd>
                        <dt>"Created"</dt><dd>{format_time(app.created_at)}</dd>
                        {(app.kind == "on-behalf-of-user").then(|| view! {
                            <dt>"Authorizations"</dt><dd><a href=format!("/admin/apps/{}/authorizations", app.client_id)>"Who authorized this app"</a></dd>
                        })}
                    </dl>

                    <TokenChart hours=d.activity.clone()/>

                    <FormError error=secret_error/>
                    {(!app.public_client).then(|| view! {
                        <section class="panel">
                            <h2>"Client secrets"</h2>
                            <p class="hint">"Up to two at once: add the new secret, move your app to it, then delete the old one."</p>
                            <table class="list">
                                <thead><tr><th>"Secret"</th><th>"Created"</th><th>"Last used"</th><th></th></tr></thead>
                                <tbody>{secret_rows}</tbody>
                            </table>
                            {(n_secrets < 2).then(|| view! {
                                <ActionForm action=add>
                                    <Csrf/>
                                    <input type="hidden" name="client_id" value=cid_add.clone()/>
                                    <button type="submit">"Add a new secret"</button>
                                </ActionForm>
                            })}
                        </section>
                    })}

                    <section class="panel">
                        <h2>"Settings"</h2>
                        <FormError error=update_error/>
                        <Done done=succeeded(update.value()) text="Changes saved."/>
                        <ActionForm action=update attr:class="app-form">
                            <Csrf/>
                            <input type="hidden" name="client_id" value=cid_update/>
                            <AppFields app=Some(app_for_form) error=update_error/>
                            <button type="submit" class="primary">"Save changes"</button>
                        </ActionForm>
                    </section>

                    <section class="panel">
                        <h2>{if app.enabled { "Disable" } else { "Enable" }}</h2>
                        <p class="hint">{if app.enabled { "A disabled app can get no tokens." } else { "The app can get tokens again once enabled." }}</p>
                        <ActionForm action=enable>
                            <Csrf/>
                            <input type="hidden" name="client_id" value=cid_enable/>
                            <input type="hidden" name="enabled" value=(!app.enabled).to_string()/>
                            {if app.enabled {
                                view! { <Confirm label="Disable app" what=format!("Disable {}? It can get no tokens, and every token it holds stops working at once.", app.name)/> }.into_any()
                            } else {
                                view! { <button type="submit">"Enable app"</button> }.into_any()
                            }}
                        </ActionForm>
                    </section>

                    <section class="panel danger-zone">
                        <h2>"Delete"</h2>
                        <FormError error=delete_error/>
                        <ActionForm action=delete>
                            <Csrf/>
                            <input type="hidden" name="client_id" value=cid_delete/>
                            <label>"Type the app's name, " <strong>{app_name}</strong> ", to confirm"
                                <input type="text" name="confirm_name" required autocomplete="off"/>
                                <FieldError error=delete_error field="confirm_name"/>
                            </label>
                            <button type="submit" class="danger">"Delete app"</button>
                        </ActionForm>
                    </section>
                }.into_any()
            })}
        </Suspense>
    }
}

/// Tokens issued (bars up) and refused (bars down) per hour over the last 7 days, as an
/// inline SVG: no script, no chart library.
#[component]
fn TokenChart(hours: Vec<HourCount>) -> impl IntoView {
    const BAR: usize = 4;
    const HALF: i64 = 50;
    let issued: i64 = hours.iter().map(|h| h.issued).sum();
    let refused: i64 = hours.iter().map(|h| h.refused).sum();
    let top = hours
        .iter()
        .map(|h| h.issued.max(h.refused))
        .max()
        .unwrap_or(0)
        .max(1);
    let scale = |n: i64| if n == 0 { 0 } else { (n * HALF / top).max(1) };
    let width = hours.len() * BAR;
    let bars = hours
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let x = i * BAR;
            let (up, down) = (scale(h.issued), scale(h.refused));
            let title = format!(
                "{}: {} issued, {} refused",
                format_time(h.hour),
                h.issued,
                h.refused
            );
            view! {
                <g>
                    <title>{title}</title>
                    <rect class="issued" x=x y=HALF - up width=BAR - 1 height=up/>
                    <rect class="refused" x=x y=HALF width=BAR - 1 height=down/>
                </g>
            }
        })
        .collect_view();
    view! {
        <section class="panel">
            <h2>"Token requests, last 7 days"</h2>
            <p class="hint" data-testid="token-totals">
                {format!("{issued} issued, {refused} refused (per hour; refused below the line)")}
            </p>
            <svg class="chart" viewBox=format!("0 0 {width} {}", 2 * HALF) width="100%" height="100" preserveAspectRatio="none" role="img" aria-label="Tokens issued and refused per hour">
                <line x1="0" y1=HALF x2=width y2=HALF class="axis"/>
                {bars}
            </svg>
        </section>
    }
}

/// The addresses and the ready token request an app's developer copies first.
#[component]
fn QuickStartPanel(q: QuickStart) -> impl IntoView {
    let row = |label: &'static str, value: String| {
        view! {
            <dt>{label}</dt>
            <dd><code>{value.clone()}</code> " " <CopyButton text=value what=format!("the {}", label.to_lowercase())/></dd>
        }
    };
    let own = q.authorize_url.is_none();
    view! {
        <section class="panel quick-start" aria-labelledby="quick-start">
            <h2 id="quick-start">"Quick start"</h2>
            <dl class="facts">
                {row("Issuer", q.issuer)}
                {row("Discovery", q.discovery)}
                {(!own).then(|| row("Authorization endpoint", q.authorize))}
                {row("Token endpoint", q.token)}
                {row("Client id", q.client_id)}
            </dl>
            {match q.authorize_url {
                None => view! {
                    <p>"Get a token for this app (put its secret in " <code>"CLIENT_SECRET"</code> " unless it is shown above):"</p>
                }.into_any(),
                Some(url) => view! {
                    <p>"1. Open this address, sign in and allow; the browser lands on the redirect URI with " <code>"?code=…"</code> ":"</p>
                    <pre class="copyable"><code>{url.clone()}</code></pre>
                    <CopyButton text=url what="the authorization address"/>
                    <p>"2. Put that code in " <code>"CODE"</code> " (and the secret in " <code>"CLIENT_SECRET"</code> " for a confidential app), then exchange it:"</p>
                }.into_any(),
            }}
            <pre class="copyable" data-testid="quick-start-curl"><code>{q.curl.clone()}</code></pre>
            <CopyButton text=q.curl what="the curl command"/>
        </section>
    }
}
