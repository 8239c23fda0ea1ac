//! Secrets, password hashing and the master key. Nothing here touches storage.

pub mod assertions;
pub mod dpop;
pub mod master_key;
pub mod password;
pub mod pkce;
pub mod public_keys;
pub mod secrets;
pub mod signing;
pub mod totp;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;

/// `n` bytes from the operating system's CSPRNG, base64url without padding.
pub fn random_token(n: usize) -> String {
    let mut bytes = vec![0u8; n];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}
