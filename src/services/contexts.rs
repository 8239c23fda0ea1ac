//! Business groups, environments, own-behalf apps' scope assignments and users' roles in
//! groups: the contexts a permission holds in (`domain::context` has the rule). Each use
//! case asks the principal's [`Reach`] for the permission at the place it touches, so an
//! admin of a business group manages it and what lies below it, never its parent, its
//! siblings or another organization (whose places are not found).

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::audit::{self, Event};
use super::principal::{
    MANAGE_APPS, MANAGE_ORG, MANAGE_USERS, Permission, Principal, READ_APPS, READ_ORG, Reach,
};
use super::{Error, Result, conflict_on, new_id, now};
use crate::domain::context::{EnvKind, FIRST_ENVIRONMENTS, Place};
use crate::domain::{AppKind, FieldError, Role, parse_name};
use crate::store::contexts::{EnvRow, GroupRow};
use crate::store::{self, Db, cache::Change};

/// At most this many business groups in an organization, and environments in a group.
pub const MAX_GROUPS: usize = 500;
pub const MAX_ENVIRONMENTS: usize = 20;
/// Scope assignments of one app.
pub const MAX_ASSIGNMENTS: usize = 200;

/// An environment, as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct EnvView {
    pub id: String,
    pub name: String,
    #[serde(rename = "type")]
    pub kind: EnvKind,
}

/// A business group (the organization itself is the root, with no parent).
#[derive(Debug, Clone, Serialize)]
pub struct GroupView {
    pub id: String,
    pub name: String,
    pub parent_id: Option<String>,
    pub depth: usize,
    pub environments: Vec<EnvView>,
}

/// One scope assigned to an own-behalf app at a place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Assignment {
    pub scope: String,
    pub business_group: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
}

/// Where a principal may act, and with what: `/api/v1/me`'s contexts.
#[derive(Debug, Clone, Serialize)]
pub struct ContextView {
    pub business_group: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub environment: Option<String>,
    pub scopes: Vec<String>,
}

fn env_view(e: &EnvRow) -> EnvView {
    EnvView {
        id: e.id.clone(),
        name: e.name.clone(),
        kind: e.kind,
    }
}

/// A change for each app of the organization: what their cached assignments must forget
/// when assignments end with a group, an environment or a move.
async fn every_app(tx: &mut store::Tx, org_id: &str) -> Result<Vec<Change>> {
    Ok(store::apps::all(&mut **tx, org_id)
        .await?
        .into_iter()
        .map(|a| Change::App(a.client_id.to_string()))
        .collect())
}

/// The view of group `id` (the root when it is the organization's id).
fn group_view(reach: &Reach, org_name: &str, id: &str) -> GroupView {
    let row = reach.groups.iter().find(|g| g.id == id);
    GroupView {
        id: id.to_string(),
        name: row.map_or_else(|| org_name.to_string(), |g| g.name.clone()),
        parent_id: row.map(|g| g.parent_id.clone()),
        depth: reach.tree.depth(id),
        environments: reach
            .envs
            .iter()
            .filter(|e| e.group_id == id)
            .map(env_view)
            .collect(),
    }
}

async fn org_name(db: &Db, org_id: &str) -> Result<String> {
    Ok(store::orgs::get(&db.pool, org_id)
        .await?
        .ok_or(Error::NotFound)?
        .name)
}

/// The place an API path names: a group of the organization, or an environment of it.
fn place(group: &str, env: Option<&str>) -> Place {
    Place {
        group: group.to_string(),
        env: env.map(str::to_string),
    }
}

/// Creates the first environments of a group (or of a new organization's root).
pub(crate) async fn first_environments(
    tx: &mut store::Tx,
    org_id: &str,
    group_id: &str,
) -> Result<()> {
    for (name, kind) in FIRST_ENVIRONMENTS {
        store::contexts::insert_env(
            &mut **tx,
            &EnvRow {
                id: new_id(),
                org_id: org_id.to_string(),
                group_id: group_id.to_string(),
                name: name.to_string(),
                kind,
                created_at: now(),
            },
        )
        .await?;
    }
    Ok(())
}

/// The business groups the principal may read, the organization first.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn list(db: &Db, p: &Principal) -> Result<Vec<GroupView>> {
    let reach = p.reach(db).await?;
    let org_id = p.org_id().ok_or(Error::Unauthenticated)?;
    let name = org_name(db, org_id).await?;
    let mut ids: Vec<&str> = reach
        .tree
        .groups()
        .filter(|g| reach.may_at(READ_ORG, &Place::group(g)))
        .collect();
    if ids.is_empty() {
        return Err(Error::MissingPermission(READ_ORG));
    }
    ids.sort_by_key(|g| (reach.tree.depth(g), *g != org_id));
    Ok(ids
        .into_iter()
        .map(|g| group_view(&reach, &name, g))
        .collect())
}

