//! Client secrets: 256-bit random values shown once and stored as a SHA-256 digest.
//! A slow KDF buys nothing on a high-entropy secret (see DESIGN.md).

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Prefix that makes a leaked secret easy to recognise for secret scanners.
pub const PREFIX: &str = "lks_";

/// A freshly generated secret: the plaintext (to show once) and what is stored.
pub struct NewSecret {
    pub plaintext: SecretString,
    pub digest: String,
    pub hint: String,
}

pub fn generate() -> NewSecret {
    let plaintext = format!("{PREFIX}{}", super::random_token(32));
    let hint = format!("{}…", &plaintext[..PREFIX.len() + 4]);
    NewSecret {
        digest: digest(&plaintext),
        hint,
        plaintext: SecretString::from(plaintext),
    }
}

/// Hex SHA-256 of a presented secret.
pub fn digest(secret: &str) -> String {
    let hash = Sha256::digest(secret.as_bytes());
    hash.iter().map(|b| format!("{b:02x}")).collect()
}

/// Constant-time comparison of a presented secret with a stored digest.
pub fn verify(presented: &SecretString, stored_digest: &str) -> bool {
    let d = digest(presented.expose_secret());
    d.as_bytes().ct_eq(stored_digest.as_bytes()).into()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn generated_secrets_verify_and_differ() {
        let a = generate();
        let b = generate();
        assert!(a.plaintext.expose_secret().starts_with(PREFIX));
        assert_eq!(a.plaintext.expose_secret().len(), PREFIX.len() + 43); // 32 bytes base64url
        assert_ne!(a.plaintext.expose_secret(), b.plaintext.expose_secret());
        assert!(verify(&a.plaintext, &a.digest));
        assert!(!verify(&b.plaintext, &a.digest));
        assert!(
            !a.digest
                .contains(&a.plaintext.expose_secret()[PREFIX.len()..])
        );
        assert_eq!(a.digest.len(), 64);
        assert!(a.hint.starts_with(PREFIX));
    }
}
