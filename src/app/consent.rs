//! The consent page: which app asks, for which account in which organization, and for
//! what, in plain words (sensitive scopes marked); Allow or Cancel, and "Not you?".
//! The forms are plain posts (the answer is a redirect to the app, off this site), so the
//! page works the same with and without JavaScript.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use super::components::{Csrf, ErrorPage, FormError, Need, Page};
use super::error::AppError;
use super::login::Logout;
use super::session::{PageCtx, form_error};
use crate::domain::scope::is_sensitive;
use crate::domain::views::ConsentView;

#[server(prefix = "/api", endpoint = "get_consent")]
pub async fn get_consent(request: String) -> Result<ConsentView, AppError> {
    use crate::app::server as portal;
    let result = async {
        let (state, _, _) = portal::require_signed_in().await?;
        crate::services::authorize::consent_view(&state.db, &request)
            .await
            .map_err(|e| match e {
                crate::services::Error::NotFound => AppError::Refused(EXPIRED.into()),
                e => portal::service_error(e),
            })
    }
    .await;
    portal::finish(result)
}

#[cfg(feature = "ssr")]
const EXPIRED: &str =
    "This request has expired or was already answered. Go back to the app and start again.";

#[server(prefix = "/api", endpoint = "decide_consent")]
pub async fn decide_consent(
    csrf: String,
    request: String,
    decision: String,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    let result = async {
        let (state, session, me) = portal::require_signed_in().await?;
        portal::check_csrf(&session, &csrf).await?;
        let visitor = portal::visitor_of(&me, &session).await;
        let url = crate::services::authorize::decide(
            &state.db,
            &state.settings.issuer,
            &request,
            (visitor, me.principal.caller()),
            decision == "allow",
        )
        .await
        .map_err(|e| match e {
            crate::services::Error::NotFound => AppError::Refused(EXPIRED.into()),
            e => portal::service_error(e),
        })?;
        leptos_axum::redirect(&url);
        Ok(())
    }
    .await;
    portal::finish(result)
}

#[component]
pub fn ConsentPage() -> impl IntoView {
    let query = use_query_map();
    let request = query.with_untracked(|q| q.get("request").unwrap_or_default());
    let decide = ServerAction::<DecideConsent>::new();
    let data = {
        let request = request.clone();
        Resource::new(|| (), move |_| get_consent(request.clone()))
    };
    view! {
        <Page title="Allow access?" need=Need::SignedIn flow=true>
            <Consent request=request.clone() data decide/>
        </Page>
    }
}

#[component]
fn Consent(
    request: String,
    data: Resource<Result<ConsentView, AppError>>,
    decide: ServerAction<DecideConsent>,
) -> impl IntoView {
    let error = form_error(decide.value());
    let me = use_context::<PageCtx>().and_then(|c| c.me);
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let request = request.clone();
                let me = me.clone();
                Suspend::new(async move {
                    let (email, org) = me.map(|m| (m.email, m.org_name)).unwrap_or_default();
                    match data.await {
                        Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                        Ok(d) => {
                            let scopes = d.scopes.into_iter().map(|(name, words)| {
                                let sensitive = is_sensitive(&name);
                                view! {
                                    <li class:sensitive=sensitive>
                                        <span class="words">{words}</span>
                                        {sensitive.then(|| view! { " " <span class="badge warn">"Sensitive"</span> })}
                                        <code class="muted small">{name}</code>
                                    </li>
                                }
                            }).collect_view();
                            let form = |decision: &'static str, label: &'static str, class: &'static str, request: String| view! {
                                <form method="post" action=DecideConsent::url() class="inline">
                                    <Csrf/>
                                    <input type="hidden" name="request" value=request/>
                                    <input type="hidden" name="decision" value=decision/>
                                    <button type="submit" class=class>{label}</button>
                                </form>
                            };
                            // "Not you?": sign out, sign in as someone else, and the request resumes.
                            let resume = format!("{}?id={}", crate::domain::paths::RESUME_PATH, request);
                            view! {
                                <div class="card narrow consent">
                                    <h1><span data-testid="consent-app">{d.app_name.clone()}</span> " wants to access your account"</h1>
                                    <p class="account">
                                        <strong>{d.app_name.clone()}</strong> " wants to access your "
                                        <strong data-testid="consent-account">{email.clone()}</strong> " account in the "
                                        <strong data-testid="consent-org">{org}</strong> " organization."
                                    </p>
                                    <p class="hint">"Registered by " {d.org_name}
                                        {d.website_url.map(|w| view! { " · " <a href=w.clone() rel="noopener noreferrer" target="_blank">{w.clone()} <span class="visually-hidden">" (opens in a new tab)"</span></a> })}
                                    </p>
                                    <FormError error/>
                                    <h2 class="small-heading">"It will be able to:"</h2>
                                    <ul class="scopes consent-scopes">{scopes}</ul>
                                    <p class="hint">"Allow only if you trust this app. You can withdraw its access at any time from My apps."</p>
                                    <div class="decision">
                                        {form("deny", "Cancel", "", request.clone())}
                                        {form("allow", "Allow", "primary", request.clone())}
                                    </div>
                                    <form method="post" action=Logout::url() class="switch-account">
                                        <Csrf/>
                                        <input type="hidden" name="next" value=resume/>
                                        "Not " {email} "? "
                                        <button type="submit" class="link">"Sign in with another account"</button>
                                    </form>
                                </div>
                            }.into_any()
                        }
                    }
                })
            }}
        </Suspense>
    }
}
