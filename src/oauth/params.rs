//! Request parameters of the protocol endpoints: form-encoded (or JSON) bodies, with
//! repeated, oversized or malformed parameters refused as `invalid_request`.

use std::collections::HashMap;

use axum::body::Bytes;
use http::HeaderMap;

use crate::domain::oauth::OAuthError;

pub const MAX_PARAM_LEN: usize = 8 * 1024;

#[derive(Debug, Default)]
pub struct Params(HashMap<String, String>);

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .get(name)
            .map(String::as_str)
            .filter(|v| !v.is_empty())
    }

    /// Every parameter, as sent.
    pub fn into_map(self) -> HashMap<String, String> {
        self.0
    }

    pub fn require(&self, name: &str) -> Result<&str, OAuthError> {
        self.get(name)
            .ok_or_else(|| OAuthError::InvalidRequest(format!("the {name} parameter is missing")))
    }

    fn insert(&mut self, key: String, value: String) -> Result<(), OAuthError> {
        if value.len() > MAX_PARAM_LEN || key.len() > 100 {
            return Err(OAuthError::InvalidRequest("a parameter is too long".into()));
        }
        if self.0.contains_key(&key) {
            let shown: String = key.chars().take(40).collect();
            return Err(OAuthError::InvalidRequest(format!(
                "the {shown} parameter is repeated"
            )));
        }
        self.0.insert(key, value);
        Ok(())
    }

    /// Parses form-encoded pairs (a query string or a form body).
    pub fn from_form(raw: &[u8]) -> Result<Self, OAuthError> {
        let mut params = Params::default();
        for (k, v) in url::form_urlencoded::parse(raw) {
            params.insert(k.into_owned(), v.into_owned())?;
        }
        Ok(params)
    }

    /// Parses a form-encoded body, or a JSON object of strings.
    pub fn from_body(headers: &HeaderMap, body: &Bytes) -> Result<Self, OAuthError> {
        let content_type = headers
            .get(http::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        let mime = content_type
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let mut params = Params::default();
        match mime.as_str() {
            "application/x-www-form-urlencoded" => return Self::from_form(body),
            "application/json" => {
                let doc: serde_json::Map<String, serde_json::Value> = serde_json::from_slice(body)
                    .map_err(|_| {
                        OAuthError::InvalidRequest("the body is not a JSON object".into())
                    })?;
                for (k, v) in doc {
                    let v = match v {
                        serde_json::Value::String(s) => s,
                        serde_json::Value::Number(n) => n.to_string(),
                        _ => {
                            return Err(OAuthError::InvalidRequest(format!(
                                "the {k} parameter must be a string"
                            )));
                        }
                    };
                    params.insert(k, v)?;
                }
            }
            _ => {
                return Err(OAuthError::InvalidRequest(
                    "the body must be application/x-www-form-urlencoded".into(),
                ));
            }
        }
        Ok(params)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn form(body: &str) -> Result<Params, OAuthError> {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=UTF-8"
                .parse()
                .unwrap(),
        );
        Params::from_body(&h, &Bytes::from(body.to_string()))
    }

    #[test]
    fn parses_and_refuses() {
        let p = form("grant_type=client_credentials&scope=read%3Aapps+manage%3Aapps").unwrap();
        assert_eq!(p.get("scope"), Some("read:apps manage:apps"));
        assert_eq!(p.require("x").unwrap_err().code(), "invalid_request");
        assert!(
            form("scope=a&scope=b")
                .unwrap_err()
                .description()
                .contains("repeated")
        );
        assert!(form(&format!("scope={}", "a".repeat(9000))).is_err());
        let mut h = HeaderMap::new();
        h.insert(
            http::header::CONTENT_TYPE,
            "application/json".parse().unwrap(),
        );
        let p =
            Params::from_body(&h, &Bytes::from(r#"{"grant_type":"client_credentials"}"#)).unwrap();
        assert_eq!(p.get("grant_type"), Some("client_credentials"));
        assert!(Params::from_body(&h, &Bytes::from(r#"{"grant_type":["a"]}"#)).is_err());
        assert!(Params::from_body(&HeaderMap::new(), &Bytes::from("a=b")).is_err());
    }
}
