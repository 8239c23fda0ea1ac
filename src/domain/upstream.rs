//! An organization's own OpenID Connect provider, as an admin sets it up: checked once here.

use serde::{Deserialize, Serialize};

use super::{FieldErrors, Role, parse_name};

/// What happens to someone the provider signs in who has no account here yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Provisioning {
    /// An account is made, a member with the default role (just-in-time provisioning).
    Jit,
    /// Only existing members of the organization may sign in through it.
    Link,
}

impl Provisioning {
    pub fn as_str(self) -> &'static str {
        match self {
            Provisioning::Jit => "jit",
            Provisioning::Link => "link",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        match raw {
            "jit" => Some(Provisioning::Jit),
            "link" => Some(Provisioning::Link),
            _ => None,
        }
    }
}

/// The form (portal) or body (REST) that sets the provider up.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ProviderInput {
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    /// Empty keeps the secret already set.
    pub client_secret: String,
    /// E-mail domains, separated by spaces, commas or lines.
    pub domains: String,
    pub provisioning: String,
    pub default_role: String,
    pub required: bool,
}

/// A provider set-up with every field checked.
#[derive(Debug, Clone, PartialEq)]
pub struct ProviderSpec {
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub client_secret: Option<String>,
    pub domains: Vec<String>,
    pub provisioning: Provisioning,
    pub default_role: Role,
    pub required: bool,
}

/// Most domains one provider may claim.
pub const MAX_DOMAINS: usize = 20;

/// A domain as typed, checked and lowercased (`example.com`).
pub fn parse_domain(raw: &str) -> Option<String> {
    let d = raw.trim().trim_end_matches('.').to_ascii_lowercase();
    let ok = d.len() <= 253
        && d.contains('.')
        && d.split('.').all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    ok.then_some(d)
}

/// The domain of an address (`ana@Example.com` → `example.com`).
pub fn domain_of(email: &str) -> Option<String> {
    email.rsplit_once('@').and_then(|(_, d)| parse_domain(d))
}

impl ProviderInput {
    /// Checks every field; `has_secret` says whether a secret is already kept (an empty one
    /// then keeps it).
    pub fn parse(&self, has_secret: bool) -> Result<ProviderSpec, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.check(parse_name("name", &self.name));
        let issuer = self.issuer.trim().trim_end_matches('/').to_string();
        match url::Url::parse(&issuer) {
            Ok(u) if u.scheme() == "https" || (u.scheme() == "http" && is_loopback(&u)) => {
                if u.query().is_some() || u.fragment().is_some() {
                    errors.push("issuer", "must have no query or fragment");
                }
            }
            Ok(_) => errors.push("issuer", "must be an https:// URL"),
            Err(_) => errors.push("issuer", "must be a URL such as https://login.example.com"),
        }
        let client_id = self.client_id.trim().to_string();
        if client_id.is_empty() || client_id.len() > 255 {
            errors.push("client_id", "is required (at most 255 characters)");
        }
        let secret = self.client_secret.trim().to_string();
        if secret.is_empty() && !has_secret {
            errors.push("client_secret", "is required");
        }
        if secret.len() > 1024 {
            errors.push("client_secret", "must be at most 1024 characters");
        }
        let mut domains = Vec::new();
        for raw in self
            .domains
            .split(|c: char| c.is_whitespace() || c == ',')
            .filter(|d| !d.is_empty())
        {
            match parse_domain(raw) {
                Some(d) if !domains.contains(&d) => domains.push(d),
                Some(_) => {}
                None => errors.push("domains", format!("“{raw}” is not a domain")),
            }
        }
        if domains.is_empty() {
            errors.push(
                "domains",
                "name at least one e-mail domain of the organization",
            );
        }
        if domains.len() > MAX_DOMAINS {
            errors.push("domains", format!("at most {MAX_DOMAINS} domains"));
        }
        let provisioning = Provisioning::parse(&self.provisioning);
        if provisioning.is_none() {
            errors.push("provisioning", "must be jit or link");
        }
        let role = errors.check(Role::parse(&self.default_role));
        if role == Some(Role::Admin) {
            errors.push(
                "default_role",
                "must be member or auditor: admins are made by admins",
            );
        }
        match (name, provisioning, role) {
            (Some(name), Some(provisioning), Some(default_role)) if errors.is_empty() => {
                Ok(ProviderSpec {
                    name,
                    issuer,
                    client_id,
                    client_secret: (!secret.is_empty()).then_some(secret),
                    domains,
                    provisioning,
                    default_role,
                    required: self.required,
                })
            }
            _ => Err(errors),
        }
    }
}

