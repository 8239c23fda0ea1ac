//! OpenID Connect RP-Initiated Logout: what a logout request may do. The browser is sent
//! back to the app only with a valid ID token of that app as `id_token_hint` and a URI
//! registered for it as a *post-logout* redirect URI (apart from its authorization
//! redirect URIs); anything less ends on our signed-out page, so logout is no open
//! redirect.

use super::keys::KeyRing;
use super::tokens::{self, IdTokenHint};
use super::{Error, Result};
use crate::domain::authorize::response_url;
use crate::store::Db;

/// A checked logout request.
#[derive(Debug, Default)]
pub struct Logout {
    /// The user the hint names: their session ends without asking.
    pub hinted_user: Option<String>,
    /// Where to send the browser afterwards (with `state`), when the app may be returned to.
    pub target: Option<String>,
}

/// Why a logout request is refused (a 400 page).
fn refused(message: &str) -> Error {
    Error::Forbidden(message.into())
}

/// Checks the request's parameters.
pub async fn check(
    db: &Db,
    ring: &KeyRing,
    issuer: &str,
    id_token_hint: Option<&str>,
    client_id: Option<&str>,
    post_logout_redirect_uri: Option<&str>,
    state: Option<&str>,
) -> Result<Logout> {
    let Some(raw) = id_token_hint else {
        // Nobody proved which app asks: no redirect, whatever the URI says.
        return Ok(Logout::default());
    };
    let bad_hint = || refused("The id_token_hint is not an ID token of ours.");
    let IdTokenHint {
        sub,
        client_id: hinted,
    } = tokens::id_token_hint(ring, issuer, raw).ok_or_else(bad_hint)?;
    if client_id.is_some_and(|c| c != hinted) {
        return Err(refused(
            "The client_id differs from the id_token_hint's audience.",
        ));
    }
    let app = db.app(&hinted).await?.ok_or_else(bad_hint)?;
    let target = match post_logout_redirect_uri {
        None => None,
        Some(uri) => {
            if !app.has_post_logout_uri(uri) {
                return Err(refused(
                    "The post_logout_redirect_uri is not registered for this app.",
                ));
            }
            Some(response_url(uri, &[("state", state)]))
        }
    };
    Ok(Logout {
        hinted_user: Some(sub),
        target,
    })
}
