//! Configuration from flags and environment (clap with `env`). Bad values stop start-up
//! with one clear line.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use clap::Args;
use secrecy::SecretString;

use crate::crypto::master_key::MasterKey;
use crate::services::limits::Limits;
pub use crate::web::Settings;

#[derive(Debug, Clone, Args)]
pub struct Config {
    /// Database URL: sqlite://FILE or postgres://USER@HOST/DB. Default: SQLite under the data dir.
    #[arg(long, env = "LATCHKEY_DATABASE_URL", global = true)]
    pub database_url: Option<String>,

    /// Public base URL of this server (the OpenID Connect issuer).
    #[arg(
        long,
        env = "LATCHKEY_ISSUER",
        default_value = "http://127.0.0.1:3000",
        global = true
    )]
    pub issuer: String,

    /// Address to listen on.
    #[arg(
        long,
        env = "LATCHKEY_BIND",
        default_value = "127.0.0.1:3000",
        global = true
    )]
    pub bind: String,

    /// Master key (32 bytes, hex or base64) that encrypts secrets at rest.
    #[arg(
        long,
        env = "LATCHKEY_MASTER_KEY",
        hide_env_values = true,
        global = true
    )]
    pub master_key: Option<String>,

    /// File holding the master key.
    #[arg(long, env = "LATCHKEY_MASTER_KEY_FILE", global = true)]
    pub master_key_file: Option<PathBuf>,

    /// Folder for the default SQLite database and generated master key.
    #[arg(
        long,
        env = "LATCHKEY_DATA_DIR",
        default_value = "./data",
        global = true
    )]
    pub data_dir: PathBuf,

    /// E-mail of the bootstrap admin, created on first start when there are no users.
    #[arg(
        long,
        env = "LATCHKEY_ADMIN_EMAIL",
        default_value = "admin@localhost",
        global = true
    )]
    pub admin_email: String,

    /// Password of the bootstrap admin; generated and printed once when unset.
    #[arg(
        long,
        env = "LATCHKEY_ADMIN_PASSWORD",
        hide_env_values = true,
        global = true
    )]
    pub admin_password: Option<String>,

    /// Name of the bootstrap organization.
    #[arg(
        long,
        env = "LATCHKEY_ADMIN_ORG",
        default_value = "Default organization",
        global = true
    )]
    pub admin_org: String,

    /// Folder of the compiled site (pkg/, CSS, assets) written by cargo-leptos.
    #[arg(
        long,
        env = "LATCHKEY_SITE_ROOT",
        default_value = "target/site",
        global = true
    )]
    pub site_root: String,

    /// How many reverse proxies of yours stand in front of Latchkey, each appending to
    /// X-Forwarded-For: the client address is taken that many entries from the right (what
    /// the client wrote itself is never believed). 0, the default, ignores the header.
    #[arg(
        long,
        env = "LATCHKEY_TRUSTED_PROXIES",
        default_value_t = 0,
        global = true
    )]
    pub trusted_proxies: usize,

    /// Earlier name for one trusted proxy (`--trusted-proxies 1`).
    #[arg(
        long,
        env = "LATCHKEY_TRUST_FORWARDED_FOR",
        default_value_t = false,
        global = true
    )]
    pub trust_forwarded_for: bool,

    /// Token requests one client may make per minute (0: no limit).
    #[arg(long, env = "LATCHKEY_RATE_TOKEN_PER_CLIENT", default_value_t = Limits::default().token_per_client, global = true)]
    pub rate_token_per_client: u32,

    /// Token, introspection and revocation requests one address may make per minute.
    #[arg(long, env = "LATCHKEY_RATE_TOKEN_PER_IP", default_value_t = Limits::default().token_per_ip, global = true)]
    pub rate_token_per_ip: u32,

    /// Sign-in attempts one address may make per minute.
    #[arg(long, env = "LATCHKEY_RATE_SIGNIN_PER_IP", default_value_t = Limits::default().signin_per_ip, global = true)]
    pub rate_signin_per_ip: u32,

    /// Authorization requests one address may make per minute.
    #[arg(long, env = "LATCHKEY_RATE_AUTHORIZE_PER_IP", default_value_t = Limits::default().authorize_per_ip, global = true)]
    pub rate_authorize_per_ip: u32,

    /// Seconds readiness reports false on SIGTERM before the instance stops accepting.
    #[arg(
        long,
        env = "LATCHKEY_SHUTDOWN_DRAIN_SECS",
        default_value_t = 5,
        global = true
    )]
    pub shutdown_drain_secs: u64,

    /// Log format: `json` (one object per line), `text`, or `auto` (JSON unless the output
    /// is a terminal).
    #[arg(
        long,
        env = "LATCHKEY_LOG_FORMAT",
        default_value = "auto",
        global = true
    )]
    pub log_format: String,

    /// SMTP server for mail to users (password reset, address verification, invitations):
    /// `smtps://user:pass@host`, `smtp://user:pass@host:587?tls=required` (STARTTLS), or
    /// `smtp://host:25` for a local relay. Unset: a development server (issuer on loopback)
    /// writes the messages to its log; any other sends none.
    #[arg(long, env = "LATCHKEY_SMTP_URL", hide_env_values = true, global = true)]
    pub smtp_url: Option<String>,

    /// The From address of mail to users.
    #[arg(
        long,
        env = "LATCHKEY_MAIL_FROM",
        default_value = "Latchkey <no-reply@localhost>",
        global = true
    )]
    pub mail_from: String,
}

