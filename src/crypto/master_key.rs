//! The master key: 32 bytes that encrypt server-side secrets at rest (AES-256-GCM).

use aes_gcm::aead::{Aead, KeyInit, OsRng};
use aes_gcm::{AeadCore, Aes256Gcm, Key, Nonce};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

#[derive(Clone)]
pub struct MasterKey(Key<Aes256Gcm>);

impl std::fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MasterKey(…)")
    }
}

impl MasterKey {
    /// Parses 32 bytes given as 64 hex digits or base64 (standard or url-safe).
    pub fn parse(text: &str) -> Result<Self, String> {
        let text = text.trim();
        let bytes = if text.len() == 64 && text.chars().all(|c| c.is_ascii_hexdigit()) {
            (0..32)
                .map(|i| u8::from_str_radix(&text[2 * i..2 * i + 2], 16))
                .collect::<Result<Vec<u8>, _>>()
                .map_err(|_| "the master key is not valid hex".to_string())?
        } else {
            STANDARD
                .decode(text)
                .or_else(|_| URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')))
                .map_err(|_| {
                    "the master key must be 32 bytes as 64 hex digits or base64".to_string()
                })?
        };
        if bytes.len() != 32 {
            return Err(format!(
                "the master key must be 32 bytes, got {}",
                bytes.len()
            ));
        }
        Ok(Self(*Key::<Aes256Gcm>::from_slice(&bytes)))
    }

    pub fn generate() -> (Self, String) {
        let key = Aes256Gcm::generate_key(OsRng);
        let text = STANDARD.encode(key);
        (Self(key), text)
    }

    /// A key for `purpose` derived from this one (HMAC-SHA256), so one secret in the
    /// environment serves several uses without their keys being related.
    pub fn derive(&self, purpose: &str) -> [u8; 32] {
        let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, self.0.as_slice());
        let tag = ring::hmac::sign(&key, purpose.as_bytes());
        let mut out = [0u8; 32];
        out.copy_from_slice(tag.as_ref());
        out
    }

    /// Encrypts and returns base64url(nonce || ciphertext).
    pub fn seal(&self, plaintext: &[u8]) -> String {
        let cipher = Aes256Gcm::new(&self.0);
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        // Encryption with a valid key and nonce cannot fail for in-memory buffers.
        let ct = cipher.encrypt(&nonce, plaintext).unwrap_or_default();
        let mut out = nonce.to_vec();
        out.extend(ct);
        URL_SAFE_NO_PAD.encode(out)
    }

    pub fn open(&self, sealed: &str) -> Option<Vec<u8>> {
        let data = URL_SAFE_NO_PAD.decode(sealed).ok()?;
        if data.len() < 12 + 16 {
            return None;
        }
        let (nonce, ct) = data.split_at(12);
        Aes256Gcm::new(&self.0)
            .decrypt(Nonce::from_slice(nonce), ct)
            .ok()
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn parse_generate_seal_open() {
        let (key, text) = MasterKey::generate();
        let again = MasterKey::parse(&text).unwrap();
        let sealed = key.seal(b"hello");
        assert_eq!(again.open(&sealed).unwrap(), b"hello");
        assert!(MasterKey::generate().0.open(&sealed).is_none());
        assert!(key.open("garbage").is_none());
        assert!(MasterKey::parse(&"ab".repeat(32)).is_ok());
        assert!(MasterKey::parse("short").is_err());
        assert!(MasterKey::parse(&STANDARD.encode([0u8; 16])).is_err());
    }
}
