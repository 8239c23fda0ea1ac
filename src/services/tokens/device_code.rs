//! The device authorization grant (RFC 8628): the device authorization endpoint's answer
//! (§3.2) and the token endpoint's polls (§3.4, §3.5). A device code is bound to the client
//! it was issued to; polls are paced (`slow_down` adds five seconds to the interval each
//! time a client polls sooner); an approved code is spent once, and presented again by its
//! client it revokes the grant, as a replayed authorization code does.

use serde::Serialize;

use super::grant::{redeem_approved, revoke_on_reuse};
use super::{Issuer, TokenResponse, internal, may_use};
use crate::crypto::{random_token, secrets};
use crate::domain::device::{
    DEVICE_CODE_TTL, DeviceStatus, POLL_INTERVAL, display_user_code, poll_answer, user_code_from,
};
use crate::domain::oauth::{OAuthError, user_grant_scopes};
use crate::domain::paths::DEVICE_PATH;
use crate::domain::{AppKind, GrantType};
use crate::services::{new_id, now};
use crate::store::{self, apps::App, device::DeviceCode};

/// The device authorization response (RFC 8628 §3.2).
#[derive(Debug, Serialize)]
pub struct DeviceAuthorization {
    pub device_code: String,
    pub user_code: String,
    pub verification_uri: String,
    pub verification_uri_complete: String,
    pub expires_in: i64,
    pub interval: i64,
    /// The scopes asked for, for the audit record; not sent.
    #[serde(skip)]
    pub scope: String,
}

/// Starts a device's request for `scope` (or every scope the app may ask for).
#[tracing::instrument(skip_all, fields(client_id = %app.client_id))]
pub async fn start_device(
    ctx: &Issuer<'_>,
    app: &App,
    scope: Option<&str>,
) -> Result<DeviceAuthorization, OAuthError> {
    may_use(app, AppKind::OnBehalfOfUser, GrantType::DeviceCode)?;
    let scopes = user_grant_scopes(scope, &app.scopes)?;
    let device_code = format!("lkd_{}", random_token(32));
    let t = now();
    // A user code taken by a live code is drawn again (about one chance in 10^10 each).
    for _ in 0..8 {
        let mut bytes = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut bytes);
        let Some(user_code) = user_code_from(&bytes) else {
            continue;
        };
        let row = DeviceCode {
            id: new_id(),
            digest: secrets::digest(&device_code),
            user_code: user_code.clone(),
            client_id: app.client_id.to_string(),
            scopes: scopes.clone(),
            status: DeviceStatus::Pending,
            poll_interval: POLL_INTERVAL,
            last_polled_at: None,
            grant_id: None,
            user_id: None,
            created_at: t,
            expires_at: t + DEVICE_CODE_TTL,
        };
        if store::device::insert(&ctx.db.pool, &row)
            .await
            .map_err(internal)?
        {
            let shown = display_user_code(&user_code);
            let page = format!("{}{DEVICE_PATH}", ctx.url);
            return Ok(DeviceAuthorization {
                device_code,
                verification_uri_complete: format!("{page}?user_code={shown}"),
                verification_uri: page,
                user_code: shown,
                expires_in: DEVICE_CODE_TTL,
                interval: POLL_INTERVAL,
                scope: scopes.to_space_separated(),
            });
        }
    }
    Err(internal("no free user code after eight draws"))
}

/// A device's poll with its device code.
#[tracing::instrument(skip_all, fields(client_id = %app.client_id))]
pub async fn device_code(
    ctx: &Issuer<'_>,
    app: &App,
    device_code: &str,
) -> Result<TokenResponse, OAuthError> {
    let db = ctx.db;
    may_use(app, AppKind::OnBehalfOfUser, GrantType::DeviceCode)?;
    let invalid =
        || OAuthError::InvalidGrant("the device code is invalid or was already used".into());
    let row = store::device::by_digest(&db.pool, &secrets::digest(device_code))
        .await
        .map_err(internal)?
        .ok_or_else(invalid)?;
    if row.client_id != app.client_id {
        tracing::warn!(client = %app.client_id, "a device code issued to another client was presented");
        return Err(invalid());
    }
    let t = now();
    match row.status {
        DeviceStatus::Used => {
            if let Some(grant_id) = &row.grant_id {
                revoke_on_reuse(db, app, grant_id, "device_code").await?;
            }
            return Err(invalid());
        }
        _ if row.expires_at <= t => return Err(OAuthError::ExpiredToken),
        DeviceStatus::Denied => {
            return Err(OAuthError::AccessDenied(
                "the user or the organization's rules refused the request".into(),
            ));
        }
        DeviceStatus::Pending => {
            // Paced by compare-and-set: of two polls at once, one is too soon.
            let interval = match poll_answer(row.last_polled_at, row.poll_interval, t) {
                Ok(()) => row.poll_interval,
                Err(slower) => slower,
            };
            let counted = store::device::poll(&db.pool, &row.id, row.last_polled_at, t, interval)
                .await
                .map_err(internal)?;
            return Err(if counted && interval == row.poll_interval {
                OAuthError::AuthorizationPending
            } else {
                OAuthError::SlowDown
            });
        }
        DeviceStatus::Approved => {}
    }
    if !store::device::spend(&db.pool, &row.id)
        .await
        .map_err(internal)?
    {
        return Err(invalid());
    }
    let ended = || OAuthError::InvalidGrant("the authorization has ended".into());
    let grant_id = row.grant_id.as_deref().ok_or_else(ended)?;
    redeem_approved(ctx, app, grant_id, None, ended).await
}
