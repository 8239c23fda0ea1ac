//! Who is acting: resolved once per request and handed to every service, which decides
//! what it may do. A service that changes or reads an organization's data asks the
//! principal for an [`InOrg`] with the permission it needs; only this module makes one, and
//! only for the organization the principal has proved it acts in (a session's membership,
//! a token's organization, the operator's `--org`). So no caller can hand a service an
//! organization id of its choosing: the unsafe call cannot be written (lldap's
//! `get_admin_handler(&ValidationResults)`, as a type).

use super::audit::{Actor, Caller, RequestMeta};
use super::tokens::{self, BearerError, Issuer};
use super::{Error, Result};
use crate::domain::Role;
use crate::domain::context::{Place, Tree};
use crate::domain::role::{PLATFORM, effective_scopes};
use crate::store::Db;
use crate::store::contexts::{EnvRow, GroupRow};

/// A platform permission (`read:apps`, `manage:users`...), each also a scope of its name.
pub type Permission = &'static str;

pub const READ_ORG: Permission = "read:org";
pub const MANAGE_ORG: Permission = "manage:org";
pub const READ_USERS: Permission = "read:users";
pub const MANAGE_USERS: Permission = "manage:users";
pub const READ_APPS: Permission = "read:apps";
pub const MANAGE_APPS: Permission = "manage:apps";
pub const READ_AUDIT: Permission = "read:audit";

/// Who acts.
#[derive(Debug, Clone, PartialEq)]
pub enum Who {
    /// Nobody identified (the login page, a failed client authentication).
    Anonymous,
    /// The command line on the server: trusted, in the organization it names (if any).
    Operator { org_id: Option<String> },
    /// A user signed in to the portal, acting in one organization with their role.
    Member {
        user_id: String,
        email: String,
        name: String,
        org_id: String,
        role: Role,
        /// How and when the session signed in.
        sign_in: SignIn,
    },
    /// A user acting through an app's access token: what both the token (within the app's
    /// scopes now) and the user's role allow.
    Delegated {
        user_id: String,
        email: String,
        org_id: String,
        client_id: String,
        /// What the token may use now before the user's role is applied (its scopes
        /// within the app's and the approval's now): the role is applied per place.
        scopes_now: String,
        /// Where the app lives, when not at the organization: the token holds nothing
        /// outside it (and nothing in the organization as a whole).
        app_home: Option<Place>,
        /// At the root (the organization as a whole).
        permissions: Vec<Permission>,
    },
    /// An own-behalf app (client credentials), in its organization, with its scopes now.
    App {
        client_id: String,
        org_id: String,
        /// The token's scopes: they hold only where the app has them assigned.
        token_scope: String,
        /// At the root (the organization as a whole).
        permissions: Vec<Permission>,
    },
}

/// How a portal session's user signed in: when, and with which methods (`amr`, RFC 8176,
/// space-separated).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SignIn {
    pub auth_time: Option<i64>,
    pub amr: String,
    /// The user's session epoch when they signed in (a password reset moves it on).
    pub epoch: i64,
}

impl SignIn {
    /// Whether the sign-in used a second factor.
    pub fn is_mfa(&self) -> bool {
        crate::domain::mfa::amr_is_multi_factor(&self.amr)
    }
}

/// How recent a sign-in must be to change how the user signs in (seconds).
pub const FRESH_SECS: i64 = 10 * 60;

/// A user acting on their own account, in a portal session.
#[derive(Debug)]
pub struct OwnAccount<'a> {
    pub user_id: &'a str,
    pub email: &'a str,
    pub org_id: &'a str,
    pub caller: &'a Caller,
    pub sign_in: &'a SignIn,
}

/// The acting party of one request, and where the request came from.
#[derive(Debug, Clone)]
pub struct Principal {
    who: Who,
    caller: Caller,
}

/// Proof that the principal may act in `org_id` with a permission: what services take
/// instead of a bare organization id. Only `Principal::act` makes one.
#[derive(Debug)]
pub struct InOrg<'a> {
    pub org_id: &'a str,
    pub caller: &'a Caller,
}

impl Principal {
    fn new(who: Who, meta: RequestMeta) -> Self {
        let actor = match &who {
            Who::Anonymous => Actor::Anonymous,
            Who::Operator { .. } => Actor::Cli,
            Who::Member { user_id, email, .. } | Who::Delegated { user_id, email, .. } => {
                Actor::User {
                    id: user_id.clone(),
                    email: email.clone(),
                }
            }
            Who::App { client_id, .. } => Actor::App {
                client_id: client_id.clone(),
            },
        };
        Self {
            who,
            caller: Caller { actor, meta },
        }
    }

