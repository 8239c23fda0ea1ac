//! Signing keys: ES256 (P-256) key pairs generated with ring, RS256 (RSA 2048) key pairs
//! generated with the `rsa` crate (ring signs with them), their public JWK and RFC 7638
//! thumbprint as key id.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub const ES256: &str = "ES256";
pub const RS256: &str = "RS256";
/// Every algorithm the ring holds a key of; the first signs access tokens.
pub const ALGS: &[&str] = &[ES256, RS256];

/// A new key pair: its id, private key (PKCS#8 DER for EC, PKCS#1 DER for RSA) and
/// public JWK.
pub struct GeneratedKey {
    pub kid: String,
    pub pkcs8: Vec<u8>,
    pub public_jwk: Value,
}

pub fn generate_es256() -> Result<GeneratedKey, String> {
    let rng = SystemRandom::new();
    let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng)
        .map_err(|_| "key generation failed")?;
    let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
        .map_err(|_| "key generation failed")?;
    // Uncompressed point: 0x04 || x (32 bytes) || y (32 bytes).
    let point = pair.public_key().as_ref();
    let (x, y) = (
        URL_SAFE_NO_PAD.encode(&point[1..33]),
        URL_SAFE_NO_PAD.encode(&point[33..65]),
    );
    let kid = thumbprint(&json!({ "crv": "P-256", "kty": "EC", "x": x, "y": y }));
    let public_jwk = json!({ "kty": "EC", "crv": "P-256", "x": x, "y": y, "use": "sig", "alg": ES256, "kid": kid });
    Ok(GeneratedKey {
        kid,
        pkcs8: pkcs8.as_ref().to_vec(),
        public_jwk,
    })
}

pub fn generate(alg: &str) -> Result<GeneratedKey, String> {
    match alg {
        ES256 => generate_es256(),
        RS256 => generate_rs256(),
        _ => Err(format!("unsupported signing algorithm {alg}")),
    }
}

pub fn generate_rs256() -> Result<GeneratedKey, String> {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::traits::PublicKeyParts;
    let key = rsa::RsaPrivateKey::new(&mut rand::rngs::OsRng, 2048)
        .map_err(|_| "key generation failed")?;
    let der = key.to_pkcs1_der().map_err(|_| "key encoding failed")?;
    let (n, e) = (
        URL_SAFE_NO_PAD.encode(key.n().to_bytes_be()),
        URL_SAFE_NO_PAD.encode(key.e().to_bytes_be()),
    );
    let kid = thumbprint(&json!({ "e": e, "kty": "RSA", "n": n }));
    let public_jwk =
        json!({ "kty": "RSA", "n": n, "e": e, "use": "sig", "alg": RS256, "kid": kid });
    Ok(GeneratedKey {
        kid,
        pkcs8: der.as_bytes().to_vec(),
        public_jwk,
    })
}

/// The encoding key of a private key as `generate` made it.
pub fn encoding_key(alg: &str, der: &[u8]) -> jsonwebtoken::EncodingKey {
    if alg == RS256 {
        jsonwebtoken::EncodingKey::from_rsa_der(der)
    } else {
        jsonwebtoken::EncodingKey::from_ec_der(der)
    }
}

/// RFC 7638 thumbprint of the required members (given in lexicographic order).
fn thumbprint(required: &Value) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(required.to_string().as_bytes()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_sign_and_verify() {
        let key = generate_es256().unwrap();
        assert_eq!(key.public_jwk["kid"], key.kid.as_str());
        assert_eq!(key.kid.len(), 43);
        let enc = jsonwebtoken::EncodingKey::from_ec_der(&key.pkcs8);
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256);
        header.kid = Some(key.kid.clone());
        let token = jsonwebtoken::encode(
            &header,
            &json!({ "sub": "x", "exp": 4_000_000_000u64 }),
            &enc,
        )
        .unwrap();
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.public_jwk.clone()).unwrap();
        let dec = jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap();
        let data = jsonwebtoken::decode::<Value>(
            &token,
            &dec,
            &jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::ES256),
        )
        .unwrap();
        assert_eq!(data.claims["sub"], "x");
        assert_ne!(generate_es256().unwrap().kid, key.kid);
    }

    #[test]
    fn rsa_keys_sign_and_verify() {
        let key = generate_rs256().unwrap();
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        header.kid = Some(key.kid.clone());
        let token = jsonwebtoken::encode(
            &header,
            &json!({ "sub": "y", "exp": 4_000_000_000u64 }),
            &encoding_key(RS256, &key.pkcs8),
        )
        .unwrap();
        let jwk: jsonwebtoken::jwk::Jwk = serde_json::from_value(key.public_jwk.clone()).unwrap();
        let data = jsonwebtoken::decode::<Value>(
            &token,
            &jsonwebtoken::DecodingKey::from_jwk(&jwk).unwrap(),
            &jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256),
        )
        .unwrap();
        assert_eq!(data.claims["sub"], "y");
    }

    #[test]
    fn rfc7638_example_thumbprint() {
        // The RSA example of RFC 7638 §3.1.
        let jwk = json!({
            "e": "AQAB", "kty": "RSA",
            "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw"
        });
        assert_eq!(
            thumbprint(&jwk),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }
}
