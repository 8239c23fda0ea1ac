//! The app page's Quick start: the addresses an app's developer needs and a ready `curl`
//! for a token request of the app's kind, built from the issuer and the app as stored.

use serde::{Deserialize, Serialize};

use super::paths::{AUTHORIZE_PATH, DISCOVERY_PATH, TOKEN_PATH};
use super::views::AppView;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuickStart {
    pub issuer: String,
    pub discovery: String,
    pub authorize: String,
    pub token: String,
    pub client_id: String,
    /// For an app acting for users: the address to open in a browser to sign in and
    /// consent (PKCE S256, with the verifier the `curl` sends).
    pub authorize_url: Option<String>,
    /// The token request, ready to paste into a shell.
    pub curl: String,
}

/// What to put where the client secret goes when it is not shown (it is shown only once).
pub const SECRET_PLACEHOLDER: &str = "$CLIENT_SECRET";

/// `pkce` is a fresh (verifier, challenge) pair for the authorization-code example;
/// `secret` the client secret when the page may show it (right after it was made).
pub fn quick_start(
    issuer: &str,
    app: &AppView,
    secret: Option<&str>,
    pkce: (&str, &str),
) -> QuickStart {
    let issuer = issuer.trim_end_matches('/');
    let token = format!("{issuer}{TOKEN_PATH}");
    let authorize = format!("{issuer}{AUTHORIZE_PATH}");
    // A secret in single quotes is taken as is; the placeholder in double quotes is
    // expanded by the shell from the developer's environment.
    let credentials = match secret {
        Some(s) => format!("-u {}", sh_quote(&format!("{}:{s}", app.client_id))),
        None => format!("-u \"{}:{SECRET_PLACEHOLDER}\"", app.client_id),
    };
    let scope = app.scopes.join(" ");
    let (authorize_url, curl) = if app.kind == "own-behalf" {
        let mut lines = vec![
            format!("curl -s -X POST {}", sh_quote(&token)),
            format!("  {credentials}"),
            "  -d grant_type=client_credentials".to_string(),
        ];
        if !scope.is_empty() {
            lines.push(format!(
                "  --data-urlencode {}",
                sh_quote(&format!("scope={scope}"))
            ));
        }
        (None, lines.join(" \\\n"))
    } else {
        let redirect = app.redirect_uris.first().cloned().unwrap_or_default();
        let mut scopes = vec!["openid".to_string()];
        scopes.extend(app.scopes.iter().filter(|s| *s != "openid").cloned());
        let (verifier, challenge) = pkce;
        let mut url = url::Url::parse(&authorize).ok();
        if let Some(u) = url.as_mut() {
            u.query_pairs_mut()
                .append_pair("response_type", "code")
                .append_pair("client_id", &app.client_id)
                .append_pair("redirect_uri", &redirect)
                .append_pair("scope", &scopes.join(" "))
                .append_pair("state", "quick-start")
                .append_pair("code_challenge", challenge)
                .append_pair("code_challenge_method", "S256");
        }
        let mut lines = vec![format!("curl -s -X POST {}", sh_quote(&token))];
        if app.public_client {
            lines.push(format!("  -d client_id={}", sh_quote(&app.client_id)));
        } else {
            lines.push(format!("  {credentials}"));
        }
        lines.extend([
            "  -d grant_type=authorization_code".to_string(),
            "  -d code=\"$CODE\"".to_string(),
            format!(
                "  --data-urlencode {}",
                sh_quote(&format!("redirect_uri={redirect}"))
            ),
            format!("  -d code_verifier={}", sh_quote(verifier)),
        ]);
        (url.map(|u| u.to_string()), lines.join(" \\\n"))
    };
    QuickStart {
        issuer: issuer.to_string(),
        discovery: format!("{issuer}{DISCOVERY_PATH}"),
        authorize,
        token,
        client_id: app.client_id.clone(),
        authorize_url,
        curl,
    }
}

/// `s` as one shell word in single quotes.
fn sh_quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn app(kind: &str, public: bool) -> AppView {
        AppView {
            client_id: "cid".into(),
            org_id: "o".into(),
            name: "A".into(),
            kind: kind.into(),
            grant_types: vec![],
            redirect_uris: vec!["https://app.example/cb".into()],
            post_logout_redirect_uris: vec![],
            website_url: None,
            audience: String::new(),
            scopes: vec!["read:apps".into(), "openid".into()],
            access_token_ttl: 900,
            refresh_token_ttl: 0,
            grant_ttl: 0,
            enabled: true,
            owner_id: None,
            public_client: public,
            skip_consent: false,
            require_par: false,
            require_dpop: false,
            exchange_audiences: Vec::new(),
            backchannel_logout_uri: None,
            registered_dynamically: false,
            public_keys: None,
            created_at: 0,
            updated_at: 0,
            id_token_alg: "RS256".into(),
            last_used_at: None,
            business_group: None,
            environment: None,
            secret_expires_soon: false,
        }
    }

    #[test]
    fn own_behalf_apps_get_a_client_credentials_request() {
        let q = quick_start(
            "https://id.example/",
            &app("own-behalf", false),
            Some("lks_x'y"),
            ("v", "c"),
        );
        assert_eq!(q.token, "https://id.example/oauth2/token");
        assert_eq!(
            q.discovery,
            "https://id.example/.well-known/openid-configuration"
        );
        assert!(q.authorize_url.is_none());
        assert!(q.curl.contains("-u 'cid:lks_x'\\''y'"), "{}", q.curl);
        assert!(q.curl.contains("grant_type=client_credentials"));
        assert!(q.curl.contains("'scope=read:apps openid'"), "{}", q.curl);
        let hidden = quick_start(
            "https://id.example",
            &app("own-behalf", false),
            None,
            ("v", "c"),
        );
        assert!(
            hidden.curl.contains("-u \"cid:$CLIENT_SECRET\""),
            "{}",
            hidden.curl
        );
    }

    #[test]
    fn apps_for_users_get_an_authorization_url_and_a_code_exchange() {
        let q = quick_start(
            "https://id.example",
            &app("on-behalf-of-user", true),
            None,
            ("verif", "chall"),
        );
        let url = q.authorize_url.unwrap();
        assert!(url.starts_with("https://id.example/oauth2/authorize?response_type=code&client_id=cid&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid+read%3Aapps"), "{url}");
        assert!(
            url.contains("code_challenge=chall&code_challenge_method=S256"),
            "{url}"
        );
        assert!(q.curl.contains("-d client_id='cid'"), "{}", q.curl);
        assert!(
            !q.curl.contains("-u "),
            "a public client has no secret: {}",
            q.curl
        );
        assert!(q.curl.contains("-d code_verifier='verif'"));
        let confidential = quick_start(
            "https://id.example",
            &app("on-behalf-of-user", false),
            None,
            ("v", "c"),
        );
        assert!(confidential.curl.contains("$CLIENT_SECRET"));
    }
}
