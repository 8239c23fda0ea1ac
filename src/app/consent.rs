//! The consent page: which app asks, for whom, and for what, in plain words; Allow or Deny.
//! The forms are plain posts (the answer is a redirect to the app, off this site), so the
//! page works the same with and without JavaScript.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use super::components::{Csrf, ErrorPage, FormError, Need, Page};
use super::error::AppError;
use super::session::form_error;
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
        <Page title="Allow access?" need=Need::SignedIn>
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
    view! {
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            {move || {
                let request = request.clone();
                Suspend::new(async move {
                    match data.await {
                        Err(e) => view! { <ErrorPage error=e/> }.into_any(),
                        Ok(d) => {
                            let scopes = d.scopes.into_iter().map(|(name, words)| view! {
                                <li><strong>{words}</strong> " " <code>{name}</code></li>
                            }).collect_view();
                            let form = move |decision: &'static str, label: &'static str, class: &'static str| view! {
                                <form method="post" action=DecideConsent::url() class="inline">
                                    <Csrf/>
                                    <input type="hidden" name="request" value=request.clone()/>
                                    <input type="hidden" name="decision" value=decision/>
                                    <button type="submit" class=class>{label}</button>
                                </form>
                            };
                            view! {
                                <div class="card narrow consent">
                                    <h1>{d.app_name.clone()} " wants to access your account"</h1>
                                    <p class="hint">"Registered by " <strong>{d.org_name}</strong>
                                        {d.website_url.map(|w| view! { " · " <a href=w.clone() rel="noopener noreferrer">{w.clone()}</a> })}
                                    </p>
                                    <FormError error/>
                                    <p>"It will be able to:"</p>
                                    <ul class="scopes">{scopes}</ul>
                                    <div class="actions">
                                        {form("allow", "Allow", "primary")}
                                        {form("deny", "Deny", "")}
                                    </div>
                                    <p class="hint">"You can withdraw this access at any time."</p>
                                </div>
                            }.into_any()
                        }
                    }
                })
            }}
        </Suspense>
    }
}
