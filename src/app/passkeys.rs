//! Passkeys in the portal: the two requests of each WebAuthn ceremony (register, a second
//! step, a sign-in of its own), called by `public/passkey.js` around the browser's
//! `navigator.credentials`; the list on the account security page; the buttons that start
//! a ceremony. Without JavaScript a passkey cannot be used: the buttons say so.

use leptos::form::ActionForm;
use leptos::prelude::*;

use super::components::{Confirm, Csrf, FormError, format_time};
use super::error::AppError;
use super::session::{PageCtx, form_error};
use crate::domain::views::PasskeyView;

/// Kinds of ceremony, as the session keeps them.
#[cfg(feature = "ssr")]
const REGISTER: &str = "register";
#[cfg(feature = "ssr")]
const SECOND: &str = "second";
#[cfg(feature = "ssr")]
const SIGN_IN: &str = "sign_in";

#[cfg(feature = "ssr")]
fn to_json<T: serde::Serialize>(value: &T) -> Result<String, AppError> {
    serde_json::to_string(value).map_err(|_| AppError::Internal)
}

/// The browser's answer, parsed: a malformed one is the client's error.
#[cfg(feature = "ssr")]
fn from_json<T: serde::de::DeserializeOwned>(raw: &str) -> Result<T, AppError> {
    if raw.len() > 64 * 1024 {
        return Err(AppError::Request("the passkey answer is too large".into()));
    }
    serde_json::from_str(raw)
        .map_err(|_| AppError::Request("the passkey answer is not a WebAuthn credential".into()))
}

#[cfg(feature = "ssr")]
fn expired() -> AppError {
    AppError::Refused("The passkey request expired or was used. Try again.".into())
}

/// Starts adding a passkey to the signed-in user's account: the options for
/// `navigator.credentials.create`.
#[server(prefix = "/api", endpoint = "passkey_register_options")]
pub async fn passkey_register_options(csrf: String) -> Result<String, AppError> {
    use crate::app::server as portal;
    portal::member_write(&csrf, async |state, me| {
        let (options, ceremony) = crate::services::passkeys::begin_registration(
            &state.db,
            &state.settings.issuer,
            &me.principal,
        )
        .await
        .map_err(portal::service_error)?;
        portal::keep_ceremony(&portal::session().await?, REGISTER, &ceremony).await?;
        to_json(&options)
    })
    .await
}

/// Finishes adding a passkey: where the page goes next (the recovery codes, shown once,
/// when it is the user's first second factor).
#[server(prefix = "/api", endpoint = "passkey_register")]
pub async fn passkey_register(
    csrf: String,
    credential: String,
    #[server(default)] name: String,
) -> Result<String, AppError> {
    use crate::app::server as portal;
    portal::member_write(&csrf, async |state, me| {
        let session = portal::session().await?;
        let credential = from_json(&credential)?;
        let ceremony = portal::take_ceremony(&state, &session, REGISTER)
            .await
            .ok_or_else(expired)?;
        let codes = crate::services::passkeys::finish_registration(
            &state.db,
            &state.settings.issuer,
            &me.principal,
            &ceremony,
            &credential,
            &name,
        )
        .await
        .map_err(portal::service_error)?;
        match codes {
            Some(codes) => {
                super::mfa::keep_codes(&state, &session, &codes, "/account/security").await
            }
            None => Ok("/account/security?passkey=added".to_string()),
        }
    })
    .await
}

#[server(prefix = "/api", endpoint = "passkey_rename")]
pub async fn passkey_rename(csrf: String, id: String, name: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::member_write(&csrf, async |state, me| {
        crate::services::passkeys::rename(&state.db, &me.principal, &id, &name)
            .await
            .map_err(portal::service_error)
    })
    .await
}

#[server(prefix = "/api", endpoint = "passkey_remove")]
pub async fn passkey_remove(csrf: String, id: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    portal::member_write(&csrf, async |state, me| {
        crate::services::passkeys::remove(&state.db, &me.principal, &id)
            .await
            .map_err(portal::service_error)
    })
    .await
}

/// Starts a passkey sign-in: on its own (`step` empty), or as the second step of a sign-in
/// whose password was right (`step=second`). The options for `navigator.credentials.get`.
#[server(prefix = "/api", endpoint = "passkey_sign_in_options")]
pub async fn passkey_sign_in_options(
    csrf: String,
    #[server(default)] step: String,
) -> Result<String, AppError> {
    use crate::app::server as portal;
    let result = async {
        let (state, session, _) = portal::sign_in_post(&csrf).await?;
        let issuer = &state.settings.issuer;
        if step == SECOND {
            let p = super::mfa::pending(&session, false).await?;
            let (options, ceremony) =
                crate::services::passkeys::begin_second_factor(&state.db, issuer, &p.user_id)
                    .await
                    .map_err(portal::service_error)?;
            portal::keep_ceremony(&session, SECOND, &ceremony).await?;
            to_json(&options)
        } else {
            let (options, ceremony) =
                crate::services::passkeys::begin_sign_in(issuer).map_err(portal::service_error)?;
            portal::keep_ceremony(&session, SIGN_IN, &ceremony).await?;
            to_json(&options)
        }
    }
    .await;
    portal::finish(result)
}

