//! Persistence: the only place with SQL. One implementation serves SQLite and
//! PostgreSQL through sqlx's `Any` driver with portable SQL and `$n` placeholders.

pub mod apis;
pub mod apps;
pub mod audit;
pub mod authz;
pub mod cache;
pub mod contexts;
pub mod device;
pub mod factors;
pub mod grants;
pub mod keys;
pub mod logout;
pub mod orgs;
pub mod passkeys;
pub mod policy;
pub mod registration;
pub mod session_store;
pub mod sessions;
pub mod throttle;
pub mod tokens;
pub mod upstream;
pub mod users;

use std::str::FromStr;
use std::time::Duration;

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::{AnyPool, Executor};

/// Which database engine is behind the pool.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The connection pool shared by every request.
#[derive(Clone, Debug)]
pub struct Db {
    pub pool: AnyPool,
    pub backend: Backend,
    /// The hot path's cache (`cache` module): coherent across instances.
    pub cache: std::sync::Arc<cache::Cache>,
    url: String,
}

pub type Tx = sqlx::Transaction<'static, sqlx::Any>;

impl Db {
    /// Connects to `url` (`sqlite://…` or `postgres://…`); SQLite files are created
    /// and put in WAL mode.
    pub async fn connect(url: &str) -> Result<Self, String> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Backend::Postgres
        } else {
            return Err("LATCHKEY_DATABASE_URL must start with sqlite: or postgres://".into());
        };
        let url =
            if backend == Backend::Sqlite && !url.contains("mode=") && !url.contains(":memory:") {
                format!("{url}{}mode=rwc", if url.contains('?') { '&' } else { '?' })
            } else {
                url.to_string()
            };
        let options =
            AnyConnectOptions::from_str(&url).map_err(|e| format!("invalid database URL: {e}"))?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            .acquire_timeout(Duration::from_secs(10))
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        conn.execute("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
                            .await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await
            .map_err(|e| format!("cannot connect to the database: {e}"))?;
        Ok(Self {
            pool,
            backend,
            cache: Default::default(),
            url,
        })
    }

    /// Applies the migrations of this backend.
    pub async fn migrate(&self) -> Result<(), String> {
        let result = match self.backend {
            Backend::Sqlite => sqlx::migrate!("./migrations/sqlite").run(&self.pool).await,
            Backend::Postgres => {
                sqlx::migrate!("./migrations/postgres")
                    .run(&self.pool)
                    .await
            }
        };
        result.map_err(|e| format!("database migration failed: {e}"))
    }

    /// Starts a transaction. On SQLite it takes the write lock at once (`BEGIN IMMEDIATE`,
    /// waiting up to the busy timeout): a deferred transaction that read first and then
    /// writes fails at once with "database is locked" when another connection wrote in
    /// between (SQLITE_BUSY_SNAPSHOT in WAL mode), which no busy timeout retries.
    pub async fn begin(&self) -> Result<Tx, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    pub async fn ping(&self) -> bool {
        sqlx::query("SELECT 1").execute(&self.pool).await.is_ok()
    }
}

/// Whether an error is a unique-constraint violation (duplicate name, e-mail...).
pub fn is_unique_violation(e: &sqlx::Error) -> bool {
    e.as_database_error()
        .is_some_and(|d| d.is_unique_violation())
}

/// Escapes `%`, `_` and `\` for a LIKE pattern used with `ESCAPE '\'`.
pub fn like_pattern(needle: &str) -> String {
    let escaped: String = needle
        .chars()
        .flat_map(|c| match c {
            '%' | '_' | '\\' => vec!['\\', c],
            c => vec![c],
        })
        .collect();
    format!("%{}%", escaped.to_lowercase())
}

/// A stored scope list (space-separated) read back as a set; a value that no longer
/// parses refuses the row.
pub(crate) fn scope_set(
    r: &sqlx::any::AnyRow,
    column: &str,
) -> Result<crate::domain::ScopeSet, sqlx::Error> {
    use sqlx::Row;
    let raw: String = r.try_get(column)?;
    crate::domain::ScopeSet::parse([raw.as_str()])
        .map_err(|e| sqlx::Error::Decode(format!("{column}: {}", e.message).into()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    #[test]
    fn like_pattern_escapes() {
        assert_eq!(super::like_pattern("a%b_C\\"), "%a\\%b\\_c\\\\%");
    }
}
