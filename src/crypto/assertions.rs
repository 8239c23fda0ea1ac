//! Verifying JWT assertions (RFC 7523) signed by a client's registered public keys: PEM
//! blocks or a JWKS document. Only asymmetric algorithms of the key's own type are
//! accepted: `none` and HMAC (which would use the public key as a shared secret) never.

use jsonwebtoken::jwk::{AlgorithmParameters, JwkSet};
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use serde::Deserialize;

/// The algorithms an assertion may be signed with (discovery advertises exactly these).
pub const ALGORITHMS: [Algorithm; 9] = [
    Algorithm::ES256,
    Algorithm::ES384,
    Algorithm::RS256,
    Algorithm::RS384,
    Algorithm::RS512,
    Algorithm::PS256,
    Algorithm::PS384,
    Algorithm::PS512,
    Algorithm::EdDSA,
];

/// The JOSE names of `ALGORITHMS` (`ES256`, `EdDSA`...).
pub fn algorithm_names() -> Vec<String> {
    ALGORITHMS.iter().map(|a| format!("{a:?}")).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Family {
    Ec,
    Rsa,
    Ed,
}

impl Family {
    fn of(alg: Algorithm) -> Option<Self> {
        if !ALGORITHMS.contains(&alg) {
            return None;
        }
        match alg {
            Algorithm::ES256 | Algorithm::ES384 => Some(Family::Ec),
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => Some(Family::Rsa),
            Algorithm::EdDSA => Some(Family::Ed),
            _ => None,
        }
    }
}

struct Key {
    kid: Option<String>,
    family: Family,
    key: DecodingKey,
}

fn pem_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let Some(end_rel) = rest[start..].find("-----END ") else {
            break;
        };
        let after_end = start + end_rel + 9;
        let Some(close) = rest[after_end..].find("-----") else {
            break;
        };
        let stop = after_end + close + 5;
        blocks.push(rest[start..stop].to_string());
        rest = &rest[stop..];
    }
    blocks
}

fn keys(registered: &str) -> Vec<Key> {
    let text = registered.trim();
    if text.starts_with('{') {
        let Ok(set) = serde_json::from_str::<JwkSet>(text) else {
            return Vec::new();
        };
        return set
            .keys
            .iter()
            .filter_map(|jwk| {
                let family = match &jwk.algorithm {
                    AlgorithmParameters::EllipticCurve(_) => Family::Ec,
                    AlgorithmParameters::RSA(_) => Family::Rsa,
                    AlgorithmParameters::OctetKeyPair(_) => Family::Ed,
                    AlgorithmParameters::OctetKey(_) => return None,
                };
                Some(Key {
                    kid: jwk.common.key_id.clone(),
                    family,
                    key: DecodingKey::from_jwk(jwk).ok()?,
                })
            })
            .collect();
    }
    pem_blocks(text)
        .iter()
        .filter_map(|pem| {
            let b = pem.as_bytes();
            if let Ok(key) = DecodingKey::from_ec_pem(b) {
                Some(Key {
                    kid: None,
                    family: Family::Ec,
                    key,
                })
            } else if let Ok(key) = DecodingKey::from_rsa_pem(b) {
                Some(Key {
                    kid: None,
                    family: Family::Rsa,
                    key,
                })
            } else {
                DecodingKey::from_ed_pem(b).ok().map(|key| Key {
                    kid: None,
                    family: Family::Ed,
                    key,
                })
            }
        })
        .collect()
}

/// The claims of a verified assertion.
#[derive(Debug, Clone, Deserialize)]
pub struct Assertion {
    pub iss: String,
    pub sub: String,
    pub exp: i64,
    #[serde(default)]
    pub iat: Option<i64>,
    pub jti: String,
}

/// Longest an assertion may live, and the clock skew tolerated.
pub const MAX_LIFETIME_SECS: i64 = 300;
pub const LEEWAY_SECS: u64 = 30;

