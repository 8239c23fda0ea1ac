//! A user's portal sessions: listed on their Security page (device, address, when signed in
//! and last seen), ended one by one or everywhere else; an admin ends every session of a
//! member. Audited.

use serde_json::json;

use super::audit::{self, Event};
use super::principal::{MANAGE_USERS, Principal};
use super::{Error, Result, now};
use crate::crypto::secrets;
use crate::domain::views::{SessionView, device};
use crate::store::{self, Db, cache::Change};

/// The handle of session `id`: a digest, so the id (the cookie's secret) is never shown.
fn handle(id: &str) -> String {
    secrets::digest(id).chars().take(24).collect()
}

/// The signed-in user's sessions; `current` is the id of the session asking.
pub async fn mine(db: &Db, p: &Principal, current: &str) -> Result<Vec<SessionView>> {
    let own = p.own_account()?;
    let all = store::sessions::of_user(&db.pool, own.user_id, now()).await?;
    Ok(all
        .into_iter()
        .map(|s| SessionView {
            handle: handle(&s.id),
            device: device(s.facts.user_agent.as_deref()),
            ip: s.facts.ip,
            signed_in_at: s.facts.signed_in_at,
            last_seen_at: s.facts.last_seen_at,
            current: s.id == current,
        })
        .collect())
}

/// Ends one of the signed-in user's sessions, named by its handle.
pub async fn end_mine(db: &Db, p: &Principal, which: &str) -> Result<()> {
    let own = p.own_account()?;
    let all = store::sessions::of_user(&db.pool, own.user_id, now()).await?;
    let Some(target) = all.into_iter().find(|s| handle(&s.id) == which) else {
        return Err(Error::NotFound);
    };
    let mut tx = db.begin().await?;
    if !store::sessions::delete_one(&mut *tx, own.user_id, &target.id).await? {
        return Err(Error::NotFound);
    }
    let ended = vec![target.facts.sid.clone()];
    audit::record(
        &mut tx,
        own.caller,
        Event {
            org_id: Some(own.org_id),
            action: "session.ended",
            object: ("user", own.user_id),
            success: true,
            detail: json!({ "device": device(target.facts.user_agent.as_deref()), "ip": target.facts.ip }),
        },
    )
    .await?;
    tx.commit().await?;
    super::backchannel::sessions_ended(db, own.user_id, &ended).await?;
    Ok(())
}

/// Ends every session of the signed-in user but `current`; how many ended.
pub async fn end_others(db: &Db, p: &Principal, current: &str) -> Result<u64> {
    let own = p.own_account()?;
    let mut tx = db.begin().await?;
    let ended = store::sessions::delete_of_user(&mut *tx, own.user_id, Some(current)).await?;
    let n = ended.len() as u64;
    audit::record(
        &mut tx,
        own.caller,
        Event {
            org_id: Some(own.org_id),
            action: "session.ended_elsewhere",
            object: ("user", own.user_id),
            success: true,
            detail: json!({ "sessions": n }),
        },
    )
    .await?;
    tx.commit().await?;
    super::backchannel::sessions_ended(db, own.user_id, &ended).await?;
    Ok(n)
}

/// Ends every session of a member of the principal's organization (`manage:users`): they
/// sign in again. Returns how many sessions were live.
pub async fn end_user_sessions(db: &Db, p: &Principal, user_id: &str) -> Result<u64> {
    let at = p.act(MANAGE_USERS)?;
    if user_id.len() > 100 || db.member(at.org_id, user_id).await?.is_none() {
        return Err(Error::NotFound);
    }
    let mut tx = db.begin().await?;
    let ended = store::sessions::delete_of_user(&mut *tx, user_id, None).await?;
    let n = ended.len() as u64;
    // Sessions saved before they carried their user are ended by the epoch.
    store::users::end_sessions(&mut *tx, user_id).await?;
    audit::record(
        &mut tx,
        at.caller,
        Event {
            org_id: Some(at.org_id),
            action: "user.sessions_ended",
            object: ("user", user_id),
            success: true,
            detail: json!({ "sessions": n }),
        },
    )
    .await?;
    db.commit(tx, &[Change::User(user_id.to_string())]).await?;
    super::backchannel::sessions_ended(db, user_id, &ended).await?;
    Ok(n)
}
