//! Sign-in, sign-out and the start page.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_query_map;

use super::components::{Csrf, FormError, Need, Page};
use super::error::AppError;
use super::session::{PageCtx, form_error, kept};

/// Only local paths are followed after sign-in (no open redirect).
pub fn safe_next(next: &str) -> String {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.starts_with("/\\")
        && next.len() <= 1000
        && !next.chars().any(|c| c.is_control() || c == '\\');
    if ok {
        next.to_string()
    } else {
        "/".to_string()
    }
}

#[server(prefix = "/api", endpoint = "login")]
pub async fn login(
    csrf: String,
    email: String,
    password: String,
    #[server(default)] next: String,
    /// The app asked for a multi-factor sign-in (`acr_values`).
    #[server(default)]
    mfa: String,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    use secrecy::SecretString;
    let result = async {
        let (state, session, meta) = portal::sign_in_post(&csrf).await?;
        if email.len() > 320 || password.len() > 1024 {
            return Err(AppError::BadCredentials);
        }
        // An address of a domain whose organization signs in through its own provider, and
        // requires it, goes there instead (no password is checked).
        if crate::services::upstream::required_for(&state.db, &email)
            .await
            .map_err(portal::service_error)?
            .is_some()
        {
            leptos_axum::redirect(&format!(
                "/login/sso?email={}&next={}",
                super::components::url_encode(&email),
                super::components::url_encode(&safe_next(&next))
            ));
            return Ok(());
        }
        let signed =
            crate::services::auth::login(&state.db, &meta, &email, SecretString::from(password))
                .await
                .map_err(portal::service_error)?;
        let org_id = signed.org_id.ok_or_else(|| {
            AppError::Refused("Your account does not belong to any organization.".into())
        })?;
        let next = safe_next(&next);
        let to = crate::web::session::after_first_factor(
            &state,
            &session,
            crate::web::session::FirstFactor {
                user_id: &signed.user_id,
                email: &signed.email,
                org_id: &org_id,
                epoch: signed.session_epoch,
                method: crate::domain::mfa::Method::Pwd,
            },
            &meta,
            &next,
            mfa == "1",
        )
        .await?;
        leptos_axum::redirect(&to);
        Ok(())
    }
    .await;
    portal::finish(result)
}

#[server(prefix = "/api", endpoint = "logout")]
pub async fn logout(csrf: String, #[server(default)] next: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    let result = async {
        let session = portal::session().await?;
        portal::check_csrf(&session, &csrf).await?;
        portal::end_session(&portal::state()?, &session).await?;
        // "Not you?" on the consent page signs out and back in, then resumes the request.
        let to = if next.is_empty() {
            "/login".to_string()
        } else {
            format!(
                "/login?next={}",
                super::components::url_encode(&safe_next(&next))
            )
        };
        leptos_axum::redirect(&to);
        Ok(())
    }
    .await;
    portal::finish(result)
}

/// The name of the app a sign-in continues to, if `next` resumes an authorization request.
#[server(prefix = "/api", endpoint = "app_asking")]
pub async fn app_asking(next: String) -> Result<Option<String>, AppError> {
    use crate::app::server as portal;
    let state = portal::state()?;
    crate::services::authorize::app_asking(&state.db, &next)
        .await
        .map_err(portal::service_error)
}

#[component]
pub fn Logout() -> impl IntoView {
    let action = ServerAction::<Logout>::new();
    view! {
        <ActionForm action attr:class="inline">
            <Csrf/>
            <button type="submit" class="link">"Sign out"</button>
        </ActionForm>
    }
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let next = query.with_untracked(|q| safe_next(&q.get("next").unwrap_or_default()));
    let asking = Resource::new(move || next.clone(), app_asking);
    view! {
        <Page title="Sign in" need=Need::Anyone flow=true>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    // An unknown or expired request is not an error here: sign in anyway.
                    let app = asking.await.ok().flatten();
                    view! { <LoginForm app/> }
                })}
            </Suspense>
        </Page>
    }
}

