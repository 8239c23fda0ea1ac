//! Use cases: the only place that combines domain rules, storage, crypto and audit.
//! A page's server function, the CLI and the REST API call the same function here.

pub mod apis;
pub mod apps;
pub mod audit;
pub mod auth;
pub mod authorizations;
pub mod authorize;
pub mod backchannel;
pub mod bootstrap;
pub mod contexts;
pub mod device;
pub mod keys;
pub mod limits;
pub mod logout;
pub mod mail;
pub mod maintenance;
pub mod mfa;
pub mod orgs;
pub mod passkeys;
pub mod policy;
pub mod principal;
pub mod recovery;
pub mod registration;
pub mod scopes;
pub mod sessions;
pub mod tokens;
pub mod upstream;
pub mod users;

use crate::domain::{FieldError, FieldErrors};

/// The database handle the wiring opens and hands to every service call.
pub use crate::store::Db;
/// A connected app as the services hand it to the protocol handlers.
pub use crate::store::apps::App;
pub use audit::{Actor, AuditLog, Caller, RequestMeta};
pub use principal::{InOrg, Principal};

/// What a use case can answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Invalid(FieldErrors),
    #[error("{0}")]
    Conflict(FieldError),
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    Forbidden(String),
    /// The principal is not identified.
    #[error("sign in first")]
    Unauthenticated,
    /// The principal lacks this permission (a role's, or a token's scope).
    #[error("the {0} permission is needed")]
    MissingPermission(&'static str),
    #[error("wrong e-mail or password")]
    BadCredentials,
    #[error("too many failed attempts; try again in {0} seconds")]
    Throttled(i64),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A failure below us, with its cause (serialization, hashing, a key).
    #[error("{context}: {source}")]
    Failed {
        context: &'static str,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// A state that should not be, said in words (no error value to keep).
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Keeps `source` as the cause of a failure while doing `context`.
    pub fn failed(
        context: &'static str,
    ) -> impl FnOnce(Box<dyn std::error::Error + Send + Sync>) -> Error {
        move |source| Error::Failed { context, source }
    }
}

impl From<FieldErrors> for Error {
    fn from(e: FieldErrors) -> Self {
        Error::Invalid(e)
    }
}

impl From<FieldError> for Error {
    fn from(e: FieldError) -> Self {
        Error::Invalid(e.into())
    }
}

pub type Result<T> = std::result::Result<T, Error>;

/// Maps a unique-constraint violation to a field conflict; anything else stays internal.
pub(crate) fn conflict_on(field: &str, message: &str) -> impl FnOnce(sqlx::Error) -> Error {
    let (field, message) = (field.to_string(), message.to_string());
    move |e| {
        if crate::store::is_unique_violation(&e) {
            Error::Conflict(FieldError::new(&field, message))
        } else {
            e.into()
        }
    }
}

/// Spends a one-time key (kept until `expires_at`): true for the one caller that spends it
/// first, whatever number of requests try at once.
pub async fn spend_once(db: &Db, key: &str, expires_at: i64) -> Result<bool> {
    Ok(crate::store::tokens::use_jti(&db.pool, key, expires_at).await?)
}

/// The current time in Unix seconds.
pub fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A new time-ordered identifier.
pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}
