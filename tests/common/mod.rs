//! Test harness: the real router on a random port against a fresh database, SQLite or
//! PostgreSQL, and an HTTP client with a cookie jar that speaks to the server functions.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::panic)]

pub mod dpop;
pub mod webauthn;

use std::net::SocketAddr;

use latchkey::crypto::master_key::MasterKey;
use latchkey::server::config::Settings;
use latchkey::server::{self, AppState};
use latchkey::services;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

pub const PG_ADMIN_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";
pub const PASSWORD: &str = "correct horse battery staple";

/// Runs each named async test once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::common::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::common::Backend::Postgres).await } )*
        }
    };
}

/// A fresh, empty database URL for one test.
pub async fn fresh_database(backend: Backend) -> String {
    let name = format!("lk_t_{}", uuid_like());
    match backend {
        Backend::Sqlite => {
            let dir = std::env::temp_dir().join("latchkey-tests");
            std::fs::create_dir_all(&dir).expect("temp dir");
            format!("sqlite://{}", dir.join(format!("{name}.db")).display())
        }
        Backend::Postgres => {
            use sqlx::Connection;
            let mut conn = sqlx::PgConnection::connect(PG_ADMIN_URL)
                .await
                .expect("PostgreSQL at 127.0.0.1:5432 (user postgres) must be running");
            sqlx::query(&format!("CREATE DATABASE {name}"))
                .execute(&mut conn)
                .await
                .expect("create test database");
            format!("postgres://postgres@127.0.0.1:5432/{name}")
        }
    }
}

fn uuid_like() -> String {
    latchkey::crypto::random_token(9)
        .to_lowercase()
        .replace(['-', '_'], "x")
}

pub fn settings(database_url: String, issuer: String) -> Settings {
    Settings {
        database_url,
        issuer,
        bind: "127.0.0.1:0".parse().expect("addr"),
        master_key: MasterKey::generate().0,
        admin_email: "admin@localhost".into(),
        admin_password: None,
        admin_org: "Default organization".into(),
        site_root: "target/site".into(),
        trusted_proxies: 0,
        secure_cookies: false,
        limits: latchkey::services::limits::Limits::default(),
        drain: std::time::Duration::ZERO,
        log_json: false,
        mailer: latchkey::services::mail::Mailer::new(None, "Latchkey <no-reply@localhost>", false)
            .expect("mailer"),
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub base: String,
    pub state: AppState,
    pub database_url: String,
    /// Every message the server sent (its SMTP server).
    pub mail: MailSink,
}

/// Starts the real server on a random port against a fresh database.
pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

/// `spawn_app` with settings changed by `adjust` (trusted proxies, an https issuer...).
pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    let database_url = fresh_database(backend).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let mail = MailSink::start().await;
    let mut settings = settings(database_url.clone(), base.clone());
    settings.mailer = latchkey::services::mail::Mailer::new(
        Some(&format!("smtp://{}", mail.addr)),
        "Latchkey <no-reply@localhost>",
        false,
    )
    .expect("mailer");
    adjust(&mut settings);
    let state = server::prepare(settings).await.expect("prepare");
    let serve_state = state.clone();
    tokio::spawn(async move {
        let _ = server::serve(listener, serve_state, std::future::pending()).await;
    });
    TestApp {
        addr,
        base,
        state,
        database_url,
        mail,
    }
}

/// A local SMTP server that keeps every message it receives, so tests read the links the
/// server mails (password reset, invitation, verification).
#[derive(Clone)]
pub struct MailSink {
    pub addr: SocketAddr,
    messages: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

impl MailSink {
    pub async fn start() -> Self {
        use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind smtp");
        let addr = listener.local_addr().expect("addr");
        let messages = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let kept = messages.clone();
        tokio::spawn(async move {
            while let Ok((socket, _)) = listener.accept().await {
                let kept = kept.clone();
                tokio::spawn(async move {
                    let (read, mut write) = socket.into_split();
                    let mut lines = BufReader::new(read).lines();
                    let _ = write.write_all(b"220 sink ESMTP\r\n").await;
                    let mut data: Option<String> = None;
                    while let Ok(Some(line)) = lines.next_line().await {
                        if let Some(body) = data.as_mut() {
                            if line == "." {
                                kept.lock().unwrap().push(std::mem::take(body));
                                data = None;
                                let _ = write.write_all(b"250 kept\r\n").await;
                            } else {
                                body.push_str(line.strip_prefix('.').unwrap_or(&line));
                                body.push('\n');
                            }
                            continue;
                        }
                        let verb = line.get(..4).unwrap_or("").to_ascii_uppercase();
                        let answer: &[u8] = match verb.as_str() {
                            "EHLO" => b"250-sink\r\n250 8BITMIME\r\n",
                            "DATA" => {
                                data = Some(String::new());
                                b"354 go on\r\n"
                            }
                            "QUIT" => {
                                let _ = write.write_all(b"221 bye\r\n").await;
                                break;
                            }
                            _ => b"250 ok\r\n",
                        };
                        let _ = write.write_all(answer).await;
                    }
                });
            }
        });
        Self { addr, messages }
    }

