//! Connected apps: their kinds, grant types, redirect URIs, lifetimes and the
//! rules that tie them together.

use serde::{Deserialize, Serialize};
use url::Url;

use super::{FieldError, FieldErrors, ScopeSet, parse_name};

/// Who the app acts for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum AppKind {
    /// A user logs in and consents; the app then acts as that user.
    OnBehalfOfUser,
    /// The app acts as itself, inside the organization that created it.
    OwnBehalf,
}

impl AppKind {
    pub const ALL: [AppKind; 2] = [AppKind::OnBehalfOfUser, AppKind::OwnBehalf];

    pub fn as_str(self) -> &'static str {
        match self {
            AppKind::OnBehalfOfUser => "on-behalf-of-user",
            AppKind::OwnBehalf => "own-behalf",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw.trim() {
            "on-behalf-of-user" => Ok(AppKind::OnBehalfOfUser),
            "own-behalf" => Ok(AppKind::OwnBehalf),
            _ => Err(FieldError::new(
                "kind",
                "must be on-behalf-of-user or own-behalf",
            )),
        }
    }

    /// The grant types an app of this kind may be given.
    pub fn allowed_grants(self) -> &'static [GrantType] {
        match self {
            AppKind::OnBehalfOfUser => &[
                GrantType::AuthorizationCode,
                GrantType::RefreshToken,
                GrantType::Password,
                GrantType::JwtBearer,
                GrantType::DeviceCode,
                GrantType::TokenExchange,
            ],
            AppKind::OwnBehalf => &[GrantType::ClientCredentials],
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            AppKind::OnBehalfOfUser => "On behalf of a user",
            AppKind::OwnBehalf => "On its own behalf",
        }
    }

    /// Whether an app of this kind may be allowed `scope`: an own-behalf app has no
    /// signed-in user, so never the sign-in scopes (`scope::USER_ONLY`); every other scope
    /// (the platform's and the organization's APIs') suits both kinds. The one rule the app
    /// form, validation and the scope catalogue share.
    pub fn may_hold(self, scope: &super::Scope) -> bool {
        match self {
            AppKind::OnBehalfOfUser => true,
            AppKind::OwnBehalf => !scope.is_user_only(),
        }
    }
}

/// The OAuth 2.0 grant types Latchkey implements.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum GrantType {
    AuthorizationCode,
    RefreshToken,
    Password,
    JwtBearer,
    ClientCredentials,
    /// The device authorization grant (RFC 8628).
    DeviceCode,
    /// Token exchange (RFC 8693): a user's access token for a narrower one for an API.
    TokenExchange,
}

impl GrantType {
    /// Every grant type, in the order discovery lists them.
    pub const ALL: [GrantType; 7] = [
        GrantType::AuthorizationCode,
        GrantType::RefreshToken,
        GrantType::ClientCredentials,
        GrantType::Password,
        GrantType::JwtBearer,
        GrantType::DeviceCode,
        GrantType::TokenExchange,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "authorization_code",
            GrantType::RefreshToken => "refresh_token",
            GrantType::Password => "password",
            GrantType::JwtBearer => "urn:ietf:params:oauth:grant-type:jwt-bearer",
            GrantType::ClientCredentials => "client_credentials",
            GrantType::DeviceCode => "urn:ietf:params:oauth:grant-type:device_code",
            GrantType::TokenExchange => "urn:ietf:params:oauth:grant-type:token-exchange",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim();
        GrantType::ALL
            .into_iter()
            .find(|g| g.as_str() == raw || (raw == "jwt-bearer" && *g == GrantType::JwtBearer))
            .ok_or_else(|| {
                let shown: String = raw.chars().take(60).collect();
                FieldError::new(
                    "grant_types",
                    format!("contains an unknown grant type: {shown}"),
                )
            })
    }

    pub fn label(self) -> &'static str {
        match self {
            GrantType::AuthorizationCode => "Authorization code (with PKCE)",
            GrantType::RefreshToken => "Refresh token",
            GrantType::Password => "Password",
            GrantType::JwtBearer => "JWT bearer (RFC 7523)",
            GrantType::ClientCredentials => "Client credentials",
            GrantType::DeviceCode => "Device authorization (RFC 8628)",
            GrantType::TokenExchange => "Token exchange (RFC 8693)",
        }
    }
}

