//! The scope catalogue (Anypoint's "Scopes documentation"): every scope an app of an
//! organization may be allowed, with a display name, its plain words, the product it
//! belongs to and the app kinds that may hold it. Built from the same constants and rules
//! the code enforces (`scope::CATALOGUE`, `scope::USER_ONLY` through `AppKind::may_hold`,
//! `scope::is_sensitive`) and from the organization's APIs, so it cannot drift from them.

use super::AppKind;
use super::scope::{CATALOGUE, Scope, is_sensitive};
use super::views::ScopeView;

/// The product of the sign-in scopes: they name no API (a token's audience never comes
/// from them) and need a signed-in user.
pub const SIGN_IN: &str = "Sign-in (OpenID Connect)";
/// The product of the platform's own scopes: the REST API `/api/v1`, whose audience is
/// this server.
pub const PLATFORM: &str = "Latchkey API";

/// A short display name for a scope of the platform's catalogue (None for any other).
pub fn title(name: &str) -> Option<&'static str> {
    Some(match name {
        "openid" => "Sign in",
        "profile" => "Profile",
        "email" => "E-mail address",
        "offline_access" => "Offline access",
        "read:org" => "Read organization",
        "manage:org" => "Manage organization",
        "read:users" => "Read users",
        "manage:users" => "Manage users",
        "read:apps" => "Read apps",
        "manage:apps" => "Manage apps",
        "read:audit" => "Read audit log",
        "full" => "Full access",
        "read:full" => "Read-only access",
        _ => return None,
    })
}

/// The product a scope belongs to: the API that defines it (`api`), or the platform's.
fn product_of(scope: &Scope, api: Option<&str>) -> String {
    match api {
        Some(api) if scope.is_custom() => api.to_string(),
        _ if scope.is_user_only() => SIGN_IN.to_string(),
        _ => PLATFORM.to_string(),
    }
}

fn entry(scope: &Scope, display_name: &str, description: &str, api: Option<&str>) -> ScopeView {
    ScopeView {
        name: scope.as_str().to_string(),
        display_name: display_name.to_string(),
        description: description.to_string(),
        product: product_of(scope, api),
        custom: scope.is_custom(),
        app_kinds: AppKind::ALL
            .into_iter()
            .filter(|k| k.may_hold(scope))
            .map(|k| k.as_str().to_string())
            .collect(),
        sensitive: is_sensitive(scope.as_str()),
    }
}

/// The catalogue: the platform's scopes in catalogue order, then each API's scopes as
/// `apis` gives them, as (API name, scope, plain words). A stored name that is not a valid
/// API scope (it cannot be, the API's input was parsed) is left out rather than shown as
/// something an app could be allowed.
pub fn entries<'a>(apis: impl IntoIterator<Item = (&'a str, &'a str, &'a str)>) -> Vec<ScopeView> {
    let mut out: Vec<ScopeView> = CATALOGUE
        .iter()
        .filter_map(|(name, words)| {
            let scope = Scope::parse(name).ok()?;
            Some(entry(&scope, title(name).unwrap_or(name), words, None))
        })
        .collect();
    for (api, name, words) in apis {
        let Ok(scope) = Scope::parse(name) else {
            continue;
        };
        if !scope.is_custom() || out.iter().any(|e| e.name == name) {
            continue;
        }
        // An API gives each scope a name and plain words only: the name is its title.
        out.push(entry(&scope, name, words, Some(api)));
    }
    out
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use crate::domain::AppInput;
    use crate::domain::app::AppSpec;

    #[test]
    fn every_platform_scope_is_listed_with_a_title() {
        let all = entries([]);
        assert_eq!(all.len(), CATALOGUE.len());
        for ((name, words), e) in CATALOGUE.iter().zip(&all) {
            assert_eq!(&e.name, name);
            assert_eq!(&e.description, words);
            assert!(title(name).is_some(), "{name} has no display name");
            assert!(!e.custom);
        }
        let openid = &all[0];
        assert_eq!(openid.product, SIGN_IN);
        assert_eq!(openid.app_kinds, ["on-behalf-of-user"]);
        let manage = all.iter().find(|e| e.name == "manage:apps").unwrap();
        assert_eq!(manage.product, PLATFORM);
        assert_eq!(manage.app_kinds, ["on-behalf-of-user", "own-behalf"]);
        assert!(manage.sensitive);
        assert!(title("orders:read").is_none());
    }

    #[test]
    fn api_scopes_follow_with_their_api_as_product() {
        let all = entries([
            ("Orders", "orders:read", "Read your orders"),
            ("Orders", "orders:write", ""),
            // Never a platform name, never twice, never a malformed one.
            ("Evil", "read:apps", "Hijacked"),
            ("Evil", "orders:read", "Hijacked"),
            ("Evil", "Bad Scope", ""),
        ]);
        let custom: Vec<_> = all.iter().filter(|e| e.custom).collect();
        assert_eq!(custom.len(), 2);
        assert_eq!(custom[0].name, "orders:read");
        assert_eq!(custom[0].display_name, "orders:read");
        assert_eq!(custom[0].description, "Read your orders");
        assert_eq!(custom[0].product, "Orders");
        assert_eq!(custom[0].app_kinds, ["on-behalf-of-user", "own-behalf"]);
        assert_eq!(
            all.iter().filter(|e| e.name == "read:apps").count(),
            1,
            "an API cannot redefine a platform scope"
        );
        assert!(!all.iter().any(|e| e.description == "Hijacked"));
    }

    /// The catalogue states exactly what validation enforces: for every kind and every
    /// scope, an app of that kind with that scope is accepted iff the catalogue lists the
    /// kind.
    #[test]
    fn app_kinds_are_what_validation_accepts() {
        for e in entries([("Orders", "orders:read", "")]) {
            for kind in AppKind::ALL {
                let input = AppInput {
                    name: "Probe".into(),
                    kind: kind.as_str().into(),
                    grant_types: vec![kind.allowed_grants()[0].as_str().into()],
                    redirect_uris: (kind == AppKind::OnBehalfOfUser)
                        .then(|| "https://rp.example.com/cb".to_string())
                        .into_iter()
                        .collect(),
                    scopes: vec![e.name.clone()],
                    ..Default::default()
                };
                let accepted = AppSpec::validate(&input, false).is_ok();
                let listed = e.app_kinds.iter().any(|k| k == kind.as_str());
                assert_eq!(accepted, listed, "{} for {}", e.name, kind.as_str());
            }
        }
    }
}
