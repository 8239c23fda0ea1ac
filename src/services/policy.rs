//! The external-app policy of an organization: set it, approve external apps with chosen
//! scopes, withdraw an approval (ending the grants it allowed), and decide, for a user of
//! the organization, whether an app is open to them and within which scopes.

use serde_json::json;

use super::audit::{self, Event};
use super::principal::{MANAGE_ORG, Principal, READ_ORG};
use super::{Error, Result, now};
use crate::domain::oauth::acting_org;
use crate::domain::policy::{AppPolicy, PolicyDecision, decide};
use crate::domain::views::{ApprovalCandidate, ApprovalView, PolicyView};
use crate::domain::{AppKind, Audience, FieldError, ScopeSet};
use crate::store::{self, Db, apps::App, cache::Change};

fn internal(e: impl std::fmt::Display) -> Error {
    Error::Internal(e.to_string())
}

/// Apps one user may have authorized at once.
pub const MAX_AUTHORIZED_APPS: i64 = 200;

/// Refuses a new grant when the user already authorized `MAX_AUTHORIZED_APPS` other apps
/// (grants to the same app do not count twice).
pub async fn within_authorized_apps(db: &Db, user_id: &str, client_id: &str) -> Result<bool> {
    let t = now();
    // An app the user already authorized adds nothing (and this is the common case: each
    // sign-in through an app starts a grant; counting every one of them would grow with it).
    if store::grants::holds_live(&db.pool, user_id, client_id, t).await? {
        return Ok(true);
    }
    Ok(
        store::grants::authorized_apps(&db.pool, user_id, client_id, t).await?
            < MAX_AUTHORIZED_APPS,
    )
}

/// What the user is told at that limit.
pub fn too_many_apps() -> String {
    format!(
        "the user has authorized the most apps allowed ({MAX_AUTHORIZED_APPS}); revoke one under My authorized apps first"
    )
}

/// What the app or the user is told when connected apps are turned off in an organization.
pub const APPS_OFF: &str = "connected apps are turned off in this organization";

/// Whether a user may use an app, and in which organization.
#[derive(Debug, PartialEq)]
pub enum Access {
    /// The app is not open to the user's organizations at all.
    Denied,
    /// Connected apps are turned off in the app's organization or the user's.
    Off,
    /// The user's organization restricts external apps and has not approved this one.
    Blocked { org_id: String },
    /// Open, in `org_id`, within `within` when the organization approved fewer scopes.
    Open {
        org_id: String,
        within: Option<ScopeSet>,
    },
}

/// The access `user_id` has to `app` now: its audience, then the acting organization's
/// external-app policy. The authorization flow and every user grant ask this.
pub async fn access(db: &Db, app: &App, user_id: &str) -> Result<Access> {
    let orgs: Vec<String> = db
        .memberships(user_id)
        .await?
        .iter()
        .map(|(o, _)| o.clone())
        .collect();
    if !db.apps_on(&app.org_id).await? {
        return Ok(Access::Off);
    }
    let Some(org_id) = acting_org(&app.org_id, app.audience, &orgs) else {
        return Ok(Access::Denied);
    };
    if org_id != app.org_id && !db.apps_on(&org_id).await? {
        return Ok(Access::Off);
    }
    let external = app.org_id != org_id;
    let policy = if external {
        policy_of(db, &org_id).await?
    } else {
        AppPolicy::Unrestricted
    };
    let approved = match policy {
        AppPolicy::Restricted => db.approved(&org_id, &app.client_id).await?,
        AppPolicy::Unrestricted => None,
    };
    Ok(match decide(policy, external, approved) {
        PolicyDecision::Open => Access::Open {
            org_id,
            within: None,
        },
        PolicyDecision::Within(scopes) => Access::Open {
            org_id,
            within: Some(scopes),
        },
        PolicyDecision::Blocked => Access::Blocked { org_id },
    })
}

async fn policy_of(db: &Db, org_id: &str) -> Result<AppPolicy> {
    let raw = db.policy(org_id).await?.ok_or(Error::NotFound)?;
    AppPolicy::parse(&raw).map_err(|e| internal(e.message))
}

/// The organization's policy and its approved apps.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn get(db: &Db, p: &Principal) -> Result<PolicyView> {
    let org_id = p.act(READ_ORG)?.org_id;
    let policy = policy_of(db, org_id).await?;
    let approved = store::policy::list(&db.pool, org_id)
        .await?
        .into_iter()
        .map(|r| ApprovalView {
            client_id: r.client_id,
            app_name: r.app_name,
            app_org_name: r.app_org_name,
            scopes: r.scopes.names(),
            approved_by: r.approved_by,
            approved_at: r.approved_at,
        })
        .collect();
    Ok(PolicyView {
        policy: policy.as_str().to_string(),
        approved,
    })
}

