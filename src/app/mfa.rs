//! Second factors in the portal: the second step of a sign-in, enrolling an authenticator
//! app (at sign-in when the organization requires one, or from the account page), the
//! recovery codes shown once, and the account security page.

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos::server_fn::ServerFn;
use leptos_router::hooks::use_query_map;

use super::components::{
    Confirm, Csrf, Done, ErrorPage, FieldError, FormError, Need, Page, format_time,
};
use super::error::AppError;
use super::login::safe_next;
use super::session::{form_error, succeeded};
use crate::domain::views::{SecurityView, SessionView, TotpEnrolment};

/// Where recovery codes wait in the session until their page shows them once.
#[cfg(feature = "ssr")]
const RECOVERY_CODES: &str = "recovery-codes";

/// The page that shows new recovery codes, then goes on to `next`.
#[cfg(feature = "ssr")]
fn codes_page(next: &str) -> String {
    format!(
        "/account/recovery-codes?next={}",
        super::components::url_encode(&safe_next(next))
    )
}

/// Keeps new recovery codes for the page that shows them once: that page's address (it
/// then goes on to `next`).
#[cfg(feature = "ssr")]
pub(super) async fn keep_codes(
    state: &crate::web::AppState,
    session: &tower_sessions::Session,
    codes: &[String],
    next: &str,
) -> Result<String, AppError> {
    crate::web::session::keep_new_secret(state, session, RECOVERY_CODES, &codes.join("\n")).await?;
    Ok(codes_page(next))
}

/// Keeps new recovery codes for the page that shows them once, and sends the browser there.
#[cfg(feature = "ssr")]
async fn show_codes_once(
    state: &crate::web::AppState,
    session: &tower_sessions::Session,
    codes: &[String],
    next: &str,
) -> Result<(), AppError> {
    leptos_axum::redirect(&keep_codes(state, session, codes, next).await?);
    Ok(())
}

#[cfg(feature = "ssr")]
pub(super) async fn pending(
    session: &tower_sessions::Session,
    enrol: bool,
) -> Result<crate::web::session::Pending, AppError> {
    crate::web::session::pending(session)
        .await
        .filter(|p| p.enrol == enrol)
        .ok_or_else(|| AppError::Refused("Your sign-in has expired. Sign in again.".into()))
}

#[server(prefix = "/api", endpoint = "second_factor")]
pub async fn second_factor(
    csrf: String,
    code: String,
    #[server(default)] next: String,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    let result = async {
        let (state, session, meta) = portal::sign_in_post(&csrf).await?;
        let p = pending(&session, false).await?;
        let method = crate::services::mfa::verify(
            &state.db,
            &state.settings.master_key,
            &meta,
            (&p.user_id, &p.email, &p.org_id),
            &code,
        )
        .await
        .map_err(portal::service_error)?;
        portal::start_session(
            &session,
            &p.user_id,
            &p.org_id,
            &[p.first, method],
            p.epoch,
            &meta,
        )
        .await?;
        leptos_axum::redirect(&safe_next(&next));
        Ok(())
    }
    .await;
    portal::finish(result)
}

/// The authenticator app to set up during a sign-in the organization holds until the user
/// has one.
#[server(prefix = "/api", endpoint = "sign_in_enrolment")]
pub async fn sign_in_enrolment() -> Result<TotpEnrolment, AppError> {
    use crate::app::server as portal;
    let result = async {
        let state = portal::state()?;
        let session = portal::session().await?;
        let p = pending(&session, true).await?;
        crate::services::mfa::begin_totp_at_sign_in(
            &state.db,
            &state.settings.master_key,
            &issuer_name(&state),
            &p.user_id,
            &p.email,
        )
        .await
        .map_err(portal::service_error)
    }
    .await;
    portal::finish(result)
}

/// The name authenticator apps show beside the code.
#[cfg(feature = "ssr")]
fn issuer_name(state: &crate::web::AppState) -> String {
    let host = url::Url::parse(&state.settings.issuer)
        .ok()
        .and_then(|u| u.host_str().map(str::to_string))
        .unwrap_or_default();
    if host.is_empty() || host == "127.0.0.1" || host == "localhost" {
        "Latchkey".into()
    } else {
        format!("Latchkey ({host})")
    }
}

