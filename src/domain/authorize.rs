//! The authorization request (RFC 6749 §4.1, OpenID Connect Core §3.1.2, RFC 7636 PKCE,
//! RFC 9207 `iss`, RFC 9700): checked here, once, before anything is stored or shown.
//! Until the redirect URI is known to be registered, errors go to a page, never to a URI.

use serde::{Deserialize, Serialize};
use url::Url;

use super::ScopeSet;
use super::oauth::{OAuthError, user_grant_scopes};

/// The one PKCE method accepted (RFC 7636 §4.2; `plain` never).
pub const PKCE_METHOD: &str = "S256";

/// How long a pending request waits for sign-in and consent.
pub const PENDING_TTL: i64 = 600;
/// How long a pushed request's `request_uri` may wait to be used (RFC 9126 §2.2).
pub const PUSHED_TTL: i64 = 60;
/// What every `request_uri` we issue starts with (RFC 9126 §2.2).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";
/// How long an authorization code may wait for its exchange.
pub const CODE_TTL: i64 = 60;
/// Longest `state`, `nonce` or `login_hint` accepted.
const MAX_VALUE_LEN: usize = 2048;

/// The redirect URI answers go to: exactly one of the registered ones, which may be left
/// out only when exactly one is registered. `Err` is the message of the error page.
pub fn redirect_target(
    requested: Option<&str>,
    registered: &[String],
) -> Result<String, &'static str> {
    match requested {
        Some(r) => registered
            .iter()
            .find(|u| u.as_str() == r)
            .cloned()
            .ok_or("The redirect_uri is not registered for this app."),
        None if registered.len() == 1 => Ok(registered[0].clone()),
        None => Err("The request has no redirect_uri, and the app registers more than one."),
    }
}

/// A checked authorization request, as it waits for sign-in and consent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    /// Requested ∩ allowed, space-separated.
    pub scopes: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: String,
    /// `prompt=none`: answer at once, with an error where the user would have to act.
    pub prompt_none: bool,
    /// `prompt=consent`: ask even when the scopes were granted before.
    pub prompt_consent: bool,
    /// `prompt=login`: sign in again, even with a session.
    pub prompt_login: bool,
    /// The sign-in must have happened at or after this time (`prompt=login`, `max_age`).
    pub fresh_after: Option<i64>,
    pub login_hint: Option<String>,
    /// `acr_values`: the authentication the client asks for, in order of preference.
    #[serde(default)]
    pub acr_values: Option<String>,
    /// A device's request (RFC 8628): the device code it answers. Its tokens go to the
    /// polling device, never to a redirect URI (it has none), and it is always consented to.
    #[serde(default)]
    pub device: Option<String>,
    /// The DPoP key the code must be redeemed with (RFC 9449 §10), its thumbprint.
    #[serde(default)]
    pub dpop_jkt: Option<String>,
}

/// A base64url SHA-256 digest, as PKCE challenges and JWK thumbprints are written.
fn is_thumbprint(s: &str) -> bool {
    s.len() == 43
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

/// What the authorization endpoint needs to know about the client.
pub struct ClientFacts<'a> {
    pub client_id: &'a str,
    pub enabled: bool,
    /// An on-behalf-of-user app with the authorization_code grant.
    pub may_use_code: bool,
    pub allowed: &'a ScopeSet,
}

fn bounded<'a>(name: &str, v: Option<&'a str>) -> Result<Option<&'a str>, OAuthError> {
    match v {
        Some(v) if v.len() > MAX_VALUE_LEN => Err(OAuthError::InvalidRequest(format!(
            "the {name} parameter is too long"
        ))),
        v => Ok(v),
    }
}