    /// Every message so far, headers and body, soft line breaks undone.
    pub fn all(&self) -> Vec<String> {
        self.messages
            .lock()
            .unwrap()
            .iter()
            .map(|m| m.replace("=\n", "").replace("=3D", "="))
            .collect()
    }

    /// The messages to `to` so far.
    pub fn to(&self, to: &str) -> Vec<String> {
        self.all()
            .into_iter()
            .filter(|m| {
                m.lines()
                    .any(|l| l.to_ascii_lowercase().starts_with("to:") && l.contains(to))
            })
            .collect()
    }

    /// Waits (up to 10 s) for the `n`th message to `to` and returns it.
    pub async fn wait_for(&self, to: &str, n: usize) -> String {
        for _ in 0..400 {
            if let Some(m) = self.to(to).get(n - 1) {
                return m.clone();
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("no message {n} to {to}: {:?}", self.all());
    }
}

/// The first link of `message` to `path` (with its query), relative to the server.
pub fn link_in(message: &str, path: &str) -> String {
    let at = message
        .find(path)
        .unwrap_or_else(|| panic!("no {path} link in {message}"));
    message[at..]
        .split_whitespace()
        .next()
        .expect("link")
        .to_string()
}

impl TestApp {
    /// A second instance of this server on the same database, with the same issuer and
    /// master key, on a port of its own: what a load balancer puts beside the first.
    pub async fn spawn_peer(&self) -> TestApp {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        let mut settings = (*self.state.settings).clone();
        settings.bind = addr;
        let state = server::prepare(settings).await.expect("prepare");
        let serve_state = state.clone();
        tokio::spawn(async move {
            let _ = server::serve(listener, serve_state, std::future::pending()).await;
        });
        let peer = TestApp {
            addr,
            base: format!("http://{addr}"),
            state,
            database_url: self.database_url.clone(),
            mail: self.mail.clone(),
        };
        peer.cache_serving().await;
        peer
    }

    /// Waits until this instance's cache listens for the others' changes.
    pub async fn cache_serving(&self) {
        for _ in 0..200 {
            if self.state.db.cache.is_live() {
                return;
            }
            tokio::time::sleep(std::time::Duration::from_millis(25)).await;
        }
        panic!("the cache listener did not connect");
    }
}

/// An organization with an admin (and the admin's e-mail).
pub struct Org {
    pub id: String,
    pub admin_email: String,
}

impl TestApp {
    pub async fn org_with_admin(&self, name: &str) -> Org {
        let org = services::orgs::create(
            &self.state.db,
            &latchkey::services::Principal::operator(),
            name,
        )
        .await
        .expect("org");
        let email = format!("admin-{}@example.com", uuid_like());
        services::users::create(
            &self.state.db,
            &latchkey::services::Principal::operator_in(&org.id),
            &email,
            "Admin",
            "admin",
            PASSWORD.to_string().into(),
        )
        .await
        .expect("admin");
        Org {
            id: org.id,
            admin_email: email,
        }
    }

    pub async fn add_user(&self, org: &Org, role: &str) -> String {
        let email = format!("{role}-{}@example.com", uuid_like());
        services::users::create(
            &self.state.db,
            &latchkey::services::Principal::operator_in(&org.id),
            &email,
            "Someone",
            role,
            PASSWORD.to_string().into(),
        )
        .await
        .expect("user");
        email
    }

    /// The id of `org`'s user with this e-mail.
    pub async fn user_id(&self, org: &Org, email: &str) -> String {
        services::users::list(
            &self.state.db,
            &latchkey::services::Principal::operator_in(&org.id),
        )
        .await
        .expect("users")
        .into_iter()
        .find(|u| u.email == email)
        .expect("user")
        .user_id
    }

    /// A browser-like client (cookie jar, no redirects followed).
    pub fn client(&self) -> Browser {
        let http = reqwest::Client::builder()
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            // A request left unanswered fails the test instead of stalling the suite.
            .timeout(std::time::Duration::from_secs(60))
            .build()
            .expect("client");
        Browser {
            http,
            base: self.base.clone(),
        }
    }

    /// A client signed in as `email`.
    pub async fn signed_in(&self, email: &str) -> Browser {
        let b = self.client();
        let (status, body) = b.login(email, PASSWORD).await;
        assert!(
            status.is_success() || status.is_redirection(),
            "login failed: {status} {body}"
        );
        b
    }

    /// Registers an app in `org_id` as the operator would: (the app, its first secret).
    pub async fn register_app(
        &self,
        org_id: &str,
        input: &latchkey::domain::AppInput,
        public_keys: &str,
    ) -> (
        latchkey::domain::views::AppView,
        Option<secrecy::SecretString>,
    ) {
        services::apps::create(
            &self.state.db,
            &services::Principal::operator_in(org_id),
            input,
            public_keys,
        )
        .await
        .expect("app")
    }

    /// Enables or disables an app of `org_id` as the operator would.
    pub async fn set_enabled(&self, org_id: &str, client_id: &str, enabled: bool) {
        services::apps::set_enabled(
            &self.state.db,
            &services::Principal::operator_in(org_id),
            client_id,
            enabled,
        )
        .await
        .expect("enable or disable");
    }

    pub async fn count(&self, sql: &str) -> i64 {
        use sqlx::Row;
        sqlx::query(sql)
            .fetch_one(&self.state.db.pool)
            .await
            .expect("count")
            .try_get::<i64, _>(0)
            .expect("n")
    }
}

pub struct Browser {
    pub http: reqwest::Client,
    pub base: String,
}

impl Browser {
    /// Calls a server function as the hydrated app does (form-encoded body, JSON answer).
    pub async fn call(
        &self,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> (reqwest::StatusCode, Value) {
        let res = self
            .http
            .post(format!("{}/api/{endpoint}", self.base))
            .form(form)
            .send()
            .await
            .expect("request");
        let status = res.status();
        let text = res.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn csrf(&self) -> String {
        let (status, ctx) = self.call("page_context", &[]).await;
        assert_eq!(status, 200, "{ctx}");
        ctx["csrf"].as_str().expect("csrf").to_string()
    }

    /// Calls a state-changing server function with this session's CSRF token.
    pub async fn act(&self, endpoint: &str, form: &[(&str, &str)]) -> (reqwest::StatusCode, Value) {
        let csrf = self.csrf().await;
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(form);
        self.call(endpoint, &all).await
    }

    pub async fn login(&self, email: &str, password: &str) -> (reqwest::StatusCode, Value) {
        self.act("login", &[("email", email), ("password", password)])
            .await
    }

    /// GETs a page as a browser does. A render that has not answered within 10 s fails the
    /// test: renders never stall (`tests/stall.rs`).
    pub async fn get(&self, path: &str) -> (reqwest::StatusCode, String, Option<String>) {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header("accept", "text/html")
            .timeout(std::time::Duration::from_secs(10))
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"));
        let status = res.status();
        let location = res
            .headers()
            .get("location")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (status, res.text().await.expect("body"), location)
    }

    /// Posts a form as a browser without JavaScript does (with this session's CSRF token)
    /// and returns where the server redirects to, relative to the base URL.
    pub async fn plain_post(
        &self,
        endpoint: &str,
        from_page: &str,
        form: &[(&str, &str)],
    ) -> String {
        let csrf = self.csrf().await;
        let mut all = vec![("csrf", csrf.as_str())];
        all.extend_from_slice(form);
        let res = self
            .http
            .post(format!("{}/api/{endpoint}", self.base))
            .header("accept", "text/html")
            .header("referer", format!("{}{from_page}", self.base))
            .form(&all)
            .send()
            .await
            .expect("post");
        assert_eq!(res.status(), 302, "a plain form post is redirected");
        let location = res.headers()["location"].to_str().expect("location");
        location.trim_start_matches(&self.base).to_string()
    }

    /// Creates an app through the portal and returns (client_id, secret shown once).
    pub async fn create_app(&self, fields: &[(&str, &str)]) -> (String, Option<String>) {
        let (status, body) = self.act("create_app", fields).await;
        assert_eq!(status, 200, "create_app: {body}");
        let client_id = body.as_str().expect("client id").to_string();
        let (_, page) = self.call("get_app", &[("client_id", &client_id)]).await;
        (client_id, page["new_secret"].as_str().map(str::to_string))
    }
}

/// Form fields of an on-behalf-of-user app.
pub fn user_app(name: &str) -> Vec<(&'static str, String)> {
    vec![
        ("app[name]", name.to_string()),
        ("app[kind]", "on-behalf-of-user".into()),
        ("app[grant_types][]", "authorization_code".into()),
        ("app[grant_types][]", "refresh_token".into()),
        (
            "app[redirect_uris][]",
            "https://app.example.com/cb\nhttp://127.0.0.1:8765/cb".into(),
        ),
        ("app[scopes][]", "openid".into()),
        ("app[scopes][]", "email".into()),
        ("app[access_token_ttl]", "900".into()),
        ("app[refresh_token_ttl]", "7776000".into()),
    ]
}

pub fn as_refs<'a>(v: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    v.iter().map(|(k, v)| (*k, v.as_str())).collect()
}

pub fn field_error(body: &Value, field: &str) -> Option<String> {
    body["Invalid"]
        .as_array()?
        .iter()
        .find(|e| e["field"] == field)
        .and_then(|e| e["message"].as_str())
        .map(str::to_string)
}

pub fn j(v: Value) -> Value {
    json!(v)
}

/// An own-behalf app of `org` allowed `scopes`, and a client-credentials token of it:
/// (client id, secret, access token).
pub async fn app_token(app: &TestApp, org: &Org, scopes: &str) -> (String, String, String) {
    let input = latchkey::domain::AppInput {
        name: format!("CI {scopes}"),
        kind: "own-behalf".into(),
        grant_types: vec!["client_credentials".into()],
        scopes: vec![scopes.into()],
        ..Default::default()
    };
    let (a, s) = app.register_app(&org.id, &input, "").await;
    let secret = s.unwrap().expose_secret().to_string();
    let t: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/oauth2/token", app.base))
        .basic_auth(&a.client_id, Some(&secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    (
        a.client_id,
        secret,
        t["access_token"].as_str().unwrap().to_string(),
    )
}

/// Calls the REST API: (status, WWW-Authenticate, JSON body).
pub async fn api(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
) -> (u16, String, serde_json::Value) {
    let url = format!("{}/api/v1{path}", app.base);
    let client = reqwest::Client::new();
    let mut req = match method {
        "POST" => client.post(url),
        "DELETE" => client.delete(url),
        "PATCH" => client.patch(url),
        "PUT" => client.put(url),
        _ => client.get(url),
    };
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (
        status,
        challenge,
        res.json().await.unwrap_or(serde_json::Value::Null),
    )
}

// The authorization-code flow, as a browser and a relying party drive it.

pub const CB: &str = "https://rp.example.com/cb";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// A relying party: its client id and secret (none for a public client).
pub struct Rp {
    pub id: String,
    pub secret: Option<String>,
}

pub fn query_of(url: &str) -> std::collections::HashMap<String, String> {
    url::Url::parse(url)
        .unwrap()
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

pub fn authorize_url(pairs: &[(&str, &str)]) -> String {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish();
    format!("/oauth2/authorize?{q}")
}

pub fn good(client_id: &str) -> Vec<(&str, &str)> {
    vec![
        ("response_type", "code"),
        ("client_id", client_id),
        ("redirect_uri", CB),
        ("scope", "openid email"),
        ("state", "st'\"<>;--"),
        ("code_challenge", CHALLENGE),
        ("code_challenge_method", "S256"),
    ]
}

pub fn with<'a>(
    base: &[(&'a str, &'a str)],
    key: &'a str,
    value: Option<&'a str>,
) -> Vec<(&'a str, &'a str)> {
    let mut v: Vec<_> = base.iter().copied().filter(|(k, _)| *k != key).collect();
    if let Some(value) = value {
        v.push((key, value));
    }
    v
}

impl Browser {
    /// Follows the authorization endpoint's answers as a browser does: signs in with
    /// `email` when sent to the login page and answers the consent page with `decision`.
    /// Returns the final redirect to the client.
    pub async fn authorize(&self, url: &str, email: &str, decision: &str) -> String {
        let path = url.trim_start_matches(&self.base).to_string();
        let (status, body, mut location) = self.get(&path).await;
        for _ in 0..4 {
            let Some(loc) = location.clone() else {
                panic!("no redirect: {status} {body}");
            };
            if !loc.starts_with('/') {
                return loc;
            }
            if loc.starts_with("/login") {
                let next = query_of(&format!("http://x{loc}"))["next"].clone();
                let (s, b) = self
                    .act(
                        "login",
                        &[("email", email), ("password", PASSWORD), ("next", &next)],
                    )
                    .await;
                assert!(s.is_success() || s.is_redirection(), "login: {s} {b}");
                location = self.get(&next).await.2;
            } else if loc.starts_with("/consent") {
                let request = query_of(&format!("http://x{loc}"))["request"].clone();
                let (s, page) = self.call("get_consent", &[("request", &request)]).await;
                assert_eq!(s, 200, "{page}");
                let back = self
                    .plain_post(
                        "decide_consent",
                        &loc,
                        &[("request", &request), ("decision", decision)],
                    )
                    .await;
                return back;
            } else {
                location = self.get(&loc).await.2;
            }
        }
        panic!("too many redirects");
    }
}

pub async fn code_for(app: &TestApp, browser: &Browser, client_id: &str, user: &str) -> String {
    let url = format!("{}{}", app.base, authorize_url(&good(client_id)));
    let back = browser.authorize(&url, user, "allow").await;
    query_of(&back)["code"].clone()
}

/// The well-formed exchange of `code` (this client, `CB`, `VERIFIER`).
pub async fn redeem(app: &TestApp, c: &Rp, code: &str) -> (u16, Value) {
    exchange(
        app,
        c,
        &[
            ("code", code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
    )
    .await
}

pub async fn exchange(app: &TestApp, c: &Rp, form: &[(&str, &str)]) -> (u16, Value) {
    let mut req = reqwest::Client::new().post(format!("{}/oauth2/token", app.base));
    let mut all: Vec<(&str, &str)> = vec![("grant_type", "authorization_code")];
    all.extend_from_slice(form);
    match &c.secret {
        Some(s) => req = req.basic_auth(&c.id, Some(s)),
        None => all.push(("client_id", &c.id)),
    }
    let res = req.form(&all).send().await.unwrap();
    assert_eq!(res.headers()["cache-control"], "no-store");
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

/// An own-behalf app's settings: client credentials with `scopes`.
pub fn own_behalf(name: &str, scopes: &str) -> latchkey::domain::AppInput {
    latchkey::domain::AppInput {
        name: name.into(),
        kind: "own-behalf".into(),
        grant_types: vec!["client_credentials".into()],
        scopes: vec![scopes.into()],
        ..Default::default()
    }
}

/// An app acting for users: authorization code (to `CB`), password and refresh grants.
pub fn for_users(name: &str, scopes: &str) -> latchkey::domain::AppInput {
    latchkey::domain::AppInput {
        name: name.into(),
        kind: "on-behalf-of-user".into(),
        grant_types: vec![
            "authorization_code".into(),
            "password".into(),
            "refresh_token".into(),
        ],
        redirect_uris: vec![CB.into()],
        scopes: vec![scopes.into()],
        ..Default::default()
    }
}

/// Posts a form to `path` of `base` as the client `id` (HTTP Basic): (status, JSON body).
pub async fn post_as_client(
    base: &str,
    path: &str,
    id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{base}{path}"))
        .basic_auth(id, Some(secret))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

/// The form of a password grant for `user` with `scope`.
pub fn password_form<'a>(user: &'a str, scope: &'a str) -> [(&'static str, &'a str); 4] {
    [
        ("grant_type", "password"),
        ("username", user),
        ("password", PASSWORD),
        ("scope", scope),
    ]
}

/// The claims of a JWT, unverified (the tests read what a token says).
pub fn claims(token: &str) -> Value {
    use base64::Engine;
    let part = token.split('.').nth(1).expect("a JWT has a payload");
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .expect("base64url"),
    )
    .expect("JSON claims")
}
