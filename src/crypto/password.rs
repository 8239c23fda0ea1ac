//! User passwords: argon2id (OWASP parameters), verified off the async threads with
//! bounded parallelism so a burst of logins cannot exhaust memory.

use std::sync::{Arc, LazyLock};

use argon2::password_hash::{
    PasswordHash, PasswordHasher, PasswordVerifier, SaltString, rand_core::OsRng,
};
use argon2::{Algorithm, Argon2, Params, Version};
use secrecy::{ExposeSecret, SecretString};
use tokio::sync::Semaphore;

pub const MIN_LEN: usize = 12;
pub const MAX_LEN: usize = 256;

/// At most this many argon2 computations at once (19 MiB each).
static PERMITS: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(4)));

fn hasher() -> Argon2<'static> {
    // OWASP: m=19 MiB, t=2, p=1.
    let params = Params::new(19 * 1024, 2, 1, None).unwrap_or_default();
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// A hash of a random password, verified when the user does not exist, so that an
/// unknown e-mail costs the same time as a wrong password.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| hash_blocking(&crate::crypto::random_token(24)).unwrap_or_default());

/// Checks the password policy: length only (NIST SP 800-63B), no composition rules.
pub fn check_policy(password: &str) -> Result<(), String> {
    let n = password.chars().count();
    if n < MIN_LEN {
        return Err(format!("must be at least {MIN_LEN} characters"));
    }
    if n > MAX_LEN {
        return Err(format!("must be at most {MAX_LEN} characters"));
    }
    Ok(())
}

fn hash_blocking(password: &str) -> Result<String, argon2::password_hash::Error> {
    let salt = SaltString::generate(&mut OsRng);
    Ok(hasher()
        .hash_password(password.as_bytes(), &salt)?
        .to_string())
}

fn verify_blocking(password: &str, hash: &str) -> bool {
    PasswordHash::new(hash).is_ok_and(|parsed| {
        hasher()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok()
    })
}

async fn run_bounded<T: Send + 'static>(
    f: impl FnOnce() -> T + Send + 'static,
) -> Result<T, PasswordError> {
    let _permit = PERMITS
        .clone()
        .acquire_owned()
        .await
        .map_err(|_| PasswordError)?;
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| PasswordError)
}

/// Hashes a password with a fresh salt (PHC string).
pub async fn hash(password: SecretString) -> Result<String, PasswordError> {
    run_bounded(move || hash_blocking(password.expose_secret()))
        .await?
        .map_err(|_| PasswordError)
}

/// Verifies a password against a stored hash, or against the dummy hash when there is
/// no user, so both paths cost the same.
pub async fn verify(password: SecretString, stored: Option<String>) -> bool {
    let known = stored.is_some();
    let hash = stored.unwrap_or_else(|| DUMMY_HASH.clone());
    let ok = run_bounded(move || verify_blocking(password.expose_secret(), &hash))
        .await
        .unwrap_or(false);
    ok && known
}

#[derive(Debug, thiserror::Error)]
#[error("password hashing failed")]
pub struct PasswordError;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hash_and_verify() {
        let h = hash(SecretString::from("correct horse battery"))
            .await
            .unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify(SecretString::from("correct horse battery"), Some(h.clone())).await);
        assert!(!verify(SecretString::from("wrong horse battery"), Some(h)).await);
        assert!(!verify(SecretString::from("anything at all"), None).await);
    }

    #[test]
    fn policy() {
        assert!(check_policy("short").is_err());
        assert!(check_policy("twelve chars").is_ok());
        assert!(check_policy(&"x".repeat(257)).is_err());
    }
}
