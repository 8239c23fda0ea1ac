use super::FieldError;

/// A scope of the catalogue, with the plain words shown on consent and admin pages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(&'static str);

/// Every scope an app may be allowed, in display order, with its description.
pub const CATALOGUE: &[(&str, &str)] = &[
    ("openid", "Sign you in (OpenID Connect)"),
    ("profile", "Read your name"),
    ("email", "Read your e-mail address"),
    (
        "offline_access",
        "Keep access while you are away (refresh tokens)",
    ),
    ("read:org", "Read the organization's settings"),
    ("manage:org", "Change the organization's settings"),
    ("read:users", "Read the organization's users"),
    ("manage:users", "Create, change and remove users"),
    ("read:apps", "Read the connected apps"),
    ("manage:apps", "Create, change and delete connected apps"),
    ("read:audit", "Read the audit log"),
    ("full", "Everything the signed-in user or app may do"),
    (
        "read:full",
        "Read everything the signed-in user or app may read",
    ),
];

/// Scopes that only make sense when a user signs in (not for own-behalf apps).
pub const USER_ONLY: &[&str] = &["openid", "profile", "email", "offline_access"];

impl Scope {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        CATALOGUE
            .iter()
            .find(|(name, _)| *name == raw)
            .map(|(name, _)| Scope(name))
            .ok_or_else(|| {
                let shown: String = raw.chars().take(40).collect();
                FieldError::new("scopes", format!("contains an unknown scope: {shown}"))
            })
    }

    pub fn as_str(self) -> &'static str {
        self.0
    }

    pub fn description(self) -> &'static str {
        CATALOGUE
            .iter()
            .find(|(n, _)| *n == self.0)
            .map(|(_, d)| *d)
            .unwrap_or("")
    }

    pub fn is_user_only(self) -> bool {
        USER_ONLY.contains(&self.0)
    }
}

/// A set of distinct catalogue scopes, kept in catalogue order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    /// Parses scopes given as space-separated words or as separate items.
    pub fn parse<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Self, FieldError> {
        let mut set = Vec::new();
        for word in items.into_iter().flat_map(str::split_whitespace) {
            let scope = Scope::parse(word)?;
            if !set.contains(&scope) {
                set.push(scope);
            }
        }
        set.sort_by_key(|s| CATALOGUE.iter().position(|(n, _)| *n == s.as_str()));
        Ok(Self(set))
    }

    pub fn iter(&self) -> impl Iterator<Item = Scope> + '_ {
        self.0.iter().copied()
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s.as_str() == scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes of `self` that are also in `other`.
    pub fn intersect(&self, other: &ScopeSet) -> ScopeSet {
        ScopeSet(
            self.0
                .iter()
                .copied()
                .filter(|s| other.contains(s.as_str()))
                .collect(),
        )
    }

    /// The space-separated form used in storage and in OAuth messages.
    pub fn to_space_separated(&self) -> String {
        self.0
            .iter()
            .map(|s| s.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn parses_dedupes_and_orders() {
        let set = ScopeSet::parse(["email openid", "openid", "read:apps"]).unwrap();
        assert_eq!(set.to_space_separated(), "openid email read:apps");
        assert!(set.contains("email") && !set.contains("profile"));
        assert!(ScopeSet::parse(["openid", "admin"]).is_err());
        assert!(ScopeSet::parse(["OPENID"]).is_err());
        assert!(ScopeSet::parse(Vec::<&str>::new()).unwrap().is_empty());
    }

    #[test]
    fn catalogue_has_every_platform_scope() {
        for s in [
            "read:org",
            "manage:org",
            "read:users",
            "manage:users",
            "read:apps",
            "manage:apps",
            "read:audit",
            "full",
            "read:full",
        ] {
            assert!(Scope::parse(s).is_ok(), "{s}");
            assert!(!Scope::parse(s).unwrap().is_user_only());
            assert!(!Scope::parse(s).unwrap().description().is_empty());
        }
    }
}
