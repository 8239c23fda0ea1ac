//! A software WebAuthn authenticator for the tests (ECDSA P-256 with ring, "none"
//! attestation, CBOR written by hand): it answers the options the server sends as a browser
//! and an authenticator would, and can be told to lie (another origin or RP id, another
//! challenge, a counter that does not grow, another key) for the attack tests.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use ring::rand::SystemRandom;
use ring::signature::{ECDSA_P256_SHA256_ASN1_SIGNING, EcdsaKeyPair, KeyPair};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

pub struct Authenticator {
    key: EcdsaKeyPair,
    pkcs8: Vec<u8>,
    pub credential_id: Vec<u8>,
    /// The user handle kept with a discoverable credential.
    pub user_handle: Vec<u8>,
    pub counter: u32,
    /// The origin the "browser" puts in the client data.
    pub origin: String,
    /// The RP id whose hash the authenticator puts in its data (None: the one asked for).
    pub rp_id: Option<String>,
    /// Whether the credential is backup eligible (a synced passkey).
    pub backup_eligible: bool,
    /// Signs this challenge instead of the one asked for.
    pub challenge: Option<Vec<u8>>,
    rng: SystemRandom,
}

fn key_pair(rng: &SystemRandom, pkcs8: &[u8]) -> EcdsaKeyPair {
    EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, pkcs8, rng).unwrap()
}

/// CBOR header of major type `major` with length or value `n`.
fn head(major: u8, n: usize) -> Vec<u8> {
    let m = major << 5;
    match n {
        0..=23 => vec![m | n as u8],
        24..=255 => vec![m | 24, n as u8],
        _ => {
            let mut v = vec![m | 25];
            v.extend_from_slice(&(n as u16).to_be_bytes());
            v
        }
    }
}

fn text(s: &str) -> Vec<u8> {
    let mut v = head(3, s.len());
    v.extend_from_slice(s.as_bytes());
    v
}

fn bytes(b: &[u8]) -> Vec<u8> {
    let mut v = head(2, b.len());
    v.extend_from_slice(b);
    v
}

fn b64(v: &Value) -> Vec<u8> {
    B64.decode(v.as_str().unwrap()).unwrap()
}

