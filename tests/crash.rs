//! `kill -9` under load loses nothing that was acknowledged. A real server process serves
//! client credentials, refresh rotation, password grants and consent flows from several
//! clients at once and is killed without warning; restarted on the same database, every
//! access token it answered has its audit record, every refresh token it answered (and no
//! one presented) is redeemed exactly once, and every audit chain verifies.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::collections::HashSet;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use latchkey::services::{self, Principal};
use secrecy::ExposeSecret;
use serde_json::Value;

/// What the clients were told before the crash.
#[derive(Default)]
struct Acked {
    /// `jti`s of access tokens answered 200.
    jtis: Vec<String>,
    /// Refresh tokens answered and never presented.
    refresh: Vec<String>,
}

struct Server {
    child: tokio::process::Child,
    base: String,
}

async fn start(database_url: &str, master_key: &str, extra: &[(&str, &str)]) -> Server {
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap().port()
    };
    let base = format!("http://127.0.0.1:{port}");
    let child = tokio::process::Command::new(env!("CARGO_BIN_EXE_latchkey"))
        .arg("serve")
        .env("LATCHKEY_DATABASE_URL", database_url)
        .env("LATCHKEY_MASTER_KEY", master_key)
        .env("LATCHKEY_BIND", format!("127.0.0.1:{port}"))
        .env("LATCHKEY_ISSUER", "http://latchkey.test")
        .env("LATCHKEY_ADMIN_PASSWORD", PASSWORD)
        .env("LATCHKEY_SITE_ROOT", "target/site")
        .env("RUST_LOG", "warn")
        .envs(extra.iter().copied())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start the server");
    let http = reqwest::Client::new();
    for _ in 0..400 {
        if let Ok(r) = http.get(format!("{base}/readyz")).send().await
            && r.status() == 200
        {
            return Server { child, base };
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("the server did not become ready");
}

async fn token(
    http: &reqwest::Client,
    base: &str,
    id: &str,
    secret: &str,
    form: &[(&str, &str)],
) -> Option<Value> {
    let res = http
        .post(format!("{base}/oauth2/token"))
        .basic_auth(id, Some(secret))
        .form(form)
        .send()
        .await
        .ok()?;
    if res.status() != 200 {
        return None;
    }
    res.json().await.ok()
}

fn jti(access_token: &str) -> String {
    use base64::Engine;
    let payload = access_token.split('.').nth(1).unwrap();
    let claims: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap(),
    )
    .unwrap();
    claims["jti"].as_str().unwrap().to_string()
}

fn ack(acked: &Mutex<Acked>, body: &Value, keep_refresh: bool) {
    let mut a = acked.lock().unwrap();
    a.jtis.push(jti(body["access_token"].as_str().unwrap()));
    if keep_refresh && let Some(r) = body["refresh_token"].as_str() {
        a.refresh.push(r.to_string());
    }
}

