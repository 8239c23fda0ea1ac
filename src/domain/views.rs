//! Read models handed from the services to the pages, the CLI and (later) the REST API.

use serde::{Deserialize, Serialize};

use crate::domain::listing::{Key, Listed};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgView {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    /// How many days audit records are kept.
    pub audit_retention_days: i64,
    /// Whether connected apps work in the organization: off, no app gets a token in it and
    /// every token in it is inactive, until an admin turns them on again.
    pub connected_apps_enabled: bool,
    /// Who must sign in with a second factor: optional, admins or everyone.
    #[serde(default)]
    pub mfa_policy: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberView {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub created_at: i64,
    #[serde(default)]
    pub last_sign_in_at: Option<i64>,
    /// The roles given in business groups and environments, in words
    /// ("Payments: admin", "Payments · Sandbox: auditor").
    #[serde(default)]
    pub group_roles: Vec<String>,
}

impl crate::domain::listing::Listable for MemberView {
    const SORTS: &'static [&'static str] = &["email", "name", "role", "added", "signed_in"];
    fn haystack(&self) -> String {
        // A search by a group's name finds the users with a role there.
        format!(
            "{} {} {}",
            self.name,
            self.email,
            self.group_roles.join(" ")
        )
    }
    fn key(&self, sort: &str) -> Key {
        match sort {
            "name" => Key::text(&self.name),
            "role" => Key::text(&self.role),
            "added" => Key::Time(Some(self.created_at)),
            "signed_in" => Key::Time(self.last_sign_in_at),
            _ => Key::text(&self.email),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppView {
    pub client_id: String,
    pub org_id: String,
    pub name: String,
    pub kind: String,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    pub website_url: Option<String>,
    pub audience: String,
    pub scopes: Vec<String>,
    pub access_token_ttl: i64,
    pub refresh_token_ttl: i64,
    #[serde(default)]
    pub grant_ttl: i64,
    pub enabled: bool,
    pub owner_id: Option<String>,
    pub public_client: bool,
    /// A first-party app: its organization's users are not asked to consent.
    pub skip_consent: bool,
    /// Authorization requests only as pushed requests (RFC 9126).
    #[serde(default)]
    pub require_par: bool,
    /// Tokens only with a DPoP proof (RFC 9449).
    #[serde(default)]
    pub require_dpop: bool,
    /// The APIs the app may exchange users' tokens for (RFC 8693).
    #[serde(default)]
    pub exchange_audiences: Vec<String>,
    /// Where logout tokens are posted (OpenID Connect Back-Channel Logout).
    #[serde(default)]
    pub backchannel_logout_uri: Option<String>,
    /// Registered by the app itself with an initial access token (RFC 7591).
    #[serde(default)]
    pub registered_dynamically: bool,
    pub public_keys: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub id_token_alg: String,
    /// When the app last got a token (its secrets' and its grants' last use).
    #[serde(default)]
    pub last_used_at: Option<i64>,
    /// The business group the app lives in (none: the organization itself).
    #[serde(default)]
    pub business_group: Option<String>,
    /// The environment the app lives in, if one.
    #[serde(default)]
    pub environment: Option<String>,
    /// One of its secrets has expired or expires within 14 days (the apps list flags it).
    #[serde(default)]
    pub secret_expires_soon: bool,
}

impl crate::domain::listing::Listable for AppView {
    const SORTS: &'static [&'static str] = &["name", "kind", "status", "created", "used"];
    fn haystack(&self) -> String {
        format!("{} {}", self.name, self.client_id)
    }
    fn key(&self, sort: &str) -> Key {
        match sort {
            "kind" => Key::text(&self.kind),
            "status" => Key::text(if self.enabled { "enabled" } else { "disabled" }),
            "created" => Key::Time(Some(self.created_at)),
            "used" => Key::Time(self.last_used_at),
            _ => Key::text(&self.name),
        }
    }
}

/// A client secret as shown after creation: never the value, only a hint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretView {
    pub id: String,
    pub hint: String,
    pub created_at: i64,
    /// When it stops working (None: never).
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// It expires within `domain::secret_expiry::WARNING_SECS` (14 days).
    #[serde(default)]
    pub expires_soon: bool,
    /// It has expired: client authentication refuses it.
    #[serde(default)]
    pub expired: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppDetail {
    pub app: AppView,
    pub secrets: Vec<SecretView>,
    /// Who authorized the app and how many tokens it got.
    #[serde(default)]
    pub usage: AppUsage,
    /// The user who owns the app (none for an app the command line or an app made).
    #[serde(default)]
    pub owner: Option<AppOwner>,
}

/// An app's owner: shown on its page, transferable by its admins; when the owner leaves the
/// organization, ownership moves to an organization admin.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppOwner {
    pub user_id: String,
    pub name: String,
    pub email: String,
}

/// How much an app is used: the users and organizations whose authorization of it is in
/// force (users of other organizations included, for an app open to everyone), and the
/// tokens it was issued.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppUsage {
    /// Distinct users with an active grant to the app.
    pub users: i64,
    /// Distinct organizations those users act in through it.
    pub organizations: i64,
    /// Tokens issued to it in the last 24 hours.
    pub tokens_24h: i64,
    /// Tokens issued to it in the last 7 days.
    pub tokens_7d: i64,
}

