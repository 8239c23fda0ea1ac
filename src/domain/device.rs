//! The device authorization grant (RFC 8628): the user code a person types on a second
//! screen, its alphabet and shape, and the polling rules. Pure: randomness and the clock are
//! passed in.

/// Twenty consonants: no vowels (no words spelled by chance), none that look alike
/// (`0`/`O`, `1`/`I`/`L`, `5`/`S`, `2`/`Z`, `8`/`B`...), case-insensitive (RFC 8628 §6.1).
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";
/// Eight characters of twenty: about 34.5 bits, guessed only a few times per user before
/// the wait grows, and only while a code lives.
pub const USER_CODE_LEN: usize = 8;
/// How long a device code and its user code live.
pub const DEVICE_CODE_TTL: i64 = 600;
/// The least seconds between two polls of one device code; `slow_down` adds
/// `SLOW_DOWN_STEP` to it each time a client polls sooner (RFC 8628 §3.5).
pub const POLL_INTERVAL: i64 = 5;
pub const SLOW_DOWN_STEP: i64 = 5;

/// Where a device code is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeviceStatus {
    /// Waiting for the user.
    Pending,
    /// The user allowed it; the next poll gets the tokens.
    Approved,
    /// The user (or a rule) refused it.
    Denied,
    /// Its tokens were issued.
    Used,
}

impl DeviceStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            DeviceStatus::Pending => "pending",
            DeviceStatus::Approved => "approved",
            DeviceStatus::Denied => "denied",
            DeviceStatus::Used => "used",
        }
    }

    pub fn parse(raw: &str) -> Option<Self> {
        [
            DeviceStatus::Pending,
            DeviceStatus::Approved,
            DeviceStatus::Denied,
            DeviceStatus::Used,
        ]
        .into_iter()
        .find(|s| s.as_str() == raw)
    }
}

/// A user code from random bytes, by rejection (no letter more likely than another):
/// `None` when the bytes ran out first (the caller draws more).
pub fn user_code_from(random: &[u8]) -> Option<String> {
    let n = USER_CODE_ALPHABET.len() as u8;
    // 240 is the largest multiple of 20 that fits a byte.
    let limit = u8::MAX - (u8::MAX % n) - 1;
    let code: String = random
        .iter()
        .filter(|b| **b <= limit)
        .take(USER_CODE_LEN)
        .map(|b| USER_CODE_ALPHABET[usize::from(b % n)] as char)
        .collect();
    (code.len() == USER_CODE_LEN).then_some(code)
}

/// What a person typed, as the stored user code: upper case, dashes and spaces dropped;
/// `None` when it cannot be a user code (so nothing is looked up).
pub fn normalize_user_code(typed: &str) -> Option<String> {
    if typed.len() > 64 {
        return None;
    }
    let code: String = typed
        .chars()
        .filter(|c| !matches!(c, '-' | ' ' | '\u{2010}'..='\u{2015}'))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    (code.len() == USER_CODE_LEN && code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)))
        .then_some(code)
}

/// A user code as shown and typed: `BCDF-GHJK`.
pub fn display_user_code(code: &str) -> String {
    if code.len() == USER_CODE_LEN && code.is_ascii() {
        format!("{}-{}", &code[..4], &code[4..])
    } else {
        code.to_string()
    }
}

/// What a poll of a pending code answers: too soon after the last one (`slow_down`, with
/// the longer interval the client must keep from now on), or still waiting.
pub fn poll_answer(last_polled_at: Option<i64>, interval: i64, now: i64) -> Result<(), i64> {
    match last_polled_at {
        Some(last) if now - last < interval => Err(interval + SLOW_DOWN_STEP),
        _ => Ok(()),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn codes_use_the_alphabet_only_and_reject_biased_bytes() {
        let code = user_code_from(&[0, 19, 20, 239, 240, 255, 1, 2, 3, 4]).unwrap();
        assert_eq!(code.len(), USER_CODE_LEN);
        // 240 and 255 are dropped; 20 and 0 give the same letter.
        assert_eq!(&code[..4], "BZBZ");
        assert!(code.bytes().all(|b| USER_CODE_ALPHABET.contains(&b)));
        assert_eq!(user_code_from(&[250; 32]), None);
    }

    #[test]
    fn typed_codes_are_normalized_and_checked() {
        assert_eq!(
            normalize_user_code("bcdf-ghjk").as_deref(),
            Some("BCDFGHJK")
        );
        assert_eq!(
            normalize_user_code(" BCDF GHJK ").as_deref(),
            Some("BCDFGHJK")
        );
        assert_eq!(
            normalize_user_code("BCDF‐GHJK").as_deref(),
            Some("BCDFGHJK")
        );
        // Vowels and digits are never in a code; nor is a short or a long one.
        assert_eq!(normalize_user_code("ABCD-EFGH"), None);
        assert_eq!(normalize_user_code("BCDF-GHJ1"), None);
        assert_eq!(normalize_user_code("BCDF-GHJ"), None);
        assert_eq!(normalize_user_code("BCDF-GHJKL"), None);
        assert_eq!(normalize_user_code(&"B".repeat(100)), None);
        assert_eq!(normalize_user_code("ßCDF-GHJK"), None);
        assert_eq!(display_user_code("BCDFGHJK"), "BCDF-GHJK");
    }

    #[test]
    fn polling_sooner_than_the_interval_slows_the_client_down() {
        assert_eq!(poll_answer(None, 5, 100), Ok(()));
        assert_eq!(poll_answer(Some(95), 5, 100), Ok(()));
        assert_eq!(poll_answer(Some(97), 5, 100), Err(10));
        assert_eq!(
            DeviceStatus::parse("approved"),
            Some(DeviceStatus::Approved)
        );
        assert_eq!(DeviceStatus::parse("nope"), None);
    }
}