    /// The command line, acting in no organization (creating and listing organizations).
    pub fn operator() -> Self {
        Self::new(Who::Operator { org_id: None }, RequestMeta::default())
    }

    /// The command line acting in `org_id` (`--org`).
    pub fn operator_in(org_id: &str) -> Self {
        Self::new(
            Who::Operator {
                org_id: Some(org_id.to_string()),
            },
            RequestMeta::default(),
        )
    }

    /// The server itself (bootstrap, scheduled jobs): trusted like the operator, recorded
    /// as the system.
    pub fn system(org_id: Option<&str>) -> Self {
        let mut p = Self::new(
            Who::Operator {
                org_id: org_id.map(str::to_string),
            },
            RequestMeta::default(),
        );
        p.caller.actor = Actor::System;
        p
    }

    /// An app registering itself with an initial access token of `org_id` (RFC 7591), or
    /// managing its registration (RFC 7592): trusted like the operator in that organization
    /// for exactly what the registration service lets it do, which checked the token first
    /// (only that service builds one); recorded as the registration.
    pub(super) fn registration(org_id: &str, token_id: &str, meta: RequestMeta) -> Self {
        let mut p = Self::new(
            Who::Operator {
                org_id: Some(org_id.to_string()),
            },
            meta,
        );
        p.caller.actor = Actor::Registration {
            token_id: token_id.to_string(),
        };
        p
    }

    pub fn anonymous(meta: RequestMeta) -> Self {
        Self::new(Who::Anonymous, meta)
    }

    pub fn who(&self) -> &Who {
        &self.who
    }

    /// Who to name in the audit log.
    pub fn caller(&self) -> &Caller {
        &self.caller
    }

    /// The organization acted in, if any.
    pub fn org_id(&self) -> Option<&str> {
        match &self.who {
            Who::Anonymous => None,
            Who::Operator { org_id } => org_id.as_deref(),
            Who::Member { org_id, .. }
            | Who::Delegated { org_id, .. }
            | Who::App { org_id, .. } => Some(org_id),
        }
    }

    /// The user acting (signed in, or through an app).
    pub fn user_id(&self) -> Option<&str> {
        match &self.who {
            Who::Member { user_id, .. } | Who::Delegated { user_id, .. } => Some(user_id),
            _ => None,
        }
    }

    /// The app a token was issued to, for a token principal.
    pub fn client_id(&self) -> Option<&str> {
        match &self.who {
            Who::Delegated { client_id, .. } | Who::App { client_id, .. } => Some(client_id),
            _ => None,
        }
    }

    /// Whether the principal holds `permission` now.
    pub fn may(&self, permission: Permission) -> bool {
        match &self.who {
            Who::Anonymous => false,
            Who::Operator { .. } => true,
            Who::Member { role, .. } => role.may(permission),
            Who::Delegated { permissions, .. } | Who::App { permissions, .. } => {
                permissions.contains(&permission)
            }
        }
    }

    /// The permissions held now, in the platform's order.
    pub fn permissions(&self) -> Vec<Permission> {
        PLATFORM.iter().copied().filter(|p| self.may(p)).collect()
    }

    /// Acts in the principal's organization with `permission`, or is refused: anonymous
    /// callers are unauthenticated, everyone else lacks the permission.
    pub fn act(&self, permission: Permission) -> Result<InOrg<'_>> {
        let Some(org_id) = self.org_id() else {
            return Err(match self.who {
                Who::Anonymous => Error::Unauthenticated,
                _ => Error::MissingPermission(permission),
            });
        };
        if !self.may(permission) {
            return Err(Error::MissingPermission(permission));
        }
        Ok(InOrg {
            org_id,
            caller: &self.caller,
        })
    }

    /// The signed-in user acting on their own account (their factors, their sessions): only
    /// in a portal session, never through an app's token.
    pub fn own_account(&self) -> Result<OwnAccount<'_>> {
        match &self.who {
            Who::Member {
                user_id,
                email,
                org_id,
                sign_in,
                ..
            } => Ok(OwnAccount {
                user_id,
                email,
                org_id,
                caller: &self.caller,
                sign_in,
            }),
            Who::Anonymous => Err(Error::Unauthenticated),
            _ => Err(Error::Forbidden(
                "only the user, signed in to Latchkey, may change how they sign in".into(),
            )),
        }
    }

    /// `own_account`, when the session signed in within `FRESH_SECS` of `now`.
    pub fn own_account_fresh(&self, now: i64) -> Result<OwnAccount<'_>> {
        let own = self.own_account()?;
        if own.sign_in.auth_time.is_none_or(|t| now - t > FRESH_SECS) {
            return Err(Error::Forbidden(SIGN_IN_AGAIN.into()));
        }
        Ok(own)
    }

    /// The operator alone (organizations are created and listed on the server itself).
    pub fn operator_only(&self) -> Result<&Caller> {
        match self.who {
            Who::Operator { .. } => Ok(&self.caller),
            _ => Err(Error::Forbidden(
                "only the server's operator may do this".into(),
            )),
        }
    }
}