pub use crate::domain::upstream::is_development;

impl Config {
    /// Checks everything and loads (or, on the SQLite default, creates) the master key.
    pub fn resolve(&self) -> Result<Settings, String> {
        let issuer = parse_issuer(&self.issuer)?;
        let bind: SocketAddr = self
            .bind
            .parse()
            .map_err(|_| format!("LATCHKEY_BIND is not an address:port: {}", self.bind))?;
        let (database_url, is_default_db) = match &self.database_url {
            Some(url) => (url.clone(), false),
            None => {
                ensure_dir(&self.data_dir)?;
                (
                    format!("sqlite://{}", self.data_dir.join("latchkey.db").display()),
                    true,
                )
            }
        };
        let master_key = self.master_key(is_default_db || database_url.starts_with("sqlite:"))?;
        let mailer = crate::services::mail::Mailer::new(
            self.smtp_url.as_deref(),
            &self.mail_from,
            is_development(&issuer),
        )
        .map_err(|e| e.to_string())?;
        Ok(Settings {
            mailer,
            secure_cookies: issuer.starts_with("https://"),
            database_url,
            issuer,
            bind,
            master_key,
            admin_email: self.admin_email.clone(),
            admin_password: self.admin_password.clone().map(SecretString::from),
            admin_org: self.admin_org.clone(),
            site_root: self.site_root.clone(),
            limits: Limits {
                token_per_client: self.rate_token_per_client,
                token_per_ip: self.rate_token_per_ip,
                signin_per_ip: self.rate_signin_per_ip,
                authorize_per_ip: self.rate_authorize_per_ip,
            },
            drain: std::time::Duration::from_secs(self.shutdown_drain_secs.min(300)),
            log_json: match self.log_format.as_str() {
                "json" => true,
                "text" => false,
                "auto" => !std::io::IsTerminal::is_terminal(&std::io::stderr()),
                other => {
                    return Err(format!(
                        "LATCHKEY_LOG_FORMAT must be json, text or auto, not {other}"
                    ));
                }
            },
            trusted_proxies: if self.trusted_proxies == 0 && self.trust_forwarded_for {
                1
            } else {
                self.trusted_proxies.min(16)
            },
        })
    }

    fn master_key(&self, may_generate: bool) -> Result<MasterKey, String> {
        if let Some(text) = &self.master_key {
            return MasterKey::parse(text).map_err(|e| format!("LATCHKEY_MASTER_KEY: {e}"));
        }
        if let Some(path) = &self.master_key_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("LATCHKEY_MASTER_KEY_FILE {}: {e}", path.display()))?;
            return MasterKey::parse(&text)
                .map_err(|e| format!("LATCHKEY_MASTER_KEY_FILE {}: {e}", path.display()));
        }
        if !may_generate {
            return Err("LATCHKEY_MASTER_KEY or LATCHKEY_MASTER_KEY_FILE is required with PostgreSQL (every instance needs the same key)".into());
        }
        let path = self.data_dir.join("master.key");
        if path.exists() {
            let text =
                std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
            return MasterKey::parse(&text).map_err(|e| format!("{}: {e}", path.display()));
        }
        ensure_dir(&self.data_dir)?;
        let (key, text) = MasterKey::generate();
        write_private(&path, &text)?;
        Ok(key)
    }
}

fn ensure_dir(dir: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dir)
        .map_err(|e| format!("cannot create data dir {}: {e}", dir.display()))
}

/// Writes a file readable by its owner only (0600).
fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    f.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The issuer: an absolute http(s) URL without query or fragment, no trailing slash.
pub fn parse_issuer(raw: &str) -> Result<String, String> {
    let url = url::Url::parse(raw.trim())
        .map_err(|_| format!("LATCHKEY_ISSUER is not an absolute URL: {raw}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err(format!(
            "LATCHKEY_ISSUER must be an http or https URL: {raw}"
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("LATCHKEY_ISSUER must not have a query or fragment".into());
    }
    Ok(url.as_str().trim_end_matches('/').to_string())
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn issuer() {
        assert_eq!(
            parse_issuer("http://127.0.0.1:3000/").unwrap(),
            "http://127.0.0.1:3000"
        );
        assert_eq!(
            parse_issuer("https://id.example.com/tenant").unwrap(),
            "https://id.example.com/tenant"
        );
        assert!(parse_issuer("ftp://x").is_err());
        assert!(parse_issuer("https://x/?a=1").is_err());
        assert!(parse_issuer("nonsense").is_err());
    }
}