#[server(prefix = "/api", endpoint = "confirm_sign_in_enrolment")]
pub async fn confirm_sign_in_enrolment(
    csrf: String,
    code: String,
    #[server(default)] next: String,
) -> Result<(), AppError> {
    use crate::app::server as portal;
    use crate::domain::mfa::Method;
    let result = async {
        let (state, session, meta) = portal::sign_in_post(&csrf).await?;
        let p = pending(&session, true).await?;
        let caller = crate::services::Caller {
            actor: crate::services::Actor::User {
                id: p.user_id.clone(),
                email: p.email.clone(),
            },
            meta: meta.clone(),
        };
        let codes = crate::services::mfa::confirm_totp(
            &state.db,
            &state.settings.master_key,
            &caller,
            (&p.user_id, &p.org_id),
            &code,
        )
        .await
        .map_err(portal::service_error)?;
        portal::start_session(
            &session,
            &p.user_id,
            &p.org_id,
            &[p.first, Method::Otp],
            p.epoch,
            &meta,
        )
        .await?;
        show_codes_once(&state, &session, &codes, &next).await
    }
    .await;
    portal::finish(result)
}

/// Whether the user halfway through signing in has a passkey (the page offers it).
#[server(prefix = "/api", endpoint = "pending_passkey")]
pub async fn pending_passkey() -> Result<bool, AppError> {
    use crate::app::server as portal;
    let result = async {
        let state = portal::state()?;
        let session = portal::session().await?;
        let p = pending(&session, false).await?;
        crate::services::passkeys::has_passkey(&state.db, &p.user_id)
            .await
            .map_err(portal::service_error)
    }
    .await;
    portal::finish(result)
}

/// The second step of a sign-in: a passkey, a code from the authenticator app, or a
/// recovery code.
#[component]
pub fn SecondFactorPage() -> impl IntoView {
    let passkey = Resource::new(|| (), |_| pending_passkey());
    view! {
        <Page title="Two-step verification" need=Need::Anyone flow=true>
            <SecondFactorForm passkey/>
        </Page>
    }
}

#[component]
fn SecondFactorForm(passkey: Resource<Result<bool, AppError>>) -> impl IntoView {
    let query = use_query_map();
    let next = query.with_untracked(|q| safe_next(&q.get("next").unwrap_or_default()));
    let action = ServerAction::<SecondFactor>::new();
    let error = form_error(action.value());
    let plain = next.starts_with("/oauth2/");
    let passkey_next = next.clone();
    let fields = move || {
        view! {
            <Csrf/>
            <input type="hidden" name="next" value=next.clone()/>
            <label>"Code"
                <input type="text" name="code" required autocomplete="one-time-code" inputmode="text"
                    maxlength="64" autofocus aria-describedby="code-hint"/>
            </label>
            <FieldError error field="code"/>
            <p class="hint" id="code-hint">"The 6-digit code your authenticator app shows, or one of your recovery codes."</p>
            <button type="submit" class="primary">"Verify"</button>
        }
    };
    view! {
            <div class="card narrow">
                <h1>"Two-step verification"</h1>
                <p class="subtitle">"Enter the code from your authenticator app."</p>
                <Suspense fallback=|| ()>
                    {move || {
                        let next = passkey_next.clone();
                        Suspend::new(async move {
                            (passkey.await == Ok(true) && super::passkeys::available()).then(|| view! {
                                <super::passkeys::PasskeyButton kind="second" label="Use a passkey" primary=true>
                                    <input type="hidden" name="next" value=next/>
                                </super::passkeys::PasskeyButton>
                                <p class="hint">"Or enter a code:"</p>
                            })
                        })
                    }}
                </Suspense>
                <FormError error/>
                {if plain {
                    view! { <form method="post" action=SecondFactor::url()>{fields()}</form> }.into_any()
                } else {
                    view! { <ActionForm action>{fields()}</ActionForm> }.into_any()
                }}
                <p class="hint"><a href="/login">"Start again"</a></p>
            </div>
    }
}