/// Which users may authorize an on-behalf-of-user app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Audience {
    /// Only users of the organization that owns the app.
    Internal,
    /// Users of any organization.
    Everyone,
}

impl Audience {
    pub fn as_str(self) -> &'static str {
        match self {
            Audience::Internal => "internal",
            Audience::Everyone => "everyone",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        match raw.trim() {
            "internal" => Ok(Audience::Internal),
            "everyone" => Ok(Audience::Everyone),
            _ => Err(FieldError::new("audience", "must be internal or everyone")),
        }
    }
}

/// A registered redirect URI: absolute, no fragment, no wildcard; https, or http on a
/// loopback host, or a private-use scheme (`com.example.app:/cb`) for native apps.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RedirectUri(String);

pub const MAX_URI_LEN: usize = 2000;
pub const MAX_REDIRECT_URIS: usize = 20;

impl RedirectUri {
    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let raw = raw.trim();
        let err = |m: &str| {
            let shown: String = raw.chars().take(80).collect();
            FieldError::new("redirect_uris", format!("{shown}: {m}"))
        };
        if raw.len() > MAX_URI_LEN {
            return Err(err("is too long"));
        }
        if raw.contains('*') {
            return Err(err("must not contain a wildcard"));
        }
        if raw.contains('#') {
            return Err(err("must not contain a fragment (#…)"));
        }
        if raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(err("must not contain spaces"));
        }
        let url = Url::parse(raw).map_err(|_| err("must be an absolute URI"))?;
        match url.scheme() {
            "https" => {
                if url.host().is_none() {
                    return Err(err("must name a host"));
                }
            }
            "http" => {
                if !is_loopback(&url) {
                    return Err(err(
                        "http is only allowed for 127.0.0.1, [::1] or localhost; use https",
                    ));
                }
            }
            scheme => {
                // Private-use URI scheme (RFC 8252 §7.1): reverse domain name, with a dot.
                let dangerous = [
                    "javascript",
                    "data",
                    "file",
                    "vbscript",
                    "blob",
                    "about",
                    "ftp",
                    "ws",
                    "wss",
                ];
                if dangerous.contains(&scheme) || !scheme.contains('.') {
                    return Err(err(
                        "must use https, loopback http, or a private-use scheme such as com.example.app",
                    ));
                }
            }
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(err("must not contain credentials"));
        }
        Ok(Self(raw.to_string()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A URI checked when it was registered, read back from the store as it was kept
    /// (rules that tightened since must not make a registered app unreadable).
    pub fn from_stored(stored: &str) -> Self {
        Self(stored.to_string())
    }

    /// A native app's redirect (RFC 8252 §7): loopback http or a private-use scheme, which
    /// any app on the device may claim, so it proves nothing about who receives the code.
    pub fn is_native(&self) -> bool {
        is_native_redirect(&self.0)
    }
}

/// Whether a (registered) redirect URI is a native app's: loopback http or a private-use
/// scheme (RFC 8252 §7.1 and §7.3).
pub fn is_native_redirect(uri: &str) -> bool {
    match Url::parse(uri) {
        Ok(url) => match url.scheme() {
            "https" => false,
            "http" => is_loopback(&url),
            _ => true,
        },
        Err(_) => false,
    }
}

fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d == "localhost",
        Some(url::Host::Ipv4(ip)) => ip == std::net::Ipv4Addr::LOCALHOST,
        Some(url::Host::Ipv6(ip)) => ip == std::net::Ipv6Addr::LOCALHOST,
        None => false,
    }
}

