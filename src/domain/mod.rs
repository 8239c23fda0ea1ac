//! Pure types and rules: no I/O, no clock (the current time is passed in).
//! Every untrusted string is parsed once here, at the edge, into a type that
//! can only hold a valid value.

pub mod api;
pub mod app;
pub mod audit;
pub mod authorize;
pub mod context;
pub mod device;
pub mod duration;
pub mod email;
pub mod errors;
pub mod groups;
pub mod ids;
pub mod listing;
pub mod mfa;
pub mod oauth;
pub mod paths;
pub mod policy;
pub mod quick_start;
pub mod registration;
pub mod role;
pub mod scope;
pub mod scope_catalogue;
pub mod secret_expiry;
pub mod upstream;
pub mod views;
pub mod when;

pub use app::{AppInput, AppKind, AppSpec, Audience, GrantType, RedirectUri, TokenLifetimes};
pub use email::Email;
pub use errors::{FieldError, FieldErrors};
pub use role::Role;
pub use scope::{Scope, ScopeSet};

/// Longest free-text field we accept anywhere (names, descriptions).
pub const MAX_NAME_LEN: usize = 100;

/// Trims a display name and checks its length and characters.
pub fn parse_name(field: &'static str, raw: &str) -> Result<String, FieldError> {
    let name = raw.trim();
    if name.is_empty() {
        return Err(FieldError::new(field, "is required"));
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(FieldError::new(
            field,
            format!("must be at most {MAX_NAME_LEN} characters"),
        ));
    }
    if name.chars().any(char::is_control) {
        return Err(FieldError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(name.to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(parse_name("name", "  Acme  ").unwrap(), "Acme");
        assert!(parse_name("name", "   ").is_err());
        assert!(parse_name("name", &"x".repeat(101)).is_err());
        assert!(parse_name("name", &"é".repeat(100)).is_ok());
        assert!(parse_name("name", "a\u{0}b").is_err());
        assert_eq!(
            parse_name("name", "<script>'; DROP TABLE apps;--").unwrap(),
            "<script>'; DROP TABLE apps;--"
        );
    }
}
