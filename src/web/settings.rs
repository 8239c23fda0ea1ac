//! The server's configuration once every value was checked (`server::config` reads it
//! from flags and the environment).

use std::net::SocketAddr;

use secrecy::SecretString;

use crate::crypto::master_key::MasterKey;

/// Configuration after every value was checked.
#[derive(Debug, Clone)]
pub struct Settings {
    pub database_url: String,
    pub issuer: String,
    pub bind: SocketAddr,
    pub master_key: MasterKey,
    pub admin_email: String,
    pub admin_password: Option<SecretString>,
    pub admin_org: String,
    pub site_root: String,
    /// Reverse proxies in front of the server (X-Forwarded-For entries to skip from the right).
    pub trusted_proxies: usize,
    pub secure_cookies: bool,
    /// Request rate limits per minute.
    pub limits: crate::services::limits::Limits,
    /// On SIGTERM, how long readiness is false before the instance stops accepting, so a
    /// load balancer drains it first.
    pub drain: std::time::Duration,
    /// Log one JSON object per line (the default when the output is not a terminal).
    pub log_json: bool,
    /// Where mail to users goes (SMTP, the log of a development server, or nowhere).
    pub mailer: crate::services::mail::Mailer,
}
