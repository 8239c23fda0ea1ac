//! Durations as people write them ("15 minutes", "90 days", "1h"), for token lifetimes.

/// Seconds in `raw`: a whole number of seconds, or a whole number and a unit (seconds,
/// minutes, hours, days, weeks; singular, plural or abbreviated), with or without a space.
pub fn parse(raw: &str) -> Option<i64> {
    let raw = raw.trim().to_ascii_lowercase();
    let split = raw.find(|c: char| !c.is_ascii_digit()).unwrap_or(raw.len());
    let (number, unit) = raw.split_at(split);
    if number.is_empty() || number.len() > 12 {
        return None;
    }
    let n: i64 = number.parse().ok()?;
    let unit = match unit.trim() {
        "" | "s" | "sec" | "secs" | "second" | "seconds" => 1,
        "m" | "min" | "mins" | "minute" | "minutes" => 60,
        "h" | "hr" | "hrs" | "hour" | "hours" => 3600,
        "d" | "day" | "days" => 86_400,
        "w" | "week" | "weeks" => 7 * 86_400,
        _ => return None,
    };
    n.checked_mul(unit)
}

/// `secs` in the largest unit that divides it: "15 minutes", "90 days", "1 hour".
pub fn format(secs: i64) -> String {
    let (n, unit) = if secs != 0 && secs % 86_400 == 0 {
        (secs / 86_400, "day")
    } else if secs != 0 && secs % 3600 == 0 {
        (secs / 3600, "hour")
    } else if secs != 0 && secs % 60 == 0 {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_people_write() {
        assert_eq!(parse("900"), Some(900));
        assert_eq!(parse("15 minutes"), Some(900));
        assert_eq!(parse("15min"), Some(900));
        assert_eq!(parse(" 90 Days "), Some(90 * 86_400));
        assert_eq!(parse("1h"), Some(3600));
        assert_eq!(parse("2 weeks"), Some(14 * 86_400));
        assert_eq!(parse("1 hour"), Some(3600));
        for bad in [
            "",
            "days",
            "15 fortnights",
            "-5 minutes",
            "1.5 hours",
            "99999999999999 days",
            "15 minutes ago",
        ] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_in_the_largest_unit() {
        assert_eq!(format(900), "15 minutes");
        assert_eq!(format(90 * 86_400), "90 days");
        assert_eq!(format(3600), "1 hour");
        assert_eq!(format(61), "61 seconds");
        assert_eq!(format(0), "0 seconds");
        for secs in [60, 900, 3600, 86_400, 7_776_000, 61] {
            assert_eq!(parse(&format(secs)), Some(secs));
        }
    }
}