/// The principal of a portal session: the user, if still a member of the organization the
/// session works in, with their role now (a removed user or a lowered role takes effect at
/// once).
/// What a change to how one signs in says when the sign-in is not recent.
pub const SIGN_IN_AGAIN: &str =
    "For your security, sign in again (within the last 10 minutes) to change how you sign in.";

/// The principal of a portal session, or None: the user left the organization, or its
/// policy wants a second factor this sign-in did not use (the user signs in again, and
/// enrols one if they have none).
pub async fn of_session(
    db: &Db,
    user_id: &str,
    org_id: &str,
    sign_in: SignIn,
    meta: RequestMeta,
) -> Result<Option<Principal>> {
    let Some(member) = db.member(org_id, user_id).await? else {
        return Ok(None);
    };
    let role = member.role;
    if member.session_epoch != sign_in.epoch {
        return Ok(None);
    }
    if !sign_in.is_mfa() && db.mfa_policy(org_id).await?.requires(role) {
        return Ok(None);
    }
    Ok(Some(Principal::new(
        Who::Member {
            user_id: user_id.to_string(),
            email: member.email.clone(),
            name: member.name.clone(),
            org_id: org_id.to_string(),
            role,
            sign_in,
        },
        meta,
    )))
}

/// The principal of a bearer token at this server's own API: the token must be active and
/// meant for this server.
pub async fn of_bearer(
    ctx: &Issuer<'_>,
    presented: &tokens::Presented<'_>,
    meta: RequestMeta,
) -> std::result::Result<Principal, BearerError> {
    let (claims, app) = tokens::active_here(ctx, presented).await?;
    of_token(ctx.db, claims, &app, meta).await
}

/// The principal of an active access token, whatever its audience (introspection and
/// decisions in a context). Its permissions are the effective-scope rule at this moment:
/// the token's scopes, within the app's allowed scopes now, and, for a user's token, within
/// the user's role now and their organization's approval of the app now; an own-behalf
/// app's, within what it is assigned in the organization as a whole.
pub async fn of_token(
    db: &Db,
    claims: tokens::VerifiedAccess,
    app: &crate::store::apps::App,
    meta: RequestMeta,
) -> std::result::Result<Principal, BearerError> {
    let internal = |_| BearerError::Internal;
    let who = if claims.gid.is_some() {
        let member = db
            .member(&claims.org_id, &claims.sub)
            .await
            .map_err(|_| BearerError::Internal)?
            .ok_or(BearerError::InvalidToken)?;
        let role = member.role;
        let token_scopes = crate::domain::ScopeSet::parse([claims.scope.as_str()])
            .map_err(|_| BearerError::InvalidToken)?;
        let now = tokens::current_scopes(db, app, &claims.org_id, &claims.sub, &token_scopes)
            .await
            .map_err(internal)?
            .ok_or(BearerError::InvalidToken)?
            .to_space_separated();
        let app_home = app.group_id.is_some().then(|| app.place());
        Who::Delegated {
            user_id: claims.sub,
            email: member.email.clone(),
            org_id: claims.org_id,
            client_id: claims.client_id,
            permissions: if app_home.is_some() {
                Vec::new()
            } else {
                effective_scopes(&now, role.permissions())
            },
            scopes_now: now,
            app_home,
        }
    } else {
        let org_id = app.org_id.to_string();
        let assigned = db
            .assignments(app.client_id.as_str())
            .await
            .map_err(|_| BearerError::Internal)?;
        let at_root: Vec<Permission> = PLATFORM
            .iter()
            .copied()
            .filter(|p| app.scopes.contains(p))
            .filter(|p| {
                assigned
                    .iter()
                    .any(|(s, place)| s == p && place.group == org_id && place.env.is_none())
            })
            .collect();
        Who::App {
            client_id: claims.client_id,
            org_id,
            permissions: effective_scopes(&claims.scope, &at_root),
            token_scope: claims.scope,
        }
    };
    Ok(Principal::new(who, meta))
}

