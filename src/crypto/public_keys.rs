//! Public keys registered for the JWT bearer grant and `private_key_jwt`: a PEM
//! `PUBLIC KEY` block (or several) or a JWKS document. Checked for shape here; the
//! token endpoint loads them for signature checks.

use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

pub const MAX_LEN: usize = 64 * 1024;

/// Validates and normalises a PEM or JWKS text; returns the number of keys found.
pub fn validate(text: &str) -> Result<usize, String> {
    let text = text.trim();
    if text.len() > MAX_LEN {
        return Err(format!("must be at most {MAX_LEN} bytes"));
    }
    if text.starts_with('{') {
        validate_jwks(text)
    } else {
        validate_pem(text)
    }
}

fn validate_pem(text: &str) -> Result<usize, String> {
    let mut count = 0;
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + 11..];
        let label_end = after.find("-----").ok_or("is not a valid PEM block")?;
        let label = &after[..label_end];
        if label != "PUBLIC KEY" && label != "RSA PUBLIC KEY" {
            return Err(format!("must contain public keys only, found {label}"));
        }
        let body_start = &after[label_end + 5..];
        let end_marker = format!("-----END {label}-----");
        let end = body_start
            .find(&end_marker)
            .ok_or("is a PEM block without its END line")?;
        let b64: String = body_start[..end]
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let der = STANDARD
            .decode(b64)
            .map_err(|_| "has a PEM block that is not valid base64")?;
        if der.len() < 32 || der[0] != 0x30 {
            return Err("has a PEM block that is not a DER public key".into());
        }
        count += 1;
        rest = &body_start[end + end_marker.len()..];
    }
    if count == 0 {
        return Err("must be a PEM public key or a JWKS document".into());
    }
    Ok(count)
}

fn validate_jwks(text: &str) -> Result<usize, String> {
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|_| "is not valid JSON")?;
    let keys = doc
        .get("keys")
        .and_then(|k| k.as_array())
        .ok_or("must be a JWKS document with a \"keys\" array")?;
    if keys.is_empty() {
        return Err("has an empty \"keys\" array".into());
    }
    for key in keys {
        if key.get("d").is_some() {
            return Err("contains a private key; register public keys only".into());
        }
        let has = |p: &str| {
            key.get(p)
                .and_then(|v| v.as_str())
                .is_some_and(|v| URL_SAFE_NO_PAD.decode(v).is_ok())
        };
        let ok = match key.get("kty").and_then(|v| v.as_str()) {
            Some("RSA") => has("n") && has("e"),
            Some("EC") => has("x") && has("y") && key.get("crv").is_some(),
            Some("OKP") => has("x") && key.get("crv").is_some(),
            _ => false,
        };
        if !ok {
            return Err("has a key that is not a complete RSA, EC or OKP public key".into());
        }
    }
    Ok(keys.len())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    const EC_PEM: &str = "-----BEGIN PUBLIC KEY-----
MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAEEVs/o5+uQbTjL3chynL4wXgUg2R9
q9UU8I5mEovUf86QZ7kOBIjJwqnzD1omageEHWwHdBO6B+dFabmdT9POxg==
-----END PUBLIC KEY-----";

    #[test]
    fn pem_and_jwks() {
        assert_eq!(validate(EC_PEM).unwrap(), 1);
        assert_eq!(validate(&format!("{EC_PEM}\n{EC_PEM}")).unwrap(), 2);
        let jwks = r#"{"keys":[{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;
        assert_eq!(validate(jwks).unwrap(), 1);
    }

    #[test]
    fn refuses_private_and_junk() {
        assert!(validate("-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----").is_err());
        assert!(validate("hello").is_err());
        assert!(validate(r#"{"keys":[]}"#).is_err());
        assert!(validate(r#"{"keys":[{"kty":"RSA","n":"AQAB","e":"AQAB","d":"AQAB"}]}"#).is_err());
        assert!(validate(r#"{"keys":[{"kty":"oct","k":"AQAB"}]}"#).is_err());
        assert!(validate("-----BEGIN PUBLIC KEY-----\n!!!\n-----END PUBLIC KEY-----").is_err());
    }
}