/// The QR code, the secret to type instead, and the field for the first code.
#[component]
fn Enrolment(enrolment: TotpEnrolment, error: Signal<Option<AppError>>) -> impl IntoView {
    view! {
        <ol class="steps">
            <li>"Open your authenticator app (Google Authenticator, 1Password, Microsoft Authenticator…) and scan this code:"
                <div class="qr" role="img" aria-label="QR code for your authenticator app" inner_html=enrolment.qr_svg></div>
            </li>
            <li>"Or type this key into the app: " <code data-testid="totp-secret" class="secret">{enrolment.secret}</code></li>
            <li>"Enter the 6-digit code the app now shows:"</li>
        </ol>
        <label>"Code"
            <input type="text" name="code" required autocomplete="one-time-code" inputmode="numeric"
                pattern="[0-9 ]{6,7}" maxlength="7"/>
        </label>
        <FieldError error field="code"/>
    }
}

/// Setting up an authenticator app during a sign-in (the organization requires one).
#[component]
pub fn EnrolAtSignInPage() -> impl IntoView {
    // Resources live outside the page frame, whose children may render more than once.
    let enrolment = Resource::new(|| (), |_| sign_in_enrolment());
    view! {
        <Page title="Set up two-step verification" need=Need::Anyone flow=true>
            <EnrolAtSignIn enrolment/>
        </Page>
    }
}

#[component]
fn EnrolAtSignIn(enrolment: Resource<Result<TotpEnrolment, AppError>>) -> impl IntoView {
    let query = use_query_map();
    let next = query.with_untracked(|q| safe_next(&q.get("next").unwrap_or_default()));
    let action = ServerAction::<ConfirmSignInEnrolment>::new();
    let error = form_error(action.value());
    view! {
            <div class="card narrow">
                <h1>"Set up two-step verification"</h1>
                <p class="subtitle">"Your organization requires a second step when you sign in. Set it up now to continue."</p>
                <FormError error/>
                <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || {
                        let next = next.clone();
                        Suspend::new(async move {
                            match enrolment.await {
                                Err(e) => view! {
                                    <p class="error" role="alert">{e.summary()}</p>
                                    <p><a href="/login">"Sign in again"</a></p>
                                }.into_any(),
                                Ok(enrolment) => view! {
                                    <form method="post" action=ConfirmSignInEnrolment::url()>
                                        <Csrf/>
                                        <input type="hidden" name="next" value=next/>
                                        <Enrolment enrolment error/>
                                        <button type="submit" class="primary">"Turn on"</button>
                                    </form>
                                }.into_any(),
                            }
                        })
                    }}
                </Suspense>
            </div>
    }
}

#[server(prefix = "/api", endpoint = "recovery_codes_once")]
pub async fn recovery_codes_once() -> Result<Vec<String>, AppError> {
    use crate::app::server as portal;
    let result = async {
        let (state, session, _) = portal::require_signed_in().await?;
        let codes = portal::take_new_secret(&state, &session, RECOVERY_CODES)
            .await
            .unwrap_or_default();
        Ok(codes.lines().map(str::to_string).collect())
    }
    .await;
    portal::finish(result)
}

/// New recovery codes, shown once.
#[component]
pub fn RecoveryCodesPage() -> impl IntoView {
    let codes = Resource::new(|| (), |_| recovery_codes_once());
    view! {
        <Page title="Recovery codes" need=Need::SignedIn>
            <RecoveryCodes codes/>
        </Page>
    }
}

