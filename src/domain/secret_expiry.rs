//! When a client secret stops working, and when the portal and the API start warning about
//! it. Pure: the current time is passed in.

use super::FieldError;

/// How long before a secret expires the portal and the API warn about it: 14 days.
pub const WARNING_SECS: i64 = 14 * 86_400;

/// The latest expiry accepted, from now: ten years (a secret should be rotated long before).
pub const MAX_AHEAD_SECS: i64 = 10 * 366 * 86_400;

/// Where a secret stands at `now`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expiry {
    /// No expiry, or one more than `WARNING_SECS` away.
    Valid,
    /// It expires within `WARNING_SECS`.
    Soon,
    /// It has expired: client authentication refuses it.
    Expired,
}

/// Where a secret expiring at `expires_at` (None: never) stands at `now`. A secret stops
/// working at the second it expires.
pub fn state(expires_at: Option<i64>, now: i64) -> Expiry {
    match expires_at {
        Some(e) if e <= now => Expiry::Expired,
        Some(e) if e - now <= WARNING_SECS => Expiry::Soon,
        _ => Expiry::Valid,
    }
}

/// Whether a secret expiring at `expires_at` still authenticates at `now`.
pub fn usable(expires_at: Option<i64>, now: i64) -> bool {
    state(expires_at, now) != Expiry::Expired
}

/// A new expiry as typed (empty: none) — Unix seconds, RFC 3339, `YYYY-MM-DDTHH:MM` (UTC)
/// or a date alone (its midnight, UTC) — which must lie in the future and at most
/// `MAX_AHEAD_SECS` away.
pub fn parse(field: &str, raw: &str, now: i64) -> Result<Option<i64>, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(None);
    }
    let at = super::audit::parse_time(field, raw)?;
    if at <= now {
        return Err(FieldError::new(field, "must be in the future"));
    }
    if at - now > MAX_AHEAD_SECS {
        return Err(FieldError::new(field, "must be at most ten years from now"));
    }
    Ok(Some(at))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    const NOW: i64 = 1_795_689_015; // 2026-11-26T10:30:15Z

    #[test]
    fn states_at_a_given_time() {
        assert_eq!(state(None, NOW), Expiry::Valid);
        assert_eq!(state(Some(NOW + WARNING_SECS + 1), NOW), Expiry::Valid);
        assert_eq!(state(Some(NOW + WARNING_SECS), NOW), Expiry::Soon);
        assert_eq!(state(Some(NOW + 1), NOW), Expiry::Soon);
        // It stops working at the second it expires.
        assert_eq!(state(Some(NOW), NOW), Expiry::Expired);
        assert_eq!(state(Some(NOW - 86_400), NOW), Expiry::Expired);
        assert!(usable(None, NOW) && usable(Some(NOW + 1), NOW));
        assert!(!usable(Some(NOW), NOW));
    }

    #[test]
    fn parses_future_times_only() {
        assert_eq!(parse("expires_at", "", NOW), Ok(None));
        assert_eq!(parse("expires_at", "  ", NOW), Ok(None));
        assert_eq!(
            parse("expires_at", "2026-12-01", NOW),
            Ok(Some(1_796_083_200))
        );
        assert_eq!(
            parse("expires_at", "2026-12-01T12:00:00Z", NOW),
            Ok(Some(1_796_083_200 + 12 * 3600))
        );
        assert_eq!(
            parse("expires_at", &(NOW + 60).to_string(), NOW),
            Ok(Some(NOW + 60))
        );
        let past = parse("expires_at", "2026-11-26", NOW).unwrap_err();
        assert_eq!(past.field, "expires_at");
        assert_eq!(past.message, "must be in the future");
        assert!(parse("expires_at", &NOW.to_string(), NOW).is_err());
        assert!(parse("expires_at", "2040-01-01", NOW).is_err());
        assert!(parse("expires_at", "next tuesday", NOW).is_err());
        assert!(parse("expires_at", "-5", NOW).is_err());
    }
}
