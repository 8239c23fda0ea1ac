use serde::{Deserialize, Serialize};

use super::FieldError;

/// Reading the audit log: admins and auditors.
pub const READ_AUDIT: &str = "read:audit";

/// Every platform permission, each a scope of the same name.
pub const PLATFORM: &[&str] = &[
    "read:org",
    "manage:org",
    "read:users",
    "manage:users",
    "read:apps",
    "manage:apps",
    "read:audit",
];

/// The scopes a token may use at the moment of use: its scopes, with `full` expanded to
/// every permission the subject holds and `read:full` to every `read:` one, kept only where
/// the subject holds them now. The subject's permissions are a user's role (looked up at
/// each call, so a lowered role takes effect at once) or, for an own-behalf app, the scopes
/// it is allowed now.
pub fn effective_scopes<'a>(token_scopes: &str, held: &[&'a str]) -> Vec<&'a str> {
    let asked: Vec<&str> = token_scopes.split_whitespace().collect();
    held.iter()
        .copied()
        .filter(|p| PLATFORM.contains(p))
        .filter(|p| {
            asked.contains(p)
                || asked.contains(&"full")
                || (asked.contains(&"read:full") && p.starts_with("read:"))
        })
        .collect()
}

/// A user's role in one organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Role {
    Admin,
    Auditor,
    Member,
}

impl Role {
    pub const ALL: [Role; 3] = [Role::Admin, Role::Auditor, Role::Member];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Auditor => "auditor",
            Role::Member => "member",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw.trim() {
            "admin" => Ok(Role::Admin),
            "auditor" => Ok(Role::Auditor),
            "member" => Ok(Role::Member),
            _ => Err(FieldError::new("role", "must be admin, auditor or member")),
        }
    }

    /// Whether this role may manage the organization in the admin portal.
    /// Whether the role holds a platform permission.
    pub fn may(self, permission: &str) -> bool {
        self.permissions().contains(&permission)
    }

    pub fn is_admin(self) -> bool {
        matches!(self, Role::Admin)
    }

    /// The platform permissions of this role: an admin holds them all, an auditor may read
    /// everything (the audit log included) and change nothing, a member reads the
    /// organization and its apps.
    pub fn permissions(self) -> &'static [&'static str] {
        match self {
            Role::Admin => PLATFORM,
            Role::Auditor => &["read:org", "read:users", "read:apps", "read:audit"],
            Role::Member => &["read:org", "read:apps"],
        }
    }
}

impl std::fmt::Display for Role {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        for role in Role::ALL {
            assert_eq!(Role::parse(role.as_str()).unwrap(), role);
        }
        assert!(Role::parse("owner").is_err());
        assert!(Role::Admin.is_admin() && !Role::Member.is_admin() && !Role::Auditor.is_admin());
    }

    /// The effective-scope rule as a table: role × token scopes → what the token may do.
    #[test]
    fn effective_scope_table() {
        let all = "read:org manage:org read:users manage:users read:apps manage:apps read:audit";
        let table: &[(Role, &str, &str)] = &[
            (Role::Admin, "full", all),
            (
                Role::Admin,
                "read:full",
                "read:org read:users read:apps read:audit",
            ),
            (
                Role::Admin,
                "manage:apps read:apps",
                "read:apps manage:apps",
            ),
            (Role::Admin, "openid email", ""),
            (
                Role::Auditor,
                "full",
                "read:org read:users read:apps read:audit",
            ),
            (Role::Auditor, "manage:apps read:audit", "read:audit"),
            (
                Role::Auditor,
                "read:full",
                "read:org read:users read:apps read:audit",
            ),
            (Role::Member, "full", "read:org read:apps"),
            (Role::Member, "read:audit manage:users", ""),
            (Role::Member, "read:apps", "read:apps"),
        ];
        for (role, token, expected) in table {
            let got = effective_scopes(token, role.permissions()).join(" ");
            assert_eq!(&got, expected, "{role} with {token}");
        }
        // An own-behalf app: what it is allowed now.
        assert_eq!(
            effective_scopes("full", &["read:apps", "openid"]),
            vec!["read:apps"]
        );
        assert_eq!(effective_scopes("read:apps", &[]), Vec::<&str>::new());
    }
}