/// An app's home page, shown on consent pages: https, or http on loopback.
pub fn parse_website_url(raw: &str) -> Result<Option<String>, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let err = || {
        FieldError::new(
            "website_url",
            "must be an https URL (or http on 127.0.0.1/localhost)",
        )
    };
    if raw.len() > MAX_URI_LEN {
        return Err(FieldError::new("website_url", "is too long"));
    }
    let url = Url::parse(raw).map_err(|_| err())?;
    match url.scheme() {
        "https" if url.host().is_some() => Ok(Some(url.to_string())),
        "http" if is_loopback(&url) => Ok(Some(url.to_string())),
        _ => Err(err()),
    }
}

/// Token lifetimes in seconds, within the bounds a serious deployment accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenLifetimes {
    pub access_secs: i64,
    pub refresh_secs: i64,
    /// The absolute lifetime of a user's grant: refreshing never takes it further.
    pub grant_secs: i64,
}

impl TokenLifetimes {
    pub const DEFAULT_ACCESS: i64 = 15 * 60;
    pub const DEFAULT_REFRESH: i64 = 90 * 24 * 3600;
    pub const ACCESS_BOUNDS: (i64, i64) = (60, 24 * 3600);
    pub const REFRESH_BOUNDS: (i64, i64) = (5 * 60, 365 * 24 * 3600);
    pub const DEFAULT_GRANT: i64 = 365 * 24 * 3600;
    pub const GRANT_BOUNDS: (i64, i64) = (5 * 60, 5 * 365 * 24 * 3600);

    /// Parses lifetimes given as durations ("15 minutes", or a bare number of seconds); an
    /// empty string means the default.
    pub fn parse(access: &str, refresh: &str, grant: &str) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let access = errors.check(parse_secs(
            "access_token_ttl",
            access,
            Self::DEFAULT_ACCESS,
            Self::ACCESS_BOUNDS,
        ));
        let refresh = errors.check(parse_secs(
            "refresh_token_ttl",
            refresh,
            Self::DEFAULT_REFRESH,
            Self::REFRESH_BOUNDS,
        ));
        let grant = errors.check(parse_secs(
            "grant_ttl",
            grant,
            Self::DEFAULT_GRANT,
            Self::GRANT_BOUNDS,
        ));
        match (access, refresh, grant) {
            (Some(access_secs), Some(refresh_secs), Some(grant_secs)) if errors.is_empty() => {
                Ok(Self {
                    access_secs,
                    refresh_secs,
                    grant_secs,
                })
            }
            _ => Err(errors),
        }
    }
}

impl Default for TokenLifetimes {
    fn default() -> Self {
        Self {
            access_secs: Self::DEFAULT_ACCESS,
            refresh_secs: Self::DEFAULT_REFRESH,
            grant_secs: Self::DEFAULT_GRANT,
        }
    }
}

fn parse_secs(
    field: &'static str,
    raw: &str,
    default: i64,
    (min, max): (i64, i64),
) -> Result<i64, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(default);
    }
    let n = super::duration::parse(raw).ok_or_else(|| {
        FieldError::new(
            field,
            "must be a duration such as \"15 minutes\" or \"90 days\" (a bare number is seconds)",
        )
    })?;
    if !(min..=max).contains(&n) {
        return Err(FieldError::new(
            field,
            format!(
                "must be between {} and {}",
                super::duration::format(min),
                super::duration::format(max)
            ),
        ));
    }
    Ok(n)
}

/// What a form or the CLI submits to create or edit an app, as untrusted text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppInput {
    pub name: String,
    pub kind: String,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    pub website_url: String,
    pub audience: String,
    pub scopes: Vec<String>,
    pub access_token_ttl: String,
    pub refresh_token_ttl: String,
    /// The absolute lifetime of a user's grant, in seconds (empty: 365 days).
    pub grant_ttl: String,
    pub public_client: bool,
    /// `RS256` (the default) or `ES256`.
    pub id_token_alg: String,
    /// Where RP-initiated logout may send the browser back to, one per line.
    pub post_logout_redirect_uris: Vec<String>,
    /// A first-party app: its organization's users are not asked to consent.
    pub skip_consent: bool,
    /// Authorization requests only through pushed authorization requests (RFC 9126).
    pub require_par: bool,
    /// Tokens only with a DPoP proof, bound to the app's key (RFC 9449).
    pub require_dpop: bool,
    /// The APIs (identifiers, one per line) the app may exchange users' tokens for.
    pub exchange_audiences: Vec<String>,
    /// Where a signed logout token is posted when a user's session ends (empty: none).
    pub backchannel_logout_uri: String,
}

