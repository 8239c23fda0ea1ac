//! PKCE (RFC 7636) with S256 only, and the OIDC `at_hash` (Core §3.1.3.6): both are the
//! base64url of a SHA-256 digest (the left half of it for `at_hash` with ES256).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Whether `verifier` (43 to 128 unreserved characters) hashes to `challenge`.
pub fn verify(verifier: &str, challenge: &str) -> bool {
    let well_formed = (43..=128).contains(&verifier.len())
        && verifier
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if !well_formed {
        return false;
    }
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

/// `at_hash` of an access token signed alongside an ES256 (or RS256) ID token.
pub fn at_hash(access_token: &str) -> String {
    let d = Sha256::digest(access_token.as_bytes());
    URL_SAFE_NO_PAD.encode(&d[..16])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc7636_appendix_b() {
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verify(verifier, challenge));
        assert!(!verify(
            "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXK",
            challenge
        ));
        assert!(!verify("short", challenge));
        assert!(!verify(&"a".repeat(129), challenge));
        assert!(!verify(challenge, challenge));
    }

    #[test]
    fn at_hash_is_half_the_digest() {
        assert_eq!(at_hash("x").len(), 22);
    }
}