#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn get(db: &Db, p: &Principal, group: &str) -> Result<GroupView> {
    let reach = p.reach(db).await?;
    let at = reach.act(p, READ_ORG, Place::group(group))?;
    let name = org_name(db, at.org_id).await?;
    Ok(group_view(&reach, &name, group))
}

/// What a new group, or a change of one, says: a name and a parent (the organization when
/// left out).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GroupInput {
    pub name: Option<String>,
    pub parent_id: Option<String>,
}

/// Creates a business group below `parent` (the organization by default), with its first
/// environments; needs `manage:org` at the parent.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn create(db: &Db, p: &Principal, input: &GroupInput) -> Result<GroupView> {
    let reach = p.reach(db).await?;
    let root = reach.tree.root().to_string();
    let parent = input.parent_id.clone().unwrap_or(root);
    let at = reach.act(p, MANAGE_ORG, Place::group(&parent))?;
    let name = parse_name("name", input.name.as_deref().unwrap_or(""))?;
    if reach.groups.len() >= MAX_GROUPS {
        return Err(Error::Conflict(FieldError::new(
            "business_group",
            format!("an organization has at most {MAX_GROUPS} business groups"),
        )));
    }
    let row = GroupRow {
        id: new_id(),
        org_id: at.org_id.to_string(),
        parent_id: parent.clone(),
        name,
        created_at: now(),
    };
    let mut tx = db.begin().await?;
    // Checked again on the tree as it stands inside the transaction (a move or a delete may
    // have come in between).
    store::contexts::lock_tree(&mut tx, db.backend, at.org_id).await?;
    store::contexts::tree(&mut tx, at.org_id)
        .await?
        .0
        .check_new(&parent)?;
    store::contexts::insert_group(&mut *tx, &row)
        .await
        .map_err(conflict_on(
            "name",
            "is already used by another business group of this organization",
        ))?;
    first_environments(&mut tx, at.org_id, &row.id).await?;
    audit::record(
        &mut tx,
        at.caller,
        Event {
            org_id: Some(at.org_id),
            action: "group.create",
            object: ("business_group", &row.id),
            success: true,
            detail: json!({ "name": row.name, "parent_id": parent, "business_group": row.id }),
        },
    )
    .await?;
    db.commit(tx, &[Change::Tree(at.org_id.to_string())])
        .await?;
    let reach = p.reach(db).await?;
    let org = org_name(db, at.org_id).await?;
    Ok(group_view(&reach, &org, &row.id))
}

/// Renames a group or moves it below another (never below itself or a group below it):
/// renaming needs `manage:org` in the group, moving it also at its old and its new parent.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn update(db: &Db, p: &Principal, group: &str, input: &GroupInput) -> Result<GroupView> {
    let reach = p.reach(db).await?;
    let at = reach.act(p, MANAGE_ORG, Place::group(group))?;
    let Some(row) = reach.groups.iter().find(|g| g.id == group) else {
        return Err(Error::Forbidden(
            "the organization is renamed as the organization (PATCH /org), and never moves".into(),
        ));
    };
    let name = match &input.name {
        Some(n) => parse_name("name", n)?,
        None => row.name.clone(),
    };
    let parent = input
        .parent_id
        .clone()
        .unwrap_or_else(|| row.parent_id.clone());
    let moved = parent != row.parent_id;
    if moved {
        reach.tree.check_move(group, &parent)?;
        reach.act(p, MANAGE_ORG, Place::group(&row.parent_id))?;
        reach.act(p, MANAGE_ORG, Place::group(&parent))?;
    }
    let mut tx = db.begin().await?;
    if moved {
        // Checked again on the tree as it stands inside the transaction.
        store::contexts::lock_tree(&mut tx, db.backend, at.org_id).await?;
        store::contexts::tree(&mut tx, at.org_id)
            .await?
            .0
            .check_move(group, &parent)?;
    }
    store::contexts::update_group(&mut *tx, at.org_id, group, &name, &parent)
        .await
        .map_err(conflict_on(
            "name",
            "is already used by another business group of this organization",
        ))?;
    // An assignment stays at or below where its app lives: those a move took out of their
    // app's reach end.
    let mut ended = 0;
    if moved {
        let (after, _, _) = store::contexts::tree(&mut tx, at.org_id).await?;
        for app in store::apps::all(&mut *tx, at.org_id).await? {
            let home = app.place();
            let id = app.client_id.as_str();
            for (scope, place) in store::contexts::assignments(&mut *tx, id).await? {
                if !after.is_within(&place.group, &home.group) {
                    store::contexts::remove_assignment(&mut *tx, id, &scope, &place).await?;
                    ended += 1;
                }
            }
        }
    }
    audit::record(&mut tx, at.caller, Event {
        org_id: Some(at.org_id),
        action: "group.update",
        object: ("business_group", group),
        success: true,
        detail: json!({ "name": name, "from_name": row.name, "parent_id": parent, "from_parent_id": row.parent_id,
                        "assignments_ended": ended, "business_group": group }),
    })
    .await?;
    let mut changes = if moved {
        every_app(&mut tx, at.org_id).await?
    } else {
        Vec::new()
    };
    changes.push(Change::Tree(at.org_id.to_string()));
    db.commit(tx, &changes).await?;
    let reach = p.reach(db).await?;
    let org = org_name(db, at.org_id).await?;
    Ok(group_view(&reach, &org, group))
}