/// A connected app's settings, valid by construction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppSpec {
    pub name: String,
    pub kind: AppKind,
    pub grant_types: Vec<GrantType>,
    pub redirect_uris: Vec<RedirectUri>,
    pub post_logout_redirect_uris: Vec<RedirectUri>,
    pub website_url: Option<String>,
    pub audience: Audience,
    pub scopes: ScopeSet,
    pub lifetimes: TokenLifetimes,
    pub public_client: bool,
    pub id_token_alg: &'static str,
    /// A first-party app whose organization's users are not asked to consent; only an
    /// internal app acting for users.
    pub skip_consent: bool,
    /// Every authorization request must be pushed first (RFC 9126).
    pub require_par: bool,
    /// Every token request must carry a DPoP proof (RFC 9449).
    pub require_dpop: bool,
    /// The APIs the app may exchange users' tokens for (RFC 8693), by identifier.
    pub exchange_audiences: Vec<String>,
    /// OpenID Connect Back-Channel Logout: where logout tokens are posted.
    pub backchannel_logout_uri: Option<String>,
}

impl AppSpec {
    /// Checks every field and every rule that ties fields together. `has_public_keys`
    /// tells whether the app has (or will have) a registered key for JWT bearer.
    pub fn validate(input: &AppInput, has_public_keys: bool) -> Result<Self, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.check(parse_name("name", &input.name));
        let kind = errors.check(AppKind::parse(&input.kind));
        let audience = if input.audience.trim().is_empty() {
            Some(Audience::Internal)
        } else {
            errors.check(Audience::parse(&input.audience))
        };
        let website_url = errors
            .check(parse_website_url(&input.website_url))
            .flatten();
        let scopes = errors.check(ScopeSet::parse(input.scopes.iter().map(String::as_str)));
        let id_token_alg = errors.check(parse_id_token_alg(&input.id_token_alg));
        let lifetimes = match TokenLifetimes::parse(
            &input.access_token_ttl,
            &input.refresh_token_ttl,
            &input.grant_ttl,
        ) {
            Ok(l) => Some(l),
            Err(e) => {
                errors.0.extend(e.0);
                None
            }
        };

        let mut grant_types = Vec::new();
        for raw in input
            .grant_types
            .iter()
            .flat_map(|g| g.split([',', ' ']))
            .filter(|g| !g.trim().is_empty())
        {
            if let Some(g) = errors.check(GrantType::parse(raw))
                && !grant_types.contains(&g)
            {
                grant_types.push(g);
            }
        }
        grant_types.sort();

        let redirect_uris = parse_uri_list("redirect_uris", &input.redirect_uris, &mut errors);
        let exchange_audiences = parse_audiences(&input.exchange_audiences, &mut errors);
        let backchannel_logout_uri = errors
            .check(parse_backchannel_uri(&input.backchannel_logout_uri))
            .flatten();
        if grant_types.contains(&GrantType::TokenExchange) == exchange_audiences.is_empty() {
            errors.push(
                "exchange_audiences",
                "name the APIs an app with the token exchange grant may exchange tokens for (and only then)",
            );
        }
        let post_logout_redirect_uris = parse_uri_list(
            "post_logout_redirect_uris",
            &input.post_logout_redirect_uris,
            &mut errors,
        );

        if input.skip_consent
            && (kind == Some(AppKind::OwnBehalf) || audience == Some(Audience::Everyone))
        {
            errors.push(
                "skip_consent",
                "only an internal app acting for users may skip consent (never one open to everyone)",
            );
        }
        if let Some(kind) = kind {
            check_kind_rules(
                kind,
                &grant_types,
                &redirect_uris,
                input.public_client,
                scopes.as_ref(),
                has_public_keys,
                &mut errors,
            );
        }