/// Sets the policy. Switching to restricted approves the external apps the organization's
/// users already authorized, with the scopes they granted, so nobody loses access silently.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn set(db: &Db, p: &Principal, raw: &str) -> Result<PolicyView> {
    let at = p.act(MANAGE_ORG)?;
    let (caller, org_id) = (at.caller, at.org_id);
    let policy = AppPolicy::parse(raw)?;
    let before = policy_of(db, org_id).await?;
    let mut tx = db.begin().await?;
    let mut allowlisted: Vec<(String, Vec<String>)> = Vec::new();
    if before == AppPolicy::Unrestricted && policy == AppPolicy::Restricted {
        for (client_id, scopes) in store::policy::authorized_external(&mut *tx, org_id).await? {
            let entry = match allowlisted.iter_mut().find(|(c, _)| *c == client_id) {
                Some(e) => e,
                None => {
                    allowlisted.push((client_id, Vec::new()));
                    allowlisted
                        .last_mut()
                        .ok_or_else(|| internal("empty list"))?
                }
            };
            entry.1.extend(scopes.names());
        }
        for (client_id, scopes) in &mut allowlisted {
            let set = ScopeSet::parse(scopes.iter().map(String::as_str))
                .map_err(|e| internal(e.message))?;
            *scopes = set.iter().map(|s| s.as_str().to_string()).collect();
            store::policy::approve(
                &mut *tx,
                org_id,
                client_id,
                &set.to_space_separated(),
                None,
                now(),
            )
            .await?;
        }
    }
    store::policy::set_policy(&mut *tx, org_id, policy.as_str()).await?;
    audit::record(
        &mut tx,
        caller,
        Event {
            org_id: Some(org_id),
            action: "org.app_policy",
            object: ("org", org_id),
            success: true,
            detail: json!({ "from": before.as_str(), "to": policy.as_str(), "approved_already_authorized": allowlisted }),
        },
    )
    .await?;
    db.commit(tx, &[Change::Policy(org_id.to_string())]).await?;
    get(db, p).await
}

/// An app the organization's admin may approve: open to everyone, of another organization,
/// acting on behalf of users.
async fn external_app(db: &Db, org_id: &str, client_id: &str) -> Result<App> {
    if client_id.is_empty() || client_id.len() > 200 {
        return Err(Error::NotFound);
    }
    let app = store::apps::find(&db.pool, client_id)
        .await?
        .ok_or(Error::NotFound)?;
    let approvable = app.org_id != org_id
        && app.audience == Audience::Everyone
        && app.kind == AppKind::OnBehalfOfUser;
    if !approvable {
        return Err(Error::NotFound);
    }
    Ok(app)
}

/// What the approval form shows: the app, its organization, every scope it may ask for,
/// and those approved now.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn candidate(db: &Db, p: &Principal, client_id: &str) -> Result<ApprovalCandidate> {
    let org_id = p.act(MANAGE_ORG)?.org_id;
    let app = external_app(db, org_id, client_id).await?;
    let owner = store::orgs::get(&db.pool, &app.org_id)
        .await?
        .ok_or(Error::NotFound)?;
    let approved = store::policy::approved(&db.pool, org_id, client_id).await?;
    Ok(ApprovalCandidate {
        client_id: app.client_id.to_string(),
        app_name: app.name,
        app_org_name: owner.name,
        website_url: app.website_url,
        scopes: super::apis::describe(db, &app.org_id, &app.scopes).await?,
        approved: approved.map(|s| s.names()),
    })
}

/// Approves an external app for the organization with the chosen scopes (a subset of what
/// the app may ask for). Approving fewer scopes than before ends the grants beyond them.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn approve(db: &Db, p: &Principal, client_id: &str, scopes: &[String]) -> Result<()> {
    let at = p.act(MANAGE_ORG)?;
    let (caller, org_id) = (at.caller, at.org_id);
    let app = external_app(db, org_id, client_id).await?;
    let allowed = &app.scopes;
    let chosen = ScopeSet::parse(scopes.iter().map(String::as_str))?;
    if chosen.is_empty() {
        return Err(FieldError::new("scopes", "choose at least one scope").into());
    }
    if let Some(s) = chosen.iter().find(|s| !allowed.contains(s.as_str())) {
        return Err(
            FieldError::new("scopes", format!("the app may not ask for {}", s.as_str())).into(),
        );
    }
    let before = store::policy::approved(&db.pool, org_id, client_id).await?;
    let narrowed = before
        .as_ref()
        .is_some_and(|b| b.iter().any(|s| !chosen.contains(s.as_str())));
    let by = match &caller.actor {
        super::Actor::User { email, .. } => Some(email.as_str()),
        _ => None,
    };
    let mut tx = db.begin().await?;
    store::policy::approve(
        &mut *tx,
        org_id,
        client_id,
        &chosen.to_space_separated(),
        by,
        now(),
    )
    .await?;
    let ended = if narrowed {
        store::policy::end_grants(&mut tx, org_id, client_id, now()).await?
    } else {
        0
    };
    audit::record(
        &mut tx,
        caller,
        Event {
            org_id: Some(org_id),
            action: "app.approved",
            object: ("app", client_id),
            success: true,
            detail: json!({ "scopes": chosen.to_space_separated(), "before": before.map(|b| b.to_space_separated()), "grants_ended": ended }),
        },
    )
    .await?;
    db.commit(tx, &[Change::Policy(org_id.to_string()), Change::Grants])
        .await?;
    Ok(())
}

/// Withdraws an approval: under the restricted policy the app is blocked again, and the
/// grants the organization's users hold for it end at once.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn remove(db: &Db, p: &Principal, client_id: &str) -> Result<u64> {
    let at = p.act(MANAGE_ORG)?;
    let (caller, org_id) = (at.caller, at.org_id);
    let mut tx = db.begin().await?;
    if !store::policy::remove(&mut *tx, org_id, client_id).await? {
        return Err(Error::NotFound);
    }
    let ended = store::policy::end_grants(&mut tx, org_id, client_id, now()).await?;
    audit::record(
        &mut tx,
        caller,
        Event {
            org_id: Some(org_id),
            action: "app.approval_removed",
            object: ("app", client_id),
            success: true,
            detail: json!({ "grants_ended": ended }),
        },
    )
    .await?;
    db.commit(tx, &[Change::Policy(org_id.to_string()), Change::Grants])
        .await?;
    Ok(ended)
}
