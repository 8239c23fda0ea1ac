//! One app, in tabs: Settings (Quick start, the form, enable/disable, delete), Credentials
//! (client id, secrets shown once), Authorizations (who authorized it) and Activity (the
//! token chart and its latest audit records).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_params_map};
use serde::{Deserialize, Serialize};

use super::app_form::AppFields;
use super::audit::{RecordTable, list_audit, records_of};
use crate::app::authorizations::{AppAuthorizations, RevokeAppAuthorization, app_authorizations};
use crate::app::chart::TokenChart;
use crate::app::components::{
    Breadcrumbs, Confirm, CopyButton, Csrf, Done, ErrorPage, FieldError, FormError, Need, Page,
    count, format_duration, format_time, invalid, last_used,
};
use crate::app::list::use_list_query;
use crate::domain::audit::AuditQuery;
use crate::domain::listing::Listed;
use crate::domain::views::{AuditPage, AuthorizationView};

type AuthorizationPage = Listed<AuthorizationView>;
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
pub async fn add_secret(
    csrf: String,
    client_id: String,
    #[server(default)] expires_at: String,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    use secrecy::ExposeSecret;
    portal::admin_write(&csrf, async |state, me| {
        let (secret, _) =
            crate::services::apps::add_secret(&state.db, &me.principal, &client_id, &expires_at)
                .await
                .map_err(portal::service_error)?;
        portal::keep_new_secret(&state, &client_id, secret.expose_secret()).await
    })
    .await
}

/// Sets (or, left empty, clears) when one of the app's secrets stops working.
#[server(prefix = "/api", endpoint = "set_secret_expiry")]
pub async fn set_secret_expiry(
    csrf: String,
    client_id: String,
    secret_id: String,
    #[server(default)] expires_at: String,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::admin_write(&csrf, async |state, me| {
        crate::services::apps::set_secret_expiry(
            &state.db,
            &me.principal,
            &client_id,
            &secret_id,
            &expires_at,
        )
        .await
        .map(|_| ())
        .map_err(portal::service_error)
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

/// The tabs of an app's page, each its own address (so each works without JavaScript and
/// can be linked).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tab {
    Settings,
    Credentials,
    Authorizations,
    Activity,
    /// An own-behalf app's scope assignments (`app_contexts`).
    Contexts,
}

impl Tab {
    const ALL: [Tab; 5] = [
        Tab::Settings,
        Tab::Credentials,
        Tab::Authorizations,
        Tab::Activity,
        Tab::Contexts,
    ];

    fn suffix(self) -> &'static str {
        match self {
            Tab::Settings => "",
            Tab::Credentials => "/credentials",
            Tab::Authorizations => "/authorizations",
            Tab::Activity => "/activity",
            Tab::Contexts => "/contexts",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Tab::Settings => "Settings",
            Tab::Credentials => "Credentials",
            Tab::Authorizations => "Authorizations",
            Tab::Activity => "Activity",
            Tab::Contexts => "Scopes in context",
        }
    }

    /// The tab a path shows.
    pub fn of_path(path: &str) -> Tab {
        let path = path.trim_end_matches('/');
        Tab::ALL
            .into_iter()
            .rev()
            .find(|t| !t.suffix().is_empty() && path.ends_with(t.suffix()))
            .unwrap_or(Tab::Settings)
    }

    pub fn href(self, client_id: &str) -> String {
        format!("/admin/apps/{client_id}{}", self.suffix())
    }
}

#[component]
pub fn AppDetailPage() -> impl IntoView {
    let params = use_params_map();
    let here = use_location();
    let id = move || params.with(|p| p.get("id").unwrap_or_default());
    let tab = move || Tab::of_path(&here.pathname.get());
    let update = ServerAction::<UpdateApp>::new();
    let enable = ServerAction::<SetAppEnabled>::new();
    let delete = ServerAction::<DeleteApp>::new();
    let add = ServerAction::<AddSecret>::new();
    let remove = ServerAction::<DeleteSecret>::new();
    let expiry = ServerAction::<SetSecretExpiry>::new();
    let revoke = ServerAction::<RevokeAppAuthorization>::new();
    let data = Resource::new(
        move || {
            (
                id(),
                update.version().get(),
                enable.version().get(),
                add.version().get(),
                remove.version().get(),
                expiry.version().get(),
            )
        },
        |(id, ..)| get_app(id),
    );
    // What only one tab shows is read only on that tab.
    let list = use_list_query();
    let authorizations = Resource::new(
        move || (id(), tab(), list(), revoke.version().get()),
        |(id, tab, l, _)| async move {
            match tab {
                Tab::Authorizations => app_authorizations(id, l.q, l.sort, l.page).await.map(Some),
                _ => Ok(None),
            }
        },
    );
    let records = Resource::new(
        move || (id(), tab()),
        |(id, tab)| async move {
            match tab {
                Tab::Activity => {
                    let q = AuditQuery {
                        app: id,
                        limit: "20".into(),
                        ..Default::default()
                    };
                    list_audit(q).await.map(Some)
                }
                _ => Ok(None),
            }
        },
    );
    let actions = AppActions {
        update,
        enable,
        delete,
        add,
        remove,
        expiry,
        revoke,
    };
    view! {
        <Page title="Connected app" need=Need::Admin>
            <AppDetailView actions data authorizations records tab=Signal::derive(tab)/>
        </Page>
    }
}

