//! The external-app policy of an organization: which apps of *other* organizations its
//! users may authorize. An app of the user's own organization is never subject to it.

use serde::{Deserialize, Serialize};

use super::{FieldError, ScopeSet};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum AppPolicy {
    /// Users may authorize any app open to everyone (the default).
    Unrestricted,
    /// Only apps an admin approved, with the scopes the admin chose.
    Restricted,
}

impl AppPolicy {
    pub const ALL: [AppPolicy; 2] = [AppPolicy::Unrestricted, AppPolicy::Restricted];

    pub fn as_str(self) -> &'static str {
        match self {
            AppPolicy::Unrestricted => "unrestricted",
            AppPolicy::Restricted => "restricted",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw.trim() {
            "unrestricted" => Ok(AppPolicy::Unrestricted),
            "restricted" => Ok(AppPolicy::Restricted),
            _ => Err(FieldError::new(
                "app_policy",
                "must be unrestricted or restricted",
            )),
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AppPolicy::Unrestricted => "Unrestricted: users may authorize any app open to everyone",
            AppPolicy::Restricted => "Restricted: only apps an admin approved",
        }
    }
}

/// What the policy lets a user of the acting organization do with an app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PolicyDecision {
    /// Any scope the app is allowed.
    Open,
    /// Only these scopes (an approved external app under the restricted policy).
    Within(ScopeSet),
    /// Not approved: the user sees "can't authorize" and an admin may approve it.
    Blocked,
}

/// The rule: own apps and the unrestricted policy are open; under the restricted policy an
/// external app is open within its approved scopes, or blocked.
pub fn decide(policy: AppPolicy, external: bool, approved: Option<ScopeSet>) -> PolicyDecision {
    match (external, policy, approved) {
        (false, _, _) | (true, AppPolicy::Unrestricted, _) => PolicyDecision::Open,
        (true, AppPolicy::Restricted, Some(scopes)) => PolicyDecision::Within(scopes),
        (true, AppPolicy::Restricted, None) => PolicyDecision::Blocked,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_table() {
        let s = |v: &str| ScopeSet::parse([v]).unwrap();
        use AppPolicy::*;
        use PolicyDecision::*;
        for (policy, external, approved, want) in [
            (Unrestricted, false, None, Open),
            (Unrestricted, true, None, Open),
            (Unrestricted, true, Some(s("openid")), Open),
            (Restricted, false, None, Open),
            (Restricted, true, None, Blocked),
            (
                Restricted,
                true,
                Some(s("openid email")),
                Within(s("openid email")),
            ),
        ] {
            assert_eq!(
                decide(policy, external, approved.clone()),
                want,
                "{policy:?} {external} {approved:?}"
            );
        }
        assert_eq!(AppPolicy::parse(" restricted ").unwrap(), Restricted);
        assert!(AppPolicy::parse("closed").is_err());
    }
}
