//! Getting back in: asking for a password-reset link, choosing a password with it (or with
//! an invitation), and verifying an address.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::components::{Csrf, FormError, Need, Page, invalid};
use super::error::AppError;
use super::session::{form_error, succeeded};

#[server(prefix = "/api", endpoint = "forgot_password")]
pub async fn forgot_password(csrf: String, email: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    let result = async {
        let (state, _session, meta) = portal::sign_in_post(&csrf).await?;
        crate::services::recovery::request_reset(
            &state.db,
            &state.settings.mailer,
            &state.settings.issuer,
            &meta,
            &email,
        )
        .await
        .map_err(|e| match e {
            crate::services::Error::Throttled(secs) => AppError::Throttled(format!(
                "Too many requests for this address. Try again in {secs} seconds."
            )),
            e => portal::service_error(e),
        })?;
        leptos_axum::redirect("/login/forgot?sent=1");
        Ok(())
    }
    .await;
    portal::finish(result)
}

/// Asking for a password-reset link.
#[component]
pub fn ForgotPage() -> impl IntoView {
    let query = use_query_map();
    let action = ServerAction::<ForgotPassword>::new();
    let error = form_error(action.value());
    // The answer comes back as `?sent=1` on this same page (with or without JavaScript).
    let sent = move || query.with(|q| q.get("sent").is_some()) || succeeded(action.value()).get();
    view! {
        <Page title="Forgot your password?" need=Need::Anyone flow=true>
            <div class="card narrow">
                <h1>"Forgot your password?"</h1>
                {move || if sent() {
                    view! {
                        <p class="status saved" role="status" data-testid="reset-sent">{crate::domain::paths::RESET_SENT}</p>
                        <p><a href="/login">"Back to sign in"</a></p>
                    }.into_any()
                } else {
                    view! {
                        <p class="subtitle">"We will send a link to choose a new one."</p>
                        <FormError error/>
                        <ActionForm action>
                            <Csrf/>
                            <label>"E-mail" <input type="email" name="email" required autocomplete="username" maxlength="254"/></label>
                            <button type="submit" class="primary">"Send the link"</button>
                        </ActionForm>
                        <p class="hint"><a href="/login">"Back to sign in"</a></p>
                    }.into_any()
                }}
            </div>
        </Page>
    }
}

/// What a reset or invitation link is for: (`reset` | `invite`, the address), while it works.
#[server(prefix = "/api", endpoint = "password_link")]
pub async fn password_link(token: String) -> Result<Option<(String, String)>, AppError> {
    use crate::app::server as portal;
    let result = async {
        let state = portal::state()?;
        let facts = crate::services::recovery::password_link(&state.db, &token)
            .await
            .map_err(portal::service_error)?;
        Ok(facts.map(|(p, email)| (p.to_string(), email)))
    }
    .await;
    portal::finish(result)
}

#[server(prefix = "/api", endpoint = "choose_password")]
pub async fn choose_password(
    csrf: String,
    token: String,
    password: String,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    use secrecy::SecretString;
    let result = async {
        let (state, session, meta) = portal::sign_in_post(&csrf).await?;
        let email = crate::services::recovery::set_password(
            &state.db,
            &meta,
            &token,
            SecretString::from(password),
        )
        .await
        .map_err(portal::service_error)?;
        // Whoever was signed in here signs in again, with the new password.
        portal::end_session(&portal::state()?, &session).await?;
        leptos_axum::redirect(&format!(
            "/login?password_set=1&login_hint={}",
            super::components::url_encode(&email)
        ));
        Ok(())
    }
    .await;
    portal::finish(result)
}

/// Choosing a password with a reset or invitation link.
#[component]
pub fn ResetPage() -> impl IntoView {
    let query = use_query_map();
    let token = query.with_untracked(|q| q.get("token").unwrap_or_default());
    let link = Resource::new(move || token.clone(), password_link);
    let action = ServerAction::<ChoosePassword>::new();
    let error = form_error(action.value());
    view! {
        <Page title="Choose a password" need=Need::Anyone flow=true>
            <div class="card narrow">
                <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || Suspend::new(async move {
                        match link.await {
                            Ok(Some((purpose, email))) => {
                                let token = query.with_untracked(|q| q.get("token").unwrap_or_default());
                                view! {
                                    <h1>{if purpose == "invite" { "Welcome to Latchkey" } else { "Choose a new password" }}</h1>
                                    <p class="subtitle">"For " <strong>{email.clone()}</strong></p>
                                    <FormError error/>
                                    <ActionForm action>
                                        <Csrf/>
                                        <input type="hidden" name="token" value=token/>
                                        <input type="email" name="username" value=email autocomplete="username" hidden/>
                                        <label>"New password"
                                            <input type="password" name="password" required minlength="12" maxlength="256"
                                                autocomplete="new-password" aria-invalid=invalid(error, "password") aria-describedby="pw-hint"/>
                                        </label>
                                        <p class="hint" id="pw-hint">"At least 12 characters. A few unrelated words make a good one."</p>
                                        <button type="submit" class="primary">"Set the password"</button>
                                    </ActionForm>
                                }.into_any()
                            }
                            _ => view! {
                                <h1>"This link no longer works"</h1>
                                <p>"It has expired or was already used. "
                                    <a href="/login/forgot">"Ask for a new one"</a> "."</p>
                            }.into_any(),
                        }
                    })}
                </Suspense>
            </div>
        </Page>
    }
}

#[server(prefix = "/api", endpoint = "confirm_address")]
pub async fn confirm_address(csrf: String, token: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    let result = async {
        let state = portal::state()?;
        let session = portal::session().await?;
        portal::check_csrf(&session, &csrf).await?;
        let meta = portal::request_meta(&state);
        crate::services::recovery::verify_email(&state.db, &meta, &token)
            .await
            .map_err(portal::service_error)?;
        leptos_axum::redirect("/account/verify?done=1");
        Ok(())
    }
    .await;
    portal::finish(result)
}

/// Verifying an address: a button, so that a mail scanner opening the link spends nothing.
#[component]
pub fn VerifyPage() -> impl IntoView {
    view! {
        <Page title="Verify your address" need=Need::Anyone flow=true>
            <Verify/>
        </Page>
    }
}

#[component]
fn Verify() -> impl IntoView {
    let query = use_query_map();
    let (token, done) =
        query.with_untracked(|q| (q.get("token").unwrap_or_default(), q.get("done").is_some()));
    let action = ServerAction::<ConfirmAddress>::new();
    let error = form_error(action.value());
    view! {
            <div class="card narrow">
                <h1>"Verify your address"</h1>
                {if done {
                    view! {
                        <p class="status saved" role="status" data-testid="address-verified">"Your address is verified."</p>
                        <p><a href="/account/security">"Account security"</a></p>
                    }.into_any()
                } else {
                    view! {
                        <FormError error/>
                        <ActionForm action>
                            <Csrf/>
                            <input type="hidden" name="token" value=token/>
                            <button type="submit" class="primary">"Confirm my address"</button>
                        </ActionForm>
                    }.into_any()
                }}
            </div>
    }
}