/// Everything an admin can do on an app's page.
#[derive(Clone, Copy)]
struct AppActions {
    update: ServerAction<UpdateApp>,
    enable: ServerAction<SetAppEnabled>,
    delete: ServerAction<DeleteApp>,
    add: ServerAction<AddSecret>,
    remove: ServerAction<DeleteSecret>,
    expiry: ServerAction<SetSecretExpiry>,
    revoke: ServerAction<RevokeAppAuthorization>,
}

#[component]
fn Tabs(client_id: String, current: Tab, user_kind: bool) -> impl IntoView {
    let tabs = Tab::ALL
        .into_iter()
        .filter(|t| user_kind || *t != Tab::Authorizations)
        .filter(|t| !user_kind || *t != Tab::Contexts)
        .map(|t| {
            let aria = (t == current).then_some("page");
            view! { <a href=t.href(&client_id) aria-current=aria>{t.label()}</a> }
        })
        .collect_view();
    view! { <nav class="tabs" aria-label="App sections">{tabs}</nav> }
}

#[component]
fn AppDetailView(
    actions: AppActions,
    data: Resource<Result<AppPageData, AppError>>,
    authorizations: Resource<Result<Option<AuthorizationPage>, AppError>>,
    records: Resource<Result<Option<AuditPage>, AppError>>,
    tab: Signal<Tab>,
) -> impl IntoView {
    let AppActions {
        update,
        enable,
        delete,
        add,
        remove,
        expiry,
        revoke,
    } = actions;
    let update_error = form_error(update.value());
    let delete_error = form_error(delete.value());
    let secret_error = Signal::derive({
        let add_err = form_error(add.value());
        let remove_err = form_error(remove.value());
        let enable_err = form_error(enable.value());
        let expiry_err = form_error(expiry.value());
        move || {
            add_err
                .get()
                .or_else(|| remove_err.get())
                .or_else(|| enable_err.get())
                .or_else(|| expiry_err.get())
        }
    });

    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                let d = match data.await {
                    Ok(d) => d,
                    Err(e) => return view! { <ErrorPage error=e/> }.into_any(),
                };
                let tab = tab.get_untracked();
                let app = d.detail.app.clone();
                let title = app.name.clone();
                let client_id = app.client_id.clone();
                let user_kind = app.kind == "on-behalf-of-user";
                let kind = AppKind::parse(&app.kind).map(|k| k.label()).unwrap_or("");
                let new_secret = d.new_secret.clone().map(|s| view! {
                    <div class="secret-once" role="status">
                        <strong>"New client secret — copy it now, it will not be shown again:"</strong>
                        <code class="secret" data-testid="new-secret">{s.clone()}</code>
                        <CopyButton text=s what="the client secret"/>
                    </div>
                });
                let body = match tab {
                    Tab::Settings => {
                        let app_name = app.name.clone();
                        let disable_what = format!("Disable {}? It can get no tokens, and every token it holds stops working at once.", app.name);
                        let (cid_update, cid_enable, cid_delete) = (client_id.clone(), client_id.clone(), client_id.clone());
                        let app_for_form = app.clone();
                        view! {
                            <QuickStartPanel q=d.quick_start.clone()/>
                            <dl class="facts">
                                <dt>"Kind"</dt><dd>{kind}</dd>
                                <dt>"Client type"</dt><dd>{if app.public_client { "public (no secret, PKCE)" } else { "confidential" }}</dd>
                                <dt>"Grant types"</dt><dd>{app.grant_types.join(", ")}</dd>
                                {user_kind.then(|| view! { <dt>"ID tokens"</dt><dd>{app.id_token_alg.clone()}</dd> })}
                                {user_kind.then(|| view! { <dt>"Consent"</dt><dd data-testid="consent-fact">{if app.skip_consent {
                                    "not asked: a first-party app of this organization"
                                } else {
                                    "asked of each user"
                                }}</dd> })}
                                {app.registered_dynamically.then(|| view! { <dt>"Registration"</dt><dd data-testid="dynamic-fact"><span class="badge">"Registered dynamically"</span> " with an initial access token (RFC 7591)"</dd> })}
                                {(!app.exchange_audiences.is_empty()).then(|| view! { <dt>"Token exchange"</dt><dd data-testid="exchange-fact">{format!("users' tokens for {}", app.exchange_audiences.join(", "))}</dd> })}
                                {app.require_dpop.then(|| view! { <dt>"Tokens"</dt><dd data-testid="dpop-fact">"sender-constrained (DPoP required)"</dd> })}
                                {(user_kind && app.require_par).then(|| view! { <dt>"Authorization requests"</dt><dd data-testid="par-fact">"pushed first (PAR required)"</dd> })}
                                <dt>"Token lifetimes"</dt><dd>{if user_kind {
                                    format!("access {}, refresh {}", format_duration(app.access_token_ttl), format_duration(app.refresh_token_ttl))
                                } else {
                                    format!("access {}", format_duration(app.access_token_ttl))
                                }}</dd>
                                <dt>"Created"</dt><dd>{format_time(app.created_at)}</dd>
                            </dl>
                            <crate::app::admin::app_owner::OwnerPanel client_id=client_id.clone() owner=d.detail.owner.clone()/>

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
                                <FormError error=secret_error/>
                                <p class="hint">{if app.enabled { "A disabled app can get no tokens." } else { "The app can get tokens again once enabled." }}</p>
                                <ActionForm action=enable>
                                    <Csrf/>
                                    <input type="hidden" name="client_id" value=cid_enable/>
                                    <input type="hidden" name="enabled" value=(!app.enabled).to_string()/>
                                    {if app.enabled {
                                        view! { <Confirm label="Disable app" what=disable_what.clone()/> }.into_any()
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
                                        <input type="text" name="confirm_name" required autocomplete="off"
                                            aria-invalid=invalid(delete_error, "confirm_name")/>
                                        <FieldError error=delete_error field="confirm_name"/>
                                    </label>
                                    <button type="submit" class="danger">"Delete app"</button>
                                </ActionForm>
                            </section>
                        }.into_any()
                    }
                    Tab::Credentials => view! {
                        <FormError error=secret_error/>
                        <Done done=succeeded(remove.value()) text="Secret deleted."/>
                        <dl class="facts">
                            <dt>"Client type"</dt><dd>{if app.public_client { "public: no secret; the app proves itself with PKCE" } else { "confidential: authenticates with a client secret" }}</dd>
                        </dl>
                        <Done done=succeeded(expiry.value()) text="Expiry saved."/>
                        {(!app.public_client).then(|| view! { <Secrets client_id=client_id.clone() secrets=d.detail.secrets.clone() add remove expiry/> })}
                    }.into_any(),
                    Tab::Authorizations => view! {
                        <AppAuthorizations client_id=client_id.clone() revoke list=authorizations/>
                    }.into_any(),
                    Tab::Activity => view! {
                        <UsagePanel usage=d.detail.usage/>
                        <TokenChart hours=d.activity.clone() title="Token requests, last 7 days"/>
                        <section class="panel">
                            <h2>"Latest records"</h2>
                            <RecentRecords records/>
                            <p><a href=records_of("app", &client_id)>"Every record of this app in the audit log →"</a></p>
                        </section>
                    }.into_any(),
                    Tab::Contexts => view! {
                        <super::app_contexts::ScopesInContext client_id=client_id.clone()/>
                    }.into_any(),
                };
                view! {
                    <Breadcrumbs above=vec![("Apps".into(), "/admin".into())] here=title.clone()/>
                    <div class="heading">
                        <h1>{title}</h1>
                        {if app.enabled { view! { <span class="badge ok">"enabled"</span> } } else { view! { <span class="badge off">"disabled"</span> } }}
                    </div>
                    <p class="client-id">"Client id " <code data-testid="client-id">{client_id.clone()}</code> " "
                        <CopyButton text=client_id.clone() what="the client id"/></p>
                    <Tabs client_id=client_id.clone() current=tab user_kind/>
                    <SecretExpiryWarning client_id=client_id.clone() secrets=d.detail.secrets.clone()/>
                    {new_secret}
                    <div class="tab-body">{body}</div>
                }.into_any()
            })}
        </Suspense>
    }
}

