//! Request rate limits: per client and per address at the token endpoint, per address on
//! sign-in and authorize; 429 with `Retry-After` (RFC 6585), recorded once per window, and
//! shared by the instances of one PostgreSQL database.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::Duration;

use common::*;
use secrecy::ExposeSecret;

async fn own_app(app: &TestApp, org: &Org) -> (String, String) {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let input = own_behalf(&format!("Pipeline {n}"), "read:apps");
    let (a, s) = app.register_app(&org.id, &input, "").await;
    (a.client_id, s.unwrap().expose_secret().to_string())
}

async fn cc(base: &str, id: &str, secret: &str) -> (u16, Option<String>, serde_json::Value) {
    let res = reqwest::Client::new()
        .post(format!("{base}/oauth2/token"))
        .basic_auth(id, Some(secret))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let retry = res
        .headers()
        .get("retry-after")
        .map(|v| v.to_str().unwrap().to_string());
    (status, retry, res.json().await.unwrap_or_default())
}

/// Waits for a new counting window when the current one ends within a few seconds, so a
/// test's requests all count in one window.
async fn fresh_window() {
    let now = latchkey::services::now();
    let left = 60 - now.rem_euclid(60);
    if left < 8 {
        tokio::time::sleep(Duration::from_secs(left as u64 + 1)).await;
    }
}

fn assert_retry_after(retry: Option<String>) {
    let secs: i64 = retry.expect("Retry-After").parse().unwrap();
    assert!((1..=60).contains(&secs), "{secs}");
}

async fn per_client_at_the_token_endpoint(b: Backend) {
    fresh_window().await;
    let app = spawn_app_with(b, |s| s.limits.token_per_client = 5).await;
    let org = app.org_with_admin("Acme").await;
    let (id, secret) = own_app(&app, &org).await;
    let (other_id, other_secret) = own_app(&app, &org).await;
    for _ in 0..5 {
        assert_eq!(cc(&app.base, &id, &secret).await.0, 200);
    }
    let (status, retry, body) = cc(&app.base, &id, &secret).await;
    assert_eq!(status, 429, "{body}");
    assert_eq!(body["error"], "temporarily_unavailable");
    assert_retry_after(retry);
    assert_eq!(
        cc(&app.base, &other_id, &other_secret).await.0,
        200,
        "per client"
    );
    // A stranger naming the client without its secret spends none of its budget.
    let (status, _, _) = cc(&app.base, &other_id, "wrong").await;
    assert_eq!(status, 401);
    for _ in 0..10 {
        assert_eq!(cc(&app.base, &id, &secret).await.0, 429);
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'ratelimit.exceeded'")
            .await,
        1,
        "recorded once per window"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'token.refused'")
            .await,
        1,
        "only the wrong secret's refusal: the limited requests are not recorded one by one"
    );
}

async fn per_address_everywhere(b: Backend) {
    fresh_window().await;
    let app = spawn_app_with(b, |s| {
        s.limits.token_per_ip = 4;
        s.limits.signin_per_ip = 3;
        s.limits.authorize_per_ip = 2;
    })
    .await;
    let org = app.org_with_admin("Acme").await;
    let (id, secret) = own_app(&app, &org).await;
    for _ in 0..4 {
        assert_eq!(cc(&app.base, "unknown-client", "x").await.0, 401);
    }
    let (status, retry, _) = cc(&app.base, &id, &secret).await;
    assert_eq!(status, 429, "the address's budget is spent, whoever asks");
    assert_retry_after(retry);

    let browser = app.client();
    for _ in 0..3 {
        let (s, _) = browser.login(&org.admin_email, "wrong password").await;
        assert_ne!(s, 429);
    }
    let (s, body) = browser.login(&org.admin_email, PASSWORD).await;
    assert_eq!(s, 429, "{body}");

    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let url = format!("{}/oauth2/authorize?client_id=x", app.base);
    for _ in 0..2 {
        assert_ne!(http.get(&url).send().await.unwrap().status(), 429);
    }
    let res = http.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 429);
    assert!(res.headers().contains_key("retry-after"));
}

on_both!(per_client_at_the_token_endpoint, per_address_everywhere);

/// Two instances share one budget.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn instances_share_the_budget() {
    fresh_window().await;
    let a = spawn_app_with(Backend::Postgres, |s| s.limits.token_per_client = 10).await;
    let b = a.spawn_peer().await;
    let org = a.org_with_admin("Acme").await;
    let (id, secret) = own_app(&a, &org).await;
    for _ in 0..6 {
        assert_eq!(cc(&a.base, &id, &secret).await.0, 200);
    }
    // Each instance adds its counts to the shared ones four times a second, and learns the
    // others' counts of a key when it adds its own.
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(cc(&b.base, &id, &secret).await.0, 200);
    tokio::time::sleep(Duration::from_millis(600)).await;
    let mut refused = 0;
    for _ in 0..6 {
        if cc(&b.base, &id, &secret).await.0 == 429 {
            refused += 1;
        }
    }
    assert!(refused >= 3, "B counted A's requests: {refused} refused");
}
