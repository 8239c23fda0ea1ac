//! Getting back in without an admin, and proving an address: password reset, address
//! verification and invitations, each by a link sent by e-mail. A link carries a random
//! 256-bit token the database knows only as a digest; it works once, for a short time.
//! A reset request answers the same, in the same time, whether the address has an account
//! or not, and is throttled per address and per network address.

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use super::audit::{self, Event};
use super::mail::{Mail, Mailer};
use super::principal::Principal;
use super::{Actor, Caller, Error, RequestMeta, Result, now};
use crate::crypto::{password, random_token, secrets};
use crate::domain::views::MemberView;
use crate::domain::{Email, FieldError};
use crate::store::factors::{Link, LinkPurpose};
use crate::store::{self, Db, cache::Change};

/// How long each kind of link works.
pub const RESET_TTL: i64 = 30 * 60;
pub const VERIFY_TTL: i64 = 24 * 3600;
pub const INVITE_TTL: i64 = 7 * 24 * 3600;

/// Where a link leads (the page that spends it).
pub const RESET_PAGE: &str = "/login/reset";
pub const VERIFY_PAGE: &str = "/account/verify";

/// Reset requests allowed for one typed address, and from one network address, within the
/// sign-in throttle's window before each further one must wait.
const FREE_RESETS_PER_ADDRESS: i64 = 3;
const FREE_RESETS_PER_IP: i64 = 10;

pub use crate::domain::paths::RESET_SENT;

fn anonymous(meta: &RequestMeta) -> Caller {
    Caller {
        actor: Actor::Anonymous,
        meta: meta.clone(),
    }
}

/// Makes a link for `user_id` and returns its URL.
async fn make_link(
    conn: &mut sqlx::AnyConnection,
    issuer: &str,
    purpose: LinkPurpose,
    (user_id, email): (&str, &str),
    ttl: i64,
) -> Result<String> {
    let t = now();
    let token = random_token(32);
    store::factors::end_links(&mut *conn, user_id, purpose, t).await?;
    let link = Link {
        purpose,
        user_id: user_id.to_string(),
        email: email.to_string(),
        expires_at: t + ttl,
        used_at: None,
    };
    store::factors::insert_link(&mut *conn, &secrets::digest(&token), &link, t).await?;
    let page = match purpose {
        LinkPurpose::Verify => VERIFY_PAGE,
        LinkPurpose::Reset | LinkPurpose::Invite => RESET_PAGE,
    };
    Ok(format!(
        "{}{page}?token={token}",
        issuer.trim_end_matches('/')
    ))
}

