use std::borrow::Cow;

use super::FieldError;

/// A scope: one of the platform's catalogue, with the plain words shown on consent and
/// admin pages, or a scope an organization's own API defines (`orders:read`), whose
/// existence the services check against the organization's APIs.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scope(Cow<'static, str>);

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

/// Whether the consent page marks a scope as sensitive: it outlives the session, changes
/// the organization, or reads what most members may not.
pub fn is_sensitive(scope: &str) -> bool {
    matches!(
        scope,
        "offline_access" | "full" | "read:full" | "read:audit" | "read:users"
    ) || scope.starts_with("manage:")
}

/// Scopes that only make sense when a user signs in (not for own-behalf apps).
pub const USER_ONLY: &[&str] = &["openid", "profile", "email", "offline_access"];

/// Longest custom scope name.
pub const MAX_CUSTOM_LEN: usize = 64;

/// Whether `raw` has the shape of an API's scope: `resource:action`, lowercase letters,
/// digits and `_ . -`, at most 64 characters (the catalogue's names excluded).
pub fn is_custom_syntax(raw: &str) -> bool {
    let Some((resource, action)) = raw.split_once(':') else {
        return false;
    };
    let word = |w: &str| {
        !w.is_empty()
            && w.bytes().all(|b| {
                b.is_ascii_lowercase()
                    || b.is_ascii_digit()
                    || matches!(b, b'_' | b'.' | b'-' | b':')
            })
    };
    raw.len() <= MAX_CUSTOM_LEN
        && resource
            .bytes()
            .next()
            .is_some_and(|b| b.is_ascii_lowercase())
        && !resource.contains(':')
        && word(resource)
        && word(action)
        && !CATALOGUE.iter().any(|(n, _)| *n == raw)
        && !matches!(resource, "read" | "manage")
}

impl Scope {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        if let Some((name, _)) = CATALOGUE.iter().find(|(name, _)| *name == raw) {
            return Ok(Scope(Cow::Borrowed(name)));
        }
        if is_custom_syntax(raw) {
            return Ok(Scope(Cow::Owned(raw.to_string())));
        }
        let shown: String = raw.chars().take(40).collect();
        Err(FieldError::new(
            "scopes",
            format!("contains an unknown scope: {shown}"),
        ))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Defined by an organization's API rather than the platform.
    pub fn is_custom(&self) -> bool {
        matches!(self.0, Cow::Owned(_))
    }

    /// The catalogue's plain words ("" for an API's scope: its API describes it).
    pub fn description(&self) -> &'static str {
        CATALOGUE
            .iter()
            .find(|(n, _)| *n == self.as_str())
            .map(|(_, d)| *d)
            .unwrap_or("")
    }

    pub fn is_user_only(&self) -> bool {
        USER_ONLY.contains(&self.as_str())
    }

    /// Catalogue scopes first, in catalogue order, then API scopes by name.
    fn order(&self) -> (usize, &str) {
        (
            CATALOGUE
                .iter()
                .position(|(n, _)| *n == self.as_str())
                .unwrap_or(CATALOGUE.len()),
            self.as_str(),
        )
    }
}

/// A set of distinct scopes, kept in display order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScopeSet(Vec<Scope>);

impl ScopeSet {
    /// Parses scopes given as space-separated words or as separate items.
    pub fn parse<'a>(items: impl IntoIterator<Item = &'a str>) -> Result<Self, FieldError> {
        let mut set: Vec<Scope> = Vec::new();
        for word in items.into_iter().flat_map(str::split_whitespace) {
            let scope = Scope::parse(word)?;
            if !set.contains(&scope) {
                set.push(scope);
            }
        }
        set.sort_by(|a, b| a.order().cmp(&b.order()));
        Ok(Self(set))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Scope> + '_ {
        self.0.iter()
    }

    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s.as_str() == scope)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The scopes of `self` that are also in `other`.
    pub fn intersect(&self, other: &ScopeSet) -> ScopeSet {
        self.filter(|s| other.contains(s.as_str()))
    }

    /// The scopes of `self` that `keep` accepts.
    pub fn filter(&self, keep: impl Fn(&Scope) -> bool) -> ScopeSet {
        ScopeSet(self.0.iter().filter(|s| keep(s)).cloned().collect())
    }

    /// Every scope of `self` and of `other`.
    pub fn union(&self, other: &ScopeSet) -> ScopeSet {
        // Both are valid already: parsing again only orders and de-duplicates them.
        ScopeSet::parse(self.0.iter().chain(other.0.iter()).map(|s| s.as_str()))
            .unwrap_or_else(|_| self.clone())
    }

    /// Each scope's name, for views and messages.
    pub fn names(&self) -> Vec<String> {
        self.0.iter().map(|s| s.as_str().to_string()).collect()
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
    fn sensitive_scopes() {
        for s in [
            "offline_access",
            "full",
            "manage:apps",
            "manage:users",
            "read:audit",
        ] {
            assert!(is_sensitive(s), "{s}");
        }
        for s in ["openid", "profile", "email", "read:apps", "orders:read"] {
            assert!(!is_sensitive(s), "{s}");
        }
    }

    #[test]
    fn parses_dedupes_and_orders() {
        let set = ScopeSet::parse(["email openid", "openid", "read:apps"]).unwrap();
        assert_eq!(set.to_space_separated(), "openid email read:apps");
        assert!(set.contains("email") && !set.contains("profile"));
        assert!(ScopeSet::parse(["openid", "admin"]).is_err());
        // An API's scopes: after the catalogue's, by name; shaped, never a platform name.
        let set = ScopeSet::parse(["orders:write read:apps orders:read"]).unwrap();
        assert_eq!(
            set.to_space_separated(),
            "read:apps orders:read orders:write"
        );
        assert!(set.iter().filter(|s| s.is_custom()).count() == 2);
        for bad in [
            "Orders:read",
            "orders:",
            ":read",
            "orders",
            "read:everything",
            "manage:x",
            "orders:read<",
            "1x:y",
        ] {
            assert!(Scope::parse(bad).is_err(), "{bad}");
        }
        assert!(Scope::parse(&format!("a:{}", "b".repeat(63))).is_err());
        assert!(Scope::parse("billing.v2:invoices-read").is_ok());
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
