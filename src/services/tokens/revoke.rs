//! Revocation (RFC 7009) of a token issued to the caller: an access token alone, or a
//! refresh token with its whole grant (and so every access token issued under it). Any
//! other token is ignored, with the same answer, so nothing is revealed.

use super::access::verify_access;
use super::{Issuer, internal};
use crate::crypto::secrets;
use crate::domain::oauth::OAuthError;
use crate::services::now;
use crate::store::{self, apps::App, cache::Change};

/// Says what ended, for the audit: `access_token`, `grant` or `nothing`.
#[tracing::instrument(skip_all, fields(caller = %caller.client_id))]
pub async fn revoke(
    ctx: &Issuer<'_>,
    caller: &App,
    token: &str,
) -> Result<&'static str, OAuthError> {
    let (db, ring, issuer) = (ctx.db, ctx.ring, ctx.url);
    let t = now();
    if let Some(c) = verify_access(ring, issuer, token) {
        if c.client_id == caller.client_id {
            store::tokens::revoke(&db.pool, &c.jti, &c.client_id, c.exp, t)
                .await
                .map_err(internal)?;
            db.changed(&[Change::Revoked {
                jti: c.jti.clone(),
                expires_at: c.exp,
            }])
            .await
            .map_err(internal)?;
            return Ok("access_token");
        }
        return Ok("nothing");
    }
    if let Some(row) = store::grants::find_refresh(&db.pool, &secrets::digest(token))
        .await
        .map_err(internal)?
        && let Some(grant) = store::grants::get(&db.pool, &row.grant_id)
            .await
            .map_err(internal)?
        && grant.client_id == caller.client_id
    {
        store::grants::revoke(&db.pool, &grant.id, t)
            .await
            .map_err(internal)?;
        db.changed(&[Change::Grant(grant.id.to_string())])
            .await
            .map_err(internal)?;
        return Ok("grant");
    }
    Ok("nothing")
}