/// Proof that the principal may act at a place (a business group or an environment) of
/// its organization with a permission. Only [`Reach::act`] makes one.
#[derive(Debug)]
pub struct AtPlace<'a> {
    pub org_id: &'a str,
    pub place: Place,
    pub caller: &'a Caller,
}

impl<'a> AtPlace<'a> {
    /// The organization part of the proof, for services that act on one thing of the
    /// organization once its place is checked.
    pub fn in_org(&self) -> InOrg<'a> {
        InOrg {
            org_id: self.org_id,
            caller: self.caller,
        }
    }
}

/// What a principal holds at each place of its organization, loaded once for a call: the
/// organization's tree and the principal's roles there (a user's) or assignments (an
/// own-behalf app's). The rule is `domain::context`'s.
#[derive(Debug)]
pub struct Reach {
    pub tree: Tree,
    pub groups: Vec<GroupRow>,
    pub envs: Vec<EnvRow>,
    holder: Holder,
}

#[derive(Debug)]
enum Holder {
    /// The operator: everything.
    All,
    /// A user: the membership's role at the root, roles in groups and environments; through
    /// an app, within the token's scopes now.
    User {
        root: Role,
        roles: Vec<(Place, Role)>,
        token: Option<String>,
        /// Through an app that lives in a business group: only there and below.
        within: Option<Place>,
    },
    /// An own-behalf app: the token's scopes, where assigned.
    App {
        token: String,
        assigned: Vec<(String, Place)>,
    },
}

impl Principal {
    /// What this principal holds across its organization's places.
    pub async fn reach(&self, db: &Db) -> Result<Reach> {
        let Some(org_id) = self.org_id() else {
            return Err(match self.who {
                Who::Anonymous => Error::Unauthenticated,
                _ => Error::MissingPermission(READ_ORG),
            });
        };
        let holder = match &self.who {
            Who::Anonymous => return Err(Error::Unauthenticated),
            Who::Operator { .. } => Holder::All,
            Who::Member { user_id, role, .. } => Holder::User {
                root: *role,
                roles: db.roles(org_id, user_id).await?.as_ref().clone(),
                token: None,
                within: None,
            },
            Who::Delegated {
                user_id,
                scopes_now,
                app_home,
                ..
            } => {
                let root = db
                    .member(org_id, user_id)
                    .await?
                    .ok_or(Error::Unauthenticated)?
                    .role;
                Holder::User {
                    root,
                    roles: db.roles(org_id, user_id).await?.as_ref().clone(),
                    token: Some(scopes_now.clone()),
                    within: app_home.clone(),
                }
            }
            Who::App {
                client_id,
                token_scope,
                ..
            } => Holder::App {
                token: token_scope.clone(),
                assigned: db.assignments(client_id).await?.as_ref().clone(),
            },
        };
        let (tree, groups, envs) = db.tree(org_id).await?.as_ref().clone();
        Ok(Reach {
            tree,
            groups,
            envs,
            holder,
        })
    }
}

impl Reach {
    /// The platform permissions held at `place` (none at a place of another organization).
    pub fn permissions_at(&self, place: &Place) -> Vec<Permission> {
        if !self.tree.has(place) {
            return Vec::new();
        }
        match &self.holder {
            Holder::All => PLATFORM.to_vec(),
            Holder::User {
                root,
                roles,
                token,
                within,
            } => {
                if within
                    .as_ref()
                    .is_some_and(|home| !self.tree.holds(home, place))
                {
                    return Vec::new();
                }
                let role = self.tree.role_at(*root, roles, place);
                match token {
                    None => role.permissions().to_vec(),
                    Some(t) => effective_scopes(t, role.permissions()),
                }
            }
            Holder::App { token, assigned } => {
                let here = self.tree.assigned_at(assigned, place);
                let held: Vec<Permission> = PLATFORM
                    .iter()
                    .copied()
                    .filter(|p| here.contains(p))
                    .collect();
                effective_scopes(token, &held)
            }
        }
    }

