//! DPoP proofs (RFC 9449 §4): a JWT the client signs with a key it holds, for one request
//! (method and URL), once, recently; its public key travels in the header and its RFC 7638
//! thumbprint (`jkt`) is what tokens are bound to. Also the server's nonces (§8): stateless,
//! an HMAC of the minute under a key derived from the master key, so every instance behind a
//! load balancer issues and accepts the same ones. Pure: the time is passed in.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::jwk::Jwk;
use jsonwebtoken::{DecodingKey, Validation, decode};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use super::assertions::ALGORITHMS;

/// How old a proof may be (its `iat`), and how far ahead of our clock.
pub const MAX_AGE_SECS: i64 = 300;
pub const MAX_AHEAD_SECS: i64 = 60;
/// A nonce is good for this many seconds at least (two to three windows).
const NONCE_WINDOW_SECS: i64 = 60;
const NONCE_WINDOWS: i64 = 3;

/// A checked proof: the key's thumbprint, the proof's id and its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proof {
    pub jkt: String,
    pub jti: String,
    pub iat: i64,
    pub nonce: Option<String>,
}

/// What a proof must say: the request's method and URL (without query or fragment), and
/// for a resource request the access token it comes with (`ath`).
pub struct Expected<'a> {
    pub htm: &'a str,
    pub htu: &'a str,
    pub access_token: Option<&'a str>,
}

/// base64url(SHA-256(s)), as `ath` and thumbprints are written.
pub fn hash_b64(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(bytes))
}

/// The RFC 7638 thumbprint of a public JWK: the required members only, in lexicographic
/// order, no whitespace, hashed with SHA-256.
pub fn thumbprint(jwk: &Map<String, Value>) -> Option<String> {
    let members: &[&str] = match jwk.get("kty")?.as_str()? {
        "EC" => &["crv", "kty", "x", "y"],
        "RSA" => &["e", "kty", "n"],
        "OKP" => &["crv", "kty", "x"],
        _ => return None,
    };
    let mut canonical = Map::new();
    for m in members {
        canonical.insert(
            (*m).to_string(),
            Value::String(jwk.get(*m)?.as_str()?.to_string()),
        );
    }
    // serde_json's map keeps keys sorted (no preserve_order feature): lexicographic.
    Some(hash_b64(Value::Object(canonical).to_string().as_bytes()))
}

/// A URL as `htu` compares it: without its query and fragment (RFC 9449 §4.3).
fn without_query(url: &str) -> &str {
    let end = url.find(['?', '#']).unwrap_or(url.len());
    &url[..end]
}

