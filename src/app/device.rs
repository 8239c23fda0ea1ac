//! The device page (RFC 8628 `verification_uri`): a signed-in user types the code a TV, a
//! command-line tool or a CI runner shows, then answers the same consent screen as any
//! app's request. The page opened from `verification_uri_complete` has the code filled in,
//! never submitted by itself (the user confirms it matches their device).

use leptos::form::ActionForm;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::components::{Csrf, FormError, Need, Page};
use super::error::AppError;
use super::session::form_error;

#[server(prefix = "/api", endpoint = "enter_device_code")]
pub async fn enter_device_code(csrf: String, user_code: String) -> Result<(), AppError> {
    use crate::app::server as portal;
    use crate::services::authorize::Step;
    let result = async {
        let (state, session, me) = portal::require_signed_in().await?;
        portal::check_csrf(&session, &csrf).await?;
        let visitor = portal::visitor_of(&me, &session).await;
        let step =
            crate::services::device::enter(&state.db, &state.settings.issuer, visitor, &user_code)
                .await
                .map_err(|e| match e {
                    crate::services::Error::Throttled(secs) => {
                        portal::retry_after(secs);
                        AppError::Throttled(format!(
                            "Too many wrong codes. Try again in {secs} seconds."
                        ))
                    }
                    e => portal::service_error(e),
                })?;
        match step {
            Step::Redirect(url) => {
                leptos_axum::redirect(&url);
                Ok(())
            }
            Step::Page(message) => Err(AppError::Refused(message)),
            Step::Blocked { app_name, .. } => Err(AppError::Refused(format!(
                "Your organization allows only the external apps its administrators approved, \
                 and {app_name} is not one of them. Ask an administrator of your organization \
                 to approve it."
            ))),
        }
    }
    .await;
    portal::finish(result)
}

/// What the page says after the consent screen was answered.
fn outcome(result: &str) -> Option<(&'static str, &'static str)> {
    Some(match result {
        "approved" => (
            "saved",
            "Your device is connected. Go back to it: it continues on its own.",
        ),
        "denied" => ("notice", "You denied access. The device was not connected."),
        "refused" => (
            "error",
            "The device could not be connected: your organization's rules do not allow this app.",
        ),
        "expired" => (
            "error",
            "This code has expired or was already answered. Start again on your device.",
        ),
        _ => return None,
    })
}

#[component]
pub fn DevicePage() -> impl IntoView {
    let query = use_query_map();
    let (code, result) = query.with_untracked(|q| {
        (
            q.get("user_code").unwrap_or_default(),
            q.get("result").unwrap_or_default(),
        )
    });
    view! {
        <Page title="Connect a device" need=Need::SignedIn flow=true>
            <DeviceForm code=code.clone() result=result.clone()/>
        </Page>
    }
}

#[component]
fn DeviceForm(code: String, result: String) -> impl IntoView {
    let enter = ServerAction::<EnterDeviceCode>::new();
    let error = form_error(enter.value());
    let said = outcome(&result);
    view! {
        <div class="card narrow device">
            <h1>"Connect a device"</h1>
            {said.map(|(class, words)| {
                let role = if class == "error" { "alert" } else { "status" };
                view! { <p class=format!("status {class}") role=role data-testid="device-result">{words}</p> }
            })}
            <p class="subtitle">"Type the code your device shows. Connect only a device you are using yourself."</p>
            <FormError error/>
            <ActionForm action=enter>
                <Csrf/>
                <label>"Code"
                    <input type="text" name="user_code" required value=code
                        autocomplete="one-time-code" autocapitalize="characters" spellcheck="false"
                        maxlength="20" placeholder="BCDF-GHJK" class="user-code"/>
                </label>
                <button type="submit" class="primary">"Continue"</button>
            </ActionForm>
        </div>
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::outcome;

    #[test]
    fn every_result_has_words_and_unknown_ones_none() {
        for r in ["approved", "denied", "refused", "expired"] {
            assert!(outcome(r).is_some(), "{r}");
        }
        assert_eq!(outcome("<script>"), None);
    }
}