/// Deletes an empty group (no group and no app below it), with its environments; the
/// scope assignments and roles given in it end, audited. Needs `manage:org` at its parent.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn delete(db: &Db, p: &Principal, group: &str) -> Result<()> {
    let reach = p.reach(db).await?;
    reach.act(p, READ_ORG, Place::group(group))?;
    let Some(row) = reach.groups.iter().find(|g| g.id == group) else {
        return Err(Error::Forbidden(
            "the organization itself cannot be deleted here".into(),
        ));
    };
    let at = reach.act(p, MANAGE_ORG, Place::group(&row.parent_id))?;
    let mut tx = db.begin().await?;
    store::contexts::lock_tree(&mut tx, db.backend, at.org_id).await?;
    if store::contexts::tree(&mut tx, at.org_id)
        .await?
        .0
        .children(group)
        .next()
        .is_some()
    {
        return Err(Error::Conflict(FieldError::new(
            "business_group",
            "has business groups below it: move or delete them first",
        )));
    }
    if store::contexts::apps_in(&mut *tx, at.org_id, group, None).await? > 0 {
        return Err(Error::Conflict(FieldError::new(
            "business_group",
            "has connected apps: delete them first",
        )));
    }
    let (assignments, roles) =
        store::contexts::end_grants_in(&mut tx, at.org_id, group, None).await?;
    let envs = store::contexts::delete_envs(&mut *tx, at.org_id, group, None).await?;
    store::contexts::delete_group(&mut *tx, at.org_id, group).await?;
    audit::record(&mut tx, at.caller, Event {
        org_id: Some(at.org_id),
        action: "group.delete",
        object: ("business_group", group),
        success: true,
        detail: json!({ "name": row.name, "environments": envs, "assignments_ended": assignments,
                        "roles_ended": roles, "business_group": group }),
    })
    .await?;
    let mut changes = every_app(&mut tx, at.org_id).await?;
    changes.push(Change::Tree(at.org_id.to_string()));
    db.commit(tx, &changes).await?;
    Ok(())
}

/// A new environment: a name and a type.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EnvInput {
    pub name: String,
    #[serde(rename = "type")]
    pub kind: String,
}

#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn create_env(db: &Db, p: &Principal, group: &str, input: &EnvInput) -> Result<EnvView> {
    let reach = p.reach(db).await?;
    let at = reach.act(p, MANAGE_ORG, Place::group(group))?;
    let name = parse_name("name", &input.name)?;
    let kind = EnvKind::parse(&input.kind)?;
    if reach.envs.iter().filter(|e| e.group_id == group).count() >= MAX_ENVIRONMENTS {
        return Err(Error::Conflict(FieldError::new(
            "environment",
            format!("a business group has at most {MAX_ENVIRONMENTS} environments"),
        )));
    }
    let row = EnvRow {
        id: new_id(),
        org_id: at.org_id.to_string(),
        group_id: group.to_string(),
        name,
        kind,
        created_at: now(),
    };
    let mut tx = db.begin().await?;
    store::contexts::insert_env(&mut *tx, &row)
        .await
        .map_err(conflict_on(
            "name",
            "is already used by another environment of this business group",
        ))?;
    audit::record(&mut tx, at.caller, Event {
        org_id: Some(at.org_id),
        action: "environment.create",
        object: ("environment", &row.id),
        success: true,
        detail: json!({ "name": row.name, "type": kind.as_str(), "business_group": group, "environment": row.id }),
    })
    .await?;
    db.commit(tx, &[Change::Tree(at.org_id.to_string())])
        .await?;
    Ok(env_view(&row))
}

