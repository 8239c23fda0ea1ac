//! Client authentication at the token, introspection and revocation endpoints: a secret
//! (`client_secret_basic`/`_post`), a signed assertion (`private_key_jwt`) or, for public
//! clients, the id alone. Unknown clients and wrong proofs get the same answer.
//!
//! Failures are counted per client and address in one-minute windows: past
//! `MAX_FAILURES_PER_ADDRESS` an address gets 429 with the seconds to wait (a success
//! costs no count and is never refused: 256-bit secrets make guessing hopeless, and a
//! stranger must not be able to lock a client out), and only the
//! first failure of each window is written to the claimed app's audit chain, with the count
//! of the window before, so nobody can flood an organization's log or contend its chain by
//! sending bad secrets for its client id.

use secrecy::SecretString;
use serde_json::json;

use super::{Issuer, internal};
use crate::crypto::{assertions, secrets};
use crate::domain::oauth::{OAuthError, TOKEN_PATH};
use crate::services::now;
use crate::store::{self, apps::App, cache::Change};

/// A secret's last use is recorded to the minute, so most requests write nothing.
const LAST_USED_GRANULARITY: i64 = 60;
/// The counting window of failed client authentications.
pub const FAILURE_WINDOW_SECS: i64 = 60;
/// Failed authentications of one client from one address per window before its failures
/// are answered 429.
pub const MAX_FAILURES_PER_ADDRESS: i64 = 20;

/// How a client proves who it is at the token endpoint.
pub enum ClientProof {
    /// `client_secret_basic` or `client_secret_post`.
    Secret(SecretString),
    /// `private_key_jwt`: an assertion signed by a registered key.
    Assertion(String),
    /// `none`: a public client, identified by its id alone.
    None,
}

/// A refused client authentication: the error to answer, and the audit detail when this
/// refusal is the one of its window to record (`None`: counted, folded into that record).
#[derive(Debug)]
pub struct ClientRefusal {
    pub error: OAuthError,
    pub record: Option<serde_json::Value>,
}

impl From<ClientRefusal> for OAuthError {
    fn from(r: ClientRefusal) -> Self {
        r.error
    }
}

impl From<OAuthError> for ClientRefusal {
    fn from(error: OAuthError) -> Self {
        Self {
            error,
            record: Some(json!({})),
        }
    }
}

/// Authenticates a client presenting `proof` from address `ip`.
#[tracing::instrument(skip_all, fields(client_id = %client_id.chars().take(64).collect::<String>()))]
pub async fn authenticate(
    ctx: &Issuer<'_>,
    client_id: &str,
    proof: ClientProof,
    ip: Option<&str>,
) -> Result<App, ClientRefusal> {
    let t = now();
    let window = t / FAILURE_WINDOW_SECS;
    let client_key: String = client_id.chars().take(200).collect();
    let ip = ip.unwrap_or("-");
    let per_address = format!("clientauth:{client_key}|ip:{ip}|{window}");
    let pool = &ctx.db.pool;
    // A success costs nothing more than the check; only failures are counted.
    let (error, known) = match check(ctx, client_id, proof, t).await {
        Ok(app) => return Ok(app),
        Err((e @ (OAuthError::ServerError | OAuthError::InvalidRequest(_)), _)) => {
            return Err(e.into());
        }
        Err(refused) => refused,
    };
    let failures = store::throttle::bump(pool, &per_address, t)
        .await
        .map_err(internal)?;
    let error = if failures > MAX_FAILURES_PER_ADDRESS {
        let wait = FAILURE_WINDOW_SECS - t % FAILURE_WINDOW_SECS;
        OAuthError::TooManyAttempts(
            format!("too many failed client authentications; try again in {wait} seconds"),
            wait,
        )
    } else {
        error
    };
    // Unknown client ids share one count, so rotating ids does not multiply the records.
    let folded_under = if known { client_key.as_str() } else { "?" };
    let total = store::throttle::bump(pool, &format!("clientauth:{folded_under}|{window}"), t)
        .await
        .map_err(internal)?;
    let record = if total == 1 {
        let before =
            store::throttle::get(pool, &format!("clientauth:{folded_under}|{}", window - 1))
                .await
                .map_err(internal)?
                .map(|(n, _)| n)
                .unwrap_or(0);
        Some(json!({
            "window_secs": FAILURE_WINDOW_SECS,
            "failures_in_previous_window": before,
            "folded": "further failures in this window are counted, not recorded one by one",
        }))
    } else {
        None
    };
    Err(ClientRefusal { error, record })
}