/// Finishes a passkey sign-in: signed in, and where the page goes next.
#[server(prefix = "/api", endpoint = "passkey_sign_in")]
pub async fn passkey_sign_in(
    csrf: String,
    credential: String,
    #[server(default)] step: String,
    #[server(default)] next: String,
) -> Result<String, AppError> {
    use crate::app::server as portal;
    use crate::services::passkeys;
    let result = async {
        let (state, session, meta) = portal::sign_in_post(&csrf).await?;
        let credential = from_json(&credential)?;
        let issuer = &state.settings.issuer;
        if step == SECOND {
            let p = super::mfa::pending(&session, false).await?;
            let ceremony = portal::take_ceremony(&state, &session, SECOND)
                .await
                .ok_or_else(expired)?;
            let method = passkeys::finish_second_factor(
                &state.db,
                issuer,
                &meta,
                (&p.user_id, &p.email, &p.org_id),
                &ceremony,
                &credential,
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
        } else {
            let ceremony = portal::take_ceremony(&state, &session, SIGN_IN)
                .await
                .ok_or_else(expired)?;
            let signed = passkeys::finish_sign_in(&state.db, issuer, &meta, ceremony, &credential)
                .await
                .map_err(portal::service_error)?;
            portal::start_session(
                &session,
                &signed.user_id,
                &signed.org_id,
                &[signed.method],
                signed.session_epoch,
                &meta,
            )
            .await?;
        }
        Ok(super::login::safe_next(&next))
    }
    .await;
    portal::finish(result)
}

/// Whether browsers can use passkeys here (the page context says).
pub fn available() -> bool {
    use_context::<PageCtx>().is_some_and(|c| c.passkeys)
}

/// A button that starts a passkey ceremony in `public/passkey.js`: `kind` is `register`,
/// `second` or `sign-in`. Its form carries the CSRF token and the fields the ceremony
/// sends; the status line says what happens, and what went wrong.
#[component]
pub fn PasskeyButton(
    kind: &'static str,
    label: &'static str,
    #[prop(optional)] primary: bool,
    #[prop(optional)] children: Option<Children>,
) -> impl IntoView {
    view! {
        <form class="passkey" data-passkey-form=kind>
            <Csrf/>
            {children.map(|c| c())}
            <button type="button" class=if primary { "primary" } else { "" } data-passkey=kind>{label}</button>
            <p class="hint" role="status" data-passkey-status></p>
            <noscript><p class="hint">"Passkeys need JavaScript."</p></noscript>
        </form>
    }
}

/// The passkeys section of the account security page.
#[component]
pub fn Passkeys(
    passkeys: Vec<PasskeyView>,
    fresh: bool,
    available: bool,
    remove: ServerAction<PasskeyRemove>,
    rename: ServerAction<PasskeyRename>,
) -> impl IntoView {
    let remove_error = form_error(remove.value());
    let rename_error = form_error(rename.value());
    let count = passkeys.len();
    view! {
        <section class="card" aria-labelledby="passkeys">
            <h2 id="passkeys">"Passkeys"</h2>
            <p>"A passkey signs you in with your device's screen lock or a security key: no password, nothing to type, nothing a fake site can reuse."</p>
            <FormError error=remove_error/>
            <FormError error=rename_error/>
            {(count > 0).then(|| view! {
                <table class="list passkeys" data-testid="passkeys">
                    <thead><tr><th scope="col">"Name"</th><th scope="col">"Kind"</th><th scope="col">"Added"</th><th scope="col">"Last used"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                    <tbody>
                        {passkeys.into_iter().map(|k| {
                            let (id, name) = (k.id.clone(), k.name.clone());
                            let label = format!("Name of passkey {}", k.name);
                            view! {
                            <tr>
                                <td data-label="Name">
                                    <ActionForm action=rename attr:class="inline rename">
                                        <Csrf/>
                                        <input type="hidden" name="id" value=id.clone()/>
                                        <input type="text" name="name" value=name.clone() maxlength="60" required
                                            aria-label=label.clone()/>
                                        <button type="submit" class="small">"Rename"</button>
                                    </ActionForm>
                                </td>
                                <td data-label="Kind">{if k.synced { "Synced between devices" } else { "On one device" }}</td>
                                <td data-label="Added">{format_time(k.created_at)}</td>
                                <td data-label="Last used">{k.last_used_at.map(format_time).unwrap_or_else(|| "Never".into())}</td>
                                <td data-label="Actions">
                                    <ActionForm action=remove attr:class="inline">
                                        <Csrf/>
                                        <input type="hidden" name="id" value=k.id.clone()/>
                                        <Confirm label="Remove" small=true what=format!("The passkey “{}” stops working here.", k.name)/>
                                    </ActionForm>
                                </td>
                            </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            })}
            {if !available {
                view! { <p class="hint">"Passkeys need this server at a domain name: browsers refuse them on an IP address."</p> }.into_any()
            } else if !fresh {
                view! { <p class="hint">"To add a passkey, " <a href="/login?reauth=1&next=%2Faccount%2Fsecurity">"sign in again"</a> " first."</p> }.into_any()
            } else {
                view! {
                    <PasskeyButton kind="register" label="Add a passkey">
                        <label>"Name" <input type="text" name="name" maxlength="60" placeholder="Laptop, phone, security key…"/></label>
                    </PasskeyButton>
                }.into_any()
            }}
        </section>
    }
}
