//! Business groups, environments, own-behalf apps' scope assignments and users' roles in
//! groups. The organization is the root group: its id is the root's id, and an environment
//! or assignment of the root names the organization's id as its group. An environment id
//! stored as `''` means "the group as a whole".

use serde::Serialize;
use sqlx::{AnyExecutor, Row};

use crate::domain::Role;
use crate::domain::context::{EnvKind, Place, Tree};

#[derive(Debug, Clone, Serialize)]
pub struct GroupRow {
    pub id: String,
    pub org_id: String,
    pub parent_id: String,
    pub name: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct EnvRow {
    pub id: String,
    pub org_id: String,
    pub group_id: String,
    pub name: String,
    pub kind: EnvKind,
    pub created_at: i64,
}

fn group_from(r: &sqlx::any::AnyRow) -> Result<GroupRow, sqlx::Error> {
    Ok(GroupRow {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        parent_id: r.try_get("parent_id")?,
        name: r.try_get("name")?,
        created_at: r.try_get("created_at")?,
    })
}

fn env_from(r: &sqlx::any::AnyRow) -> Result<EnvRow, sqlx::Error> {
    let kind: String = r.try_get("kind")?;
    Ok(EnvRow {
        id: r.try_get("id")?,
        org_id: r.try_get("org_id")?,
        group_id: r.try_get("group_id")?,
        name: r.try_get("name")?,
        kind: EnvKind::parse(&kind)
            .map_err(|e| sqlx::Error::Decode(format!("environments.kind: {}", e.message).into()))?,
        created_at: r.try_get("created_at")?,
    })
}

fn env_of(stored: String) -> Option<String> {
    (!stored.is_empty()).then_some(stored)
}

fn stored_env(place: &Place) -> &str {
    place.env.as_deref().unwrap_or("")
}

pub async fn groups<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
) -> Result<Vec<GroupRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, org_id, parent_id, name, created_at FROM business_groups WHERE org_id = $1 ORDER BY LOWER(name), id",
    )
    .bind(org_id)
    .fetch_all(e)
    .await?;
    rows.iter().map(group_from).collect()
}

pub async fn environments<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
) -> Result<Vec<EnvRow>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT id, org_id, group_id, name, kind, created_at FROM environments WHERE org_id = $1 ORDER BY created_at, name",
    )
    .bind(org_id)
    .fetch_all(e)
    .await?;
    rows.iter().map(env_from).collect()
}

/// The organization's tree, with its groups and environments as stored.
pub async fn tree(
    e: &mut sqlx::AnyConnection,
    org_id: &str,
) -> Result<(Tree, Vec<GroupRow>, Vec<EnvRow>), sqlx::Error> {
    let groups = groups(&mut *e, org_id).await?;
    let envs = environments(&mut *e, org_id).await?;
    let tree = Tree::new(
        org_id,
        groups.iter().map(|g| (g.id.clone(), g.parent_id.clone())),
        envs.iter().map(|e| (e.id.clone(), e.group_id.clone())),
    );
    Ok((tree, groups, envs))
}

/// Serializes changes of an organization's tree: on PostgreSQL the organization's row is
/// locked until the transaction ends; SQLite's transactions already take the write lock
/// when they begin.
pub async fn lock_tree(
    e: &mut sqlx::AnyConnection,
    backend: super::Backend,
    org_id: &str,
) -> Result<(), sqlx::Error> {
    if backend == super::Backend::Postgres {
        sqlx::query("SELECT id FROM organizations WHERE id = $1 FOR UPDATE")
            .bind(org_id)
            .fetch_optional(e)
            .await?;
    }
    Ok(())
}

pub async fn insert_group<'c>(e: impl AnyExecutor<'c>, g: &GroupRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO business_groups (id, org_id, parent_id, name, created_at) VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&g.id)
    .bind(&g.org_id)
    .bind(&g.parent_id)
    .bind(&g.name)
    .bind(g.created_at)
    .execute(e)
    .await?;
    Ok(())
}