/// Verifies `token`: signed by one of `registered` keys with an algorithm of that key's type,
/// `iss` = `client_id`, `aud` one of `audiences`, unexpired and short-lived, with `sub` and `jti`.
pub fn verify(
    token: &str,
    registered: &str,
    client_id: &str,
    audiences: &[&str],
    now: i64,
) -> Result<Assertion, String> {
    let header = decode_header(token).map_err(|_| "the assertion is not a well-formed JWT")?;
    let family = Family::of(header.alg).ok_or("the assertion's algorithm is not accepted")?;
    let candidates: Vec<Key> = keys(registered)
        .into_iter()
        .filter(|k| {
            k.family == family && (header.kid.is_none() || k.kid.is_none() || k.kid == header.kid)
        })
        .collect();
    if candidates.is_empty() {
        return Err("no registered key fits the assertion".into());
    }
    let mut v = Validation::new(header.alg);
    v.set_issuer(&[client_id]);
    v.set_audience(audiences);
    v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    v.leeway = LEEWAY_SECS;
    let claims = candidates
        .iter()
        .find_map(|k| decode::<Assertion>(token, &k.key, &v).ok())
        .ok_or("the assertion's signature, issuer, audience or expiry is wrong")?
        .claims;
    if claims.exp > now + MAX_LIFETIME_SECS + LEEWAY_SECS as i64 {
        return Err(format!(
            "the assertion must expire within {MAX_LIFETIME_SECS} seconds"
        ));
    }
    if claims.iat.is_some_and(|iat| iat > now + LEEWAY_SECS as i64) {
        return Err("the assertion is issued in the future".into());
    }
    if claims.jti.is_empty() || claims.jti.len() > 200 {
        return Err("the assertion needs a jti".into());
    }
    // No identifier of ours holds a control character (and PostgreSQL stores no NUL).
    if [&claims.iss, &claims.sub, &claims.jti]
        .iter()
        .any(|c| c.chars().any(char::is_control))
    {
        return Err("the assertion's iss, sub and jti must be printable".into());
    }
    Ok(claims)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
    use jsonwebtoken::{EncodingKey, Header, encode};
    use serde_json::json;

    /// The SubjectPublicKeyInfo PEM of a P-256 key given as a JWK.
    fn spki_pem(jwk: &serde_json::Value) -> String {
        let mut der = hex_decode("3059301306072a8648ce3d020106082a8648ce3d030107034200");
        der.push(4);
        for c in ["x", "y"] {
            der.extend(URL_SAFE_NO_PAD.decode(jwk[c].as_str().unwrap()).unwrap());
        }
        format!(
            "-----BEGIN PUBLIC KEY-----\n{}\n-----END PUBLIC KEY-----\n",
            STANDARD.encode(der)
        )
    }

    fn hex_decode(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    #[test]
    fn pem_registered_keys_verify_and_refuse() {
        let key = crate::crypto::signing::generate_es256().unwrap();
        let pem = spki_pem(&key.public_jwk);
        assert_eq!(crate::crypto::public_keys::validate(&pem).unwrap(), 1);
        let now = 1_000_000_000;
        let claims = json!({ "iss": "app", "sub": "u@example.com", "aud": "https://id.example.com", "exp": now + 60, "jti": "x" });
        let jwt = encode(
            &Header::new(Algorithm::ES256),
            &claims,
            &EncodingKey::from_ec_der(&key.pkcs8),
        )
        .unwrap();
        // jsonwebtoken checks exp against the real clock, so use a far-future exp via leeway-free fields.
        let far = json!({ "iss": "app", "sub": "u@example.com", "aud": "https://id.example.com", "exp": 4_000_000_000i64, "jti": "x" });
        let jwt_far = encode(
            &Header::new(Algorithm::ES256),
            &far,
            &EncodingKey::from_ec_der(&key.pkcs8),
        )
        .unwrap();
        let ok = verify(
            &jwt_far,
            &pem,
            "app",
            &["https://id.example.com"],
            4_000_000_000 - 60,
        )
        .unwrap();
        assert_eq!(ok.sub, "u@example.com");
        assert!(
            verify(
                &jwt_far,
                &pem,
                "other-app",
                &["https://id.example.com"],
                4_000_000_000 - 60
            )
            .is_err()
        );
        assert!(
            verify(&jwt_far, &pem, "app", &["https://id.example.com"], 1_000)
                .unwrap_err()
                .contains("within")
        );
        assert!(
            verify(&jwt, &pem, "app", &["https://id.example.com"], now).is_err(),
            "expired by the real clock"
        );
        let hs = encode(
            &Header::new(Algorithm::HS256),
            &far,
            &EncodingKey::from_secret(pem.as_bytes()),
        )
        .unwrap();
        assert!(
            verify(
                &hs,
                &pem,
                "app",
                &["https://id.example.com"],
                4_000_000_000 - 60
            )
            .is_err()
        );
    }
}