/// Asks for a password-reset link to `email`. The answer is the same whether or not an
/// account uses the address (the mail goes out on its own task); only the throttle refuses.
pub async fn request_reset(
    db: &Db,
    mailer: &Mailer,
    issuer: &str,
    meta: &RequestMeta,
    email: &str,
) -> Result<()> {
    let typed = Email::parse(email)
        .map(|e| e.to_string())
        .unwrap_or_else(|_| email.trim().to_lowercase().chars().take(254).collect());
    let ip = meta.ip.as_deref().unwrap_or("-");
    let t = now();
    let counters = [
        (format!("reset:{typed}"), FREE_RESETS_PER_ADDRESS),
        (format!("reset-ip:{ip}"), FREE_RESETS_PER_IP),
    ];
    let caller = anonymous(meta);
    let wait = super::auth::reserve(db, &counters, t).await?;
    if wait > 0 {
        let event = Event {
            org_id: None,
            action: "password.reset_requested",
            object: ("user", &typed),
            success: false,
            detail: json!({ "reason": "throttled" }),
        };
        audit::record_alone(db, &caller, event).await?;
        return Err(Error::Throttled(wait));
    }
    let user = store::users::find_by_email(&db.pool, &typed).await?;
    let memberships = match &user {
        Some(u) => db.memberships(&u.id).await?.as_ref().clone(),
        None => Vec::new(),
    };
    let mut tx = db.begin().await?;
    let url = match &user {
        Some(u) => Some(
            make_link(
                &mut tx,
                issuer,
                LinkPurpose::Reset,
                (&u.id, &u.email),
                RESET_TTL,
            )
            .await?,
        ),
        None => None,
    };
    audit::record(
        &mut tx,
        &caller,
        Event {
            org_id: memberships.first().map(|(org, _)| org.as_str()),
            action: "password.reset_requested",
            object: ("user", user.as_ref().map_or("unknown", |u| u.id.as_str())),
            success: user.is_some(),
            detail: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    if let (Some(u), Some(url)) = (user, url) {
        mailer.send(Mail {
            to: u.email,
            subject: "Choose a new Latchkey password".into(),
            body: format!(
                "Someone, probably you, asked to choose a new password for your Latchkey account.\n\n\
                 Open this link within 30 minutes to choose one (it works once):\n{url}\n\n\
                 If it was not you, ignore this message: your password stays as it is.\n"
            ),
        });
    }
    Ok(())
}

/// What a reset or invitation link is, for the page that spends it: `reset` or `invite`,
/// and the address, while it still works.
pub async fn password_link(db: &Db, token: &str) -> Result<Option<(&'static str, String)>> {
    if token.len() > 100 {
        return Ok(None);
    }
    let link = store::factors::link(&db.pool, &secrets::digest(token)).await?;
    Ok(link
        .filter(|l| l.used_at.is_none() && l.expires_at > now())
        .filter(|l| matches!(l.purpose, LinkPurpose::Reset | LinkPurpose::Invite))
        .map(|l| (l.purpose.as_str(), l.email)))
}

fn expired() -> Error {
    Error::Forbidden("This link has expired or was already used. Ask for a new one.".into())
}

/// Sets a new password with a reset or invitation link, once. The address is verified (the
/// user received the link), and every session signed in before ends. Returns the address.
pub async fn set_password(
    db: &Db,
    meta: &RequestMeta,
    token: &str,
    new_password: SecretString,
) -> Result<String> {
    if let Err(m) = password::check_policy(new_password.expose_secret()) {
        return Err(Error::Invalid(FieldError::new("password", m).into()));
    }
    if token.len() > 100 {
        return Err(expired());
    }
    let digest = secrets::digest(token);
    let link = store::factors::link(&db.pool, &digest)
        .await?
        .filter(|l| matches!(l.purpose, LinkPurpose::Reset | LinkPurpose::Invite))
        .ok_or_else(expired)?;
    let hash = password::hash(new_password)
        .await
        .map_err(|e| Error::failed("hashing the password")(e.into()))?;
    let t = now();
    let mut tx = db.begin().await?;
    if !store::factors::use_link(&mut *tx, &digest, link.purpose, t).await? {
        return Err(expired());
    }
    let user = store::users::get(&mut *tx, &link.user_id)
        .await?
        .filter(|u| u.email == link.email)
        .ok_or_else(expired)?;
    store::users::set_password(&mut *tx, &user.id, &hash).await?;
    store::users::verify_email(&mut *tx, &user.id, &user.email, t).await?;
    store::users::end_sessions(&mut *tx, &user.id).await?;
    let ended = store::sessions::delete_of_user(&mut *tx, &user.id, None).await?;
    store::factors::end_links(&mut *tx, &user.id, LinkPurpose::Reset, t).await?;
    let memberships = store::users::memberships_of(&mut *tx, &user.id).await?;
    let caller = Caller {
        actor: Actor::User {
            id: user.id.clone(),
            email: user.email.clone(),
        },
        meta: meta.clone(),
    };
    audit::record(
        &mut tx,
        &caller,
        Event {
            org_id: memberships.first().map(|(org, _)| org.as_str()),
            action: match link.purpose {
                LinkPurpose::Invite => "user.invitation_accepted",
                _ => "password.reset",
            },
            object: ("user", &user.id),
            success: true,
            detail: json!({}),
        },
    )
    .await?;
    db.commit(tx, &[Change::User(user.id.clone())]).await?;
    super::backchannel::sessions_ended(db, &user.id, &ended).await?;
    Ok(user.email)
}

/// Sends the signed-in user a link that verifies their address.
pub async fn send_verification(
    db: &Db,
    mailer: &Mailer,
    issuer: &str,
    p: &Principal,
) -> Result<()> {
    let own = p.own_account()?;
    let mut tx = db.begin().await?;
    let url = make_link(
        &mut tx,
        issuer,
        LinkPurpose::Verify,
        (own.user_id, own.email),
        VERIFY_TTL,
    )
    .await?;
    audit::record(
        &mut tx,
        own.caller,
        Event {
            org_id: Some(own.org_id),
            action: "user.verification_sent",
            object: ("user", own.user_id),
            success: true,
            detail: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    mailer.send(Mail {
        to: own.email.to_string(),
        subject: "Verify your address for Latchkey".into(),
        body: format!(
            "Open this link within 24 hours to confirm that this address is yours:\n{url}\n"
        ),
    });
    Ok(())
}

/// Verifies an address with its link, once. Returns the address.
pub async fn verify_email(db: &Db, meta: &RequestMeta, token: &str) -> Result<String> {
    if token.len() > 100 {
        return Err(expired());
    }
    let digest = secrets::digest(token);
    let t = now();
    let mut tx = db.begin().await?;
    let link = store::factors::link(&mut *tx, &digest)
        .await?
        .ok_or_else(expired)?;
    if !store::factors::use_link(&mut *tx, &digest, LinkPurpose::Verify, t).await? {
        return Err(expired());
    }
    // The address may have changed since the link was sent: then it proves nothing.
    if !store::users::verify_email(&mut *tx, &link.user_id, &link.email, t).await? {
        return Err(expired());
    }
    let memberships = store::users::memberships_of(&mut *tx, &link.user_id).await?;
    let caller = Caller {
        actor: Actor::User {
            id: link.user_id.clone(),
            email: link.email.clone(),
        },
        meta: meta.clone(),
    };
    audit::record(
        &mut tx,
        &caller,
        Event {
            org_id: memberships.first().map(|(org, _)| org.as_str()),
            action: "user.email_verified",
            object: ("user", &link.user_id),
            success: true,
            detail: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(link.email)
}

/// Invites `email` into the principal's organization with `role` (`manage:users`): a new
/// account gets a link to choose its password (7 days); an existing one is told it was
/// added. No admin types or sees the user's password.
pub async fn invite(
    db: &Db,
    mailer: &Mailer,
    issuer: &str,
    p: &Principal,
    (email, name, role): (&str, &str, &str),
) -> Result<MemberView> {
    let (member, new_account) = super::users::invite(db, p, email, name, role).await?;
    let org_id = p.org_id().ok_or(Error::Unauthenticated)?;
    let org = store::orgs::get(&db.pool, org_id)
        .await?
        .ok_or(Error::NotFound)?;
    let base = issuer.trim_end_matches('/');
    let body = if new_account {
        let mut tx = db.begin().await?;
        let url = make_link(
            &mut tx,
            issuer,
            LinkPurpose::Invite,
            (&member.user_id, &member.email),
            INVITE_TTL,
        )
        .await?;
        tx.commit().await?;
        format!(
            "You are invited to {} on Latchkey.\n\n\
             Open this link within 7 days to choose your password (it works once):\n{url}\n",
            org.name
        )
    } else {
        format!(
            "You were added to {} on Latchkey. Sign in with your account as usual:\n{base}/login\n",
            org.name
        )
    };
    mailer.send(Mail {
        to: member.email.clone(),
        subject: format!("You are invited to {} on Latchkey", org.name),
        body,
    });
    Ok(member)
}
