use sqlx::{AnyExecutor, Row};

use crate::domain::Role;
use crate::domain::ids::UserId;

#[derive(Debug, Clone)]
pub struct UserRow {
    pub id: String,
    pub email: String,
    pub name: String,
    pub password_hash: String,
    pub created_at: i64,
    /// When the user proved they receive mail at `email`.
    pub email_verified_at: Option<i64>,
    /// The epoch a new portal session carries.
    pub session_epoch: i64,
}

/// A user as seen inside one organization, with their role there.
#[derive(Debug, Clone)]
pub struct Member {
    pub user_id: UserId,
    pub email: String,
    pub name: String,
    pub role: Role,
    pub created_at: i64,
    /// When the user last signed in (anywhere), if ever since it was recorded.
    pub last_sign_in_at: Option<i64>,
    /// Portal sessions of another epoch are over.
    pub session_epoch: i64,
}

const USER_COLS: &str =
    "id, email, name, password_hash, created_at, email_verified_at, session_epoch";

fn user_from_row(r: &sqlx::any::AnyRow) -> Result<UserRow, sqlx::Error> {
    Ok(UserRow {
        id: r.try_get("id")?,
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        password_hash: r.try_get("password_hash")?,
        created_at: r.try_get("created_at")?,
        email_verified_at: r.try_get("email_verified_at")?,
        session_epoch: r.try_get("session_epoch")?,
    })
}

fn member_from_row(r: &sqlx::any::AnyRow) -> Result<Member, sqlx::Error> {
    let role: String = r.try_get("role")?;
    Ok(Member {
        user_id: UserId::new(r.try_get::<String, _>("id")?),
        email: r.try_get("email")?,
        name: r.try_get("name")?,
        role: Role::parse(&role)
            .map_err(|e| sqlx::Error::Decode(format!("memberships.role: {}", e.message).into()))?,
        created_at: r.try_get("created_at")?,
        last_sign_in_at: r.try_get("last_sign_in_at")?,
        session_epoch: r.try_get("session_epoch")?,
    })
}

pub async fn insert<'c>(e: impl AnyExecutor<'c>, u: &UserRow) -> Result<(), sqlx::Error> {
    sqlx::query("INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)")
        .bind(&u.id)
        .bind(&u.email)
        .bind(&u.name)
        .bind(&u.password_hash)
        .bind(u.created_at)
        .execute(e)
        .await?;
    Ok(())
}

pub async fn find_by_email<'c>(
    e: impl AnyExecutor<'c>,
    email: &str,
) -> Result<Option<UserRow>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE email = $1"))
        .bind(email)
        .fetch_optional(e)
        .await?;
    row.as_ref().map(user_from_row).transpose()
}

pub async fn get<'c>(e: impl AnyExecutor<'c>, id: &str) -> Result<Option<UserRow>, sqlx::Error> {
    let row = sqlx::query(&format!("SELECT {USER_COLS} FROM users WHERE id = $1"))
        .bind(id)
        .fetch_optional(e)
        .await?;
    row.as_ref().map(user_from_row).transpose()
}

pub async fn count<'c>(e: impl AnyExecutor<'c>) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM users")
        .fetch_one(e)
        .await?
        .try_get("n")
}

pub async fn delete<'c>(e: impl AnyExecutor<'c>, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM users WHERE id = $1")
        .bind(id)
        .execute(e)
        .await?;
    Ok(())
}

pub async fn insert_membership<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    user_id: &str,
    role: &str,
    now: i64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(org_id)
    .bind(user_id)
    .bind(role)
    .bind(now)
    .execute(e)
    .await?;
    Ok(())
}

/// Records a successful sign-in.
pub async fn signed_in<'c>(e: impl AnyExecutor<'c>, id: &str, at: i64) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET last_sign_in_at = $1 WHERE id = $2")
        .bind(at)
        .bind(id)
        .execute(e)
        .await?;
    Ok(())
}