impl Authenticator {
    pub fn new(origin: &str) -> Self {
        let rng = SystemRandom::new();
        let mut credential_id = vec![0u8; 32];
        ring::rand::SecureRandom::fill(&rng, &mut credential_id).unwrap();
        let pkcs8 = EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_ASN1_SIGNING, &rng)
            .unwrap()
            .as_ref()
            .to_vec();
        Authenticator {
            key: key_pair(&rng, &pkcs8),
            pkcs8,
            credential_id,
            user_handle: Vec::new(),
            counter: 0,
            origin: origin.to_string(),
            rp_id: None,
            backup_eligible: false,
            challenge: None,
            rng,
        }
    }

    /// The same credential id and user handle under another key (a forger who saw both).
    pub fn impostor_of(other: &Authenticator) -> Self {
        let mut a = Authenticator::new(&other.origin);
        a.credential_id = other.credential_id.clone();
        a.user_handle = other.user_handle.clone();
        a.counter = other.counter;
        a
    }

    /// The same authenticator (key, credential, counter), to tell one lie with.
    pub fn twin(&self) -> Self {
        let mut a = Authenticator::impostor_of(self);
        a.key = key_pair(&self.rng, &self.pkcs8);
        a.pkcs8 = self.pkcs8.clone();
        a.backup_eligible = self.backup_eligible;
        a
    }

    fn rp_hash(&self, asked: &str) -> Vec<u8> {
        Sha256::digest(self.rp_id.as_deref().unwrap_or(asked).as_bytes()).to_vec()
    }

    fn flags(&self, attested: bool) -> u8 {
        // User present, user verified; backup eligible and state for a synced passkey.
        let mut f = 0x01 | 0x04;
        if self.backup_eligible {
            f |= 0x08 | 0x10;
        }
        if attested {
            f |= 0x40;
        }
        f
    }

    fn client_data(&self, kind: &str, challenge: &[u8]) -> Vec<u8> {
        let challenge = self.challenge.clone().unwrap_or_else(|| challenge.to_vec());
        serde_json::to_vec(&json!({
            "type": kind,
            "challenge": B64.encode(challenge),
            "origin": self.origin,
            "crossOrigin": false,
        }))
        .unwrap()
    }

    /// The COSE form of the public key (EC2, ES256, P-256).
    fn cose_key(&self) -> Vec<u8> {
        let public = self.key.public_key().as_ref(); // 0x04 || x || y
        let mut v = head(5, 5);
        v.extend_from_slice(&[0x01, 0x02, 0x03, 0x26, 0x20, 0x01]);
        v.push(0x21);
        v.extend(bytes(&public[1..33]));
        v.push(0x22);
        v.extend(bytes(&public[33..65]));
        v
    }

    /// Answers `navigator.credentials.create` with the options the server sent (its JSON
    /// as the server function returns it).
    pub fn register(&mut self, options: &str) -> String {
        let options: Value = serde_json::from_str(options).unwrap();
        let pk = &options["publicKey"];
        self.user_handle = b64(&pk["user"]["id"]);
        let rp_id = pk["rp"]["id"].as_str().unwrap();
        let mut auth = self.rp_hash(rp_id);
        auth.push(self.flags(true));
        auth.extend_from_slice(&self.counter.to_be_bytes());
        auth.extend_from_slice(&[0u8; 16]); // AAGUID
        auth.extend_from_slice(&(self.credential_id.len() as u16).to_be_bytes());
        auth.extend_from_slice(&self.credential_id);
        auth.extend(self.cose_key());
        let mut att = head(5, 3);
        att.extend(text("fmt"));
        att.extend(text("none"));
        att.extend(text("attStmt"));
        att.extend(head(5, 0));
        att.extend(text("authData"));
        att.extend(bytes(&auth));
        let client_data = self.client_data("webauthn.create", &b64(&pk["challenge"]));
        json!({
            "id": B64.encode(&self.credential_id),
            "rawId": B64.encode(&self.credential_id),
            "type": "public-key",
            "response": {
                "attestationObject": B64.encode(att),
                "clientDataJSON": B64.encode(client_data),
            },
            "extensions": {},
        })
        .to_string()
    }

    /// Answers `navigator.credentials.get` with the options the server sent, the counter
    /// moved on by one (when it counts).
    pub fn assert(&mut self, options: &str) -> String {
        let options: Value = serde_json::from_str(options).unwrap();
        let pk = &options["publicKey"];
        let rp_id = pk["rpId"].as_str().unwrap();
        if self.counter > 0 {
            self.counter += 1;
        }
        self.sign(rp_id, &b64(&pk["challenge"]))
    }

    /// An assertion for `challenge` with the current counter as it is.
    pub fn sign(&self, rp_id: &str, challenge: &[u8]) -> String {
        let mut auth = self.rp_hash(rp_id);
        auth.push(self.flags(false));
        auth.extend_from_slice(&self.counter.to_be_bytes());
        let client_data = self.client_data("webauthn.get", challenge);
        let mut signed = auth.clone();
        signed.extend_from_slice(&Sha256::digest(&client_data));
        let signature = self.key.sign(&self.rng, &signed).unwrap();
        json!({
            "id": B64.encode(&self.credential_id),
            "rawId": B64.encode(&self.credential_id),
            "type": "public-key",
            "response": {
                "authenticatorData": B64.encode(auth),
                "clientDataJSON": B64.encode(client_data),
                "signature": B64.encode(signature.as_ref()),
                "userHandle": B64.encode(&self.user_handle),
            },
            "extensions": {},
        })
        .to_string()
    }
}