#[component]
fn RecoveryCodes(codes: Resource<Result<Vec<String>, AppError>>) -> impl IntoView {
    let query = use_query_map();
    let next = query.with_untracked(|q| safe_next(&q.get("next").unwrap_or_default()));
    view! {
            <div class="card narrow">
                <h1>"Your recovery codes"</h1>
                <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                    {move || {
                        let next = next.clone();
                        Suspend::new(async move {
                            match codes.await {
                                Ok(codes) if !codes.is_empty() => view! {
                                    <p>"Each code signs you in once if you lose your authenticator app. Save them somewhere safe now: they are shown only this once."</p>
                                    <ul class="codes" data-testid="recovery-codes">
                                        {codes.into_iter().map(|c| view! { <li><code>{c}</code></li> }).collect_view()}
                                    </ul>
                                    <a class="button primary" href=next>"I saved them, continue"</a>
                                }.into_any(),
                                _ => view! {
                                    <p>"These codes were already shown. You can make new ones on your account security page."</p>
                                    <a class="button" href="/account/security">"Account security"</a>
                                }.into_any(),
                            }
                        })
                    }}
                </Suspense>
            </div>
    }
}

#[server(prefix = "/api", endpoint = "security_status")]
pub async fn security_status() -> Result<SecurityView, AppError> {
    use crate::app::server as portal;
    portal::member_read(async |state, me| {
        crate::services::mfa::status(&state.db, &state.settings.issuer, &me.principal)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "own_enrolment")]
pub async fn own_enrolment() -> Result<TotpEnrolment, AppError> {
    use crate::app::server as portal;
    portal::member_read(async |state, me| {
        crate::services::mfa::begin_totp(
            &state.db,
            &state.settings.master_key,
            &issuer_name(&state),
            &me.principal,
        )
        .await
        .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "confirm_own_totp")]
pub async fn confirm_own_totp(csrf: String, code: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::member_write(&csrf, async |state, me| {
        let codes = crate::services::mfa::confirm_own_totp(
            &state.db,
            &state.settings.master_key,
            &me.principal,
            &code,
        )
        .await
        .map_err(portal::service_error)?;
        show_codes_once(
            &state,
            &portal::session().await?,
            &codes,
            "/account/security",
        )
        .await
    })
    .await
}

#[server(prefix = "/api", endpoint = "remove_totp")]
pub async fn remove_totp(csrf: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::member_write(&csrf, async |state, me| {
        crate::services::mfa::remove_totp(&state.db, &me.principal)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "renew_recovery_codes")]
pub async fn renew_recovery_codes(csrf: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::member_write(&csrf, async |state, me| {
        let codes = crate::services::mfa::new_recovery_codes(&state.db, &me.principal)
            .await
            .map_err(portal::service_error)?;
        show_codes_once(
            &state,
            &portal::session().await?,
            &codes,
            "/account/security",
        )
        .await
    })
    .await
}

#[server(prefix = "/api", endpoint = "send_verification")]
pub async fn send_verification(csrf: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::member_write(&csrf, async |state, me| {
        crate::services::recovery::send_verification(
            &state.db,
            &state.settings.mailer,
            &state.settings.issuer,
            &me.principal,
        )
        .await
        .map_err(portal::service_error)
    })
    .await
}

#[cfg(feature = "ssr")]
async fn current_session_id() -> Result<String, AppError> {
    let session = crate::app::server::session().await?;
    Ok(session.id().map(|id| id.to_string()).unwrap_or_default())
}

#[server(prefix = "/api", endpoint = "my_sessions")]
pub async fn my_sessions() -> Result<Vec<SessionView>, AppError> {
    use crate::app::server as portal;
    portal::member_read(async |state, me| {
        let current = current_session_id().await?;
        crate::services::sessions::mine(&state.db, &me.principal, &current)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "end_my_session")]
pub async fn end_my_session(csrf: String, handle: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::member_write(&csrf, async |state, me| {
        crate::services::sessions::end_mine(&state.db, &me.principal, &handle)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "end_other_sessions")]
pub async fn end_other_sessions(csrf: String) -> Result<u64, AppError> {
    use crate::app::server as portal;
    portal::member_write(&csrf, async |state, me| {
        let current = current_session_id().await?;
        crate::services::sessions::end_others(&state.db, &me.principal, &current)
            .await
            .map_err(portal::service_error)
    })
    .await
}

const REAUTH: &str = "/login?reauth=1&next=%2Faccount%2Fsecurity";

/// Where the user is signed in, each with "Sign out", and "Sign out everywhere else".
#[component]
fn Sessions(
    sessions: Resource<Result<Vec<SessionView>, AppError>>,
    end_one: ServerAction<EndMySession>,
    end_others: ServerAction<EndOtherSessions>,
) -> impl IntoView {
    view! {
        <section class="card" aria-labelledby="sessions">
            <h2 id="sessions">"Where you are signed in"</h2>
            <FormError error=form_error(end_one.value())/>
            <Done done=succeeded(end_one.value()) text="That session is signed out."/>
            <Done done=succeeded(end_others.value()) text="Every other session is signed out."/>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let list = sessions.await.unwrap_or_default();
                    let others = list.iter().filter(|s| !s.current).count();
                    view! {
                        <table class="sessions" data-testid="sessions">
                            <thead><tr><th scope="col">"Device"</th><th scope="col">"Address"</th><th scope="col">"Signed in"</th><th scope="col">"Last seen"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                            <tbody>
                                {list.into_iter().map(|s| view! {
                                    <tr>
                                        <td data-label="Device">{s.device.clone()}{s.current.then_some(" (this one)")}</td>
                                        <td data-label="Address">{s.ip.clone().unwrap_or_else(|| "unknown".into())}</td>
                                        <td data-label="Signed in">{s.signed_in_at.map(format_time).unwrap_or_default()}</td>
                                        <td data-label="Last seen">{s.last_seen_at.map(format_time).unwrap_or_default()}</td>
                                        <td data-label="Actions">
                                            {(!s.current).then(|| view! {
                                                <ActionForm action=end_one attr:class="inline">
                                                    <Csrf/>
                                                    <input type="hidden" name="handle" value=s.handle.clone()/>
                                                    <button type="submit" class="small">"Sign out"</button>
                                                </ActionForm>
                                            })}
                                        </td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                        {(others > 0).then(|| view! {
                            <ActionForm action=end_others attr:class="inline">
                                <Csrf/>
                                <Confirm label="Sign out everywhere else" what=format!("Sign out of the {others} other sessions? Whoever uses them signs in again.")/>
                            </ActionForm>
                        })}
                    }
                })}
            </Suspense>
        </section>
    }
}

/// How the signed-in user signs in: their authenticator app, recovery codes and address.
#[component]
pub fn SecurityPage() -> impl IntoView {
    let query = use_query_map();
    let (setup, passkey_added) =
        query.with_untracked(|q| (q.get("setup").is_some(), q.get("passkey").is_some()));
    let remove = ServerAction::<RemoveTotp>::new();
    let remove_passkey = ServerAction::<super::passkeys::PasskeyRemove>::new();
    let rename_passkey = ServerAction::<super::passkeys::PasskeyRename>::new();
    let renew = ServerAction::<RenewRecoveryCodes>::new();
    let verify = ServerAction::<SendVerification>::new();
    let confirm = ServerAction::<ConfirmOwnTotp>::new();
    let end_one = ServerAction::<EndMySession>::new();
    let end_others = ServerAction::<EndOtherSessions>::new();
    let sessions = Resource::new(
        move || (end_one.version().get(), end_others.version().get()),
        |_| my_sessions(),
    );
    let status = Resource::new(
        move || {
            (
                remove.version().get(),
                verify.version().get(),
                remove_passkey.version().get(),
                rename_passkey.version().get(),
            )
        },
        |_| security_status(),
    );
    let enrolment = Resource::new(
        move || setup,
        |setup| async move {
            if setup {
                Some(own_enrolment().await)
            } else {
                None
            }
        },
    );
    let remove_error = form_error(remove.value());
    let renew_error = form_error(renew.value());
    let verify_error = form_error(verify.value());
    let confirm_error = form_error(confirm.value());
    view! {
        <Page title="Account security" need=Need::SignedIn>
            <h1>"Account security"</h1>
            <FormError error=remove_error/>
            <FormError error=renew_error/>
            <FormError error=verify_error/>
            <Done done=succeeded(remove.value()) text="The authenticator app is removed."/>
            <Done done=succeeded(remove_passkey.value()) text="The passkey is removed."/>
            <Done done=succeeded(rename_passkey.value()) text="The passkey is renamed."/>
            {passkey_added.then(|| view! { <p class="status saved" role="status">"Your passkey is added."</p> })}
            <Done done=succeeded(verify.value()) text="A verification link is on its way to your address."/>
            <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
                {move || Suspend::new(async move {
                    let s = match status.await {
                        Ok(s) => s,
                        Err(e) => return view! { <ErrorPage error=e/> }.into_any(),
                    };
                    let enrolling = enrolment.await;
                    view! {
                        <section class="card" aria-labelledby="two-step">
                            <h2 id="two-step">"Two-step verification"</h2>
                            <p>"Your organization's policy: " <strong>{s.policy.clone()}</strong>
                                {s.required.then_some(" (it applies to you)")}</p>
                            {if s.totp {
                                view! {
                                    <p data-testid="totp-on">"An authenticator app is set up. "
                                        {format!("{} recovery codes left.", s.recovery_codes_left)}</p>
                                    {(!s.fresh).then(|| view! {
                                        <p class="hint">"To change it, " <a href=REAUTH>"sign in again"</a> " first."</p>
                                    })}
                                    <div class="actions">
                                        <ActionForm action=renew attr:class="inline">
                                            <Csrf/>
                                            <button type="submit">"New recovery codes"</button>
                                        </ActionForm>
                                        {(!s.required).then(|| view! {
                                            <ActionForm action=remove attr:class="inline">
                                                <Csrf/>
                                                <Confirm label="Remove" what="Your authenticator app and recovery codes stop working; you sign in with your password alone."/>
                                            </ActionForm>
                                        })}
                                    </div>
                                }.into_any()
                            } else {
                                match enrolling {
                                    Some(Ok(enrolment)) => view! {
                                        <FormError error=confirm_error/>
                                        <ActionForm action=confirm>
                                            <Csrf/>
                                            <Enrolment enrolment error=confirm_error/>
                                            <button type="submit" class="primary">"Turn on"</button>
                                        </ActionForm>
                                    }.into_any(),
                                    Some(Err(e)) => view! {
                                        <p class="error" role="alert">{e.summary()}</p>
                                        <p><a class="button" href=REAUTH>"Sign in again"</a></p>
                                    }.into_any(),
                                    None => view! {
                                        <p>"Add a second step to your sign-in: a code from an authenticator app on your phone."</p>
                                        <a class="button primary" href="/account/security?setup=1" rel="external">"Set up an authenticator app"</a>
                                    }.into_any(),
                                }
                            }}
                            // Recovery codes stand in for a passkey too.
                            {(!s.totp && !s.passkeys.is_empty()).then(|| view! {
                                <p data-testid="recovery-left">{format!("{} recovery codes left.", s.recovery_codes_left)}</p>
                                <ActionForm action=renew attr:class="inline">
                                    <Csrf/>
                                    <button type="submit">"New recovery codes"</button>
                                </ActionForm>
                            })}
                        </section>
                        <super::passkeys::Passkeys passkeys=s.passkeys.clone() fresh=s.fresh
                            available=s.passkeys_available remove=remove_passkey rename=rename_passkey/>
                        <Sessions sessions end_one end_others/>
                        <section class="card" aria-labelledby="address">
                            <h2 id="address">"E-mail address"</h2>
                            <p>{s.email.clone()} " "
                                {if s.email_verified {
                                    view! { <span class="badge ok" data-testid="email-verified">"Verified"</span> }.into_any()
                                } else {
                                    view! { <span class="badge">"Not verified"</span> }.into_any()
                                }}</p>
                            {(!s.email_verified).then(|| view! {
                                <ActionForm action=verify attr:class="inline">
                                    <Csrf/>
                                    <button type="submit">"Send a verification link"</button>
                                </ActionForm>
                            })}
                        </section>
                    }.into_any()
                })}
            </Suspense>
        </Page>
    }
}