    /// Every scope usable at `place`: the platform permissions held there, and the custom
    /// APIs' scopes the token carries (a user's anywhere in the organization, an app's
    /// where assigned).
    pub fn scopes_at(&self, place: &Place) -> Vec<String> {
        let mut scopes: Vec<String> = self
            .permissions_at(place)
            .into_iter()
            .map(str::to_string)
            .collect();
        if !self.tree.has(place) {
            return scopes;
        }
        let custom = |token: &str| -> Vec<String> {
            token
                .split_whitespace()
                .filter(|s| !PLATFORM.contains(s) && s.contains(':') && *s != "read:full")
                .map(str::to_string)
                .collect()
        };
        match &self.holder {
            Holder::All => {}
            Holder::User { token, .. } => {
                scopes.extend(token.as_deref().map(custom).unwrap_or_default())
            }
            Holder::App { token, assigned } => {
                let here = self.tree.assigned_at(assigned, place);
                scopes.extend(
                    custom(token)
                        .into_iter()
                        .filter(|s| here.contains(&s.as_str())),
                );
            }
        }
        scopes
    }

    pub fn may_at(&self, permission: Permission, place: &Place) -> bool {
        self.permissions_at(place).contains(&permission)
    }

    /// Whether the principal may give `scope` at `granted`: a platform permission only if
    /// it holds it itself everywhere the grant would hold (nobody hands out more than they
    /// have); a custom API's scope is the admins' of its apps to give. Refused with the
    /// missing permission.
    pub fn grant(&self, scope: &str, granted: &Place) -> Result<()> {
        let Some(permission) = PLATFORM.iter().copied().find(|p| *p == scope) else {
            return Ok(());
        };
        let everywhere = self
            .tree
            .places()
            .iter()
            .filter(|at| self.tree.holds(granted, at))
            .all(|at| self.may_at(permission, at));
        if everywhere {
            Ok(())
        } else {
            Err(Error::MissingPermission(permission))
        }
    }

    /// Acts at `place` with `permission`, or is refused: a place that is not of the
    /// principal's organization is not found (nothing is told of it), one where the
    /// permission does not hold is a missing permission.
    pub fn act<'a>(
        &self,
        p: &'a Principal,
        permission: Permission,
        place: Place,
    ) -> Result<AtPlace<'a>> {
        let Some(org_id) = p.org_id() else {
            return Err(Error::Unauthenticated);
        };
        if !self.tree.has(&place) {
            return Err(Error::NotFound);
        }
        if !self.may_at(permission, &place) {
            return Err(Error::MissingPermission(permission));
        }
        Ok(AtPlace {
            org_id,
            place,
            caller: &p.caller,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn member(role: Role) -> Principal {
        Principal::new(
            Who::Member {
                user_id: "u".into(),
                email: "u@example.com".into(),
                name: "U".into(),
                org_id: "org-a".into(),
                role,
                sign_in: SignIn::default(),
            },
            RequestMeta::default(),
        )
    }

    #[test]
    fn acting_needs_the_permission_and_stays_in_the_proven_organization() {
        let admin = member(Role::Admin);
        assert_eq!(admin.act(MANAGE_USERS).unwrap().org_id, "org-a");
        let m = member(Role::Member);
        assert!(matches!(
            m.act(MANAGE_USERS),
            Err(Error::MissingPermission(MANAGE_USERS))
        ));
        assert_eq!(m.act(READ_APPS).unwrap().org_id, "org-a");
        let anon = Principal::anonymous(RequestMeta::default());
        assert!(matches!(anon.act(READ_ORG), Err(Error::Unauthenticated)));
        assert!(matches!(
            Principal::operator().act(READ_ORG),
            Err(Error::MissingPermission(_))
        ));
        assert_eq!(
            Principal::operator_in("org-b")
                .act(MANAGE_ORG)
                .unwrap()
                .org_id,
            "org-b"
        );
        assert!(m.operator_only().is_err());
        assert!(Principal::operator().operator_only().is_ok());
    }

    #[test]
    fn a_token_holds_only_its_permissions() {
        let app = Principal::new(
            Who::App {
                client_id: "c".into(),
                org_id: "org-a".into(),
                token_scope: "read:apps".into(),
                permissions: vec![READ_APPS],
            },
            RequestMeta::default(),
        );
        assert!(app.act(READ_APPS).is_ok());
        assert!(app.act(MANAGE_APPS).is_err());
        assert_eq!(app.permissions(), vec![READ_APPS]);
        assert_eq!(app.client_id(), Some("c"));
    }
}