/// A page of the organization's apps.
pub type AppPage = Listed<AppView>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditView {
    pub id: i64,
    pub at: i64,
    /// Who acted, as recorded (an e-mail, a client id, `cli`, `system`, `anonymous`).
    pub actor: String,
    /// `user`, `app`, `cli`, `system` or `anonymous`.
    pub actor_type: String,
    /// The acting user's or app's id.
    pub actor_id: Option<String>,
    pub action: String,
    /// The action in words ("Token issued").
    pub action_words: String,
    pub object: String,
    pub outcome: String,
    pub ip: Option<String>,
    pub user_agent: Option<String>,
    pub detail: String,
    pub app_id: Option<String>,
    /// The name of the app the record concerns, when it still exists.
    pub app_name: Option<String>,
    pub user_id: Option<String>,
    /// The user the record concerns, as `name <email>`, when they still exist.
    pub user_name: Option<String>,
}

/// A person as lists show them: `Ada Lovelace <ada@example.com>`, or the e-mail alone.
pub fn person_label(name: &str, email: &str) -> String {
    if name.trim().is_empty() {
        email.to_string()
    } else {
        format!("{name} <{email}>")
    }
}

/// The apps and users the audit viewer's filters offer, by name.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct AuditChoices {
    /// (client id, name), by name.
    pub apps: Vec<(String, String)>,
    /// (user id, `name <email>`), by e-mail.
    pub users: Vec<(String, String)>,
    /// The business groups (with their environments) whose records the principal may
    /// read, depth first.
    pub groups: Vec<super::groups::GroupEntry>,
}

/// One page of the audit viewer, newest first; `next` is the cursor of the older page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub items: Vec<AuditView>,
    pub next: Option<i64>,
}

/// Token requests of one app in one hour (the chart on the app's page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HourCount {
    pub hour: i64,
    pub issued: i64,
    pub refused: i64,
}

/// The organization's token activity over the last 7 days (the admins' overview).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgActivity {
    pub hours: Vec<HourCount>,
    /// (error code, words, count), most frequent first, only those that happened.
    pub refusals: Vec<(String, String, i64)>,
    /// The busiest apps: (client id, name, issued, refused).
    pub apps: Vec<(String, String, i64, i64)>,
}

/// A user's authorization of an app: who, which app, which scopes, since when, last use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationView {
    pub user_id: String,
    pub user_email: String,
    pub client_id: String,
    pub app_name: String,
    pub scopes: Vec<String>,
    pub granted_at: i64,
    pub last_used_at: Option<i64>,
}