        match (name, kind, audience, scopes, lifetimes, id_token_alg) {
            (
                Some(name),
                Some(kind),
                Some(audience),
                Some(scopes),
                Some(lifetimes),
                Some(id_token_alg),
            ) if errors.is_empty() => {
                Ok(Self {
                    name,
                    kind,
                    // An own-behalf app acts only inside its own organization.
                    audience: if kind == AppKind::OwnBehalf {
                        Audience::Internal
                    } else {
                        audience
                    },
                    grant_types,
                    redirect_uris,
                    post_logout_redirect_uris,
                    website_url,
                    scopes,
                    lifetimes,
                    public_client: input.public_client,
                    id_token_alg,
                    skip_consent: input.skip_consent,
                    require_par: input.require_par && kind == AppKind::OnBehalfOfUser,
                    require_dpop: input.require_dpop,
                    exchange_audiences,
                    backchannel_logout_uri,
                })
            }
            _ => Err(errors),
        }
    }

    pub fn uses(&self, grant: GrantType) -> bool {
        self.grant_types.contains(&grant)
    }
}

/// A list of URIs typed one per line (or one per entry), each checked, without repeats.
/// A back-channel logout URI: https (or loopback http, used only while this server itself
/// runs on http), no fragment; empty for none.
fn parse_backchannel_uri(raw: &str) -> Result<Option<String>, FieldError> {
    if raw.trim().is_empty() {
        return Ok(None);
    }
    let uri = RedirectUri::parse(raw).map_err(|mut e| {
        e.field = "backchannel_logout_uri".into();
        e
    })?;
    if !(uri.as_str().starts_with("https://") || uri.as_str().starts_with("http://")) {
        return Err(FieldError::new(
            "backchannel_logout_uri",
            "must be an https URI (or loopback http)",
        ));
    }
    Ok(Some(uri.as_str().to_string()))
}

/// The API identifiers an app may exchange tokens for: one per line (or space), each a
/// short printable string; whether each names one of the organization's APIs is the
/// service's to check.
fn parse_audiences(input: &[String], errors: &mut FieldErrors) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for raw in input.iter().flat_map(|a| a.split_whitespace()) {
        if raw.len() > 200 || raw.chars().any(char::is_control) {
            errors.push(
                "exchange_audiences",
                "an API identifier is too long or not valid",
            );
        } else if !out.iter().any(|a| a == raw) {
            out.push(raw.to_string());
        }
    }
    if out.len() > 20 {
        errors.push("exchange_audiences", "at most 20 APIs");
    }
    out
}

fn parse_uri_list(
    field: &'static str,
    input: &[String],
    errors: &mut FieldErrors,
) -> Vec<RedirectUri> {
    let raw_uris: Vec<&str> = input
        .iter()
        .flat_map(|u| u.split(['\n', '\r']))
        .map(str::trim)
        .filter(|u| !u.is_empty())
        .collect();
    let mut uris: Vec<RedirectUri> = Vec::new();
    if raw_uris.len() > MAX_REDIRECT_URIS {
        errors.push(field, format!("at most {MAX_REDIRECT_URIS} URIs"));
        return uris;
    }
    for raw in raw_uris {
        let parsed = RedirectUri::parse(raw).map_err(|mut e| {
            e.field = field.into();
            e
        });
        if let Some(uri) = errors.check(parsed)
            && !uris.contains(&uri)
        {
            uris.push(uri);
        }
    }
    uris
}

/// The ID-token algorithms an app may choose; RS256 is what OpenID Connect clients expect
/// when they say nothing.
pub const ID_TOKEN_ALGS: &[&str] = &["RS256", "ES256"];

fn parse_id_token_alg(raw: &str) -> Result<&'static str, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(ID_TOKEN_ALGS[0]);
    }
    ID_TOKEN_ALGS
        .iter()
        .find(|a| **a == raw)
        .copied()
        .ok_or_else(|| FieldError::new("id_token_alg", "must be RS256 or ES256"))
}

