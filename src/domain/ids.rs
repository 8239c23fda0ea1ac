//! Identifiers as types: an organization's id cannot be passed where a client id is
//! expected. Each wraps the stored text; `Deref<Target = str>` lets it be read as text
//! wherever text is enough (SQL binds, formatting), while a function that wants one kind
//! of id says so in its signature.

use serde::{Deserialize, Serialize};

macro_rules! id_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, Default)]
        #[serde(transparent)]
        pub struct $name(String);

        impl $name {
            /// Wraps an id read from the store or minted by a service.
            pub fn new(raw: impl Into<String>) -> Self {
                Self(raw.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }

            pub fn into_inner(self) -> String {
                self.0
            }
        }

        impl std::ops::Deref for $name {
            type Target = str;
            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $name {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl PartialEq<str> for $name {
            fn eq(&self, other: &str) -> bool {
                self.0 == other
            }
        }

        impl PartialEq<&str> for $name {
            fn eq(&self, other: &&str) -> bool {
                self.0 == *other
            }
        }

        impl PartialEq<String> for $name {
            fn eq(&self, other: &String) -> bool {
                &self.0 == other
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl PartialEq<$name> for str {
            fn eq(&self, other: &$name) -> bool {
                self == other.0
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, other: &$name) -> bool {
                *self == other.0
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }
    };
}

id_type!(
    /// An organization.
    OrgId
);
id_type!(
    /// A connected app (its OAuth `client_id`).
    ClientId
);
id_type!(
    /// A user (the opaque `sub` of their tokens).
    UserId
);
id_type!(
    /// A user's grant to an app (the `gid` of its tokens).
    GrantId
);

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_as_text_and_compare_with_it() {
        let org = OrgId::new("o-1");
        assert_eq!(org, "o-1");
        assert_eq!(&*org, "o-1");
        assert_eq!(format!("{org}"), "o-1");
        assert_eq!(serde_json::to_string(&org).unwrap(), "\"o-1\"");
        let back: OrgId = serde_json::from_str("\"o-1\"").unwrap();
        assert_eq!(back, org);
    }
}