fn is_loopback(u: &url::Url) -> bool {
    matches!(
        u.host_str(),
        Some("localhost") | Some("127.0.0.1") | Some("[::1]")
    )
}

/// Whether `issuer` is a development server's: plain HTTP on a loopback host.
pub fn is_development(issuer: &str) -> bool {
    url::Url::parse(issuer).is_ok_and(|u| u.scheme() == "http" && is_loopback(&u))
}

/// Whether `url` names this machine or a private network by its address or as
/// `localhost` (a provider there is refused outside development: no requests into the
/// server's own network on an admin's say-so).
pub fn is_internal(url: &str) -> bool {
    use std::net::IpAddr;
    let Ok(u) = url::Url::parse(url) else {
        return true;
    };
    match u.host() {
        Some(url::Host::Domain(d)) => {
            let d = d.to_ascii_lowercase();
            d == "localhost" || d.ends_with(".localhost") || d.ends_with(".internal")
        }
        Some(url::Host::Ipv4(v4)) => {
            let ip = IpAddr::V4(v4);
            ip.is_loopback() || ip.is_unspecified() || v4.is_private() || v4.is_link_local()
        }
        Some(url::Host::Ipv6(v6)) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || (v6.segments()[0] & 0xfe00) == 0xfc00
                || (v6.segments()[0] & 0xffc0) == 0xfe80
        }
        None => true,
    }
}

/// A provider as the portal and the REST API show it (never its secret).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProviderView {
    pub id: String,
    pub name: String,
    pub issuer: String,
    pub client_id: String,
    pub domains: Vec<String>,
    pub provisioning: String,
    pub default_role: String,
    pub required: bool,
    /// Where the provider sends users back (register it there).
    pub redirect_uri: String,
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn input() -> ProviderInput {
        ProviderInput {
            name: "Acme SSO".into(),
            issuer: "https://login.acme.example/".into(),
            client_id: "latchkey".into(),
            client_secret: "s3cret".into(),
            domains: "acme.example, Acme.Example\nstaff.acme.example".into(),
            provisioning: "jit".into(),
            default_role: "member".into(),
            required: true,
        }
    }

    #[test]
    fn a_good_provider() {
        let p = input().parse(false).unwrap();
        assert_eq!(p.issuer, "https://login.acme.example");
        assert_eq!(p.domains, vec!["acme.example", "staff.acme.example"]);
        assert_eq!(p.provisioning, Provisioning::Jit);
        assert_eq!(p.default_role, Role::Member);
    }

    #[test]
    fn bad_fields_each_say_why() {
        let bad = ProviderInput {
            issuer: "http://login.acme.example".into(),
            client_secret: "".into(),
            domains: "not a domain, -x.example".into(),
            provisioning: "auto".into(),
            default_role: "admin".into(),
            ..input()
        };
        let e = bad.parse(false).unwrap_err();
        for f in [
            "issuer",
            "client_secret",
            "domains",
            "provisioning",
            "default_role",
        ] {
            assert!(e.for_field(f).is_some(), "{f}: {e:?}");
        }
        // A kept secret may be left empty; a loopback issuer may be plain http (tests).
        let kept = ProviderInput {
            client_secret: "".into(),
            issuer: "http://127.0.0.1:8080".into(),
            ..input()
        };
        assert_eq!(kept.parse(true).unwrap().client_secret, None);
    }

    #[test]
    fn internal_addresses() {
        for internal in [
            "http://127.0.0.1:9",
            "https://localhost",
            "https://10.0.0.5",
            "https://192.168.1.1",
            "https://169.254.169.254",
            "https://[::1]",
            "https://[fd00::1]",
        ] {
            assert!(is_internal(internal), "{internal}");
        }
        assert!(!is_internal("https://login.acme.example"));
        assert!(!is_internal("https://8.8.8.8"));
        assert!(is_development("http://127.0.0.1:3000"));
        assert!(!is_development("https://127.0.0.1:3000"));
    }

    #[test]
    fn domains_of_addresses() {
        assert_eq!(
            domain_of("Ana@Acme.Example").as_deref(),
            Some("acme.example")
        );
        assert_eq!(domain_of("nobody"), None);
        assert_eq!(parse_domain("localhost"), None);
    }
}
