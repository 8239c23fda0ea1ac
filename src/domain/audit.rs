//! The audit viewer's filter: what the portal's form, the REST API's query and the export
//! links send, parsed once and bounded (page sizes, text lengths), so no query is absurd.

use serde::{Deserialize, Serialize};

use super::{FieldError, FieldErrors};

/// Most records one page shows, and the default.
pub const PAGE_MAX: i64 = 200;
pub const PAGE_DEFAULT: i64 = 50;
/// Most records one export carries (the newest first); narrow the filter for more.
pub const EXPORT_MAX: usize = 100_000;
/// Longest retention an organization may set (ten years), and the shortest (a day).
pub const RETENTION_MAX_DAYS: i64 = 3650;
/// What a new organization keeps.
pub const RETENTION_DEFAULT_DAYS: i64 = 365;
const MAX_TEXT: usize = 200;

/// The filter as sent: every field optional text.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct AuditQuery {
    /// From this time (Unix seconds, RFC 3339, `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM`, UTC).
    pub from: String,
    /// Up to this time, excluded.
    pub to: String,
    /// A client id.
    pub app: String,
    /// A user id.
    pub user: String,
    /// An action (`token.issued`), or a family of them (`token.` or `token.*`).
    pub action: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// The cursor: records older than this id.
    pub before: String,
    pub limit: String,
}

/// How an action is matched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionMatch {
    Exact(String),
    Prefix(String),
}

/// A parsed, bounded filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub app: Option<String>,
    pub user: Option<String>,
    pub action: Option<ActionMatch>,
    pub success: Option<bool>,
    pub before: Option<i64>,
    pub limit: i64,
}

impl AuditQuery {
    /// Parses every field; all problems at once.
    pub fn parse(&self) -> Result<AuditFilter, FieldErrors> {
        let mut errors = FieldErrors::default();
        let from = errors
            .check(optional(&self.from, |v| parse_time("from", v)))
            .flatten();
        let to = errors
            .check(optional(&self.to, |v| parse_time("to", v)))
            .flatten();
        let app = errors
            .check(optional(&self.app, |v| text("app", v)))
            .flatten();
        let user = errors
            .check(optional(&self.user, |v| text("user", v)))
            .flatten();
        let action = errors
            .check(optional(&self.action, |v| {
                let v = text("action", v)?;
                Ok(match v.strip_suffix('*') {
                    Some(p) => ActionMatch::Prefix(p.to_string()),
                    None if v.ends_with('.') => ActionMatch::Prefix(v),
                    None => ActionMatch::Exact(v),
                })
            }))
            .flatten();
        let success = errors
            .check(optional(&self.outcome, |v| match v {
                "success" => Ok(true),
                "failure" => Ok(false),
                _ => Err(FieldError::new("outcome", "must be success or failure")),
            }))
            .flatten();
        let before = errors
            .check(optional(&self.before, |v| {
                v.parse::<i64>()
                    .ok()
                    .filter(|n| *n > 0)
                    .ok_or_else(|| FieldError::new("before", "must be a record id"))
            }))
            .flatten();
        let limit = errors
            .check(optional(&self.limit, |v| {
                v.parse::<i64>()
                    .map(|n| n.clamp(1, PAGE_MAX))
                    .map_err(|_| FieldError::new("limit", "must be a number"))
            }))
            .flatten()
            .unwrap_or(PAGE_DEFAULT);
        if let (Some(f), Some(t)) = (from, to)
            && f > t
        {
            errors.push("to", "must not be before from");
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        Ok(AuditFilter {
            from,
            to,
            app,
            user,
            action,
            success,
            before,
            limit,
        })
    }
}

fn optional<T>(
    raw: &str,
    parse: impl FnOnce(&str) -> Result<T, FieldError>,
) -> Result<Option<T>, FieldError> {
    let raw = raw.trim();
    if raw.is_empty() {
        Ok(None)
    } else {
        parse(raw).map(Some)
    }
}

fn text(field: &str, v: &str) -> Result<String, FieldError> {
    if v.len() > MAX_TEXT || v.chars().any(char::is_control) {
        return Err(FieldError::new(field, "is not valid"));
    }
    Ok(v.to_string())
}

/// A time in UTC: Unix seconds, RFC 3339, a date, or a date and time (`datetime-local`).
pub fn parse_time(field: &str, v: &str) -> Result<i64, FieldError> {
    use time::format_description::well_known::Rfc3339;
    use time::macros::format_description;
    use time::{Date, OffsetDateTime, PrimitiveDateTime};
    let bad = || {
        FieldError::new(
            field,
            "must be a time: YYYY-MM-DD, YYYY-MM-DDTHH:MM (UTC) or Unix seconds",
        )
    };
    if v.bytes().all(|b| b.is_ascii_digit()) {
        return v
            .parse::<i64>()
            .ok()
            .filter(|n| *n < 1 << 40)
            .ok_or_else(bad);
    }
    if let Ok(t) = OffsetDateTime::parse(v, &Rfc3339) {
        return Ok(t.unix_timestamp());
    }
    for f in [
        format_description!("[year]-[month]-[day]T[hour]:[minute]"),
        format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]"),
        format_description!("[year]-[month]-[day] [hour]:[minute]"),
    ] {
        if let Ok(t) = PrimitiveDateTime::parse(v, f) {
            return Ok(t.assume_utc().unix_timestamp());
        }
    }
    Date::parse(v, format_description!("[year]-[month]-[day]"))
        .map(|d| d.midnight().assume_utc().unix_timestamp())
        .map_err(|_| bad())
}