/// Checks the parameters of an authorization request whose client and redirect URI are
/// already known good. `get` reads one parameter.
pub fn parse<'p>(
    get: impl Fn(&str) -> Option<&'p str>,
    client: &ClientFacts<'_>,
    redirect_uri: String,
    now: i64,
) -> Result<AuthorizeRequest, OAuthError> {
    let invalid = |m: &str| OAuthError::InvalidRequest(m.into());
    if get("request").is_some() || get("request_uri").is_some() {
        return Err(OAuthError::RequestNotSupported(
            "request objects are not supported".into(),
        ));
    }
    match get("response_type") {
        None => return Err(invalid("the response_type parameter is missing")),
        Some("code") => {}
        Some(_) => {
            return Err(OAuthError::UnsupportedResponseType(
                "only response_type=code is supported".into(),
            ));
        }
    }
    if get("response_mode").is_some_and(|m| m != "query") {
        return Err(invalid("only response_mode=query is supported"));
    }
    if !client.enabled {
        return Err(OAuthError::UnauthorizedClient("the app is disabled".into()));
    }
    if !client.may_use_code {
        return Err(OAuthError::UnauthorizedClient(
            "the app may not use the authorization code flow".into(),
        ));
    }
    let challenge = get("code_challenge").ok_or_else(|| {
        invalid("PKCE is required: send code_challenge with code_challenge_method=S256")
    })?;
    if get("code_challenge_method") != Some(PKCE_METHOD) {
        return Err(invalid("code_challenge_method must be S256"));
    }
    if !is_thumbprint(challenge) {
        return Err(invalid(
            "code_challenge must be a base64url SHA-256 digest (43 characters)",
        ));
    }
    let scopes = user_grant_scopes(get("scope"), client.allowed)?;
    let (mut prompt_none, mut prompt_consent, mut prompt_login) = (false, false, false);
    for p in get("prompt")
        .unwrap_or("")
        .split(' ')
        .filter(|p| !p.is_empty())
    {
        match p {
            "none" => prompt_none = true,
            "consent" => prompt_consent = true,
            "login" | "select_account" => prompt_login = true,
            _ => return Err(invalid("prompt must be none, login or consent")),
        }
    }
    if prompt_none && (prompt_consent || prompt_login) {
        return Err(invalid("prompt=none cannot be combined with other values"));
    }
    let max_age = match get("max_age") {
        None => None,
        Some(m) => Some(
            m.parse::<u32>()
                .map_err(|_| invalid("max_age must be a number of seconds"))?,
        ),
    };
    let mut fresh_after = max_age.map(|m| now - i64::from(m));
    if prompt_login {
        fresh_after = Some(now);
    }
    Ok(AuthorizeRequest {
        client_id: client.client_id.to_string(),
        redirect_uri,
        scopes: scopes.to_space_separated(),
        state: bounded("state", get("state"))?.map(str::to_string),
        nonce: bounded("nonce", get("nonce"))?.map(str::to_string),
        code_challenge: challenge.to_string(),
        prompt_none,
        prompt_consent,
        prompt_login,
        fresh_after,
        login_hint: bounded("login_hint", get("login_hint"))?.map(str::to_string),
        acr_values: bounded("acr_values", get("acr_values"))?.map(str::to_string),
        device: None,
        dpop_jkt: match get("dpop_jkt") {
            None => None,
            Some(j) if is_thumbprint(j) => Some(j.to_string()),
            Some(_) => {
                return Err(invalid(
                    "dpop_jkt must be a JWK SHA-256 thumbprint (43 characters)",
                ));
            }
        },
    })
}

impl AuthorizeRequest {
    /// Whether the user must (again) sign in, given when the session signed in and whether
    /// the request comes back from the sign-in page.
    pub fn needs_sign_in(&self, auth_time: Option<i64>, resumed: bool) -> bool {
        match auth_time {
            None => true,
            Some(_) if self.prompt_login && !resumed => true,
            Some(t) => self.fresh_after.is_some_and(|f| t < f),
        }
    }

    /// Whether the client asked for a multi-factor sign-in (`acr_values`).
    pub fn wants_mfa(&self) -> bool {
        self.acr_values
            .as_deref()
            .is_some_and(crate::domain::mfa::acr_values_need_mfa)
    }

    /// Whether the consent page must be shown, given what the user granted this app before.
    pub fn needs_consent(&self, remembered: Option<&str>) -> bool {
        if self.prompt_consent {
            return true;
        }
        let Some(remembered) = remembered else {
            return true;
        };
        let had: Vec<&str> = remembered.split(' ').collect();
        !self
            .scopes
            .split(' ')
            .all(|s| s.is_empty() || had.contains(&s))
    }
}

/// The redirect URI with the response parameters added to its query (RFC 6749 §4.1.2):
/// parameters it already has are kept; `None` values are left out.
pub fn response_url(redirect_uri: &str, params: &[(&str, Option<&str>)]) -> String {
    let Ok(mut url) = Url::parse(redirect_uri) else {
        return redirect_uri.to_string();
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in params {
            if let Some(v) = v {
                q.append_pair(k, v);
            }
        }
    }
    url.to_string()
}