/// The member `user_id` of `org_id`, if they belong to it.
pub async fn member<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    user_id: &str,
) -> Result<Option<Member>, sqlx::Error> {
    let row = sqlx::query(
        "SELECT u.id, u.email, u.name, m.role, m.created_at, u.last_sign_in_at, u.session_epoch FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.org_id = $1 AND m.user_id = $2",
    )
    .bind(org_id)
    .bind(user_id)
    .fetch_optional(e)
    .await?;
    row.as_ref().map(member_from_row).transpose()
}

pub async fn members<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
) -> Result<Vec<Member>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT u.id, u.email, u.name, m.role, m.created_at, u.last_sign_in_at, u.session_epoch FROM memberships m JOIN users u ON u.id = m.user_id \
         WHERE m.org_id = $1 ORDER BY u.email",
    )
    .bind(org_id)
    .fetch_all(e)
    .await?;
    rows.iter().map(member_from_row).collect()
}

/// The organizations a user belongs to, admin memberships first, then oldest first.
pub async fn memberships_of<'c>(
    e: impl AnyExecutor<'c>,
    user_id: &str,
) -> Result<Vec<(String, String)>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT org_id, role FROM memberships WHERE user_id = $1 \
         ORDER BY CASE role WHEN 'admin' THEN 0 ELSE 1 END, created_at, org_id",
    )
    .bind(user_id)
    .fetch_all(e)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("org_id")?, r.try_get("role")?)))
        .collect()
}

pub async fn set_role<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    user_id: &str,
    role: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("UPDATE memberships SET role = $1 WHERE org_id = $2 AND user_id = $3")
        .bind(role)
        .bind(org_id)
        .bind(user_id)
        .execute(e)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn delete_membership<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    user_id: &str,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2")
        .bind(org_id)
        .bind(user_id)
        .execute(e)
        .await?;
    Ok(done.rows_affected() == 1)
}

pub async fn count_admins<'c>(e: impl AnyExecutor<'c>, org_id: &str) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM memberships WHERE org_id = $1 AND role = 'admin'")
        .bind(org_id)
        .fetch_one(e)
        .await?
        .try_get("n")
}

/// The organization's longest-standing admin other than `except`.
pub async fn first_admin<'c>(
    e: impl AnyExecutor<'c>,
    org_id: &str,
    except: &str,
) -> Result<Option<String>, sqlx::Error> {
    sqlx::query_scalar(
        "SELECT user_id FROM memberships WHERE org_id = $1 AND role = 'admin' AND user_id <> $2 \
         ORDER BY created_at, user_id LIMIT 1",
    )
    .bind(org_id)
    .bind(except)
    .fetch_optional(e)
    .await
}

pub async fn count_memberships<'c>(
    e: impl AnyExecutor<'c>,
    user_id: &str,
) -> Result<i64, sqlx::Error> {
    sqlx::query("SELECT COUNT(*) AS n FROM memberships WHERE user_id = $1")
        .bind(user_id)
        .fetch_one(e)
        .await?
        .try_get("n")
}

/// Sets a new password hash.
pub async fn set_password<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
    password_hash: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET password_hash = $1 WHERE id = $2")
        .bind(password_hash)
        .bind(id)
        .execute(e)
        .await?;
    Ok(())
}

/// Marks the user's address verified, if it is still `email`.
pub async fn verify_email<'c>(
    e: impl AnyExecutor<'c>,
    id: &str,
    email: &str,
    at: i64,
) -> Result<bool, sqlx::Error> {
    let done = sqlx::query(
        "UPDATE users SET email_verified_at = COALESCE(email_verified_at, $1) WHERE id = $2 AND email = $3",
    )
    .bind(at)
    .bind(id)
    .bind(email)
    .execute(e)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Ends every portal session of the user (their epoch moves on).
pub async fn end_sessions<'c>(e: impl AnyExecutor<'c>, id: &str) -> Result<(), sqlx::Error> {
    sqlx::query("UPDATE users SET session_epoch = session_epoch + 1 WHERE id = $1")
        .bind(id)
        .execute(e)
        .await?;
    Ok(())
}