/// How long an organization keeps its audit records, in days.
pub fn parse_retention(raw: &str) -> Result<i64, FieldError> {
    raw.trim()
        .parse::<i64>()
        .ok()
        .filter(|d| (1..=RETENTION_MAX_DAYS).contains(d))
        .ok_or_else(|| {
            FieldError::new(
                "retention_days",
                format!("must be a number of days from 1 to {RETENTION_MAX_DAYS}"),
            )
        })
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    fn q(f: impl FnOnce(&mut AuditQuery)) -> AuditQuery {
        let mut q = AuditQuery::default();
        f(&mut q);
        q
    }

    #[test]
    fn empty_is_everything_with_the_default_page() {
        let f = AuditQuery::default().parse().unwrap();
        assert_eq!(
            f,
            AuditFilter {
                limit: PAGE_DEFAULT,
                ..Default::default()
            }
        );
    }

    #[test]
    fn times_in_every_accepted_form() {
        for (v, want) in [
            ("1700000000", 1_700_000_000),
            ("2026-11-26", 1_795_651_200),
            ("2026-11-26T10:30", 1_795_689_000),
            ("2026-11-26T10:30:15", 1_795_689_015),
            ("2026-11-26T10:30:00Z", 1_795_689_000),
            ("2026-11-26T11:30:00+01:00", 1_795_689_000),
        ] {
            assert_eq!(parse_time("from", v).unwrap(), want, "{v}");
        }
        for v in [
            "yesterday",
            "2026-13-01",
            "99999999999999999999",
            "-5",
            "2026-11-26T25:00",
        ] {
            assert!(parse_time("from", v).is_err(), "{v}");
        }
    }

    #[test]
    fn bounds_and_errors() {
        assert_eq!(
            q(|q| q.limit = "100000".into()).parse().unwrap().limit,
            PAGE_MAX
        );
        assert_eq!(q(|q| q.limit = "-3".into()).parse().unwrap().limit, 1);
        let e = q(|q| {
            q.limit = "many".into();
            q.outcome = "maybe".into();
            q.before = "0".into();
            q.app = "x".repeat(500);
        })
        .parse()
        .unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["app", "outcome", "before", "limit"]);
        assert!(
            q(|q| {
                q.from = "2026-11-27".into();
                q.to = "2026-11-26".into();
            })
            .parse()
            .is_err()
        );
    }

    #[test]
    fn action_families() {
        let a = |v: &str| q(|q| q.action = v.into()).parse().unwrap().action.unwrap();
        assert_eq!(a("token.issued"), ActionMatch::Exact("token.issued".into()));
        assert_eq!(a("token."), ActionMatch::Prefix("token.".into()));
        assert_eq!(a("token.*"), ActionMatch::Prefix("token.".into()));
        assert_eq!(
            q(|q| q.outcome = "failure".into()).parse().unwrap().success,
            Some(false)
        );
    }

    #[test]
    fn retention_is_bounded() {
        assert_eq!(parse_retention(" 90 ").unwrap(), 90);
        for v in ["0", "3651", "ninety", ""] {
            assert!(parse_retention(v).is_err(), "{v}");
        }
    }
}