/// Deletes an environment no app lives in; the assignments and roles given in it end.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn delete_env(db: &Db, p: &Principal, group: &str, env: &str) -> Result<()> {
    let reach = p.reach(db).await?;
    let at = reach.act(p, MANAGE_ORG, place(group, Some(env)))?;
    reach.act(p, MANAGE_ORG, Place::group(group))?;
    let name = reach
        .envs
        .iter()
        .find(|e| e.id == env)
        .map(|e| e.name.clone())
        .unwrap_or_default();
    let mut tx = db.begin().await?;
    if store::contexts::apps_in(&mut *tx, at.org_id, group, Some(env)).await? > 0 {
        return Err(Error::Conflict(FieldError::new(
            "environment",
            "has connected apps: delete them first",
        )));
    }
    let (assignments, roles) =
        store::contexts::end_grants_in(&mut tx, at.org_id, group, Some(env)).await?;
    store::contexts::delete_envs(&mut *tx, at.org_id, group, Some(env)).await?;
    audit::record(
        &mut tx,
        at.caller,
        Event {
            org_id: Some(at.org_id),
            action: "environment.delete",
            object: ("environment", env),
            success: true,
            detail: json!({ "name": name, "assignments_ended": assignments, "roles_ended": roles,
                        "business_group": group, "environment": env }),
        },
    )
    .await?;
    let mut changes = every_app(&mut tx, at.org_id).await?;
    changes.push(Change::Tree(at.org_id.to_string()));
    db.commit(tx, &changes).await?;
    Ok(())
}

fn assignment_view(scope: &str, place: &Place) -> Assignment {
    Assignment {
        scope: scope.to_string(),
        business_group: place.group.clone(),
        environment: place.env.clone(),
    }
}

/// An own-behalf app of the principal's organization and the reach to act on it.
async fn own_app(db: &Db, p: &Principal, client_id: &str) -> Result<(Reach, store::apps::App)> {
    let org_id = p.org_id().ok_or(Error::Unauthenticated)?;
    let app = store::apps::get(&db.pool, org_id, client_id)
        .await?
        .ok_or(Error::NotFound)?;
    Ok((p.reach(db).await?, app))
}

/// An app's scope assignments; needs `read:apps` where the app lives.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn assignments(db: &Db, p: &Principal, client_id: &str) -> Result<Vec<Assignment>> {
    let (reach, app) = own_app(db, p, client_id).await?;
    reach.act(p, READ_APPS, app.place())?;
    Ok(store::contexts::assignments(&db.pool, client_id)
        .await?
        .iter()
        .map(|(s, place)| assignment_view(s, place))
        .collect())
}

/// Replaces an own-behalf app's scope assignments (Anypoint's Add Scopes: the scopes, then
/// the business groups, then the environments). Each scope must be one the app is allowed;
/// each place a group of the organization at or below where the app lives (in the app's
/// environment, when it lives in one), or one of that group's environments. The principal
/// needs `manage:apps` where the app lives and at every place assigned.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn set_assignments(
    db: &Db,
    p: &Principal,
    client_id: &str,
    wanted: &[Assignment],
) -> Result<Vec<Assignment>> {
    let (reach, app) = own_app(db, p, client_id).await?;
    let at = reach.act(p, MANAGE_APPS, app.place())?;
    if app.kind != AppKind::OwnBehalf {
        return Err(FieldError::new(
            "assignments",
            "are for apps acting on their own behalf; an app acting for users holds what each user may do where they act",
        )
        .into());
    }
    if wanted.len() > MAX_ASSIGNMENTS {
        return Err(
            FieldError::new("assignments", format!("at most {MAX_ASSIGNMENTS} per app")).into(),
        );
    }
    let home = app.place();
    let mut places = Vec::new();
    for (i, a) in wanted.iter().enumerate() {
        let field = |m: &str| FieldError::new(&format!("assignments[{i}]"), m.to_string());
        if !app.scopes.contains(&a.scope) {
            return Err(field(&format!("{} is not one of the app's scopes", a.scope)).into());
        }
        let here = place(&a.business_group, a.environment.as_deref());
        if !reach.tree.has(&here) {
            return Err(field("names no business group or environment of this organization (or an environment of another group)").into());
        }
        if !reach.tree.is_within(&here.group, &home.group) {
            return Err(field("is outside the business group the app lives in").into());
        }
        if home.env.is_some() && here.env != home.env {
            return Err(field("is outside the environment the app lives in").into());
        }
        reach.act(p, MANAGE_APPS, here.clone())?;
        reach.grant(&a.scope, &here)?;
        if !places.contains(&(a.scope.clone(), here.clone())) {
            places.push((a.scope.clone(), here));
        }
    }
    let mut tx = db.begin().await?;
    store::contexts::clear_assignments(&mut *tx, client_id).await?;
    for (scope, place) in &places {
        store::contexts::insert_assignment(&mut *tx, client_id, scope, place).await?;
    }
    let list: Vec<Assignment> = places
        .iter()
        .map(|(s, pl)| assignment_view(s, pl))
        .collect();
    audit::record(
        &mut tx,
        at.caller,
        Event {
            org_id: Some(at.org_id),
            action: "app.assignments",
            object: ("app", client_id),
            success: true,
            detail: json!({ "assignments": list }),
        },
    )
    .await?;
    db.commit(tx, &[Change::App(client_id.to_string())]).await?;
    Ok(list)
}

