//! Client credentials as presented: HTTP Basic (`client_secret_basic`), body parameters
//! (`client_secret_post`), a signed assertion (`private_key_jwt`, RFC 7523 §2.2) or a bare
//! `client_id` (public clients). Exactly one method.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use secrecy::SecretString;

use super::params::Params;
use crate::domain::oauth::OAuthError;
use crate::services::App;
use crate::services::tokens::{self, ClientProof, ClientRefusal, Issuer};

pub struct Presented {
    pub client_id: String,
    pub proof: ClientProof,
}

pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The `sub` of an assertion, read before its signature is checked, only to find the client.
fn unverified_subject(assertion: &str) -> Option<String> {
    let payload = assertion.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&bytes).ok()?;
    claims
        .get("sub")?
        .as_str()
        .filter(|s| !s.chars().any(char::is_control))
        .map(str::to_string)
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

/// Authenticates the client that sent these parameters from address `ip`.
pub async fn authenticated(
    ctx: &Issuer<'_>,
    headers: &HeaderMap,
    params: &Params,
    ip: Option<&str>,
) -> Result<App, ClientRefusal> {
    let presented = presented(headers, params)?;
    tokens::authenticate(ctx, &presented.client_id, presented.proof, ip).await
}

pub fn presented(headers: &HeaderMap, params: &Params) -> Result<Presented, OAuthError> {
    let bad = |m: &str| OAuthError::InvalidClient(m.into());
    if let Some(assertion) = params.get("client_assertion") {
        if headers.contains_key(http::header::AUTHORIZATION)
            || params.get("client_secret").is_some()
        {
            return Err(OAuthError::InvalidRequest(
                "use one client authentication method, not two".into(),
            ));
        }
        if params.get("client_assertion_type") != Some(JWT_BEARER_ASSERTION) {
            return Err(OAuthError::InvalidRequest(format!(
                "client_assertion_type must be {JWT_BEARER_ASSERTION}"
            )));
        }
        let client_id = match params.get("client_id") {
            Some(id) => id.to_string(),
            None => {
                unverified_subject(assertion).ok_or_else(|| bad("malformed client assertion"))?
            }
        };
        return Ok(Presented {
            client_id,
            proof: ClientProof::Assertion(assertion.to_string()),
        });
    }
    let basic = match headers.get(http::header::AUTHORIZATION) {
        Some(value) => {
            let value = value
                .to_str()
                .map_err(|_| bad("malformed Authorization header"))?;
            let (scheme, b64) = value
                .split_once(' ')
                .ok_or_else(|| bad("malformed Authorization header"))?;
            if !scheme.eq_ignore_ascii_case("basic") {
                return Err(bad("only Basic authentication is accepted here"));
            }
            let decoded = STANDARD
                .decode(b64.trim())
                .map_err(|_| bad("malformed Basic credentials"))?;
            let decoded =
                String::from_utf8(decoded).map_err(|_| bad("malformed Basic credentials"))?;
            let (id, secret) = decoded
                .split_once(':')
                .ok_or_else(|| bad("malformed Basic credentials"))?;
            // RFC 6749 §2.3.1: both parts are form-urlencoded.
            let (id, secret) = (form_decode(id), form_decode(secret));
            if id.chars().chain(secret.chars()).any(char::is_control) {
                return Err(bad("malformed Basic credentials"));
            }
            Some((id, secret))
        }
        None => None,
    };
    match (basic, params.get("client_id"), params.get("client_secret")) {
        (Some(_), _, Some(_)) => Err(OAuthError::InvalidRequest(
            "use one client authentication method, not two".into(),
        )),
        (Some((id, _)), Some(body_id), None) if body_id != id => Err(OAuthError::InvalidRequest(
            "client_id differs from the authenticated client".into(),
        )),
        (Some((id, secret)), _, None) => Ok(Presented {
            client_id: id,
            proof: ClientProof::Secret(SecretString::from(secret)),
        }),
        (None, Some(id), secret) => Ok(Presented {
            client_id: id.to_string(),
            proof: match secret {
                Some(s) => ClientProof::Secret(SecretString::from(s.to_string())),
                None => ClientProof::None,
            },
        }),
        (None, None, _) => Err(bad("client authentication is required")),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use axum::body::Bytes;
    use secrecy::ExposeSecret;

    fn params(body: &str) -> Params {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded".parse().unwrap(),
        );
        Params::from_body(&h, &Bytes::from(body.to_string())).unwrap()
    }

    fn basic(id: &str, secret: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::AUTHORIZATION,
            format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
                .parse()
                .unwrap(),
        );
        h
    }

    #[test]
    fn methods() {
        let p = presented(&basic("app", "s%3Acret+x"), &params("grant_type=x")).unwrap();
        let ClientProof::Secret(secret) = p.proof else {
            panic!("a secret")
        };
        assert_eq!(
            (p.client_id.as_str(), secret.expose_secret()),
            ("app", "s:cret x")
        );
        let p = presented(&HeaderMap::new(), &params("client_id=app&client_secret=s")).unwrap();
        assert!(matches!(p.proof, ClientProof::Secret(s) if s.expose_secret() == "s"));
        let p = presented(&HeaderMap::new(), &params("client_id=app")).unwrap();
        assert!(matches!(p.proof, ClientProof::None));
        let jwt = format!(
            "e30.{}.sig",
            base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(r#"{"sub":"app"}"#)
        );
        let p = presented(
            &HeaderMap::new(),
            &params(&format!(
                "client_assertion_type={JWT_BEARER_ASSERTION}&client_assertion={jwt}"
            )),
        )
        .unwrap();
        assert_eq!(p.client_id, "app");
        assert!(matches!(p.proof, ClientProof::Assertion(_)));
        let two = format!(
            "client_assertion_type={JWT_BEARER_ASSERTION}&client_assertion={jwt}&client_secret=x"
        );
        assert_eq!(
            presented(&HeaderMap::new(), &params(&two))
                .err()
                .unwrap()
                .code(),
            "invalid_request"
        );
        let wrong_type = format!("client_assertion_type=x&client_assertion={jwt}");
        assert_eq!(
            presented(&HeaderMap::new(), &params(&wrong_type))
                .err()
                .unwrap()
                .code(),
            "invalid_request"
        );
        assert_eq!(
            presented(&HeaderMap::new(), &params("x=y"))
                .err()
                .unwrap()
                .code(),
            "invalid_client"
        );
        assert_eq!(
            presented(&basic("a", "b"), &params("client_secret=s"))
                .err()
                .unwrap()
                .code(),
            "invalid_request"
        );
        assert_eq!(
            presented(&basic("a", "b"), &params("client_id=other"))
                .err()
                .unwrap()
                .code(),
            "invalid_request"
        );
        let mut bearer = HeaderMap::new();
        bearer.insert(http::header::AUTHORIZATION, "Bearer abc".parse().unwrap());
        assert_eq!(
            presented(&bearer, &params("")).err().unwrap().code(),
            "invalid_client"
        );
    }
}