/// The error answer of an authorization request, with `state` and `iss` (RFC 9207).
pub fn error_url(req_redirect: &str, state: Option<&str>, issuer: &str, e: &OAuthError) -> String {
    response_url(
        req_redirect,
        &[
            ("error", Some(e.code())),
            ("error_description", Some(e.description())),
            ("state", state),
            ("iss", Some(issuer)),
        ],
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn run(
        pairs: &[(&str, &str)],
        enabled: bool,
        code: bool,
    ) -> Result<AuthorizeRequest, OAuthError> {
        let map: HashMap<&str, &str> = pairs.iter().copied().collect();
        let allowed = ScopeSet::parse(["openid email offline_access read:apps"]).unwrap();
        let facts = ClientFacts {
            client_id: "c1",
            enabled,
            may_use_code: code,
            allowed: &allowed,
        };
        parse(
            |k| map.get(k).copied(),
            &facts,
            "https://app.example/cb".into(),
            1000,
        )
    }

    fn good() -> Vec<(&'static str, &'static str)> {
        vec![
            ("response_type", "code"),
            ("client_id", "c1"),
            ("scope", "openid email manage:apps"),
            ("state", "s"),
            ("nonce", "n"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ]
    }

    #[test]
    fn redirect_uri_is_exact() {
        let reg = vec![
            "https://a.example/cb".to_string(),
            "http://127.0.0.1:9/cb".to_string(),
        ];
        assert_eq!(
            redirect_target(Some("https://a.example/cb"), &reg).unwrap(),
            reg[0]
        );
        for bad in [
            "https://a.example/cb/",
            "https://a.example/c",
            "https://A.example/cb",
            "https://a.example/cb?x=1",
        ] {
            assert!(redirect_target(Some(bad), &reg).is_err(), "{bad}");
        }
        assert!(redirect_target(None, &reg).is_err());
        assert_eq!(redirect_target(None, &reg[..1]).unwrap(), reg[0]);
    }

    #[test]
    fn a_good_request_is_narrowed_to_the_allowed_scopes() {
        let r = run(&good(), true, true).unwrap();
        assert_eq!(r.scopes, "openid email");
        assert_eq!(r.state.as_deref(), Some("s"));
        assert!(!r.needs_sign_in(Some(1), false));
        assert!(r.needs_sign_in(None, true));
        assert!(r.needs_consent(None));
        assert!(!r.needs_consent(Some("email openid offline_access")));
        assert!(r.needs_consent(Some("openid")));
    }

    #[test]
    fn refusals_carry_the_standard_codes() {
        let with = |k: &'static str, v: &'static str| {
            let mut p: Vec<_> = good().into_iter().filter(|(n, _)| *n != k).collect();
            if !v.is_empty() {
                p.push((k, v));
            }
            run(&p, true, true).unwrap_err().code()
        };
        assert_eq!(with("response_type", "token"), "unsupported_response_type");
        assert_eq!(with("response_type", ""), "invalid_request");
        assert_eq!(with("code_challenge", ""), "invalid_request");
        assert_eq!(with("code_challenge_method", "plain"), "invalid_request");
        assert_eq!(with("code_challenge_method", ""), "invalid_request");
        assert_eq!(with("code_challenge", "short"), "invalid_request");
        assert_eq!(with("scope", "manage:apps"), "invalid_scope");
        assert_eq!(with("scope", "openid <script>"), "invalid_scope");
        assert_eq!(with("prompt", "none login"), "invalid_request");
        assert_eq!(with("prompt", "bogus"), "invalid_request");
        assert_eq!(with("max_age", "-1"), "invalid_request");
        assert_eq!(with("request", "eyJ..."), "request_not_supported");
        assert_eq!(with("response_mode", "fragment"), "invalid_request");
        assert_eq!(
            run(&good(), false, true).unwrap_err().code(),
            "unauthorized_client"
        );
        assert_eq!(
            run(&good(), true, false).unwrap_err().code(),
            "unauthorized_client"
        );
    }

    #[test]
    fn prompt_and_max_age_ask_for_a_fresh_sign_in() {
        let mut p = good();
        p.push(("prompt", "login consent"));
        let r = run(&p, true, true).unwrap();
        assert!(r.needs_sign_in(Some(1000), false));
        assert!(r.needs_sign_in(Some(999), true));
        assert!(!r.needs_sign_in(Some(1000), true));
        assert!(r.needs_consent(Some("email openid")));
        let mut p = good();
        p.push(("max_age", "60"));
        let r = run(&p, true, true).unwrap();
        assert!(r.needs_sign_in(Some(939), false));
        assert!(!r.needs_sign_in(Some(940), false));
    }

    #[test]
    fn response_urls_keep_the_registered_query() {
        assert_eq!(
            response_url(
                "https://a.example/cb?x=1",
                &[("code", Some("c d")), ("state", None)]
            ),
            "https://a.example/cb?x=1&code=c+d"
        );
        let e = OAuthError::AccessDenied("no".into());
        assert_eq!(
            error_url("myapp:/cb", Some("s&t"), "https://id.example", &e),
            "myapp:/cb?error=access_denied&error_description=no&state=s%26t&iss=https%3A%2F%2Fid.example"
        );
    }
}