impl crate::domain::listing::Listable for AuthorizationView {
    const SORTS: &'static [&'static str] = &["user", "app", "granted", "used"];
    fn haystack(&self) -> String {
        format!(
            "{} {} {}",
            self.user_email,
            self.app_name,
            self.scopes.join(" ")
        )
    }
    fn key(&self, sort: &str) -> Key {
        match sort {
            "app" => Key::text(&self.app_name),
            "granted" => Key::Time(Some(self.granted_at)),
            "used" => Key::Time(self.last_used_at),
            _ => Key::text(&self.user_email),
        }
    }
}

/// What the consent page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentView {
    pub app_name: String,
    pub org_name: String,
    pub website_url: Option<String>,
    /// Each requested scope and its plain-words description.
    pub scopes: Vec<(String, String)>,
}

/// An organization's external-app policy and the apps it approved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyView {
    pub policy: String,
    pub approved: Vec<ApprovalView>,
}

/// An external app an organization approved, with the scopes it may use there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalView {
    pub client_id: String,
    pub app_name: String,
    pub app_org_name: String,
    pub scopes: Vec<String>,
    /// Who approved it (None: approved when the policy was switched to restricted).
    pub approved_by: Option<String>,
    pub approved_at: i64,
}

/// What the approval form shows of an external app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalCandidate {
    pub client_id: String,
    pub app_name: String,
    pub app_org_name: String,
    pub website_url: Option<String>,
    /// Every scope the app may ask for, with its plain words.
    pub scopes: Vec<(String, String)>,
    /// The scopes approved now, if it is approved.
    pub approved: Option<Vec<String>>,
}

/// A custom API (resource server) of an organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiView {
    pub id: String,
    pub name: String,
    /// The audience of the tokens meant for it (RFC 8707 `resource`).
    pub identifier: String,
    /// Each scope it defines, with its plain words.
    pub scopes: Vec<(String, String)>,
    pub created_at: i64,
}

impl crate::domain::listing::Listable for ApiView {
    const SORTS: &'static [&'static str] = &["name", "identifier", "created"];
    fn haystack(&self) -> String {
        let scopes: Vec<&str> = self.scopes.iter().map(|(s, _)| s.as_str()).collect();
        format!("{} {} {}", self.name, self.identifier, scopes.join(" "))
    }
    fn key(&self, sort: &str) -> Key {
        match sort {
            "identifier" => Key::text(&self.identifier),
            "created" => Key::Time(Some(self.created_at)),
            _ => Key::text(&self.name),
        }
    }
}

/// One entry of the scope catalogue (`domain::scope_catalogue`): a scope an app of the
/// organization may be allowed, what it means, and which kinds of app may hold it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScopeView {
    /// The scope as apps ask for it (`read:apps`, `orders:read`).
    pub name: String,
    /// A short title.
    pub display_name: String,
    /// Its plain words, as the consent page shows them.
    pub description: String,
    /// What it belongs to: sign-in (OpenID Connect), the Latchkey API, or the name of the
    /// organization's API that defines it.
    pub product: String,
    /// Defined by one of the organization's APIs.
    pub custom: bool,
    /// The app kinds (`AppKind::as_str`) that may be allowed it.
    pub app_kinds: Vec<String>,
    /// Marked on the consent page: it outlives the session, changes the organization, or
    /// reads what most members may not.
    pub sensitive: bool,
}

impl crate::domain::listing::Listable for ScopeView {
    const SORTS: &'static [&'static str] = &["product", "name"];
    fn haystack(&self) -> String {
        format!(
            "{} {} {} {} {}",
            self.name,
            self.display_name,
            self.description,
            self.product,
            self.app_kinds.join(" ")
        )
    }
    fn key(&self, sort: &str) -> Key {
        match sort {
            "name" => Key::text(&self.name),
            // The platform's products first (sign-in, then the Latchkey API), then the
            // APIs by name; within one, the catalogue's (or the API's) own order.
            _ => {
                let rank = match (self.custom, self.product.as_str()) {
                    (true, _) => 2,
                    (false, crate::domain::scope_catalogue::SIGN_IN) => 0,
                    _ => 1,
                };
                Key::Text(format!("{rank}{}", self.product.to_lowercase()))
            }
        }
    }
}

