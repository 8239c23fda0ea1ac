//! DPoP (RFC 9449) where tokens are issued and where they are used. At the token endpoint a
//! proof (for `POST` to the token endpoint, with our nonce, never seen before) binds the
//! tokens to its key: the access token carries `cnf.jkt` and is of type `DPoP`; a public
//! client's refresh token is bound too. At this server's resources (the REST API,
//! userinfo) a bound token is accepted only with `Authorization: DPoP` and a proof of the
//! same key for that request, carrying the token's hash; as a bearer token it is refused.

use super::access::VerifiedAccess;
use super::{BearerError, Issuer, internal};
use crate::crypto::dpop::{self, Expected, MAX_AGE_SECS, MAX_AHEAD_SECS, Proof};
use crate::domain::oauth::OAuthError;
use crate::domain::paths::TOKEN_PATH;
use crate::services::now;
use crate::store::{self, apps::App};

/// An access token as a request presented it, with what a DPoP check needs.
#[derive(Debug, Clone)]
pub struct Presented<'a> {
    pub token: &'a str,
    /// Sent as `Authorization: DPoP` (not `Bearer`).
    pub dpop: bool,
    /// Every `DPoP` header of the request.
    pub proofs: Vec<&'a str>,
    /// The request's method and path (the proof must be for them).
    pub method: &'a str,
    pub path: &'a str,
}

/// Records a proof's id (per key) until it could no longer be accepted: false when it was
/// seen before (a replay).
async fn first_use(ctx: &Issuer<'_>, p: &Proof) -> Result<bool, OAuthError> {
    let key = format!("dpop:{}:{}", p.jkt, p.jti);
    store::tokens::use_jti(&ctx.db.pool, &key, p.iat + MAX_AGE_SECS + MAX_AHEAD_SECS)
        .await
        .map_err(internal)
}

/// The key a token request proved it holds: `None` without a proof (when the app does not
/// require one). A proof must be single, for this endpoint, carry a nonce of ours (else
/// `use_dpop_nonce` with a fresh one) and be new.
pub async fn token_request_proof(
    ctx: &Issuer<'_>,
    app: &App,
    proofs: &[&str],
) -> Result<Option<String>, OAuthError> {
    request_proof(ctx, app, proofs, TOKEN_PATH).await
}

/// The key a pushed authorization request proved it holds (RFC 9449 §10.1): its code will
/// be redeemable with that key only. Optional there, whatever the app requires.
pub async fn par_proof(
    ctx: &Issuer<'_>,
    app: &App,
    proofs: &[&str],
) -> Result<Option<String>, OAuthError> {
    if proofs.is_empty() {
        return Ok(None);
    }
    request_proof(ctx, app, proofs, crate::domain::paths::PAR_PATH).await
}

async fn request_proof(
    ctx: &Issuer<'_>,
    app: &App,
    proofs: &[&str],
    path: &str,
) -> Result<Option<String>, OAuthError> {
    let invalid = |m: &str| OAuthError::InvalidDpopProof(m.into());
    let proof = match proofs {
        [] if app.require_dpop => {
            return Err(invalid(
                "this app must send a DPoP proof with its token requests",
            ));
        }
        [] => return Ok(None),
        [one] => *one,
        _ => return Err(invalid("send one DPoP proof, not several")),
    };
    let t = now();
    let htu = format!("{}{path}", ctx.url);
    let expected = Expected {
        htm: "POST",
        htu: &htu,
        access_token: None,
    };
    let p = dpop::verify(proof, &expected, t).map_err(invalid)?;
    if !p
        .nonce
        .as_deref()
        .is_some_and(|n| dpop::nonce_ok(&ctx.ring.nonce_key, n, t))
    {
        return Err(OAuthError::UseDpopNonce(dpop::nonce(
            &ctx.ring.nonce_key,
            t,
        )));
    }
    if !first_use(ctx, &p).await? {
        return Err(invalid("this DPoP proof was used before"));
    }
    Ok(Some(p.jkt))
}

/// Whether a token (verified, its claims `c`) is presented as its binding asks: an unbound
/// token as `Bearer`; a bound one as `DPoP` with one fresh proof, for this request, of its
/// key, carrying its hash.
pub async fn check_presentation(
    ctx: &Issuer<'_>,
    c: &VerifiedAccess,
    presented: &Presented<'_>,
) -> Result<(), BearerError> {
    let Some(cnf) = &c.cnf else {
        return if presented.dpop {
            Err(BearerError::InvalidToken)
        } else {
            Ok(())
        };
    };
    if !presented.dpop {
        tracing::warn!(client = %c.client_id, "a DPoP-bound token was presented as a bearer token");
        return Err(BearerError::InvalidToken);
    }
    let [proof] = presented.proofs.as_slice() else {
        return Err(BearerError::InvalidDpopProof);
    };
    let htu = format!("{}{}", ctx.url, presented.path);
    let expected = Expected {
        htm: presented.method,
        htu: &htu,
        access_token: Some(presented.token),
    };
    let t = now();
    let p = dpop::verify(proof, &expected, t).map_err(|_| BearerError::InvalidDpopProof)?;
    if p.jkt != cnf.jkt {
        tracing::warn!(client = %c.client_id, "a DPoP proof of another key than the token's");
        return Err(BearerError::InvalidDpopProof);
    }
    if !first_use(ctx, &p)
        .await
        .map_err(|_| BearerError::Internal)?
    {
        return Err(BearerError::InvalidDpopProof);
    }
    Ok(())
}

/// A token bound to a key (a code by `dpop_jkt`, a refresh token by its proof) redeemed
/// with a proof of that key, or refused.
pub(super) fn same_key(
    bound: Option<&str>,
    ctx: &Issuer<'_>,
    what: &str,
) -> Result<(), OAuthError> {
    match bound {
        Some(jkt) if ctx.dpop_jkt.as_deref() != Some(jkt) => Err(OAuthError::InvalidGrant(
            format!("the {what} is bound to a DPoP key this request did not prove"),
        )),
        _ => Ok(()),
    }
}
