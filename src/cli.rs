//! The command line: `serve` (default), `migrate`, and admin commands that print JSON.
//! It calls the same services as the admin portal.

use std::io::Read;

use clap::{Parser, Subcommand};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::domain::app::AppInput;
use crate::server::config::{Config, Settings};
use crate::services::Db;
use crate::services::{self, Principal, bootstrap::Bootstrapped};

#[derive(Debug, Parser)]
#[command(
    name = "latchkey",
    version,
    about = "OAuth 2.0 and OpenID Connect server for connected apps"
)]
pub struct Cli {
    #[command(flatten)]
    pub config: Config,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Run the server (the default).
    Serve,
    /// Apply database migrations and exit.
    Migrate,
    /// Organizations.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Users.
    #[command(subcommand)]
    User(UserCommand),
    /// Connected apps.
    #[command(subcommand)]
    App(AppCommand),
    /// The signing key ring.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// The audit log.
    #[command(subcommand)]
    Audit(AuditCommand),
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Recompute the hash chains (every organization's, or one) and report the first
    /// broken link of each; exits non-zero when one is broken.
    Verify {
        #[arg(long)]
        org: Option<String>,
    },
    /// Remove the records older than each organization's retention now (the server does it
    /// hourly), leaving a checkpoint from which each chain still verifies.
    Purge,
}

#[derive(Debug, Subcommand)]
pub enum KeysCommand {
    /// Add a key: published in JWKS now, signing in 10 minutes, when the current key retires.
    Rotate,
    /// The published keys (JWKS).
    List,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    Create {
        #[arg(long)]
        name: String,
    },
    List,
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user; the password comes from --password-stdin or LATCHKEY_USER_PASSWORD.
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "member")]
        role: String,
        #[arg(long)]
        password_stdin: bool,
        #[arg(long, env = "LATCHKEY_USER_PASSWORD", hide_env_values = true)]
        password: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)]
pub enum AppCommand {
    /// Create an app; prints its client id and (for confidential clients) its secret.
    Create {
        #[arg(long)]
        org: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        kind: String,
        #[arg(long, value_delimiter = ',')]
        grant_types: Vec<String>,
        #[arg(long = "redirect-uri")]
        redirect_uris: Vec<String>,
        /// Where RP-initiated logout may return to (with an ID token of the app as hint).
        #[arg(long = "post-logout-redirect-uri")]
        post_logout_redirect_uris: Vec<String>,
        #[arg(long, default_value = "")]
        scopes: String,
        #[arg(long)]
        public: bool,
        /// A first-party app: the organization's users are not asked to consent.
        #[arg(long)]
        skip_consent: bool,
        #[arg(long, default_value = "internal")]
        audience: String,
        #[arg(long, default_value = "")]
        website_url: String,
        #[arg(long, default_value = "")]
        access_token_ttl: String,
        #[arg(long, default_value = "")]
        refresh_token_ttl: String,
        /// The absolute lifetime of a user's grant, in seconds (default 365 days).
        #[arg(long, default_value = "")]
        grant_ttl: String,
        #[arg(long)]
        public_key_file: Option<std::path::PathBuf>,
        /// The ID tokens' algorithm: RS256 (the default) or ES256.
        #[arg(long, default_value = "")]
        id_token_alg: String,
    },
    List {
        #[arg(long)]
        org: String,
    },
}

fn print(value: serde_json::Value) {
    println!("{value}");
}

fn err(e: services::Error) -> String {
    e.to_string()
}