/// Checks a proof's form, signature and claims; replay (`jti`) and the nonce are the
/// caller's to check. `Err` says why, for the `invalid_dpop_proof` description.
pub fn verify(proof: &str, expected: &Expected<'_>, now: i64) -> Result<Proof, &'static str> {
    if proof.len() > 8 * 1024 {
        return Err("the DPoP proof is too long");
    }
    let head = proof.split('.').next().unwrap_or("");
    let header: Map<String, Value> = URL_SAFE_NO_PAD
        .decode(head)
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .ok_or("the DPoP proof is not a JWT")?;
    if header.get("typ").and_then(Value::as_str) != Some("dpop+jwt") {
        return Err("the DPoP proof's typ must be dpop+jwt");
    }
    let alg: jsonwebtoken::Algorithm = header
        .get("alg")
        .and_then(|a| serde_json::from_value(a.clone()).ok())
        .filter(|a| ALGORITHMS.contains(a))
        .ok_or("the DPoP proof must be signed with an asymmetric algorithm")?;
    let jwk = header
        .get("jwk")
        .and_then(Value::as_object)
        .ok_or("the DPoP proof carries no jwk")?;
    if ["d", "p", "q", "dp", "dq", "qi", "k"]
        .iter()
        .any(|m| jwk.contains_key(*m))
    {
        return Err("the DPoP proof's jwk must be a public key");
    }
    let jkt = thumbprint(jwk).ok_or("the DPoP proof's jwk is not a usable public key")?;
    let key: Jwk = serde_json::from_value(Value::Object(jwk.clone()))
        .map_err(|_| "the DPoP proof's jwk is not a usable public key")?;
    let key = DecodingKey::from_jwk(&key)
        .map_err(|_| "the DPoP proof's jwk is not a usable public key")?;
    let mut v = Validation::new(alg);
    v.validate_exp = false;
    v.validate_aud = false;
    v.set_required_spec_claims::<&str>(&[]);
    let claims = decode::<Map<String, Value>>(proof, &key, &v)
        .map_err(|_| "the DPoP proof's signature does not verify with its jwk")?
        .claims;
    let text = |name: &str| claims.get(name).and_then(Value::as_str);
    let jti = text("jti")
        .filter(|j| !j.is_empty() && j.len() <= 256)
        .ok_or("the DPoP proof has no jti")?;
    if text("htm") != Some(expected.htm) {
        return Err("the DPoP proof is for another HTTP method");
    }
    if text("htu").map(without_query) != Some(without_query(expected.htu)) {
        return Err("the DPoP proof is for another URL");
    }
    let iat = claims
        .get("iat")
        .and_then(Value::as_i64)
        .ok_or("the DPoP proof has no iat")?;
    if iat < now - MAX_AGE_SECS || iat > now + MAX_AHEAD_SECS {
        return Err("the DPoP proof is too old or from the future");
    }
    if let Some(token) = expected.access_token
        && text("ath") != Some(hash_b64(token.as_bytes()).as_str())
    {
        return Err("the DPoP proof's ath is not the access token's hash");
    }
    Ok(Proof {
        jkt,
        jti: jti.to_string(),
        iat,
        nonce: text("nonce").map(str::to_string),
    })
}

fn nonce_for(key: &[u8; 32], window: i64) -> String {
    let tag = ring::hmac::sign(
        &ring::hmac::Key::new(ring::hmac::HMAC_SHA256, key),
        &window.to_be_bytes(),
    );
    let mut bytes = window.to_be_bytes().to_vec();
    bytes.extend_from_slice(&tag.as_ref()[..16]);
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The nonce to hand out now.
pub fn nonce(key: &[u8; 32], now: i64) -> String {
    nonce_for(key, now.div_euclid(NONCE_WINDOW_SECS))
}

/// Whether `nonce` is one of ours from the last few minutes.
pub fn nonce_ok(key: &[u8; 32], nonce: &str, now: i64) -> bool {
    let current = now.div_euclid(NONCE_WINDOW_SECS);
    (0..NONCE_WINDOWS).any(|back| {
        let mine = nonce_for(key, current - back);
        bool::from(subtle::ConstantTimeEq::ct_eq(
            mine.as_bytes(),
            nonce.as_bytes(),
        ))
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn thumbprint_matches_rfc_7638_example() {
        // RFC 7638 §3.1.
        let jwk = json!({
            "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
            "e": "AQAB",
            "alg": "RS256",
            "kid": "2011-04-29"
        });
        assert_eq!(
            thumbprint(jwk.as_object().unwrap()).as_deref(),
            Some("NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs")
        );
        assert_eq!(
            thumbprint(json!({"kty": "oct", "k": "x"}).as_object().unwrap()),
            None
        );
        assert_eq!(
            thumbprint(
                json!({"kty": "EC", "crv": "P-256", "x": "a"})
                    .as_object()
                    .unwrap()
            ),
            None
        );
    }

    #[test]
    fn nonces_last_a_few_minutes_and_are_keyed() {
        let key = [7u8; 32];
        let n = nonce(&key, 1_000_000);
        assert!(nonce_ok(&key, &n, 1_000_000));
        assert!(nonce_ok(&key, &n, 1_000_000 + 119));
        assert!(!nonce_ok(&key, &n, 1_000_000 + 200));
        assert!(!nonce_ok(&[8u8; 32], &n, 1_000_000));
        assert!(!nonce_ok(&key, "made-up", 1_000_000));
    }

    #[test]
    fn malformed_proofs_are_refused_with_a_reason() {
        let e = Expected {
            htm: "POST",
            htu: "https://id.example.com/oauth2/token",
            access_token: None,
        };
        assert!(verify("nonsense", &e, 0).is_err());
        let head = URL_SAFE_NO_PAD.encode(r#"{"typ":"dpop+jwt","alg":"none"}"#);
        assert_eq!(
            verify(&format!("{head}.e30."), &e, 0),
            Err("the DPoP proof must be signed with an asymmetric algorithm")
        );
        let head = URL_SAFE_NO_PAD.encode(r#"{"typ":"dpop+jwt","alg":"HS256"}"#);
        assert!(verify(&format!("{head}.e30.x"), &e, 0).is_err());
        let head = URL_SAFE_NO_PAD.encode(
            r#"{"typ":"dpop+jwt","alg":"ES256","jwk":{"kty":"EC","crv":"P-256","x":"a","y":"b","d":"c"}}"#,
        );
        assert_eq!(
            verify(&format!("{head}.e30.x"), &e, 0),
            Err("the DPoP proof's jwk must be a public key")
        );
        assert_eq!(without_query("https://a/b?c=d#e"), "https://a/b");
    }
}