async fn nothing_acknowledged_is_lost(backend: Backend) {
    let database_url = fresh_database(backend).await;
    let (_, master_key) = latchkey::crypto::master_key::MasterKey::generate();
    let server = start(&database_url, &master_key, &[]).await;

    // The organization, its apps and a user, written straight to the database.
    let db = services::Db::connect(&database_url).await.unwrap();
    let op = Principal::operator();
    let org = services::orgs::create(&db, &op, "Crash test")
        .await
        .unwrap();
    let in_org = Principal::operator_in(&org.id);
    let user = "crash-user@example.com";
    services::users::create(
        &db,
        &in_org,
        user,
        "User",
        "member",
        PASSWORD.to_string().into(),
    )
    .await
    .unwrap();
    let ci = services::apps::create(&db, &in_org, &own_behalf("Pipeline", "read:apps"), "")
        .await
        .unwrap();
    let mobile = services::apps::create(
        &db,
        &in_org,
        &for_users("Mobile", "openid email offline_access"),
        "",
    )
    .await
    .unwrap();
    let (ci_id, ci_secret) = (
        ci.0.client_id.clone(),
        ci.1.unwrap().expose_secret().to_string(),
    );
    let (m_id, m_secret) = (
        mobile.0.client_id.clone(),
        mobile.1.unwrap().expose_secret().to_string(),
    );

    let acked = Arc::new(Mutex::new(Acked::default()));
    let mut tasks = Vec::new();
    let base = server.base.clone();
    // Client credentials.
    for _ in 0..3 {
        let (base, id, secret, acked) = (
            base.clone(),
            ci_id.clone(),
            ci_secret.clone(),
            acked.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            loop {
                match token(
                    &http,
                    &base,
                    &id,
                    &secret,
                    &[("grant_type", "client_credentials")],
                )
                .await
                {
                    Some(body) => ack(&acked, &body, false),
                    None => return,
                }
            }
        }));
    }
    // Password grants (their refresh tokens kept, never presented) and refresh rotation.
    for _ in 0..2 {
        let (base, id, secret, acked) =
            (base.clone(), m_id.clone(), m_secret.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let pw = password_form(user, "email offline_access");
            loop {
                let Some(body) = token(&http, &base, &id, &secret, &pw).await else {
                    return;
                };
                ack(&acked, &body, true);
                // A chain of rotations on a grant of its own.
                let Some(first) = token(&http, &base, &id, &secret, &pw).await else {
                    return;
                };
                ack(&acked, &first, false);
                let mut current = first["refresh_token"].as_str().unwrap().to_string();
                for _ in 0..3 {
                    let form = [
                        ("grant_type", "refresh_token"),
                        ("refresh_token", current.as_str()),
                    ];
                    let Some(next) = token(&http, &base, &id, &secret, &form).await else {
                        return;
                    };
                    ack(&acked, &next, false);
                    current = next["refresh_token"].as_str().unwrap().to_string();
                }
            }
        }));
    }
    // Consent flows in a browser, each ending in a code exchange.
    {
        let (base, id, secret, acked) =
            (base.clone(), m_id.clone(), m_secret.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            loop {
                let browser = Browser {
                    http: reqwest::Client::builder()
                        .cookie_store(true)
                        .redirect(reqwest::redirect::Policy::none())
                        .timeout(Duration::from_secs(20))
                        .build()
                        .unwrap(),
                    base: base.clone(),
                };
                let pairs = with(&good(&id), "scope", Some("openid email offline_access"));
                let url = format!("{base}{}", authorize_url(&pairs));
                let flow =
                    tokio::spawn(async move { browser.authorize(&url, user, "allow").await });
                let Ok(back) = flow.await else { return };
                let Some(code) = query_of(&back).get("code").cloned() else {
                    return;
                };
                let form = [
                    ("grant_type", "authorization_code"),
                    ("code", code.as_str()),
                    ("redirect_uri", CB),
                    ("code_verifier", VERIFIER),
                ];
                let Some(body) = token(&http, &base, &id, &secret, &form).await else {
                    return;
                };
                ack(&acked, &body, true);
            }
        }));
    }

    // Let the load run, then kill the process without warning.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let mut child = server.child;
    let pid = child.id().unwrap();
    let killed = std::process::Command::new("kill")
        .args(["-9", &pid.to_string()])
        .status()
        .unwrap();
    assert!(killed.success());
    let _ = child.wait().await;
    for t in tasks {
        let _ = t.await;
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    assert!(
        acked.jtis.len() > 50,
        "load ran: {} tokens",
        acked.jtis.len()
    );
    assert!(!acked.refresh.is_empty());

    // Restarted on the same database.
    let server = start(&database_url, &master_key, &[]).await;
    let recorded: HashSet<String> = {
        use sqlx::Row;
        sqlx::query("SELECT detail FROM audit_events WHERE action = 'token.issued'")
            .fetch_all(&db.pool)
            .await
            .unwrap()
            .iter()
            .filter_map(|r| {
                let d: String = r.try_get("detail").ok()?;
                let v: Value = serde_json::from_str(&d).ok()?;
                v["jti"].as_str().map(str::to_string)
            })
            .collect()
    };
    let missing = acked.jtis.iter().filter(|j| !recorded.contains(*j)).count();
    assert_eq!(
        missing,
        0,
        "of {} acknowledged tokens, {missing} have no audit record",
        acked.jtis.len()
    );

    let http = reqwest::Client::new();
    for r in &acked.refresh {
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", r.as_str()),
        ];
        assert!(
            token(&http, &server.base, &m_id, &m_secret, &form)
                .await
                .is_some(),
            "an acknowledged refresh token works once after the crash"
        );
        assert!(
            token(&http, &server.base, &m_id, &m_secret, &form)
                .await
                .is_none(),
            "and only once"
        );
    }
    let reports = services::audit::verify(&db, None).await.unwrap();
    for r in &reports {
        assert!(r.first_broken.is_none(), "{r:?}");
    }
    eprintln!(
        "{backend:?}: {} acknowledged tokens, all audited; {} refresh tokens redeemed once; {} chains verified",
        acked.jtis.len(),
        acked.refresh.len(),
        reports.len()
    );
    drop(server);
}

