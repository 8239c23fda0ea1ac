//! Who authorized which app, and withdrawing it: by an admin of the app's organization (one
//! user or everyone) or by the user. Withdrawing ends the grants at once (refresh tokens
//! fail, access tokens turn inactive) and forgets the consent.

use serde_json::json;

use super::audit::{self, Event};
use super::principal::{MANAGE_APPS, Principal, READ_APPS};
use super::{Error, Result, now};
use crate::domain::views::AuthorizationView;
use crate::store::{self, Db, cache::Change, grants::ActiveGrant};

/// Folds the grants of each (user, app) pair into one authorization.
fn fold(grants: Vec<ActiveGrant>) -> Vec<AuthorizationView> {
    let mut out: Vec<AuthorizationView> = Vec::new();
    for g in grants {
        let scopes = g.scopes.names();
        match out
            .iter_mut()
            .find(|a| a.user_id == g.user_id && a.client_id == g.client_id)
        {
            Some(a) => {
                for s in scopes {
                    if !a.scopes.contains(&s) {
                        a.scopes.push(s);
                    }
                }
                a.last_used_at = a.last_used_at.max(g.last_used_at);
            }
            None => out.push(AuthorizationView {
                user_id: g.user_id,
                user_email: g.email,
                client_id: g.client_id,
                app_name: g.app_name,
                scopes,
                granted_at: g.created_at,
                last_used_at: g.last_used_at,
            }),
        }
    }
    out.sort_by_key(|a| std::cmp::Reverse(a.last_used_at.unwrap_or(a.granted_at)));
    out
}

/// The users who authorized an app of `org_id`.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn of_app(db: &Db, p: &Principal, client_id: &str) -> Result<Vec<AuthorizationView>> {
    let org_id = super::apps::at_app(db, p, READ_APPS, client_id)
        .await?
        .org_id;
    store::apps::get(&db.pool, org_id, client_id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(fold(
        store::grants::active(&db.pool, Some(client_id), None).await?,
    ))
}

/// The apps the acting user authorized.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn of_user(db: &Db, p: &Principal) -> Result<Vec<AuthorizationView>> {
    let user_id = p.user_id().ok_or(Error::Unauthenticated)?;
    Ok(fold(
        store::grants::active(&db.pool, None, Some(user_id)).await?,
    ))
}

/// An admin withdraws an app of `org_id` from one user, or from everyone (`user_id` None).
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn revoke_for_app(
    db: &Db,
    p: &Principal,
    client_id: &str,
    user_id: Option<&str>,
) -> Result<u64> {
    let at = super::apps::at_app(db, p, MANAGE_APPS, client_id).await?;
    let (caller, org_id) = (at.caller, at.org_id);
    let mut tx = db.begin().await?;
    store::apps::get(&mut *tx, org_id, client_id)
        .await?
        .ok_or(Error::NotFound)?;
    let ended = store::grants::revoke_authorizations(&mut tx, client_id, user_id, now()).await?;
    audit::record(
        &mut tx,
        caller,
        Event {
            org_id: Some(org_id),
            action: "authorization.revoked",
            object: ("app", client_id),
            success: true,
            detail: json!({ "user_id": user_id, "everyone": user_id.is_none(), "grants_ended": ended }),
        },
    )
    .await?;
    db.commit(tx, &[Change::Grants]).await?;
    Ok(ended)
}

/// The acting user withdraws their own authorization of an app.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn revoke_mine(db: &Db, p: &Principal, client_id: &str) -> Result<u64> {
    let user_id = p.user_id().ok_or(Error::Unauthenticated)?;
    let caller = p.caller();
    let mut tx = db.begin().await?;
    let app = store::apps::find(&mut *tx, client_id)
        .await?
        .ok_or(Error::NotFound)?;
    let ended =
        store::grants::revoke_authorizations(&mut tx, client_id, Some(user_id), now()).await?;
    audit::record(
        &mut tx,
        caller,
        Event {
            org_id: Some(&app.org_id),
            action: "consent.withdrawn",
            object: ("app", client_id),
            success: true,
            detail: json!({ "user_id": user_id, "grants_ended": ended }),
        },
    )
    .await?;
    db.commit(tx, &[Change::Grants]).await?;
    Ok(ended)
}
