//! OpenID Connect userinfo (Core §5.3): the claims of the token's user, by the token's
//! scopes. The token must be active, meant for this server, and carry `openid`.

use super::Issuer;
use super::access::active_here;
use super::id_token::user_claims;

/// Why userinfo refuses a token (RFC 6750 §3.1).
#[derive(Debug, PartialEq, Eq)]
pub enum BearerError {
    InvalidToken,
    /// A DPoP-bound token with a missing or wrong proof (RFC 9449 §7.1).
    InvalidDpopProof,
    InsufficientScope,
    Internal,
}

pub async fn userinfo(
    ctx: &Issuer<'_>,
    presented: &super::Presented<'_>,
) -> Result<serde_json::Value, BearerError> {
    let (c, _) = active_here(ctx, presented).await?;
    if c.gid.is_none() || !c.scope.split(' ').any(|s| s == "openid") {
        return Err(BearerError::InsufficientScope);
    }
    let claims = user_claims(ctx.db, &c.sub, &c.scope)
        .await
        .map_err(|_| BearerError::InvalidToken)?;
    let mut answer = serde_json::to_value(&claims).map_err(|_| BearerError::Internal)?;
    answer["sub"] = c.sub.into();
    Ok(answer)
}