#[component]
fn LoginForm(
    /// The app the sign-in continues to, when there is one.
    app: Option<String>,
) -> impl IntoView {
    let ctx = use_context::<PageCtx>();
    let query = use_query_map();
    let (next, reauth, hint, mfa, notice) = query.with_untracked(|q| {
        (
            safe_next(&q.get("next").unwrap_or_default()),
            q.get("reauth").is_some(),
            q.get("login_hint").unwrap_or_default(),
            q.get("mfa").filter(|m| m == "1").unwrap_or_default(),
            q.get("password_set")
                .map(|_| "Your password is set. Sign in with it."),
        )
    });
    // An app asked for a fresh sign-in (`prompt=login`, `max_age`): show the form anyway.
    if ctx.as_ref().is_some_and(|c| c.me.is_some()) && !reauth {
        return view! { <Redirect path=next/> }.into_any();
    }
    let action = ServerAction::<Login>::new();
    let error = form_error(action.value());
    // After sign-in an authorization request goes on at a protocol endpoint, not a page:
    // a plain post lets the browser follow that redirect itself.
    let plain = next.starts_with("/oauth2/");
    let sso_link = format!("/login/sso?next={}", super::components::url_encode(&next));
    let passkey_next = next.clone();
    let fields = move || {
        view! {
            <Csrf/>
            <input type="hidden" name="next" value=next.clone()/>
            <input type="hidden" name="mfa" value=mfa.clone()/>
            <label>"E-mail" <input type="email" name="email" required autocomplete="username" maxlength="254" value=kept("email").unwrap_or_else(|| hint.clone())/></label>
            <label>"Password" <input type="password" name="password" required autocomplete="current-password" maxlength="1024"/></label>
            <button type="submit" class="primary">"Sign in"</button>
        }
    };
    view! {
        <div class="card narrow">
            <h1>"Sign in"</h1>
            <p class="subtitle">{match app {
                Some(name) => view! { "to continue to " <strong data-testid="app-asking">{name}</strong> }.into_any(),
                None => "to Latchkey".into_any(),
            }}</p>
            {notice.map(|n| view! { <p class="status saved" role="status">{n}</p> })}
            <FormError error/>
            {if plain {
                view! { <form method="post" action=Login::url()>{fields()}</form> }.into_any()
            } else {
                view! { <ActionForm action>{fields()}</ActionForm> }.into_any()
            }}
            {super::passkeys::available().then(|| {
                let next = passkey_next.clone();
                view! {
                    <div class="or"><span>"or"</span></div>
                    <super::passkeys::PasskeyButton kind="sign-in" label="Sign in with a passkey">
                        <input type="hidden" name="next" value=next/>
                    </super::passkeys::PasskeyButton>
                }
            })}
            <p class="hint"><a href="/login/forgot">"Forgot your password?"</a>
                " · " <a href=sso_link>"Sign in with single sign-on"</a></p>
        </div>
    }
    .into_any()
}

/// The start page: admins go to the portal; members see who they are.
#[component]
pub fn HomePage() -> impl IntoView {
    view! {
        <Page title="Start" need=Need::SignedIn>
            {move || {
                let me = use_context::<PageCtx>().and_then(|c| c.me);
                match me {
                    Some(me) if me.is_admin => view! { <Redirect path="/admin"/> }.into_any(),
                    Some(me) => view! {
                        <h1>"Welcome, " {me.name}</h1>
                        <p>"You are signed in as " {me.email} ", a member of " {me.org_name} "."</p>
                    }.into_any(),
                    None => ().into_any(),
                }
            }}
        </Page>
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::safe_next;

    #[test]
    fn next_stays_local() {
        assert_eq!(safe_next("/admin/apps/x?y=1"), "/admin/apps/x?y=1");
        for bad in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "/a\nb",
        ] {
            assert_eq!(safe_next(bad), "/", "{bad}");
        }
    }
}
