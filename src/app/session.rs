//! What every page needs: who is signed in, the CSRF token, and the error of a form
//! posted without JavaScript.

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
}

/// An error kept for the page a plain (no-JavaScript) form post returns to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Flash {
    pub form: String,
    pub error: AppError,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PageCtx {
    pub csrf: String,
    pub me: Option<Me>,
    pub flash: Option<Flash>,
}

#[server(prefix = "/api", endpoint = "page_context")]
pub async fn page_context() -> Result<PageCtx, AppError> {
    use crate::server::portal;
    let state = portal::state()?;
    let session = portal::session().await?;
    let csrf = portal::csrf_token(&session).await?;
    let flash = portal::take_flash(&session).await;
    let me = match portal::signed_in(&state, &session).await? {
        Some(s) => {
            let org = crate::services::orgs::get(&state.db, &s.org_id).await.map_err(portal::service_error)?;
            Some(Me { user_id: s.user_id, email: s.email, name: s.name, org_id: s.org_id, org_name: org.name, is_admin: s.role.is_admin() })
        }
        None => None,
    };
    Ok(PageCtx { csrf, me, flash })
}

/// The error to show for `form`: the last answer of its action, else the kept flash.
pub fn form_error<O, S>(value: S, form: &'static str) -> Signal<Option<AppError>>
where
    O: Clone + Send + Sync + 'static,
    S: Get<Value = Option<Result<O, AppError>>> + Send + Sync + 'static,
{
    let flash = use_context::<PageCtx>().and_then(|c| c.flash).filter(|f| f.form == form).map(|f| f.error);
    Signal::derive(move || match value.get() {
        Some(Err(e)) => Some(e),
        Some(Ok(_)) => None,
        None => flash.clone(),
    })
}
