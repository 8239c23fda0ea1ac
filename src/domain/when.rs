//! Times as people and files read them: Unix seconds to UTC calendar dates, without a
//! clock or a time-zone database (the browser shows local time itself).

/// The UTC calendar date and time of a Unix time: (year, month, day, hour, minute, second).
pub fn civil(secs: i64) -> (i64, i64, i64, i64, i64, i64) {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d, rem / 3600, rem % 3600 / 60, rem % 60)
}

/// `2026-11-26T10:30:15Z` (ISO 8601 / RFC 3339, UTC).
pub fn iso8601(secs: i64) -> String {
    let (y, m, d, h, mi, s) = civil(secs);
    format!("{y:04}-{m:02}-{d:02}T{h:02}:{mi:02}:{s:02}Z")
}

/// `2026-11-26 10:30 UTC`.
pub fn utc_minutes(secs: i64) -> String {
    let (y, m, d, h, mi, _) = civil(secs);
    format!("{y:04}-{m:02}-{d:02} {h:02}:{mi:02} UTC")
}

/// `2026-11-26` (UTC), the value of a date input.
pub fn date(secs: i64) -> String {
    let (y, m, d, ..) = civil(secs);
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00Z");
        assert_eq!(iso8601(1_795_689_015), "2026-11-26T10:30:15Z");
        assert_eq!(utc_minutes(1_795_000_000), "2026-11-18 11:06 UTC");
        assert_eq!(date(1_795_689_015), "2026-11-26");
        assert_eq!(iso8601(-1), "1969-12-31T23:59:59Z");
        // 2024-02-29 exists, and the day after it is March 1.
        assert_eq!(date(1_709_164_800), "2024-02-29");
        assert_eq!(date(1_709_164_800 + 86_400), "2024-03-01");
    }

    proptest::proptest! {
        /// The ISO form parses back to the same instant with the `time` crate.
        #[test]
        fn iso_round_trips(secs in -5_000_000_000i64..50_000_000_000) {
            use time::format_description::well_known::Rfc3339;
            let t = time::OffsetDateTime::parse(&iso8601(secs), &Rfc3339).unwrap();
            proptest::prop_assert_eq!(t.unix_timestamp(), secs);
        }
    }
}
