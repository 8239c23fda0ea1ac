//! Single sign-on: the page that finds the organization's identity provider from the
//! address's domain and sends the browser there.

use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use super::components::{Csrf, FormError, Need, Page};
use super::error::AppError;
use super::login::safe_next;
use super::session::form_error;

#[server(prefix = "/api", endpoint = "sso_start")]
pub async fn sso_start(
    csrf: String,
    email: String,
    #[server(default)] next: String,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    let result = async {
        let (state, session, _meta) = portal::sign_in_post(&csrf).await?;
        let provider = crate::services::upstream::for_email(&state.db, &email)
            .await
            .map_err(portal::service_error)?
            .ok_or_else(|| {
                AppError::Refused(
                    "No organization signs in this address's domain through its own provider. Sign in with your password.".into(),
                )
            })?;
        let (url, out) = crate::services::upstream::begin(
            &state.settings.master_key,
            &state.settings.issuer,
            &provider,
            Some(email.trim()),
        )
        .await
        .map_err(|e| {
            tracing::warn!(error = %e, "single sign-on could not start");
            AppError::Refused("The organization's identity provider does not answer. Try again later.".into())
        })?;
        crate::web::session::keep_outgoing(&session, out, &safe_next(&next)).await?;
        leptos_axum::redirect(&url);
        Ok(())
    }
    .await;
    portal::finish(result)
}

/// Why a sign-in through the provider came back refused (`?error=` from the callback).
fn refusal(code: &str) -> Option<&'static str> {
    Some(match code {
        "expired" => "That sign-in took too long or was already used. Start again.",
        "refused" => {
            "Your organization's provider signed you in, but you may not sign in here with it. Ask an admin of your organization."
        }
        "provider" => "The identity provider refused the sign-in or could not be reached.",
        _ => return None,
    })
}

#[component]
pub fn SsoPage() -> impl IntoView {
    view! {
        <Page title="Single sign-on" need=Need::Anyone flow=true>
            <SsoForm/>
        </Page>
    }
}

#[component]
fn SsoForm() -> impl IntoView {
    let query = use_query_map();
    let (next, email, failed) = query.with_untracked(|q| {
        (
            safe_next(&q.get("next").unwrap_or_default()),
            q.get("email").unwrap_or_default(),
            q.get("error").and_then(|c| refusal(&c)),
        )
    });
    let action = ServerAction::<SsoStart>::new();
    let error = form_error(action.value());
    view! {
        <div class="card narrow">
            <h1>"Single sign-on"</h1>
            <p class="subtitle">"Sign in through your organization's identity provider."</p>
            {failed.map(|m| view! { <p class="error" role="alert">{m}</p> })}
            <FormError error/>
            // A plain form: the answer sends the browser on to the provider.
            <form method="post" action=SsoStart::url()>
                <Csrf/>
                <input type="hidden" name="next" value=next.clone()/>
                <label>"Work e-mail" <input type="email" name="email" required autocomplete="username" maxlength="254" value=email/></label>
                <button type="submit" class="primary">"Continue"</button>
            </form>
            <p class="hint"><a href=format!("/login?next={}", super::components::url_encode(&next))>"Sign in with a password"</a></p>
        </div>
    }
}