impl AppInput {
    /// Keeps only what the app form shows for the chosen kind: an own-behalf app has
    /// client credentials only, no redirect URIs, no user scopes and no public client.
    pub fn only_fields_of_kind(mut self) -> Self {
        if AppKind::parse(&self.kind) == Ok(AppKind::OwnBehalf) {
            self.grant_types = vec![GrantType::ClientCredentials.as_str().to_string()];
            self.redirect_uris.clear();
            self.post_logout_redirect_uris.clear();
            self.public_client = false;
            self.skip_consent = false;
            self.require_par = false;
            self.exchange_audiences.clear();
            self.backchannel_logout_uri.clear();
            self.audience = Audience::Internal.as_str().to_string();
            self.scopes.retain(
                |s| !matches!(super::Scope::parse(s), Ok(s) if !AppKind::OwnBehalf.may_hold(&s)),
            );
        } else {
            self.grant_types
                .retain(|g| g != GrantType::ClientCredentials.as_str());
        }
        self
    }
}

/// The rules that tie the kind to the other settings.
fn check_kind_rules(
    kind: AppKind,
    grants: &[GrantType],
    redirect_uris: &[RedirectUri],
    public_client: bool,
    scopes: Option<&ScopeSet>,
    has_public_keys: bool,
    errors: &mut FieldErrors,
) {
    if grants.is_empty() {
        errors.push("grant_types", "choose at least one grant type");
    }
    if let Some(bad) = grants.iter().find(|g| !kind.allowed_grants().contains(g)) {
        errors.push(
            "grant_types",
            format!(
                "{} is not allowed for an app acting {}",
                bad.as_str(),
                kind_phrase(kind)
            ),
        );
    }
    if grants.contains(&GrantType::AuthorizationCode) && redirect_uris.is_empty() {
        errors.push(
            "redirect_uris",
            "authorization_code needs at least one redirect URI",
        );
    }
    if kind == AppKind::OwnBehalf {
        if public_client {
            errors.push(
                "public_client",
                "an own-behalf app must be confidential (it authenticates with a secret)",
            );
        }
        if let Some(user_only) = scopes.and_then(|s| s.iter().find(|s| !kind.may_hold(s))) {
            errors.push(
                "scopes",
                format!(
                    "{} needs a signed-in user; an own-behalf app cannot have it",
                    user_only.as_str()
                ),
            );
        }
    }
    if public_client && grants.contains(&GrantType::TokenExchange) {
        errors.push(
            "grant_types",
            "a public client cannot exchange tokens (it has no secret to prove it is the app)",
        );
    }
    if public_client && grants.contains(&GrantType::Password) {
        errors.push(
            "grant_types",
            "a public client cannot use the password grant",
        );
    }
    if grants.contains(&GrantType::JwtBearer) && !has_public_keys {
        errors.push(
            "public_keys",
            "the JWT bearer grant needs a registered public key",
        );
    }
}