pub async fn update_group<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    id: &str,
    name: &str,
    parent_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE business_groups SET name = $1, parent_id = $2 WHERE org_id = $3 AND id = $4",
    )
    .bind(name)
    .bind(parent_id)
    .bind(org_id)
    .bind(id)
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_group<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM business_groups WHERE org_id = $1 AND id = $2")
        .bind(org_id)
        .bind(id)
        .execute(e)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn insert_env<'c>(e: impl AnyExecutor<'c>, env: &EnvRow) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO environments (id, org_id, group_id, name, kind, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&env.id)
    .bind(&env.org_id)
    .bind(&env.group_id)
    .bind(&env.name)
    .bind(env.kind.as_str())
    .bind(env.created_at)
    .execute(e)
    .await?;
    Ok(())
}

/// Deletes the environments of a group (`env`: one of them, or all).
pub async fn delete_envs<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    group_id: &str,
    env: Option<&str>,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM environments WHERE org_id = $1 AND group_id = $2 AND ($3 = '' OR id = $3)",
    )
    .bind(org_id)
    .bind(group_id)
    .bind(env.unwrap_or(""))
    .execute(e)
    .await?;
    Ok(done.rows_affected())
}

/// How many apps of the organization live in the group (`env`: in that environment).
pub async fn apps_in<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    group_id: &str,
    env: Option<&str>,
) -> Result<i64, sqlx::Error> {
    let root = org_id == group_id;
    let row = sqlx::query(
        "SELECT COUNT(*) FROM apps WHERE org_id = $1 \
         AND (group_id = $2 OR ($3 = 1 AND group_id IS NULL)) AND ($4 = '' OR env_id = $4)",
    )
    .bind(org_id)
    .bind(group_id)
    .bind(i64::from(root))
    .bind(env.unwrap_or(""))
    .fetch_one(e)
    .await?;
    row.try_get::<i64, _>(0)
}

/// Removes the assignments and roles given in a group (`env`: in that environment only; else
/// in the group and all its environments): (assignments, roles) ended.
pub async fn end_grants_in(
    e: &mut sqlx::AnyConnection,
    org_id: &str,
    group_id: &str,
    env: Option<&str>,
) -> Result<(u64, u64), sqlx::Error> {
    let whole = env.is_none();
    let assignments = sqlx::query(
        "DELETE FROM scope_assignments WHERE group_id = $1 AND ($2 = 1 OR env_id = $3) \
         AND client_id IN (SELECT client_id FROM apps WHERE org_id = $4)",
    )
    .bind(group_id)
    .bind(i64::from(whole))
    .bind(env.unwrap_or(""))
    .bind(org_id)
    .execute(&mut *e)
    .await?
    .rows_affected();
    let roles = sqlx::query(
        "DELETE FROM group_roles WHERE org_id = $1 AND group_id = $2 AND ($3 = 1 OR env_id = $4)",
    )
    .bind(org_id)
    .bind(group_id)
    .bind(i64::from(whole))
    .bind(env.unwrap_or(""))
    .execute(e)
    .await?
    .rows_affected();
    Ok((assignments, roles))
}

/// An app's scope assignments.
pub async fn assignments<'c>(
    e: impl AnyExecutor<'c>,
    client_id: &str,
) -> Result<Vec<(String, Place)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT scope, group_id, env_id FROM scope_assignments WHERE client_id = $1 ORDER BY scope, group_id, env_id",
    )
    .bind(client_id)
    .fetch_all(e)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("scope")?,
                Place {
                    group: r.try_get("group_id")?,
                    env: env_of(r.try_get("env_id")?),
                },
            ))
        })
        .collect()
}

pub async fn remove_assignment<'c>(
    e: impl AnyExecutor<'c>,
    client_id: &str,
    scope: &str,
    place: &Place,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM scope_assignments WHERE client_id = $1 AND scope = $2 AND group_id = $3 AND env_id = $4")
        .bind(client_id)
        .bind(scope)
        .bind(&place.group)
        .bind(stored_env(place))
        .execute(e)
        .await?;
    Ok(())
}

pub async fn clear_assignments<'c>(
    e: impl AnyExecutor<'c>,
    client_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM scope_assignments WHERE client_id = $1")
        .bind(client_id)
        .execute(e)
        .await?;
    Ok(())
}