/// The assignments an own-behalf app starts with, or gains when scopes are added to it:
/// each new scope where the app lives.
pub(crate) async fn assign_new_scopes(
    tx: &mut store::Tx,
    app: &store::apps::App,
    before: Option<&crate::domain::ScopeSet>,
) -> Result<usize> {
    if app.kind != AppKind::OwnBehalf {
        return Ok(0);
    }
    let home = app.place();
    let id = app.client_id.as_str();
    let had = store::contexts::assignments(&mut **tx, id).await?;
    let total = had.len();
    let kept: Vec<(String, Place)> = had
        .into_iter()
        .filter(|(s, _)| app.scopes.contains(s))
        .collect();
    store::contexts::clear_assignments(&mut **tx, id).await?;
    for (scope, place) in &kept {
        store::contexts::insert_assignment(&mut **tx, id, scope, place).await?;
    }
    for scope in app.scopes.iter().map(|s| s.as_str()) {
        if before.is_none_or(|b| !b.contains(scope))
            && !kept.iter().any(|(s, pl)| s == scope && *pl == home)
        {
            store::contexts::insert_assignment(&mut **tx, id, scope, &home).await?;
        }
    }
    Ok(total - kept.len())
}

/// A user's role in a group or environment.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleInput {
    pub role: String,
    pub environment: Option<String>,
}

/// The role in the organization as a whole is the membership's (`PATCH /users/{id}`, with
/// its last-admin guard), never a group role.
fn refuse_membership_role(reach: &Reach, place: &Place) -> Result<()> {
    if place.group == reach.tree.root() && place.env.is_none() {
        return Err(Error::Forbidden(
            "the role in the organization as a whole is the membership's: change it with PATCH /users/{user_id}".into(),
        ));
    }
    Ok(())
}

/// Gives a member of the organization a role in a group (or one of its environments),
/// overriding what they inherit there; needs `manage:users` at that place.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn set_role(
    db: &Db,
    p: &Principal,
    group: &str,
    user_id: &str,
    input: &RoleInput,
) -> Result<()> {
    let reach = p.reach(db).await?;
    let at = reach.act(p, MANAGE_USERS, place(group, input.environment.as_deref()))?;
    refuse_membership_role(&reach, &at.place)?;
    let role = Role::parse(&input.role)?;
    if store::users::member(&db.pool, at.org_id, user_id)
        .await?
        .is_none()
    {
        return Err(Error::NotFound);
    }
    let mut tx = db.begin().await?;
    store::contexts::set_role(&mut tx, at.org_id, user_id, &at.place, role, now()).await?;
    audit::record(&mut tx, at.caller, Event {
        org_id: Some(at.org_id),
        action: "group.role",
        object: ("user", user_id),
        success: true,
        detail: json!({ "role": role.as_str(), "business_group": group, "environment": at.place.env }),
    })
    .await?;
    db.commit(tx, &[Change::Tree(at.org_id.to_string())])
        .await?;
    Ok(())
}

