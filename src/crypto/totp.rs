//! Authenticator-app codes (TOTP, RFC 6238, through `totp-rs`): SHA-1, 6 digits, 30-second
//! steps, one step either side accepted; the enrolment URI and its QR code; recovery codes.

use rand::RngCore;
use totp_rs::{Algorithm, Builder, Secret, Totp};

/// Seconds per step.
pub const STEP: u64 = 30;
/// Bytes of a new secret (160 bits, RFC 4226's recommendation).
const SECRET_BYTES: usize = 20;

fn totp(secret: &[u8], digits: u8) -> Option<Totp> {
    Builder::new()
        .with_algorithm(Algorithm::SHA1)
        .with_digits(digits)
        .with_skew(1)
        .with_step_duration(STEP)
        .with_secret(Secret::new(secret.to_vec().into_boxed_slice()))
        .build()
        .ok()
}

/// A new random secret.
pub fn new_secret() -> Vec<u8> {
    let mut bytes = vec![0u8; SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    bytes
}

/// The secret as authenticator apps type it (RFC 4648 base32, no padding).
pub fn base32(secret: &[u8]) -> String {
    Secret::new(secret.to_vec().into_boxed_slice()).to_base32()
}

/// A base32 secret as typed into an app, back to bytes.
pub fn from_base32(typed: &str) -> Option<Vec<u8>> {
    Secret::try_from_base32(typed)
        .ok()
        .map(|s| s.as_bytes().to_vec())
}

/// The time step `code` belongs to at `now` (seconds), within one step either side; None
/// when it matches none. The caller accepts each step once.
pub fn check(secret: &[u8], code: &str, now: u64) -> Option<u64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    totp(secret, 6)?.check(&code, now)
}

/// The code of `secret` at `now` (tests and the command line's checks).
pub fn code_at(secret: &[u8], now: u64) -> Option<String> {
    Some(totp(secret, 6)?.generate(now).to_string())
}

fn encode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// The `otpauth://` URI an authenticator app reads from the QR code (Google's Key URI
/// format, which every app follows).
pub fn otpauth_uri(secret: &[u8], issuer: &str, account: &str) -> String {
    let label = format!("{}:{}", issuer.replace(':', ""), account.replace(':', ""));
    format!(
        "otpauth://totp/{}?secret={}&issuer={}&algorithm=SHA1&digits=6&period={STEP}",
        encode(&label).replace('+', "%20"),
        base32(secret),
        encode(&issuer.replace(':', "")).replace('+', "%20"),
    )
}

/// The QR code of `text` as an SVG document (no image crate, no data leaves the server).
pub fn qr_svg(text: &str) -> Option<String> {
    use qrcode::render::svg;
    let code = qrcode::QrCode::new(text.as_bytes()).ok()?;
    Some(
        code.render::<svg::Color<'_>>()
            .min_dimensions(200, 200)
            .quiet_zone(true)
            .build(),
    )
}

/// How many recovery codes a user gets at once.
pub const RECOVERY_CODES: usize = 10;

/// Ten new recovery codes, `xxxxx-xxxxx` in a lowercase alphabet without look-alikes
/// (about 50 bits each).
pub fn new_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..RECOVERY_CODES)
        .map(|_| {
            let mut s = String::with_capacity(11);
            for i in 0..10 {
                if i == 5 {
                    s.push('-');
                }
                let n = (rng.next_u32() as usize) % ALPHABET.len();
                s.push(ALPHABET[n] as char);
            }
            s
        })
        .collect()
}

/// A recovery code as typed, in the form its digest was made from (case and spaces
/// ignored, the dash optional).
pub fn normalize_recovery_code(typed: &str) -> String {
    let bare: String = typed
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect();
    if bare.len() == 10 {
        format!("{}-{}", &bare[..5], &bare[5..])
    } else {
        bare
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1, 8 digits, secret "12345678901234567890".
    #[test]
    fn rfc6238_vectors() {
        let t = totp(b"12345678901234567890", 8).unwrap();
        for (time, code) in [
            (59u64, "94287082"),
            (1111111109, "07081804"),
            (1111111111, "14050471"),
            (1234567890, "89005924"),
            (2000000000, "69279037"),
            (20000000000, "65353130"),
        ] {
            assert_eq!(t.generate(time).to_string(), code, "at {time}");
        }
    }

    #[test]
    fn window_of_one_step() {
        let secret = new_secret();
        let now = 1_700_000_000u64;
        let step = now / STEP;
        let code = code_at(&secret, now).unwrap();
        assert_eq!(check(&secret, &code, now), Some(step));
        assert_eq!(check(&secret, &code, now + STEP), Some(step));
        assert_eq!(check(&secret, &code, now - STEP), Some(step));
        assert_eq!(check(&secret, &code, now + 2 * STEP), None);
        assert_eq!(
            check(&secret, &format!("{} {}", &code[..3], &code[3..]), now),
            Some(step)
        );
        assert_eq!(check(&secret, "12345", now), None);
        assert_eq!(check(&secret, "abcdef", now), None);
        assert_eq!(check(&secret, "", now), None);
    }

    #[test]
    fn uri_and_qr() {
        assert_eq!(
            from_base32(&base32(b"12345678901234567890")).unwrap(),
            b"12345678901234567890"
        );
        let uri = otpauth_uri(b"12345678901234567890", "Latchkey", "ana@example.com");
        assert!(uri.starts_with("otpauth://totp/Latchkey%3Aana%40example.com?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Latchkey"), "{uri}");
        assert!(qr_svg(&uri).unwrap().starts_with("<?xml"));
    }

    #[test]
    fn recovery_codes_are_distinct_and_normalized() {
        let codes = new_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut sorted = codes.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted.len(), RECOVERY_CODES);
        for c in &codes {
            assert_eq!(
                normalize_recovery_code(&c.to_uppercase().replace('-', " ")),
                *c
            );
        }
    }
}