/// SIGTERM: readiness turns false at once, requests are still answered while the load
/// balancer drains the instance, then it stops accepting, finishes what is in flight,
/// commits the audit records and exits 0, within its bound.
async fn sigterm_drains_then_exits_zero(backend: Backend) {
    let database_url = fresh_database(backend).await;
    let (_, master_key) = latchkey::crypto::master_key::MasterKey::generate();
    let server = start(
        &database_url,
        &master_key,
        &[("LATCHKEY_SHUTDOWN_DRAIN_SECS", "1")],
    )
    .await;
    let db = services::Db::connect(&database_url).await.unwrap();
    let org = services::orgs::create(&db, &Principal::operator(), "Shutdown test")
        .await
        .unwrap();
    let (app, secret) = services::apps::create(
        &db,
        &Principal::operator_in(&org.id),
        &own_behalf("Pipeline", "read:apps"),
        "",
    )
    .await
    .unwrap();
    let (id, secret) = (app.client_id, secret.unwrap().expose_secret().to_string());
    let acked = Arc::new(Mutex::new(Acked::default()));
    let mut load = Vec::new();
    for _ in 0..2 {
        let (base, id, secret, acked) = (
            server.base.clone(),
            id.clone(),
            secret.clone(),
            acked.clone(),
        );
        load.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            while let Some(body) = token(
                &http,
                &base,
                &id,
                &secret,
                &[("grant_type", "client_credentials")],
            )
            .await
            {
                ack(&acked, &body, false);
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let mut child = server.child;
    let pid = child.id().unwrap();
    let started = std::time::Instant::now();
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()
            .unwrap()
            .success()
    );
    let http = reqwest::Client::new();
    let mut not_ready = false;
    for _ in 0..20 {
        let r = http
            .get(format!("{}/readyz", server.base))
            .send()
            .await
            .unwrap();
        if r.status() == 503 {
            not_ready = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert!(not_ready, "readiness turns false first");
    let during = acked.lock().unwrap().jtis.len();
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        acked.lock().unwrap().jtis.len() > during,
        "requests are still answered while draining"
    );
    let status = tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("exits within its bound")
        .unwrap();
    assert_eq!(status.code(), Some(0), "exit 0");
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "after the drain"
    );
    for t in load {
        t.await.unwrap();
    }
    let acked = std::mem::take(&mut *acked.lock().unwrap());
    let recorded = db_count(
        &db,
        "SELECT COUNT(*) FROM audit_events WHERE action = 'token.issued'",
    )
    .await;
    assert!(
        recorded as usize >= acked.jtis.len(),
        "every answered token is recorded"
    );
}

async fn db_count(db: &services::Db, sql: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sql)
        .fetch_one(&db.pool)
        .await
        .unwrap()
        .try_get::<i64, _>(0)
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_sigterm_drains_then_exits_zero() {
    sigterm_drains_then_exits_zero(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_sigterm_drains_then_exits_zero() {
    sigterm_drains_then_exits_zero(Backend::Postgres).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_kill_9_loses_nothing_acknowledged() {
    nothing_acknowledged_is_lost(Backend::Sqlite).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_kill_9_loses_nothing_acknowledged() {
    nothing_acknowledged_is_lost(Backend::Postgres).await
}
