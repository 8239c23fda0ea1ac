//! What every page needs: who is signed in and the CSRF token.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use super::error::AppError;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Me {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub org_id: String,
    pub org_name: String,
    pub is_admin: bool,
    /// May read the audit log (admins and auditors).
    pub can_audit: bool,
    /// Administers a business group (the organization's admins: all of them), so the
    /// navigation leads to the business groups page.
    #[serde(default)]
    pub manages_groups: bool,
    /// The business groups and environments the header's switcher offers (value, label),
    /// empty when the organization has no business group.
    #[serde(default)]
    pub places: Vec<(String, String)>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageCtx {
    pub csrf: String,
    pub me: Option<Me>,
    /// What the last form posted without JavaScript sent, when it failed: the page shows
    /// the fields as typed (passwords excluded).
    #[serde(default)]
    pub kept: Vec<(String, String)>,
    /// Browsers can use passkeys with this server (its issuer is at a domain name).
    #[serde(default)]
    pub passkeys: bool,
}

/// The value a failed form sent for `name`, when the page comes back from one.
pub fn kept(name: &str) -> Option<String> {
    use_context::<PageCtx>().and_then(|c| {
        c.kept
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    })
}

/// Every value a failed form sent for `name` (checkboxes), or None when no form came back.
pub fn kept_all(name: &str) -> Option<Vec<String>> {
    let ctx = use_context::<PageCtx>()?;
    (!ctx.kept.is_empty()).then(|| {
        ctx.kept
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    })
}

/// The organization's name as the page header shows it: a page that renames the
/// organization sets it, so the header follows without a reload.
#[derive(Clone, Copy, Debug)]
pub struct OrgName(pub RwSignal<String>);

#[server(prefix = "/api", endpoint = "page_context")]
pub async fn page_context() -> Result<PageCtx, AppError> {
    use crate::app::server as portal;
    // A page request has it already, loaded before the render began (the router's
    // `preload_page_context`): the frame's resource is then ready at its first poll.
    if let Some(ctx) = use_context::<http::request::Parts>()
        .and_then(|parts| parts.extensions.get::<PageCtx>().cloned())
    {
        return Ok(ctx);
    }
    let state = portal::state()?;
    let session = portal::session().await?;
    portal::load_page_context(&state, &session, portal::request_meta(&state)).await
}

/// The error of an action's last answer (after a plain form post, leptos restores it
/// from the URL it redirects back to).
pub fn form_error<O, S>(value: S) -> Signal<Option<AppError>>
where
    O: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<O, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || value.get().and_then(Result::err))
}

/// Whether an action's last answer was a success.
pub fn succeeded<O, S>(value: S) -> Signal<bool>
where
    O: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<O, AppError>>> + Send + Sync + 'static,
{
    Signal::derive(move || matches!(value.get(), Some(Ok(_))))
}