pub async fn run(cli: Cli) -> Result<(), String> {
    let settings = cli.config.resolve()?;
    match cli.command.unwrap_or(Command::Serve) {
        Command::Serve => serve(settings).await,
        Command::Migrate => {
            crate::server::prepare(settings).await?;
            print(json!({ "migrated": true }));
            Ok(())
        }
        Command::Org(cmd) => {
            let db = open(&settings).await?;
            match cmd {
                OrgCommand::Create { name } => {
                    print(json!(
                        services::orgs::create(&db, &Principal::operator(), &name)
                            .await
                            .map_err(err)?
                    ));
                }
                OrgCommand::List => print(json!(
                    services::orgs::list(&db, &Principal::operator())
                        .await
                        .map_err(err)?
                )),
            }
            Ok(())
        }
        Command::User(UserCommand::Create {
            org,
            email,
            name,
            role,
            password_stdin,
            password,
        }) => {
            let db = open(&settings).await?;
            let password = if password_stdin {
                let mut s = String::new();
                std::io::stdin()
                    .read_to_string(&mut s)
                    .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
                s.trim_end_matches(['\n', '\r']).to_string()
            } else {
                password
                    .ok_or("give the password with --password-stdin or LATCHKEY_USER_PASSWORD")?
            };
            let user = services::users::create(
                &db,
                &Principal::operator_in(&org),
                &email,
                &name,
                &role,
                SecretString::from(password),
            )
            .await
            .map_err(err)?;
            print(json!(user));
            Ok(())
        }
        Command::App(AppCommand::Create {
            org,
            name,
            kind,
            grant_types,
            redirect_uris,
            post_logout_redirect_uris,
            scopes,
            public,
            skip_consent,
            audience,
            website_url,
            access_token_ttl,
            refresh_token_ttl,
            grant_ttl,
            public_key_file,
            id_token_alg,
        }) => {
            let db = open(&settings).await?;
            let keys = match public_key_file {
                Some(path) => std::fs::read_to_string(&path)
                    .map_err(|e| format!("{}: {e}", path.display()))?,
                None => String::new(),
            };
            let input = AppInput {
                name,
                kind,
                grant_types,
                redirect_uris,
                website_url,
                audience,
                scopes: vec![scopes],
                access_token_ttl,
                refresh_token_ttl,
                grant_ttl,
                public_client: public,
                id_token_alg,
                post_logout_redirect_uris,
                skip_consent,
                require_par: false,
                require_dpop: false,
                exchange_audiences: Vec::new(),
                backchannel_logout_uri: String::new(),
            };
            let (app, secret) =
                services::apps::create(&db, &Principal::operator_in(&org), &input, &keys)
                    .await
                    .map_err(err)?;
            let mut out = json!({ "client_id": app.client_id, "app": app });
            if let Some(secret) = secret {
                out["client_secret"] = json!(secret.expose_secret());
            }
            print(out);
            Ok(())
        }
        Command::Audit(AuditCommand::Verify { org }) => {
            let db = open(&settings).await?;
            let reports = services::audit::verify(&db, org.as_deref())
                .await
                .map_err(err)?;
            let broken: Vec<String> = reports
                .iter()
                .filter_map(|r| {
                    r.first_broken.as_ref().map(|b| {
                        format!(
                            "{} at {b}",
                            if r.chain.is_empty() {
                                "(no organization)"
                            } else {
                                &r.chain
                            }
                        )
                    })
                })
                .collect();
            print(json!({ "intact": broken.is_empty(), "chains": reports }));
            if broken.is_empty() {
                Ok(())
            } else {
                Err(format!("the audit chain is broken: {}", broken.join("; ")))
            }
        }
        Command::Audit(AuditCommand::Purge) => {
            let db = open(&settings).await?;
            let purged = services::audit::purge_expired(&db, &services::Caller::cli())
                .await
                .map_err(err)?;
            let orgs: Vec<_> = purged
                .iter()
                .map(|(org, removed)| json!({ "org_id": org, "removed": removed }))
                .collect();
            print(json!({ "purged": orgs }));
            Ok(())
        }
        Command::Keys(cmd) => {
            let state = crate::server::prepare(settings).await?;
            match cmd {
                KeysCommand::Rotate => {
                    let (kids, signs_from) =
                        services::keys::rotate(&state.db, &state.settings.master_key)
                            .await
                            .map_err(err)?;
                    print(json!({ "kids": kids, "signs_from": signs_from }));
                }
                KeysCommand::List => {
                    state.reload_keys().await.map_err(err)?;
                    print(serde_json::to_value(&state.key_ring().jwks).map_err(|e| e.to_string())?);
                }
            }
            Ok(())
        }
        Command::App(AppCommand::List { org }) => {
            let db = open(&settings).await?;
            services::orgs::get(&db, &Principal::operator_in(&org))
                .await
                .map_err(|_| format!("no organization with id {org}"))?;
            let mut all = Vec::new();
            let mut page = 1;
            loop {
                let q = crate::domain::listing::ListQuery {
                    page: page.to_string(),
                    ..Default::default()
                };
                let p = services::apps::list(&db, &Principal::operator_in(&org), &q)
                    .await
                    .map_err(err)?;
                let last = page >= p.pages();
                all.extend(p.items);
                if last {
                    break;
                }
                page += 1;
            }
            print(json!(all));
            Ok(())
        }
    }
}

async fn open(settings: &Settings) -> Result<Db, String> {
    Ok(crate::server::prepare(settings.clone()).await?.db)
}

async fn serve(settings: Settings) -> Result<(), String> {
    crate::server::telemetry::init_logs(settings.log_json);
    let bind = settings.bind;
    let issuer = settings.issuer.clone();
    let (org, email, password) = (
        settings.admin_org.clone(),
        settings.admin_email.clone(),
        settings.admin_password.clone(),
    );
    let state = crate::server::prepare(settings).await?;
    match services::bootstrap::ensure_admin(&state.db, &org, &email, password)
        .await
        .map_err(|e| format!("bootstrap admin: {e}"))?
    {
        Bootstrapped::AlreadyInitialised => {}
        Bootstrapped::Created {
            org_id,
            email,
            generated_password,
        } => {
            tracing::info!(%org_id, %email, "created the bootstrap organization and admin");
            if let Some(p) = generated_password {
                eprintln!(
                    "\n  Bootstrap admin: {email}\n  Password (shown once): {}\n",
                    p.expose_secret()
                );
            }
        }
    }
    let listener = tokio::net::TcpListener::bind(bind)
        .await
        .map_err(|e| format!("cannot listen on {bind}: {e}"))?;
    tracing::info!(%bind, %issuer, "Latchkey is listening");
    crate::server::serve(listener, state, shutdown_signal()).await
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = term => {},
    }
}
