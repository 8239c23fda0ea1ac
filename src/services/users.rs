use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::audit::{self, Event};
use super::principal::{MANAGE_USERS, Principal, READ_USERS};
use super::{Error, Result, conflict_on, new_id, now};
use crate::crypto::password;
use crate::domain::views::MemberView;
use crate::domain::{Email, FieldError, FieldErrors, Role, parse_name};
use crate::store::{self, Db, cache::Change, users::Member, users::UserRow};

pub(crate) fn view(r: Member) -> MemberView {
    MemberView {
        user_id: r.user_id.into_inner(),
        email: r.email,
        name: r.name,
        role: r.role.as_str().to_string(),
        created_at: r.created_at,
        last_sign_in_at: r.last_sign_in_at,
        group_roles: Vec::new(),
    }
}

/// Creates a user with a role in `org_id`.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn create(
    db: &Db,
    p: &Principal,
    email: &str,
    name: &str,
    role: &str,
    pw: SecretString,
) -> Result<MemberView> {
    add(db, p, email, name, role, Some(pw))
        .await
        .map(|(view, _)| view)
}

/// Adds `email` to the principal's organization with `role` and no password: a new
/// account can only be entered through the invitation link the caller sends next. Returns
/// the member, and whether the account is new (an existing account keeps its password).
pub async fn invite(
    db: &Db,
    p: &Principal,
    email: &str,
    name: &str,
    role: &str,
) -> Result<(MemberView, bool)> {
    add(db, p, email, name, role, None).await
}

/// A password hash no password matches (an invited user's, until they set one).
pub const NO_PASSWORD: &str = "";

async fn add(
    db: &Db,
    p: &Principal,
    email: &str,
    name: &str,
    role: &str,
    pw: Option<SecretString>,
) -> Result<(MemberView, bool)> {
    let at = p.act(MANAGE_USERS)?;
    let (caller, org_id) = (at.caller, at.org_id);
    let mut errors = FieldErrors::default();
    let email = errors.check(Email::parse(email));
    let name = errors.check(parse_name("name", name));
    let role = errors.check(Role::parse(role));
    if let Some(pw) = &pw
        && let Err(m) = password::check_policy(pw.expose_secret())
    {
        errors.push("password", m);
    }
    let (Some(email), Some(name), Some(role)) = (email, name, role) else {
        return Err(errors.into());
    };
    if !errors.is_empty() {
        return Err(errors.into());
    }
    store::orgs::get(&db.pool, org_id)
        .await?
        .ok_or(Error::NotFound)?;
    let invited = pw.is_none();
    let hash = match pw {
        Some(pw) => password::hash(pw)
            .await
            .map_err(|e| Error::failed("hashing the password")(e.into()))?,
        None => NO_PASSWORD.to_string(),
    };
    let t = now();
    let user = UserRow {
        id: new_id(),
        email: email.to_string(),
        name,
        password_hash: hash,
        created_at: t,
        email_verified_at: None,
        session_epoch: 0,
    };
    let mut tx = db.begin().await?;
    let mut new_account = true;
    // An address with an account elsewhere joins this organization with that account (its
    // own password stays; the one typed here is dropped), answered exactly like a new
    // user, so no admin learns which addresses other organizations hold.
    let user = match store::users::find_by_email(&mut *tx, &user.email).await? {
        Some(existing) => {
            if store::users::member(&mut *tx, org_id, &existing.id)
                .await?
                .is_some()
            {
                return Err(Error::Conflict(FieldError::new(
                    "email",
                    "is already a member of this organization",
                )));
            }
            new_account = false;
            UserRow {
                name: user.name,
                ..existing
            }
        }
        None => {
            store::users::insert(&mut *tx, &user)
                .await
                .map_err(conflict_on(
                    "email",
                    "is already a member of this organization",
                ))?;
            user
        }
    };
    store::users::insert_membership(&mut *tx, org_id, &user.id, role.as_str(), t)
        .await
        .map_err(conflict_on(
            "email",
            "is already a member of this organization",
        ))?;
    audit::record(
        &mut tx,
        caller,
        Event {
            org_id: Some(org_id),
            action: "user.create",
            object: ("user", &user.id),
            success: true,
            detail: json!({ "email": user.email, "role": role.as_str(), "invited": invited }),
        },
    )
    .await?;
    db.commit(tx, &[Change::User(user.id.clone())]).await?;
    let view = MemberView {
        user_id: user.id,
        email: user.email,
        name: user.name,
        role: role.as_str().into(),
        created_at: t,
        last_sign_in_at: None,
        group_roles: Vec::new(),
    };
    Ok((view, new_account))
}

#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn list(db: &Db, p: &Principal) -> Result<Vec<MemberView>> {
    let org_id = p.act(READ_USERS)?.org_id;
    let mut roles = group_roles(db, org_id).await?;
    Ok(store::users::members(&db.pool, org_id)
        .await?
        .into_iter()
        .map(|m| {
            let mut v = view(m);
            v.group_roles = roles.remove(&v.user_id).unwrap_or_default();
            v
        })
        .collect())
}

