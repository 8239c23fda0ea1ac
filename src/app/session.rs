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
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageCtx {
    pub csrf: String,
    pub me: Option<Me>,
}

#[server(prefix = "/api", endpoint = "page_context")]
pub async fn page_context() -> Result<PageCtx, AppError> {
    use crate::app::server as portal;
    let state = portal::state()?;
    let session = portal::session().await?;
    let csrf = portal::csrf_token(&session).await?;
    let me = match portal::signed_in(&state, &session).await? {
        Some(s) => {
            let org = crate::services::orgs::get(&state.db, &s.principal)
                .await
                .map_err(portal::service_error)?;
            Some(Me {
                user_id: s.user_id,
                email: s.email,
                name: s.name,
                org_id: s.org_id,
                org_name: org.name,
                is_admin: s.role.is_admin(),
                can_audit: s.role.may(crate::domain::role::READ_AUDIT),
            })
        }
        None => None,
    };
    Ok(PageCtx { csrf, me })
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
