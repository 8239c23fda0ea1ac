//! Load generator for the full authorization-code exchange against a running Latchkey:
//! CONNS signed-in browsers (cookie sessions, consent given once) each loop on
//! `GET /oauth2/authorize` (→ 303 with a code) then `POST /oauth2/token` (code + PKCE
//! verifier, client_secret_basic), for SECS seconds. Prints flows per second and the p50/p99
//! latency of one whole flow. Run by `benches/token.sh`; not part of the test suite.
//!
//! Env: ISSUER, CLIENT_ID, CLIENT_SECRET, USER_EMAIL, USER_PASSWORD, REDIRECT_URI,
//! CONNS (32), SECS (10).

#![allow(clippy::panic, clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

fn env(name: &str, default: Option<&str>) -> String {
    std::env::var(name)
        .ok()
        .or(default.map(str::to_string))
        .unwrap_or_else(|| panic!("{name} is required"))
}

struct Config {
    issuer: String,
    client_id: String,
    secret: String,
    email: String,
    password: String,
    redirect: String,
}

fn browser() -> reqwest::Client {
    reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(1)
        .build()
        .expect("client")
}

async fn server_fn(
    b: &reqwest::Client,
    c: &Config,
    name: &str,
    form: &[(&str, &str)],
) -> serde_json::Value {
    let res = b
        .post(format!("{}/api/{name}", c.issuer))
        .form(form)
        .send()
        .await
        .expect("server function");
    res.json().await.unwrap_or(serde_json::Value::Null)
}

async fn sign_in(b: &reqwest::Client, c: &Config) -> String {
    let ctx = server_fn(b, c, "page_context", &[]).await;
    let csrf = ctx["csrf"].as_str().expect("csrf").to_string();
    server_fn(
        b,
        c,
        "login",
        &[
            ("csrf", &csrf),
            ("email", &c.email),
            ("password", &c.password),
        ],
    )
    .await;
    let ctx = server_fn(b, c, "page_context", &[]).await;
    assert!(ctx["me"].is_object(), "sign-in failed");
    ctx["csrf"].as_str().expect("csrf").to_string()
}

fn authorize_url(c: &Config) -> String {
    let q: String = url::form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("response_type", "code"),
            ("client_id", c.client_id.as_str()),
            ("redirect_uri", c.redirect.as_str()),
            ("scope", "openid email"),
            ("state", "bench"),
            ("nonce", "n"),
            ("code_challenge", CHALLENGE),
            ("code_challenge_method", "S256"),
        ])
        .finish();
    format!("{}/oauth2/authorize?{q}", c.issuer)
}

fn location(res: &reqwest::Response) -> String {
    res.headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string()
}

fn param(url: &str, name: &str) -> Option<String> {
    url::Url::parse(url)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// One flow: authorize with the session, then exchange the code.
async fn flow(b: &reqwest::Client, c: &Config) -> bool {
    let Ok(res) = b.get(authorize_url(c)).send().await else {
        return false;
    };
    let Some(code) = param(&location(&res), "code") else {
        return false;
    };
    let Ok(res) = b
        .post(format!("{}/oauth2/token", c.issuer))
        .basic_auth(&c.client_id, Some(&c.secret))
        .form(&[
            ("grant_type", "authorization_code"),
            ("code", code.as_str()),
            ("redirect_uri", c.redirect.as_str()),
            ("code_verifier", VERIFIER),
        ])
        .send()
        .await
    else {
        return false;
    };
    res.status() == 200 && res.bytes().await.is_ok()
}

#[tokio::main]
async fn main() {
    let c = std::sync::Arc::new(Config {
        issuer: env("ISSUER", Some("http://127.0.0.1:3998")),
        client_id: env("CLIENT_ID", None),
        secret: env("CLIENT_SECRET", None),
        email: env("USER_EMAIL", None),
        password: env("USER_PASSWORD", None),
        redirect: env("REDIRECT_URI", Some("http://127.0.0.1:8765/cb")),
    });
    let conns: usize = env("CONNS", Some("32")).parse().expect("CONNS");
    let secs: u64 = env("SECS", Some("10")).parse().expect("SECS");

    // Consent once; it is remembered for every later request.
    let first = browser();
    let csrf = sign_in(&first, &c).await;
    let res = first
        .get(authorize_url(&c))
        .send()
        .await
        .expect("authorize");
    let loc = location(&res);
    if let Some(request) = param(&format!("http://x{loc}"), "request") {
        first
            .post(format!("{}/api/decide_consent", c.issuer))
            .header("accept", "text/html")
            .form(&[
                ("csrf", csrf.as_str()),
                ("request", &request),
                ("decision", "allow"),
            ])
            .send()
            .await
            .expect("consent");
    }

    let mut browsers = Vec::new();
    for _ in 0..conns {
        let b = browser();
        sign_in(&b, &c).await;
        assert!(flow(&b, &c).await, "a warm-up flow failed");
        browsers.push(b);
    }
    let end = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let tasks: Vec<_> = browsers
        .into_iter()
        .map(|b| {
            let c = c.clone();
            tokio::spawn(async move {
                let (mut lat, mut failed) = (Vec::new(), 0u64);
                while Instant::now() < end {
                    let t = Instant::now();
                    if flow(&b, &c).await {
                        lat.push(t.elapsed());
                    } else {
                        failed += 1;
                    }
                }
                (lat, failed)
            })
        })
        .collect();
    let (mut all, mut failed) = (Vec::new(), 0);
    for t in tasks {
        let (lat, f) = t.await.expect("task");
        all.extend(lat);
        failed += f;
    }
    let elapsed = started.elapsed().as_secs_f64();
    all.sort();
    let pct = |p: f64| {
        all.get(((all.len() as f64 * p) as usize).min(all.len().saturating_sub(1)))
            .map(|d| d.as_secs_f64() * 1000.0)
            .unwrap_or(0.0)
    };
    println!(
        "rps={:.1} p50_ms={:.2} p99_ms={:.2} non2xx={failed}",
        all.len() as f64 / elapsed,
        pct(0.50),
        pct(0.99)
    );
}