/// Each member's roles in the organization's business groups and environments, in words.
async fn group_roles(
    db: &Db,
    org_id: &str,
) -> Result<std::collections::HashMap<String, Vec<String>>> {
    let tree = db.tree(org_id).await?;
    let (_, groups, envs) = tree.as_ref();
    let group_name = |id: &str| {
        groups
            .iter()
            .find(|g| g.id == id)
            .map_or_else(|| id.to_string(), |g| g.name.clone())
    };
    let mut out: std::collections::HashMap<String, Vec<String>> = Default::default();
    for (user_id, place, role) in store::contexts::roles_of_org(&db.pool, org_id).await? {
        let at = match &place.env {
            Some(env) => {
                let env_name = envs
                    .iter()
                    .find(|e| &e.id == env)
                    .map_or(env.as_str(), |e| e.name.as_str());
                format!("{} · {env_name}", group_name(&place.group))
            }
            None => group_name(&place.group),
        };
        out.entry(user_id)
            .or_default()
            .push(format!("{at}: {}", role.as_str()));
    }
    for labels in out.values_mut() {
        labels.sort();
    }
    Ok(out)
}

/// One page of the organization's members, searched and sorted (the portal's list).
pub async fn page(
    db: &Db,
    p: &Principal,
    q: &crate::domain::listing::ListQuery,
) -> Result<crate::domain::listing::Listed<MemberView>> {
    Ok(crate::domain::listing::apply(list(db, p).await?, q))
}

/// Changes a member's role; the last admin of an organization keeps the role.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn change_role(db: &Db, p: &Principal, user_id: &str, role: &str) -> Result<MemberView> {
    let at = p.act(MANAGE_USERS)?;
    let (caller, org_id) = (at.caller, at.org_id);
    let role = Role::parse(role)?;
    let mut tx = db.begin().await?;
    let member = store::users::member(&mut *tx, org_id, user_id)
        .await?
        .ok_or(Error::NotFound)?;
    if member.role == Role::Admin
        && !role.is_admin()
        && store::users::count_admins(&mut *tx, org_id).await? <= 1
    {
        return Err(FieldError::new(
            "role",
            "cannot be lowered: this is the organization's last admin",
        )
        .into());
    }
    store::users::set_role(&mut *tx, org_id, user_id, role.as_str()).await?;
    audit::record(
        &mut tx,
        caller,
        Event {
            org_id: Some(org_id),
            action: "user.role_change",
            object: ("user", user_id),
            success: true,
            detail: json!({ "from": member.role.as_str(), "to": role.as_str() }),
        },
    )
    .await?;
    db.commit(tx, &[Change::User(user_id.to_string())]).await?;
    Ok(MemberView {
        role: role.as_str().into(),
        ..view(member)
    })
}

/// Removes a member from `org_id`; a user left in no organization is deleted.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn remove(db: &Db, p: &Principal, user_id: &str) -> Result<()> {
    let at = p.act(MANAGE_USERS)?;
    let (caller, org_id) = (at.caller, at.org_id);
    if let super::Actor::User { id, .. } = &caller.actor
        && id == user_id
    {
        return Err(Error::Forbidden("you cannot remove yourself".into()));
    }
    let mut tx = db.begin().await?;
    let member = store::users::member(&mut *tx, org_id, user_id)
        .await?
        .ok_or(Error::NotFound)?;
    if member.role == Role::Admin && store::users::count_admins(&mut *tx, org_id).await? <= 1 {
        return Err(Error::Forbidden(
            "the organization's last admin cannot be removed".into(),
        ));
    }
    let grants_ended =
        store::grants::revoke_of_member(&mut *tx, org_id, user_id, super::now()).await?;
    store::users::delete_membership(&mut *tx, org_id, user_id).await?;
    store::contexts::remove_roles_of(&mut *tx, org_id, user_id).await?;
    // Their apps pass to an organization admin: the one removing them, or the longest-standing.
    let heir = match &caller.actor {
        super::Actor::User { id, .. }
            if store::users::member(&mut *tx, org_id, id)
                .await?
                .is_some_and(|m| m.role == Role::Admin) =>
        {
            Some(id.clone())
        }
        _ => store::users::first_admin(&mut *tx, org_id, user_id).await?,
    };
    let apps_passed = match &heir {
        Some(heir) => store::apps::move_ownership(&mut *tx, org_id, user_id, heir).await?,
        None => Vec::new(),
    };
    let deleted = store::users::count_memberships(&mut *tx, user_id).await? == 0;
    if deleted {
        store::users::delete(&mut *tx, user_id).await?;
    }
    audit::record(
        &mut tx,
        caller,
        Event {
            org_id: Some(org_id),
            action: "user.remove",
            object: ("user", user_id),
            success: true,
            detail: json!({ "email": member.email, "account_deleted": deleted, "grants_ended": grants_ended,
                            "apps_passed_to": heir, "apps_passed": apps_passed }),
        },
    )
    .await?;
    let mut changes = vec![Change::User(user_id.to_string()), Change::Grants];
    changes.extend(apps_passed.into_iter().map(Change::App));
    db.commit(tx, &changes).await?;
    Ok(())
}