/// The account security page: how the signed-in user signs in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityView {
    pub email: String,
    pub email_verified: bool,
    /// An authenticator app is set up.
    pub totp: bool,
    /// The user's passkeys.
    pub passkeys: Vec<PasskeyView>,
    /// Browsers can use passkeys with this server (its issuer is at a domain name).
    pub passkeys_available: bool,
    pub recovery_codes_left: i64,
    /// The organization requires a second factor of this user.
    pub required: bool,
    /// The organization's policy, in words.
    pub policy: String,
    /// The session signed in recently enough to change factors.
    pub fresh: bool,
    pub signed_in_with_mfa: bool,
}

/// One of the signed-in user's passkeys.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PasskeyView {
    pub id: String,
    pub name: String,
    /// Its provider syncs it between devices.
    pub synced: bool,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
}

/// An authenticator app being set up: the QR code (SVG), the secret to type instead, and
/// the `otpauth://` URI both carry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TotpEnrolment {
    pub qr_svg: String,
    pub secret: String,
    pub uri: String,
}

/// An initial access token (RFC 7591) as the portal lists it: never its value.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InitialTokenView {
    pub id: String,
    pub name: String,
    /// The business group registered apps go to (its name), or None: the organization.
    pub business_group: Option<String>,
    pub scopes: Vec<String>,
    pub grant_types: Vec<String>,
    pub uses_left: i64,
    pub expires_at: i64,
    pub created_at: i64,
    pub revoked: bool,
    /// Usable now: not revoked, not expired, uses left.
    pub live: bool,
}

/// The registration page: the tokens, the business groups a new one may target, and a
/// token's value right after it was issued (shown once).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InitialTokensView {
    pub tokens: Vec<InitialTokenView>,
    /// (id, name) of each business group.
    pub groups: Vec<(String, String)>,
    pub new_value: Option<String>,
}

/// One of the signed-in user's sessions, as their Security page lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionView {
    /// Names the session in a request to end it (a digest: the id itself is the cookie's
    /// secret and is never shown).
    pub handle: String,
    /// "Firefox on Linux", from the user agent.
    pub device: String,
    pub ip: Option<String>,
    pub signed_in_at: Option<i64>,
    pub last_seen_at: Option<i64>,
    /// The session this page is shown in.
    pub current: bool,
}

/// A user agent in words: the browser and the system ("Chrome on Android").
pub fn device(user_agent: Option<&str>) -> String {
    let Some(ua) = user_agent.filter(|u| !u.is_empty()) else {
        return "Unknown device".into();
    };
    let has = |s: &str| ua.contains(s);
    let browser = if has("Edg/") {
        "Edge"
    } else if has("OPR/") {
        "Opera"
    } else if has("Firefox/") {
        "Firefox"
    } else if has("Chrome/") || has("Chromium/") {
        "Chrome"
    } else if has("Safari/") {
        "Safari"
    } else if has("curl/") {
        "curl"
    } else {
        "A browser"
    };
    let system = if has("Android") {
        "Android"
    } else if has("iPhone") || has("iPad") {
        "iOS"
    } else if has("Windows") {
        "Windows"
    } else if has("Mac OS X") || has("Macintosh") {
        "macOS"
    } else if has("CrOS") {
        "ChromeOS"
    } else if has("Linux") {
        "Linux"
    } else {
        return browser.to_string();
    };
    format!("{browser} on {system}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod device_tests {
    use super::device;

    #[test]
    fn user_agents_in_words() {
        assert_eq!(
            device(Some(
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/156.0.0.0 Safari/537.36"
            )),
            "Chrome on Linux"
        );
        assert_eq!(
            device(Some(
                "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1"
            )),
            "Safari on iOS"
        );
        assert_eq!(
            device(Some(
                "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
            )),
            "Firefox on Windows"
        );
        assert_eq!(
            device(Some(
                "Mozilla/5.0 (Windows NT 10.0) AppleWebKit/537.36 Chrome/120 Safari/537.36 Edg/120"
            )),
            "Edge on Windows"
        );
        assert_eq!(device(None), "Unknown device");
        assert_eq!(device(Some("reqwest")), "A browser");
    }
}