/// The check itself; the flag says whether the client id names a registered app.
async fn check(
    ctx: &Issuer<'_>,
    client_id: &str,
    proof: ClientProof,
    t: i64,
) -> Result<App, (OAuthError, bool)> {
    let db = ctx.db;
    let refused = |known| {
        (
            OAuthError::InvalidClient("client authentication failed".into()),
            known,
        )
    };
    let fail = |e: OAuthError| (e, true);
    if client_id.is_empty() || client_id.len() > 200 {
        return Err(refused(false));
    }
    let Some(entry) = db
        .app_with_secrets(client_id)
        .await
        .map_err(|e| (internal(e), false))?
    else {
        // Spend the same work as a real check.
        if let ClientProof::Secret(s) = &proof {
            secrets::verify(s, "");
        }
        return Err(refused(false));
    };
    let (app, stored) = (&entry.0, &entry.1);
    match (app.public_client, proof) {
        (true, ClientProof::None) => {}
        (true, _) | (false, ClientProof::None) => return Err(refused(true)),
        (false, ClientProof::Secret(secret)) => {
            let matched = stored.iter().find(|s| {
                s.expires_at.is_none_or(|e| e > t) && secrets::verify(&secret, &s.digest)
            });
            let Some(matched) = matched else {
                return Err(refused(true));
            };
            if matched
                .last_used_at
                .is_none_or(|last| last < t - LAST_USED_GRANULARITY)
                && store::apps::touch_secret(&db.pool, &matched.id, t, LAST_USED_GRANULARITY)
                    .await
                    .map_err(|e| fail(internal(e)))?
            {
                db.changed(&[Change::App(client_id.to_string())])
                    .await
                    .map_err(|e| fail(internal(e)))?;
            }
        }
        (false, ClientProof::Assertion(assertion)) => {
            let keys = app.public_keys.as_deref().ok_or_else(|| refused(true))?;
            let token_endpoint = format!("{}{TOKEN_PATH}", ctx.url);
            let a = assertions::verify(&assertion, keys, client_id, &[ctx.url, &token_endpoint], t)
                .map_err(|m| {
                    fail(OAuthError::InvalidClient(format!(
                        "client assertion refused: {m}"
                    )))
                })?;
            if a.sub != client_id {
                return Err(fail(OAuthError::InvalidClient(
                    "the client assertion's sub must be the client id".into(),
                )));
            }
            let replay_key = format!("client:{client_id}:{}", a.jti);
            if !store::tokens::use_jti(
                &db.pool,
                &replay_key,
                a.exp + assertions::LEEWAY_SECS as i64,
            )
            .await
            .map_err(|e| fail(internal(e)))?
            {
                return Err(fail(OAuthError::InvalidClient(
                    "the client assertion was already used".into(),
                )));
            }
        }
    }
    if !app.enabled {
        return Err(fail(OAuthError::InvalidClient(
            "the client is disabled".into(),
        )));
    }
    Ok(app.clone())
}

/// The app a refused client authentication claimed to be, and its organization, so the
/// refusal is recorded where that app's admins see it.
pub async fn claimed(ctx: &Issuer<'_>, client_id: &str) -> Option<(String, String)> {
    if client_id.is_empty() || client_id.len() > 200 {
        return None;
    }
    match ctx.db.app(client_id).await {
        Ok(app) => app.map(|a| (a.client_id.into_inner(), a.org_id.into_inner())),
        Err(e) => {
            tracing::error!(error = %e, "looking up a claimed client");
            None
        }
    }
}