/// Takes back a user's role in a group or environment: they hold what they inherit again.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn remove_role(
    db: &Db,
    p: &Principal,
    group: &str,
    user_id: &str,
    env: Option<&str>,
) -> Result<()> {
    let reach = p.reach(db).await?;
    let at = reach.act(p, MANAGE_USERS, place(group, env))?;
    refuse_membership_role(&reach, &at.place)?;
    let mut tx = db.begin().await?;
    if !store::contexts::remove_role(&mut *tx, at.org_id, user_id, &at.place).await? {
        return Err(Error::NotFound);
    }
    audit::record(
        &mut tx,
        at.caller,
        Event {
            org_id: Some(at.org_id),
            action: "group.role_removed",
            object: ("user", user_id),
            success: true,
            detail: json!({ "business_group": group, "environment": at.place.env }),
        },
    )
    .await?;
    db.commit(tx, &[Change::Tree(at.org_id.to_string())])
        .await?;
    Ok(())
}

/// Every place the principal may do something in, with what.
pub async fn contexts(db: &Db, p: &Principal) -> Result<Vec<ContextView>> {
    let reach = p.reach(db).await?;
    let mut places = reach.tree.places();
    places.sort_by_key(|pl| {
        (
            reach.tree.depth(&pl.group),
            pl.group.clone(),
            pl.env.clone(),
        )
    });
    Ok(places
        .into_iter()
        .filter_map(|pl| {
            let scopes = reach.scopes_at(&pl);
            (!scopes.is_empty()).then_some(ContextView {
                business_group: pl.group,
                environment: pl.env,
                scopes,
            })
        })
        .collect())
}

// ---- The portal's business-group pages and an app's "Scopes in context" tab ----

use crate::domain::groups::{
    AddScopes, AppContexts, AssignGroup, EnvEntry, GroupDetail, GroupEntry, MemberChoice,
    PlaceName, PlacedScope, RoleHolder, assignments_of_steps,
};