/// The app's client secrets: when each was made and last used, add one, delete one.
#[component]
fn Secrets(
    client_id: String,
    secrets: Vec<crate::domain::views::SecretView>,
    add: ServerAction<AddSecret>,
    remove: ServerAction<DeleteSecret>,
    expiry: ServerAction<SetSecretExpiry>,
) -> impl IntoView {
    let n_secrets = secrets.len();
    let cid_add = client_id.clone();
    let add_error = form_error(add.value());
    let expiry_error = form_error(expiry.value());
    let rows = secrets.into_iter().map(|s| {
        let client_id = client_id.clone();
        let expires = view! {
            {s.expires_at.map(format_time).unwrap_or_else(|| "never".into())}
            {s.expired.then(|| view! { " " <span class="badge off">"expired"</span> })}
            {s.expires_soon.then(|| view! { " " <span class="badge warn">"expires soon"</span> })}
            {(!s.expired).then({
                let (client_id, secret_id) = (client_id.clone(), s.id.clone());
                let label = format!("New expiry of the secret {} (empty: never)", s.hint);
                let value = s.expires_at.map(crate::domain::when::date).unwrap_or_default();
                move || view! {
                    <ActionForm action=expiry attr:class="inline expiry-form">
                        <Csrf/>
                        <input type="hidden" name="client_id" value=client_id/>
                        <input type="hidden" name="secret_id" value=secret_id/>
                        <input type="date" name="expires_at" aria-label=label
                            value=value
                            aria-invalid=invalid(expiry_error, "expires_at")/>
                        <button type="submit" class="small">"Set expiry"</button>
                    </ActionForm>
                }
            })}
        };
        view! {
            <tr>
                <td data-label="Secret"><code>{s.hint.clone()}</code></td>
                <td data-label="Created">{format_time(s.created_at)}</td>
                <td data-label="Last used">{last_used(s.last_used_at)}</td>
                <td data-label="Expires">{expires}</td>
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
        <section class="panel">
            <h2>"Client secrets"</h2>
            <p class="hint">"Up to two at once: add the new secret, move your app to it, then delete the old one. A secret's value is shown once, when it is made; we keep only its hash. A secret may expire (at midnight UTC of the date chosen): it is refused from then on, and this page warns 14 days before."</p>
            <FieldError error=expiry_error field="expires_at"/>
            <table class="list">
                <thead><tr><th scope="col">"Secret"</th><th scope="col">"Created"</th><th scope="col">"Last used"</th><th scope="col">"Expires"</th><th scope="col"><span class="visually-hidden">"Delete"</span></th></tr></thead>
                <tbody>{rows}</tbody>
            </table>
            {(n_secrets < 2).then(|| view! {
                <ActionForm action=add attr:class="add-secret">
                    <Csrf/>
                    <input type="hidden" name="client_id" value=cid_add.clone()/>
                    <label>"Expires on (optional)"
                        <input type="date" name="expires_at" aria-invalid=invalid(add_error, "expires_at")/>
                        <FieldError error=add_error field="expires_at"/>
                    </label>
                    <button type="submit">"Add a new secret"</button>
                </ActionForm>
            })}
        </section>
    }
}

/// A warning above every tab while a secret has expired or expires within 14 days.
#[component]
fn SecretExpiryWarning(
    client_id: String,
    secrets: Vec<crate::domain::views::SecretView>,
) -> impl IntoView {
    let lines: Vec<String> = secrets
        .iter()
        .filter_map(|s| match (s.expired, s.expires_soon, s.expires_at) {
            (true, _, Some(at)) => Some(format!(
                "The secret {} expired on {}: requests that use it are refused.",
                s.hint,
                format_time(at)
            )),
            (false, true, Some(at)) => Some(format!(
                "The secret {} expires on {}.",
                s.hint,
                format_time(at)
            )),
            _ => None,
        })
        .collect();
    (!lines.is_empty()).then(|| {
        let items = lines
            .into_iter()
            .map(|l| view! { <li>{l}</li> })
            .collect_view();
        view! {
            <div class="notice" role="status" data-testid="secret-expiry-warning">
                <ul class="plain">{items}</ul>
                <p>"Add a new secret, move your app to it, then delete the old one: "
                    <a href=Tab::Credentials.href(&client_id)>"Credentials"</a></p>
            </div>
        }
    })
}

/// Who authorized the app and how many tokens it got (the Activity tab).
#[component]
fn UsagePanel(usage: crate::domain::views::AppUsage) -> impl IntoView {
    view! {
        <section class="panel" aria-labelledby="usage" data-testid="app-usage">
            <h2 id="usage">"Usage"</h2>
            <dl class="facts">
                <dt>"Authorized by"</dt>
                <dd>{format!("{} in {}", count(usage.users, "user"), count(usage.organizations, "organization"))}</dd>
                <dt>"Tokens issued, last 24 hours"</dt><dd>{usage.tokens_24h}</dd>
                <dt>"Tokens issued, last 7 days"</dt><dd>{usage.tokens_7d}</dd>
            </dl>
        </section>
    }
}

/// The app's latest audit records (the Activity tab).
#[component]
fn RecentRecords(records: Resource<Result<Option<AuditPage>, AppError>>) -> impl IntoView {
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || Suspend::new(async move {
                match records.await {
                    Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                    Ok(Some(p)) if !p.items.is_empty() => view! { <RecordTable items=p.items/> }.into_any(),
                    _ => view! { <p class="empty">"Nothing yet: records appear here once the app asks for tokens or is changed."</p> }.into_any(),
                }
            })}
        </Suspense>
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
