//! A DPoP client key for the tests (RFC 9449, ES256 with ring): proofs for a method and URL,
//! with or without a nonce and an access token's hash, and the ways an attacker would bend
//! them (another key's signature under this key's jwk, an old `iat`).

#![allow(dead_code)]

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_FIXED_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub struct DpopKey {
    pair: EcdsaKeyPair,
    rng: SystemRandom,
    pub jwk: Value,
}

/// What a proof says beyond the method and URL.
#[derive(Default, Clone)]
pub struct Claims<'a> {
    pub nonce: Option<&'a str>,
    pub access_token: Option<&'a str>,
    /// Seconds to move `iat` by (negative: in the past).
    pub iat_shift: i64,
    pub jti: Option<&'a str>,
}

impl DpopKey {
    pub fn new() -> Self {
        let rng = SystemRandom::new();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &rng).unwrap();
        let pair = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, pkcs8.as_ref(), &rng)
            .unwrap();
        let public = pair.public_key().as_ref();
        let jwk = json!({
            "kty": "EC",
            "crv": "P-256",
            "x": B64.encode(&public[1..33]),
            "y": B64.encode(&public[33..65]),
        });
        Self { pair, rng, jwk }
    }

    /// The RFC 7638 thumbprint (`jkt`), computed here independently of the server.
    pub fn thumbprint(&self) -> String {
        let canonical = format!(
            r#"{{"crv":"P-256","kty":"EC","x":"{}","y":"{}"}}"#,
            self.jwk["x"].as_str().unwrap(),
            self.jwk["y"].as_str().unwrap()
        );
        B64.encode(Sha256::digest(canonical.as_bytes()))
    }

    /// A proof for `htm` `htu`, signed by this key, naming `as_jwk` in its header.
    fn signed(&self, as_jwk: &Value, htm: &str, htu: &str, c: &Claims<'_>) -> String {
        let header = json!({ "typ": "dpop+jwt", "alg": "ES256", "jwk": as_jwk });
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let mut random = [0u8; 16];
        ring::rand::SecureRandom::fill(&self.rng, &mut random).unwrap();
        let mut claims = json!({
            "jti": c.jti.map_or_else(|| B64.encode(random), str::to_string),
            "htm": htm,
            "htu": htu,
            "iat": now + c.iat_shift,
        });
        if let Some(n) = c.nonce {
            claims["nonce"] = n.into();
        }
        if let Some(t) = c.access_token {
            claims["ath"] = B64.encode(Sha256::digest(t.as_bytes())).into();
        }
        let input = format!(
            "{}.{}",
            B64.encode(header.to_string()),
            B64.encode(claims.to_string())
        );
        let sig = self.pair.sign(&self.rng, input.as_bytes()).unwrap();
        format!("{input}.{}", B64.encode(sig.as_ref()))
    }

    pub fn proof(&self, htm: &str, htu: &str, c: &Claims<'_>) -> String {
        self.signed(&self.jwk, htm, htu, c)
    }

    /// A proof that claims `victim`'s key but is signed with this one.
    pub fn forged_as(&self, victim: &DpopKey, htm: &str, htu: &str, c: &Claims<'_>) -> String {
        self.signed(&victim.jwk, htm, htu, c)
    }
}
