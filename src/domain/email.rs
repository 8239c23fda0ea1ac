use super::FieldError;
use serde::{Deserialize, Serialize};

/// A normalised (trimmed, lower-case) e-mail address of plausible shape.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Email(String);

impl Email {
    pub const MAX_LEN: usize = 254;

    pub fn parse(raw: &str) -> Result<Self, FieldError> {
        let email = raw.trim().to_lowercase();
        let invalid = || FieldError::new("email", "is not a valid e-mail address");
        if email.is_empty() {
            return Err(FieldError::new("email", "is required"));
        }
        if email.len() > Self::MAX_LEN {
            return Err(FieldError::new(
                "email",
                format!("must be at most {} characters", Self::MAX_LEN),
            ));
        }
        let (local, domain) = email.split_once('@').ok_or_else(invalid)?;
        let bad_char =
            |c: char| c.is_whitespace() || c.is_control() || "<>()[]\\,;:\"@".contains(c);
        if local.is_empty()
            || domain.is_empty()
            || local.len() > 64
            || local.chars().any(bad_char)
            || domain.starts_with('.')
            || domain.ends_with('.')
            || domain.contains("..")
            || !domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.')
        {
            return Err(invalid());
        }
        Ok(Self(email))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn accepts_and_normalises() {
        assert_eq!(
            Email::parse("  Ada@Example.COM ").unwrap().as_str(),
            "ada@example.com"
        );
        assert!(Email::parse("admin@localhost").is_ok());
        assert!(Email::parse("first.last+tag@sub.example.org").is_ok());
    }

    #[test]
    fn rejects_malformed() {
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@@b.com",
            "a b@c.com",
            "a@b..com",
            "a@.b.com",
            "a@b.com.",
            "<script>@x.com",
            "a@exa_mple.com",
            "x'@b;c.com",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
        assert!(Email::parse(&format!("{}@example.com", "a".repeat(250))).is_err());
    }
}