pub async fn insert_assignment<'c>(
    e: impl AnyExecutor<'c>,
    client_id: &str,
    scope: &str,
    place: &Place,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO scope_assignments (client_id, scope, group_id, env_id) VALUES ($1, $2, $3, $4)",
    )
    .bind(client_id)
    .bind(scope)
    .bind(&place.group)
    .bind(stored_env(place))
    .execute(e)
    .await?;
    Ok(())
}

/// A stored role: `group_roles.role` as a `Role`, refused (never half-read) when it no
/// longer parses.
fn role_of(r: &sqlx::any::AnyRow) -> Result<Role, sqlx::Error> {
    let role: String = r.try_get("role")?;
    Role::parse(&role)
        .map_err(|e| sqlx::Error::Decode(format!("group_roles.role: {}", e.message).into()))
}

/// Where a stored role is given, and the role.
fn place_role(r: &sqlx::any::AnyRow) -> Result<(Place, Role), sqlx::Error> {
    Ok((
        Place {
            group: r.try_get("group_id")?,
            env: env_of(r.try_get("env_id")?),
        },
        role_of(r)?,
    ))
}

/// A user's roles in the groups and environments of `org_id`.
pub async fn roles_of<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    user_id: &str,
) -> Result<Vec<(Place, Role)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT group_id, env_id, role FROM group_roles WHERE org_id = $1 AND user_id = $2",
    )
    .bind(org_id)
    .bind(user_id)
    .fetch_all(e)
    .await?;
    rows.iter().map(place_role).collect()
}

/// Sets a user's role at a place (replacing the one there).
pub async fn set_role(
    e: &mut sqlx::AnyConnection,
    org_id: &str,
    user_id: &str,
    place: &Place,
    role: Role,
    at: i64,
) -> Result<(), sqlx::Error> {
    remove_role(&mut *e, org_id, user_id, place).await?;
    sqlx::query(
        "INSERT INTO group_roles (org_id, group_id, env_id, user_id, role, created_at) VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(org_id)
    .bind(&place.group)
    .bind(stored_env(place))
    .bind(user_id)
    .bind(role.as_str())
    .bind(at)
    .execute(e)
    .await?;
    Ok(())
}

pub async fn remove_role<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    user_id: &str,
    place: &Place,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "DELETE FROM group_roles WHERE org_id = $1 AND user_id = $2 AND group_id = $3 AND env_id = $4",
    )
    .bind(org_id)
    .bind(user_id)
    .bind(&place.group)
    .bind(stored_env(place))
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Removes every role of a user in `org_id` (they left it).
pub async fn remove_roles_of<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    user_id: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM group_roles WHERE org_id = $1 AND user_id = $2")
        .bind(org_id)
        .bind(user_id)
        .execute(e)
        .await?;
    Ok(())
}

/// Every role given in the organization's business groups and environments:
/// (user id, where, role).
pub async fn roles_of_org<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
) -> Result<Vec<(String, Place, Role)>, sqlx::Error> {
    let rows =
        sqlx::query("SELECT user_id, group_id, env_id, role FROM group_roles WHERE org_id = $1")
            .bind(org_id)
            .fetch_all(e)
            .await?;
    rows.iter()
        .map(|r| {
            let (place, role) = place_role(r)?;
            Ok((r.try_get("user_id")?, place, role))
        })
        .collect()
}

/// The roles given in a group and its environments, with who holds each:
/// (user id, e-mail, name, environment, role), by e-mail.
pub async fn roles_in<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    group_id: &str,
) -> Result<Vec<(String, String, String, Option<String>, Role)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT r.user_id, u.email, u.name, r.env_id, r.role FROM group_roles r JOIN users u ON u.id = r.user_id \
         WHERE r.org_id = $1 AND r.group_id = $2 ORDER BY u.email, r.env_id",
    )
    .bind(org_id)
    .bind(group_id)
    .fetch_all(e)
    .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("user_id")?,
                r.try_get("email")?,
                r.try_get("name")?,
                env_of(r.try_get("env_id")?),
                role_of(r)?,
            ))
        })
        .collect()
}
