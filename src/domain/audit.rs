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
    /// Up to this time, excluded (a date alone: to the end of that day).
    pub to: String,
    /// A period instead of `from` and `to`: `hour`, `day` (the last 24 hours), `today`,
    /// `yesterday` or `week` (the last 7 days); `today` and `yesterday` are UTC days.
    pub range: String,
    /// A client id.
    pub app: String,
    /// A user id.
    pub user: String,
    /// An action (`token.issued`), or a family of them (`token.` or `token.*`).
    pub action: String,
    /// `success` or `failure`.
    pub outcome: String,
    /// A business group: the records of it and of the groups below it (and of the apps
    /// living there).
    pub business_group: String,
    /// An environment: the records of it (and of the apps living there).
    pub environment: String,
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
    pub business_group: Option<String>,
    pub environment: Option<String>,
    pub before: Option<i64>,
    pub limit: i64,
}

impl AuditQuery {
    /// Parses every field, `now` being the current Unix time; all problems at once.
    pub fn parse(&self, now: i64) -> Result<AuditFilter, FieldErrors> {
        let mut errors = FieldErrors::default();
        let range = errors
            .check(optional(&self.range, |v| period(v, now)))
            .flatten();
        let from = errors
            .check(optional(&self.from, |v| parse_time("from", v)))
            .flatten();
        let to = errors
            // A date alone ends with that day (the date picker's "to" includes its day).
            .check(optional(&self.to, |v| {
                let t = parse_time("to", v)?;
                Ok(if is_date_only(v) { t + 86_400 } else { t })
            }))
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
        let business_group = errors
            .check(optional(&self.business_group, |v| {
                text("business_group", v)
            }))
            .flatten();
        let environment = errors
            .check(optional(&self.environment, |v| text("environment", v)))
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
        // A period replaces the dates.
        let (from, to) = match range {
            Some((f, t)) => (Some(f), Some(t)),
            None => (from, to),
        };
        // An empty period is a mistake too (from 27 November to 26 November, included).
        if let (Some(f), Some(t)) = (from, to)
            && f >= t
        {
            errors.push("to", "must be after from");
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
            business_group,
            environment,
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

/// The periods the viewer offers, with their names.
pub const RANGES: &[(&str, &str)] = &[
    ("hour", "Last hour"),
    ("day", "Last 24 hours"),
    ("today", "Today (UTC)"),
    ("yesterday", "Yesterday (UTC)"),
    ("week", "Last 7 days"),
];

/// A named period as (from, to) at `now`.
fn period(v: &str, now: i64) -> Result<(i64, i64), FieldError> {
    let midnight = now - now.rem_euclid(86_400);
    match v {
        "hour" => Ok((now - 3600, now + 1)),
        "day" => Ok((now - 86_400, now + 1)),
        "today" => Ok((midnight, midnight + 86_400)),
        "yesterday" => Ok((midnight - 86_400, midnight)),
        "week" => Ok((now - 7 * 86_400, now + 1)),
        _ => Err(FieldError::new(
            "range",
            "must be hour, day, today, yesterday or week",
        )),
    }
}

/// Why token requests are refused, as the OAuth error codes the token endpoint answers,
/// each in words (the overview counts refusals by these).
pub const REFUSALS: &[(&str, &str)] = &[
    ("invalid_client", "Wrong or unknown client credentials"),
    (
        "invalid_grant",
        "Code, refresh token or assertion not valid (used, expired or revoked)",
    ),
    ("invalid_request", "Malformed request"),
    ("invalid_scope", "Scopes the app may not have"),
    ("invalid_target", "Resource the app may not reach"),
    (
        "unauthorized_client",
        "Grant type not allowed, or the app is disabled",
    ),
    ("unsupported_grant_type", "Unknown grant type"),
    ("access_denied", "Denied by the organization's policy"),
    ("temporarily_unavailable", "Too many requests"),
    ("server_error", "Failure on our side"),
];

fn is_date_only(v: &str) -> bool {
    let v = v.trim();
    v.len() == 10 && v.as_bytes()[4] == b'-' && v.as_bytes()[7] == b'-'
}

/// Every action the audit log records, with its name in words, grouped by what it
/// concerns (the viewer's action filter offers them by these names).
pub const ACTIONS: &[(&str, &str)] = &[
    ("token.issued", "Token issued"),
    ("token.refused", "Token refused"),
    ("token.revoked", "Token revoked"),
    (
        "grant.revoked_on_reuse",
        "Authorization ended: a refresh token was reused",
    ),
    ("device.authorization_started", "Device sign-in started"),
    ("logout.delivered", "Back-channel logout delivered"),
    ("logout.failed", "Back-channel logout failed"),
    ("logout.dropped", "Back-channel logout dropped (queue full)"),
    ("authorization.pushed", "Authorization request pushed (PAR)"),
    (
        "app.registered",
        "App registered itself (dynamic registration)",
    ),
    ("registration.token_issued", "Initial access token issued"),
    ("registration.token_revoked", "Initial access token revoked"),
    ("device.code_entered", "Device code entered"),
    ("device.code_refused", "Device code refused"),
    ("device.approved", "Device connected"),
    ("consent.granted", "Access allowed by the user"),
    ("consent.skipped", "Consent not asked (first-party app)"),
    ("consent.denied", "Access denied by the user"),
    ("consent.withdrawn", "Access withdrawn by the user"),
    ("authorization.revoked", "Authorization revoked"),
    ("login", "Sign-in"),
    ("login.second_factor", "Sign-in: second step"),
    ("mfa.totp_enrolled", "Authenticator app set up"),
    ("mfa.totp_removed", "Authenticator app removed"),
    ("mfa.recovery_codes_created", "New recovery codes made"),
    ("mfa.reset_by_admin", "Second factor removed by an admin"),
    ("mfa.passkey_added", "Passkey added"),
    ("mfa.passkey_removed", "Passkey removed"),
    ("mfa.passkey_renamed", "Passkey renamed"),
    ("password.reset_requested", "Password reset asked for"),
    ("password.reset", "Password reset"),
    ("user.invitation_accepted", "Invitation accepted"),
    ("user.verification_sent", "Address verification sent"),
    ("user.email_verified", "Address verified"),
    ("org.mfa_policy", "Two-step verification policy changed"),
    ("session.ended", "Session signed out"),
    (
        "org.identity_provider",
        "Identity provider set up or changed",
    ),
    ("org.identity_provider_removed", "Identity provider removed"),
    ("session.ended_elsewhere", "Signed out everywhere else"),
    ("user.sessions_ended", "User's sessions ended by an admin"),
    ("app.create", "App created"),
    ("app.update", "App changed"),
    (
        "app.assignments",
        "App's scopes assigned to business groups and environments",
    ),
    ("group.create", "Business group created"),
    ("group.update", "Business group renamed or moved"),
    ("group.delete", "Business group deleted"),
    ("group.role", "Role given in a business group"),
    ("group.role_removed", "Role in a business group taken back"),
    ("environment.create", "Environment created"),
    ("environment.delete", "Environment deleted"),
    ("app.enable", "App enabled"),
    ("app.disable", "App disabled"),
    ("app.delete", "App deleted"),
    ("app.secret_add", "Client secret added"),
    ("app.secret_delete", "Client secret deleted"),
    ("app.secret_expiry", "Client secret expiry changed"),
    ("app.secret_expiring", "Client secret expires soon"),
    ("app.secret_expired", "Client secret expired"),
    ("app.approved", "External app approved"),
    ("app.approval_removed", "External app approval removed"),
    ("user.create", "User added"),
    ("user.role_change", "User's role changed"),
    ("user.remove", "User removed"),
    ("api.create", "API created"),
    ("api.delete", "API deleted"),
    ("api.call", "REST API call"),
    ("org.create", "Organization created"),
    ("org.rename", "Organization renamed"),
    ("org.app_policy", "External app policy changed"),
    ("org.audit_retention", "Audit retention changed"),
    ("org.apps_disable", "Connected apps turned off"),
    ("org.apps_enable", "Connected apps turned on"),
    ("app.owner_transfer", "App ownership transferred"),
    ("audit.purged", "Old audit records removed"),
    ("ratelimit.exceeded", "Too many requests"),
];

/// The families of actions the filter offers (`token.` matches every `token.*`).
pub const ACTION_FAMILIES: &[(&str, &str)] = &[
    ("token.", "Any token event"),
    ("consent.", "Any consent event"),
    ("app.", "Any change to an app"),
    ("user.", "Any change to a user"),
    ("api.", "Any API event"),
    ("org.", "Any organization setting"),
    ("mfa.", "Any change to a second factor"),
    ("password.", "Any password reset"),
];

/// An action's name in words: `token.issued` → "Token issued". An action this version
/// does not know is shown readably too (`foo.bar_baz` → "Foo bar baz").
pub fn action_words(action: &str) -> String {
    if let Some((_, words)) = ACTIONS.iter().find(|(a, _)| *a == action) {
        return (*words).to_string();
    }
    let plain = action.replace(['.', '_'], " ");
    let mut c = plain.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
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
    fn places_are_bounded_text() {
        let f = q(|q| {
            q.business_group = " g1 ".into();
            q.environment = "e1".into();
        })
        .parse(1_000_000)
        .unwrap();
        assert_eq!(f.business_group.as_deref(), Some("g1"));
        assert_eq!(f.environment.as_deref(), Some("e1"));
        let long = q(|q| q.business_group = "x".repeat(500)).parse(1_000_000);
        assert!(long.unwrap_err().for_field("business_group").is_some());
        assert_eq!(q(|_| {}).parse(1_000_000).unwrap().business_group, None);
    }

    #[test]
    fn actions_in_words() {
        assert_eq!(action_words("token.issued"), "Token issued");
        assert_eq!(action_words("user.role_change"), "User's role changed");
        assert_eq!(action_words("future.thing_done"), "Future thing done");
        assert_eq!(action_words(""), "");
    }

    /// Every action the code records (an `action` field set to a literal, anywhere under
    /// `src/`) has words.
    #[test]
    fn every_recorded_action_has_words() {
        fn walk(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    walk(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for part in text.split("action: \"").skip(1) {
                        found.push(part.split('"').next().unwrap().to_string());
                    }
                }
            }
        }
        let mut found = Vec::new();
        walk(
            &std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src"),
            &mut found,
        );
        assert!(found.len() > 20, "{found:?}");
        for a in found {
            assert!(ACTIONS.iter().any(|(k, _)| *k == a), "no words for {a}");
        }
    }

    #[test]
    fn periods_at_a_given_time() {
        let now = 1_795_689_015; // 2026-11-26T10:30:15Z
        let midnight = 1_795_651_200;
        let at = |r: &str| {
            let f = q(|q| q.range = r.into()).parse(now).unwrap();
            (f.from.unwrap(), f.to.unwrap())
        };
        assert_eq!(at("yesterday"), (midnight - 86_400, midnight));
        assert_eq!(at("today"), (midnight, midnight + 86_400));
        assert_eq!(at("hour"), (now - 3600, now + 1));
        assert_eq!(at("week"), (now - 7 * 86_400, now + 1));
        // A period replaces dates given with it.
        let f = q(|q| {
            q.range = "yesterday".into();
            q.from = "2020-01-01".into();
        })
        .parse(now)
        .unwrap();
        assert_eq!(f.from, Some(midnight - 86_400));
        let e = q(|q| q.range = "fortnight".into()).parse(now).unwrap_err();
        assert!(e.for_field("range").is_some());
    }

    #[test]
    fn a_date_alone_as_to_includes_that_day() {
        let f = q(|q| {
            q.from = "2026-11-26".into();
            q.to = "2026-11-26".into();
        })
        .parse(0)
        .unwrap();
        assert_eq!(f.from, Some(1_795_651_200));
        assert_eq!(f.to, Some(1_795_651_200 + 86_400));
        let f = q(|q| q.to = "2026-11-26T10:30".into()).parse(0).unwrap();
        assert_eq!(f.to, Some(1_795_689_000));
    }

    #[test]
    fn empty_is_everything_with_the_default_page() {
        let f = AuditQuery::default().parse(0).unwrap();
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
            q(|q| q.limit = "100000".into()).parse(0).unwrap().limit,
            PAGE_MAX
        );
        assert_eq!(q(|q| q.limit = "-3".into()).parse(0).unwrap().limit, 1);
        let e = q(|q| {
            q.limit = "many".into();
            q.outcome = "maybe".into();
            q.before = "0".into();
            q.app = "x".repeat(500);
        })
        .parse(0)
        .unwrap_err();
        let fields: Vec<_> = e.0.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(fields, ["app", "outcome", "before", "limit"]);
        assert!(
            q(|q| {
                q.from = "2026-11-27".into();
                q.to = "2026-11-26".into();
            })
            .parse(0)
            .is_err()
        );
    }

    #[test]
    fn action_families() {
        let a = |v: &str| q(|q| q.action = v.into()).parse(0).unwrap().action.unwrap();
        assert_eq!(a("token.issued"), ActionMatch::Exact("token.issued".into()));
        assert_eq!(a("token."), ActionMatch::Prefix("token.".into()));
        assert_eq!(a("token.*"), ActionMatch::Prefix("token.".into()));
        assert_eq!(
            q(|q| q.outcome = "failure".into())
                .parse(0)
                .unwrap()
                .success,
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
