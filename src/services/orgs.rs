use serde_json::json;

use super::audit::{self, Event};
use super::principal::{MANAGE_ORG, Principal, READ_ORG};
use super::{Error, Result, new_id, now};
use crate::domain::audit::{RETENTION_DEFAULT_DAYS, parse_retention};
use crate::domain::parse_name;
use crate::domain::views::OrgView;
use crate::store::{self, Db, cache::Change, orgs::OrgRow};

fn view(r: OrgRow) -> OrgView {
    OrgView {
        id: r.id,
        name: r.name,
        created_at: r.created_at,
        audit_retention_days: r.audit_retention_days,
        connected_apps_enabled: r.apps_enabled,
        mfa_policy: r.mfa_policy.as_str().to_string(),
    }
}

#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn create(db: &Db, p: &Principal, name: &str) -> Result<OrgView> {
    let caller = p.operator_only()?;
    let name = parse_name("name", name)?;
    let row = OrgRow {
        id: new_id(),
        name,
        created_at: now(),
        audit_retention_days: RETENTION_DEFAULT_DAYS,
        apps_enabled: true,
        mfa_policy: Default::default(),
    };
    let mut tx = db.begin().await?;
    store::orgs::insert(&mut *tx, &row).await?;
    super::contexts::first_environments(&mut tx, &row.id, &row.id).await?;
    audit::record(
        &mut tx,
        caller,
        Event {
            org_id: Some(&row.id),
            action: "org.create",
            object: ("org", &row.id),
            success: true,
            detail: json!({ "name": row.name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(view(row))
}

#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn list(db: &Db, p: &Principal) -> Result<Vec<OrgView>> {
    p.operator_only()?;
    Ok(store::orgs::list(&db.pool)
        .await?
        .into_iter()
        .map(view)
        .collect())
}

#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn get(db: &Db, p: &Principal) -> Result<OrgView> {
    let org_id = p.act(READ_ORG)?.org_id;
    store::orgs::get(&db.pool, org_id)
        .await?
        .map(view)
        .ok_or(Error::NotFound)
}

#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn rename(db: &Db, p: &Principal, name: &str) -> Result<OrgView> {
    let at = p.act(MANAGE_ORG)?;
    let (caller, org_id) = (at.caller, at.org_id);
    let name = parse_name("name", name)?;
    let mut tx = db.begin().await?;
    let before = store::orgs::get(&mut *tx, org_id)
        .await?
        .ok_or(Error::NotFound)?;
    store::orgs::rename(&mut *tx, org_id, &name).await?;
    audit::record(
        &mut tx,
        caller,
        Event {
            org_id: Some(org_id),
            action: "org.rename",
            object: ("org", org_id),
            success: true,
            detail: json!({ "from": before.name, "to": name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(OrgView {
        name,
        ..view(before)
    })
}

/// Sets how many days the organization's audit records are kept; older ones go at the
/// next purge (hourly, and `latchkey audit purge`).
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn set_retention(db: &Db, p: &Principal, days: &str) -> Result<OrgView> {
    let at = p.act(MANAGE_ORG)?;
    let (caller, org_id) = (at.caller, at.org_id);
    let days = parse_retention(days)?;
    let mut tx = db.begin().await?;
    let before = store::orgs::get(&mut *tx, org_id)
        .await?
        .ok_or(Error::NotFound)?;
    store::orgs::set_retention(&mut *tx, org_id, days).await?;
    audit::record(
        &mut tx,
        caller,
        Event {
            org_id: Some(org_id),
            action: "org.audit_retention",
            object: ("org", org_id),
            success: true,
            detail: json!({ "from": before.audit_retention_days, "to": days }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(OrgView {
        audit_retention_days: days,
        ..view(before)
    })
}

/// Turns connected apps on or off for the whole organization. Off, no app gets a token in
/// it (its own apps, and other organizations' apps acting for its users) and every token
/// already issued there is inactive at once, on every instance; nothing is deleted, so
/// turning them on again restores every live grant.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn set_apps_enabled(db: &Db, p: &Principal, enabled: bool) -> Result<OrgView> {
    let at = p.act(MANAGE_ORG)?;
    let (caller, org_id) = (at.caller, at.org_id);
    let mut tx = db.begin().await?;
    let before = store::orgs::get(&mut *tx, org_id)
        .await?
        .ok_or(Error::NotFound)?;
    if before.apps_enabled != enabled {
        store::orgs::set_apps_enabled(&mut *tx, org_id, enabled).await?;
        audit::record(
            &mut tx,
            caller,
            Event {
                org_id: Some(org_id),
                action: if enabled {
                    "org.apps_enable"
                } else {
                    "org.apps_disable"
                },
                object: ("org", org_id),
                success: true,
                detail: json!({}),
            },
        )
        .await?;
    }
    db.commit(tx, &[Change::Policy(org_id.to_string())]).await?;
    Ok(OrgView {
        connected_apps_enabled: enabled,
        ..view(before)
    })
}