/// The tree's groups depth first (each group followed by the groups below it, by name), so
/// an indented list reads as the tree.
fn preorder(reach: &Reach) -> Vec<String> {
    let name = |id: &str| {
        reach
            .groups
            .iter()
            .find(|g| g.id == id)
            .map(|g| g.name.to_lowercase())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    let mut stack = vec![reach.tree.root().to_string()];
    while let Some(id) = stack.pop() {
        let mut children: Vec<String> = reach.tree.children(&id).map(str::to_string).collect();
        children.sort_by_key(|c| std::cmp::Reverse((name(c), c.clone())));
        stack.extend(children);
        out.push(id);
    }
    out
}

/// Each place's apps: (group, environment or "" for the group itself) → count.
async fn app_counts(
    db: &Db,
    org_id: &str,
) -> Result<std::collections::HashMap<(String, String), usize>> {
    let mut counts = std::collections::HashMap::new();
    for app in store::apps::all(&db.pool, org_id).await? {
        let home = app.place();
        *counts
            .entry((home.group.clone(), String::new()))
            .or_insert(0) += 1;
        if let Some(env) = home.env {
            *counts.entry((home.group, env)).or_insert(0) += 1;
        }
    }
    Ok(counts)
}

fn entry(
    reach: &Reach,
    org_name: &str,
    id: &str,
    counts: &std::collections::HashMap<(String, String), usize>,
    may_move: bool,
) -> GroupEntry {
    let g = group_view(reach, org_name, id);
    let count = |e: &str| {
        counts
            .get(&(id.to_string(), e.to_string()))
            .copied()
            .unwrap_or(0)
    };
    GroupEntry {
        apps: count(""),
        children: reach.tree.children(id).count(),
        environments: g
            .environments
            .into_iter()
            .map(|e| EnvEntry {
                apps: count(&e.id),
                id: e.id,
                name: e.name,
                kind: e.kind,
            })
            .collect(),
        id: g.id,
        name: g.name,
        parent_id: g.parent_id,
        depth: g.depth,
        may_move,
    }
}

/// May the principal move or delete `id` (it needs `manage:org` at the parent)?
fn may_move(reach: &Reach, id: &str) -> bool {
    reach
        .groups
        .iter()
        .find(|g| g.id == id)
        .is_some_and(|g| reach.may_at(MANAGE_ORG, &Place::group(&g.parent_id)))
}

/// The business groups the principal administers (holds `manage:org` in), depth first
/// from the organization: an organization admin sees the whole tree, a group's admin their
/// group and what lies below it. Nobody else administers any (an empty list).
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn administered(db: &Db, p: &Principal) -> Result<Vec<GroupEntry>> {
    groups_where(db, p, MANAGE_ORG).await
}

/// The business groups where the principal holds `permission`, depth first from the
/// organization.
pub async fn groups_where(
    db: &Db,
    p: &Principal,
    permission: Permission,
) -> Result<Vec<GroupEntry>> {
    let reach = p.reach(db).await?;
    let org_id = p.org_id().ok_or(Error::Unauthenticated)?;
    let name = org_name(db, org_id).await?;
    let counts = app_counts(db, org_id).await?;
    Ok(preorder(&reach)
        .into_iter()
        .filter(|g| reach.may_at(permission, &Place::group(g)))
        .map(|g| entry(&reach, &name, &g, &counts, may_move(&reach, &g)))
        .collect())
}

/// Whether the principal administers any business group (the portal shows it the way).
pub async fn administers_any(db: &Db, p: &Principal) -> Result<bool> {
    let reach = p.reach(db).await?;
    Ok(reach
        .tree
        .groups()
        .any(|g| reach.may_at(MANAGE_ORG, &Place::group(g))))
}

/// One group the principal administers: where it may move, and the roles given in it
/// (with the organization's members to pick from, when the principal may give roles).
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn detail(db: &Db, p: &Principal, group: &str) -> Result<GroupDetail> {
    let reach = p.reach(db).await?;
    let at = reach.act(p, MANAGE_ORG, Place::group(group))?;
    let org = org_name(db, at.org_id).await?;
    let counts = app_counts(db, at.org_id).await?;
    let this = entry(&reach, &org, group, &counts, may_move(&reach, group));
    let parent_name = this
        .parent_id
        .as_deref()
        .map(|pid| group_view(&reach, &org, pid).name);
    let parents = if this.may_move {
        preorder(&reach)
            .into_iter()
            .filter(|g| !reach.tree.is_within(g, group))
            .filter(|g| reach.may_at(MANAGE_ORG, &Place::group(g)))
            .map(|g| entry(&reach, &org, &g, &counts, false))
            .collect()
    } else {
        Vec::new()
    };
    let may_manage_users = reach.may_at(MANAGE_USERS, &Place::group(group));
    let roles = if reach.may_at(super::principal::READ_USERS, &Place::group(group)) {
        store::contexts::roles_in(&db.pool, at.org_id, group)
            .await?
            .into_iter()
            .map(|(user_id, email, name, env, role)| RoleHolder {
                user_id,
                email,
                name,
                environment_name: env.as_ref().and_then(|e| {
                    this.environments
                        .iter()
                        .find(|x| &x.id == e)
                        .map(|x| x.name.clone())
                }),
                environment: env,
                role: role.as_str().to_string(),
            })
            .collect()
    } else {
        Vec::new()
    };
    let members = if may_manage_users {
        store::users::members(&db.pool, at.org_id)
            .await?
            .into_iter()
            .map(|m| MemberChoice {
                user_id: m.user_id.to_string(),
                email: m.email,
                name: m.name,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(GroupDetail {
        group: this,
        parent_name,
        parents,
        roles,
        may_manage_users,
        members,
    })
}

/// Gives the member with this e-mail a role in a group or environment (the portal picks
/// people by e-mail): [`set_role`], after the permission at that place is checked.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn set_role_by_email(
    db: &Db,
    p: &Principal,
    group: &str,
    email: &str,
    input: &RoleInput,
) -> Result<()> {
    let reach = p.reach(db).await?;
    let at = reach.act(p, MANAGE_USERS, place(group, input.environment.as_deref()))?;
    let wanted = email.trim();
    let Some(member) = store::users::members(&db.pool, at.org_id)
        .await?
        .into_iter()
        .find(|m| !wanted.is_empty() && m.email.eq_ignore_ascii_case(wanted))
    else {
        return Err(FieldError::new("user", "is not a member of this organization").into());
    };
    set_role(db, p, group, member.user_id.as_str(), input).await
}

fn place_name(reach: &Reach, org_name: &str, place: &Place) -> PlaceName {
    PlaceName {
        group_id: place.group.clone(),
        group_name: group_view(reach, org_name, &place.group).name,
        env_id: place.env.clone(),
        env_name: place.env.as_ref().map(|e| {
            reach
                .envs
                .iter()
                .find(|x| &x.id == e)
                .map_or_else(|| e.clone(), |x| x.name.clone())
        }),
    }
}

/// An app's "Scopes in context" tab: where it lives, its scopes, its assignments by name,
/// and where the principal may assign (within where the app lives, where it holds
/// `manage:apps`). Needs `read:apps` where the app lives.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn app_contexts(db: &Db, p: &Principal, client_id: &str) -> Result<AppContexts> {
    let (reach, app) = own_app(db, p, client_id).await?;
    let at = reach.act(p, READ_APPS, app.place())?;
    let org = org_name(db, at.org_id).await?;
    let home = app.place();
    let assignments = store::contexts::assignments(&db.pool, client_id)
        .await?
        .iter()
        .map(|(scope, pl)| PlacedScope {
            scope: scope.clone(),
            place: place_name(&reach, &org, pl),
        })
        .collect();
    let counts = std::collections::HashMap::new();
    let groups = preorder(&reach)
        .into_iter()
        .filter(|g| reach.tree.is_within(g, &home.group))
        .filter(|g| home.env.is_none() || *g == home.group)
        .filter_map(|g| {
            let e = entry(&reach, &org, &g, &counts, false);
            let whole = home.env.is_none() && reach.may_at(MANAGE_APPS, &Place::group(&g));
            let environments: Vec<EnvEntry> = e
                .environments
                .into_iter()
                .filter(|x| home.env.as_ref().is_none_or(|h| *h == x.id))
                .filter(|x| reach.may_at(MANAGE_APPS, &Place::env(&g, &x.id)))
                .collect();
            (whole || !environments.is_empty()).then_some(AssignGroup {
                id: e.id,
                name: e.name,
                depth: e.depth,
                whole,
                environments,
            })
        })
        .collect();
    Ok(AppContexts {
        own_behalf: app.kind == AppKind::OwnBehalf,
        home: place_name(&reach, &org, &home),
        scopes: app.scopes.iter().map(|s| s.as_str().to_string()).collect(),
        assignments,
        groups,
    })
}

/// Says a refusal of one assignment in words: which scope, where.
fn named_refusal(reach: &Reach, org: &str, list: &[Assignment], e: Error) -> Error {
    let describe = |a: &Assignment| {
        let n = place_name(
            reach,
            org,
            &place(&a.business_group, a.environment.as_deref()),
        );
        match n.env_name {
            Some(env) => format!("{} in {} · {}", a.scope, n.group_name, env),
            None => format!("{} in {} (whole group)", a.scope, n.group_name),
        }
    };
    match e {
        Error::Invalid(errors) => {
            let mut named = crate::domain::FieldErrors::default();
            for fe in errors.0 {
                let item = fe
                    .field
                    .strip_prefix("assignments[")
                    .and_then(|r| r.strip_suffix(']'))
                    .and_then(|i| i.parse::<usize>().ok())
                    .and_then(|i| list.get(i));
                match item {
                    Some(a) => named.push("groups", format!("{}: {}", describe(a), fe.message)),
                    None => named.0.push(fe),
                }
            }
            Error::Invalid(named)
        }
        Error::MissingPermission(perm) => Error::Forbidden(format!(
            "you need {perm} everywhere the assignment would hold (nobody gives more than they hold)"
        )),
        other => other,
    }
}

/// Adds what the Add Scopes dialog chose (the scopes, then the business groups, then the
/// environments) to an own-behalf app's assignments, through [`set_assignments`]: each
/// must be within where the app lives, and the principal needs `manage:apps` there.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn add_assignments(
    db: &Db,
    p: &Principal,
    client_id: &str,
    steps: &AddScopes,
) -> Result<Vec<Assignment>> {
    let (reach, app) = own_app(db, p, client_id).await?;
    let at = reach.act(p, MANAGE_APPS, app.place())?;
    let org = org_name(db, at.org_id).await?;
    let chosen = assignments_of_steps(steps).map_err(Error::Invalid)?;
    let mut list = assignments(db, p, client_id).await?;
    for (scope, group, env) in chosen {
        let a = Assignment {
            scope,
            business_group: group,
            environment: env,
        };
        if !list.contains(&a) {
            list.push(a);
        }
    }
    set_assignments(db, p, client_id, &list)
        .await
        .map_err(|e| named_refusal(&reach, &org, &list, e))
}

/// Ends one of an app's assignments (the others stay).
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn remove_assignment(
    db: &Db,
    p: &Principal,
    client_id: &str,
    gone: &Assignment,
) -> Result<Vec<Assignment>> {
    let (reach, app) = own_app(db, p, client_id).await?;
    let at = reach.act(p, MANAGE_APPS, app.place())?;
    let org = org_name(db, at.org_id).await?;
    let before = assignments(db, p, client_id).await?;
    let list: Vec<Assignment> = before.iter().filter(|a| *a != gone).cloned().collect();
    if list.len() == before.len() {
        return Err(Error::NotFound);
    }
    set_assignments(db, p, client_id, &list)
        .await
        .map_err(|e| named_refusal(&reach, &org, &list, e))
}
