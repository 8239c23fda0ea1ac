//! Client credentials as presented: HTTP Basic (`client_secret_basic`), body parameters
//! (`client_secret_post`) or a bare `client_id` (public clients). Exactly one method.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::HeaderMap;
use secrecy::SecretString;

use super::params::Params;
use crate::domain::oauth::OAuthError;

pub struct Presented {
    pub client_id: String,
    pub secret: Option<SecretString>,
}

fn form_decode(s: &str) -> String {
    url::form_urlencoded::parse(format!("x={s}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned())
        .unwrap_or_default()
}

pub fn presented(headers: &HeaderMap, params: &Params) -> Result<Presented, OAuthError> {
    let bad = |m: &str| OAuthError::InvalidClient(m.into());
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
            Some((form_decode(id), form_decode(secret)))
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
            secret: Some(SecretString::from(secret)),
        }),
        (None, Some(id), secret) => Ok(Presented {
            client_id: id.to_string(),
            secret: secret.map(|s| SecretString::from(s.to_string())),
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
        assert_eq!(
            (p.client_id.as_str(), p.secret.unwrap().expose_secret()),
            ("app", "s:cret x")
        );
        let p = presented(&HeaderMap::new(), &params("client_id=app&client_secret=s")).unwrap();
        assert_eq!(p.secret.unwrap().expose_secret(), "s");
        assert!(
            presented(&HeaderMap::new(), &params("client_id=app"))
                .unwrap()
                .secret
                .is_none()
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
