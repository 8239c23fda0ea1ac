//! Custom APIs (resource servers): an identifier used as the token audience, and the
//! scopes the API defines with their plain words.

use serde::{Deserialize, Serialize};

use super::scope::is_custom_syntax;
use super::{FieldError, FieldErrors, parse_name};

/// Most scopes one API defines.
pub const MAX_SCOPES: usize = 50;
const MAX_IDENTIFIER: usize = 200;
const MAX_WORDS: usize = 200;

/// An API as submitted by a form, the CLI or the REST API.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ApiInput {
    pub name: String,
    /// An absolute `https://` (or, on loopback, `http://`) URI or a `urn:`.
    pub identifier: String,
    /// One scope per line, its name then its plain words: `orders:read Read your orders`.
    pub scopes: String,
}

/// A validated API.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiSpec {
    pub name: String,
    pub identifier: String,
    pub scopes: Vec<(String, String)>,
}

impl ApiInput {
    pub fn parse(&self) -> Result<ApiSpec, FieldErrors> {
        let mut errors = FieldErrors::default();
        let name = errors.check(parse_name("name", &self.name));
        let identifier = errors.check(parse_identifier(&self.identifier));
        let scopes = errors.check(parse_scopes(&self.scopes));
        match (name, identifier, scopes) {
            (Some(name), Some(identifier), Some(scopes)) if errors.is_empty() => Ok(ApiSpec {
                name,
                identifier,
                scopes,
            }),
            _ => Err(errors),
        }
    }
}

/// The audience URI: absolute, no fragment, no credentials; `https`, `http` only on
/// loopback (development), or a `urn:`.
pub fn parse_identifier(raw: &str) -> Result<String, FieldError> {
    let raw = raw.trim();
    let bad = |m: &str| Err(FieldError::new("identifier", m));
    if raw.is_empty() {
        return bad("is required");
    }
    if raw.len() > MAX_IDENTIFIER || raw.chars().any(|c| c.is_control() || c.is_whitespace()) {
        return bad("must be a URI of at most 200 characters, without spaces");
    }
    let Ok(url) = url::Url::parse(raw) else {
        return bad("must be an absolute URI, such as https://api.example.com/orders");
    };
    let loopback = matches!(url.host_str(), Some("localhost" | "127.0.0.1" | "[::1]"));
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "urn" => {}
        _ => return bad("must use https (http only on localhost) or urn"),
    }
    if url.fragment().is_some() || !url.username().is_empty() || url.password().is_some() {
        return bad("must not have a fragment or credentials");
    }
    Ok(raw.to_string())
}

/// One scope per line: its name (`resource:action`) and optional plain words.
pub fn parse_scopes(raw: &str) -> Result<Vec<(String, String)>, FieldError> {
    let mut out: Vec<(String, String)> = Vec::new();
    for line in raw.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let (name, words) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
        let words = words.trim();
        if !is_custom_syntax(name) {
            let shown: String = name.chars().take(40).collect();
            return Err(FieldError::new(
                "scopes",
                format!("{shown} is not a valid scope: use resource:action, such as orders:read"),
            ));
        }
        if words.chars().count() > MAX_WORDS || words.chars().any(char::is_control) {
            return Err(FieldError::new(
                "scopes",
                format!("the description of {name} is too long"),
            ));
        }
        if out.iter().any(|(n, _)| n == name) {
            return Err(FieldError::new("scopes", format!("{name} is listed twice")));
        }
        out.push((name.to_string(), words.to_string()));
    }
    if out.is_empty() {
        return Err(FieldError::new("scopes", "define at least one scope"));
    }
    if out.len() > MAX_SCOPES {
        return Err(FieldError::new(
            "scopes",
            format!("at most {MAX_SCOPES} scopes"),
        ));
    }
    Ok(out)
}

/// The stored form of the scopes: one `name words` per line.
pub fn scopes_text(scopes: &[(String, String)]) -> String {
    scopes
        .iter()
        .map(|(n, w)| {
            if w.is_empty() {
                n.clone()
            } else {
                format!("{n} {w}")
            }
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn identifiers() {
        for ok in [
            "https://api.example.com/orders",
            "urn:acme:orders",
            "http://localhost:8080/api",
        ] {
            assert_eq!(parse_identifier(ok).unwrap(), ok);
        }
        for bad in [
            "",
            "orders",
            "http://api.example.com",
            "https://a.example/#x",
            "https://u:p@a.example/",
            "javascript:alert(1)",
            "https://a.example/ b",
        ] {
            assert!(parse_identifier(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn scopes_one_per_line() {
        let s = parse_scopes("orders:read Read your orders\n\n  orders:write  Place orders \n")
            .unwrap();
        assert_eq!(
            s,
            vec![
                ("orders:read".into(), "Read your orders".into()),
                ("orders:write".into(), "Place orders".into())
            ]
        );
        assert_eq!(
            scopes_text(&s),
            "orders:read Read your orders\norders:write Place orders"
        );
        for bad in [
            "",
            "openid",
            "read:apps",
            "orders:read\norders:read",
            "Orders:Read x",
            &"a:b\n".repeat(51),
        ] {
            assert!(parse_scopes(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn all_errors_at_once() {
        let e = ApiInput::default().parse().unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["name", "identifier", "scopes"]);
    }
}