fn kind_phrase(kind: AppKind) -> &'static str {
    match kind {
        AppKind::OnBehalfOfUser => "on behalf of a user",
        AppKind::OwnBehalf => "on its own behalf",
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn input(kind: &str, grants: &[&str]) -> AppInput {
        AppInput {
            name: "CI bot".into(),
            kind: kind.into(),
            grant_types: grants.iter().map(|g| g.to_string()).collect(),
            redirect_uris: vec!["https://app.example.com/cb".into()],
            ..Default::default()
        }
    }

    fn errs(i: &AppInput, keys: bool) -> FieldErrors {
        AppSpec::validate(i, keys).expect_err("should be refused")
    }

    #[test]
    fn own_behalf_only_client_credentials() {
        assert!(AppSpec::validate(&input("own-behalf", &["client_credentials"]), false).is_ok());
        for g in [
            "authorization_code",
            "refresh_token",
            "password",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
        ] {
            let e = errs(&input("own-behalf", &[g]), true);
            assert!(e.for_field("grant_types").is_some(), "{g}");
        }
    }

    #[test]
    fn on_behalf_of_user_grants() {
        let ok = AppSpec::validate(
            &input(
                "on-behalf-of-user",
                &["authorization_code", "refresh_token", "password"],
            ),
            false,
        )
        .unwrap();
        assert_eq!(
            ok.grant_types,
            vec![
                GrantType::AuthorizationCode,
                GrantType::RefreshToken,
                GrantType::Password
            ]
        );
        assert!(
            errs(&input("on-behalf-of-user", &["client_credentials"]), false)
                .for_field("grant_types")
                .is_some()
        );
        assert!(
            errs(&input("on-behalf-of-user", &[]), false)
                .for_field("grant_types")
                .is_some()
        );
        assert!(
            errs(&input("on-behalf-of-user", &["implicit"]), false)
                .for_field("grant_types")
                .is_some()
        );
    }

    #[test]
    fn authorization_code_needs_a_redirect_uri() {
        let mut i = input("on-behalf-of-user", &["authorization_code"]);
        i.redirect_uris = vec!["  ".into()];
        assert!(errs(&i, false).for_field("redirect_uris").is_some());
        i.grant_types = vec!["password".into()];
        assert!(AppSpec::validate(&i, false).is_ok());
    }

    #[test]
    fn jwt_bearer_needs_a_key() {
        let i = input("on-behalf-of-user", &["jwt-bearer"]);
        assert!(errs(&i, false).for_field("public_keys").is_some());
        assert_eq!(
            AppSpec::validate(&i, true).unwrap().grant_types,
            vec![GrantType::JwtBearer]
        );
    }

    #[test]
    fn public_clients() {
        let mut i = input(
            "on-behalf-of-user",
            &["authorization_code", "refresh_token"],
        );
        i.public_client = true;
        assert!(AppSpec::validate(&i, false).unwrap().public_client);
        i.grant_types.push("password".into());
        assert!(errs(&i, false).for_field("grant_types").is_some());
        let mut own = input("own-behalf", &["client_credentials"]);
        own.public_client = true;
        assert!(errs(&own, false).for_field("public_client").is_some());
    }

    #[test]
    fn own_behalf_has_no_user_scopes_and_is_internal() {
        let mut i = input("own-behalf", &["client_credentials"]);
        i.scopes = vec!["read:apps manage:apps".into()];
        i.audience = "everyone".into();
        let spec = AppSpec::validate(&i, false).unwrap();
        assert_eq!(spec.audience, Audience::Internal);
        i.scopes = vec!["openid".into()];
        assert!(errs(&i, false).for_field("scopes").is_some());
    }

    #[test]
    fn only_internal_apps_for_users_skip_consent() {
        let mut i = input("on-behalf-of-user", &["authorization_code"]);
        i.skip_consent = true;
        assert!(AppSpec::validate(&i, false).unwrap().skip_consent);
        i.audience = "everyone".into();
        assert!(errs(&i, false).for_field("skip_consent").is_some());
        let mut own = input("own-behalf", &["client_credentials"]);
        own.skip_consent = true;
        assert!(errs(&own, false).for_field("skip_consent").is_some());
        assert!(!own.only_fields_of_kind().skip_consent);
    }

    #[test]
    fn redirect_uris() {
        for ok in [
            "https://app.example.com/cb",
            "https://app.example.com:8443/cb?x=1",
            "http://127.0.0.1:8765/cb",
            "http://localhost/cb",
            "http://[::1]:9000/cb",
            "com.example.app:/oauth2redirect",
        ] {
            assert!(RedirectUri::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "/relative",
            "app.example.com/cb",
            "http://app.example.com/cb",
            "http://10.0.0.1/cb",
            "https://*.example.com/cb",
            "https://app.example.com/cb#frag",
            "javascript:alert(1)",
            "data:text/html,x",
            "myapp:/cb",
            "https://user:pw@app.example.com/cb",
            "https://app.example.com/c b",
            "",
        ] {
            assert!(RedirectUri::parse(bad).is_err(), "{bad}");
        }
        assert!(
            RedirectUri::parse(&format!("https://a.example.com/{}", "x".repeat(2100))).is_err()
        );
    }

    #[test]
    fn too_many_redirect_uris() {
        let mut i = input("on-behalf-of-user", &["authorization_code"]);
        i.redirect_uris = (0..21)
            .map(|n| format!("https://a.example.com/{n}"))
            .collect();
        assert!(errs(&i, false).for_field("redirect_uris").is_some());
    }

    #[test]
    fn lifetimes() {
        assert_eq!(
            TokenLifetimes::parse("", "", "").unwrap(),
            TokenLifetimes::default()
        );
        assert_eq!(TokenLifetimes::default().access_secs, 900);
        assert_eq!(TokenLifetimes::default().refresh_secs, 90 * 86400);
        assert_eq!(TokenLifetimes::default().grant_secs, 365 * 86400);
        assert_eq!(
            TokenLifetimes::parse("60", "300", "").unwrap().access_secs,
            60
        );
        let e = TokenLifetimes::parse("59", "99999999999", "1").unwrap_err();
        assert!(
            e.for_field("access_token_ttl").is_some()
                && e.for_field("refresh_token_ttl").is_some()
                && e.for_field("grant_ttl").is_some()
        );
        assert!(TokenLifetimes::parse("abc", "", "").is_err());
        assert!(TokenLifetimes::parse("86401", "", "").is_err());
        assert_eq!(
            TokenLifetimes::parse("", "", "3600").unwrap().grant_secs,
            3600
        );
    }

    #[test]
    fn post_logout_uris_are_checked_like_redirect_uris() {
        let mut i = input("on-behalf-of-user", &["authorization_code"]);
        i.post_logout_redirect_uris =
            vec!["https://app.example.com/bye\njavascript:alert(1)".into()];
        let e = errs(&i, false);
        assert!(e.for_field("post_logout_redirect_uris").is_some());
        i.post_logout_redirect_uris = vec!["https://app.example.com/bye".into()];
        let spec = AppSpec::validate(&i, false).unwrap();
        assert_eq!(spec.post_logout_redirect_uris.len(), 1);
    }

    #[test]
    fn native_redirects() {
        assert!(is_native_redirect("http://127.0.0.1:8765/cb"));
        assert!(is_native_redirect("http://localhost/cb"));
        assert!(is_native_redirect("com.example.app:/cb"));
        assert!(!is_native_redirect("https://app.example.com/cb"));
        assert!(!is_native_redirect("not a uri"));
    }

    #[test]
    fn website_url() {
        assert_eq!(parse_website_url("").unwrap(), None);
        assert!(parse_website_url("https://example.com").unwrap().is_some());
        assert!(parse_website_url("javascript:alert(1)").is_err());
        assert!(parse_website_url("http://example.com").is_err());
    }

    #[test]
    fn all_errors_reported_at_once() {
        let i = AppInput {
            name: "".into(),
            kind: "robot".into(),
            audience: "world".into(),
            access_token_ttl: "1".into(),
            ..Default::default()
        };
        let e = errs(&i, false);
        for f in ["name", "kind", "audience", "access_token_ttl"] {
            assert!(e.for_field(f).is_some(), "{f}: {e}");
        }
    }

    #[test]
    fn form_fields_follow_the_kind() {
        let mut i = input("own-behalf", &["authorization_code"]);
        i.scopes = vec!["openid".into(), "read:apps".into()];
        i.public_client = true;
        let spec = AppSpec::validate(&i.only_fields_of_kind(), false).unwrap();
        assert_eq!(spec.grant_types, vec![GrantType::ClientCredentials]);
        assert!(spec.redirect_uris.is_empty() && !spec.public_client);
        assert_eq!(spec.scopes.to_space_separated(), "read:apps");
        let user =
            input("on-behalf-of-user", &["client_credentials", "password"]).only_fields_of_kind();
        assert_eq!(user.grant_types, vec!["password".to_string()]);
    }

    #[test]
    fn grant_type_names() {
        for g in GrantType::ALL {
            assert_eq!(GrantType::parse(g.as_str()).unwrap(), g);
        }
        assert_eq!(AppKind::parse("own-behalf").unwrap(), AppKind::OwnBehalf);
        assert!(AppKind::parse("robot").is_err());
    }
}
