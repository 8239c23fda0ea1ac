//! Two instances on one PostgreSQL database act as one server: what one issues the other
//! honours, what one changes the other refuses within a second (through the cache's
//! LISTEN/NOTIFY), a raced refresh is redeemed once, a sign-in on one serves a consent on
//! the other, and the audit chains stay whole under load on both.
#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::time::{Duration, Instant};

use common::*;
use latchkey::domain::AppInput;
use latchkey::services::{self, Principal};
use secrecy::ExposeSecret;
use serde_json::Value;

/// How long a change on one instance may take to be seen on the other.
const WITHIN: Duration = Duration::from_secs(1);

struct Client {
    id: String,
    secret: String,
}

async fn register(app: &TestApp, org: &Org, input: AppInput) -> Client {
    let (a, s) = app.register_app(&org.id, &input, "").await;
    Client {
        id: a.client_id,
        secret: s.unwrap().expose_secret().to_string(),
    }
}

async fn own_app(app: &TestApp, org: &Org, scopes: &str) -> Client {
    static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = N.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    register(app, org, own_behalf(&format!("Pipeline {n}"), scopes)).await
}

async fn user_app(app: &TestApp, org: &Org) -> Client {
    register(
        app,
        org,
        for_users("Mobile", "openid email offline_access read:users"),
    )
    .await
}

async fn post(app: &TestApp, path: &str, c: &Client, form: &[(&str, &str)]) -> (u16, Value) {
    post_as_client(&app.base, path, &c.id, &c.secret, form).await
}

/// A client-credentials token request of `c` at `app`.
async fn cc(app: &TestApp, c: &Client) -> (u16, Value) {
    post(
        app,
        "/oauth2/token",
        c,
        &[("grant_type", "client_credentials")],
    )
    .await
}

async fn active(app: &TestApp, rs: &Client, token: &str) -> bool {
    let (status, body) = post(app, "/oauth2/introspect", rs, &[("token", token)]).await;
    assert_eq!(status, 200, "{body}");
    body["active"].as_bool().unwrap()
}

/// Waits (at most `WITHIN`) until `check` holds; false if it never did.
async fn within<F, Fut>(mut check: F) -> bool
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let start = Instant::now();
    loop {
        if check().await {
            return true;
        }
        if start.elapsed() > WITHIN {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn two() -> (TestApp, TestApp) {
    let a = spawn_app(Backend::Postgres).await;
    a.cache_serving().await;
    let b = a.spawn_peer().await;
    (a, b)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_from_one_instance_works_at_the_other() {
    let (a, b) = two().await;
    let org = a.org_with_admin("Acme").await;
    let ci = own_app(&a, &org, "read:apps").await;
    let rs = own_app(&a, &org, "").await;
    let (s, t) = cc(&a, &ci).await;
    assert_eq!(s, 200, "{t}");
    let token = t["access_token"].as_str().unwrap();
    assert!(active(&b, &rs, token).await);
    let (status, _, body) = api(&b, "GET", "/apps", Some(token), None).await;
    assert_eq!(status, 200, "{body}");
    // Both publish the same keys.
    let jwks = |app: &TestApp| {
        let url = format!("{}/oauth2/jwks", app.base);
        async move {
            reqwest::get(url)
                .await
                .unwrap()
                .json::<Value>()
                .await
                .unwrap()
        }
    };
    assert_eq!(jwks(&a).await, jwks(&b).await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn what_one_instance_ends_the_other_refuses_within_a_second() {
    let (a, b) = two().await;
    let org = a.org_with_admin("Acme").await;
    let rs = own_app(&a, &org, "").await;

    // A revoked access token.
    let ci = own_app(&a, &org, "read:apps").await;
    let (_, t) = cc(&a, &ci).await;
    let token = t["access_token"].as_str().unwrap().to_string();
    assert!(
        active(&b, &rs, &token).await,
        "B caches the token as active"
    );
    let (s, _) = post(&a, "/oauth2/revoke", &ci, &[("token", &token)]).await;
    assert_eq!(s, 200);
    assert!(
        within(|| async { !active(&b, &rs, &token).await }).await,
        "a revocation on A is refused on B"
    );

    // A disabled app: its tokens go inactive and it gets no more.
    let (_, t) = cc(&a, &ci).await;
    let token = t["access_token"].as_str().unwrap().to_string();
    assert!(active(&b, &rs, &token).await);
    let (s, _) = cc(&b, &ci).await;
    assert_eq!(s, 200, "B caches the app as enabled");
    a.set_enabled(&org.id, &ci.id, false).await;
    assert!(
        within(|| async { !active(&b, &rs, &token).await }).await,
        "a disabled app's token is inactive on B"
    );
    let (s, body) = cc(&b, &ci).await;
    assert_eq!((s, body["error"].as_str()), (401, Some("invalid_client")));

    // A revoked authorization: the user's token and refresh token end on B.
    let mobile = user_app(&a, &org).await;
    let member = a.add_user(&org, "member").await;
    let (s, t) = post(
        &a,
        "/oauth2/token",
        &mobile,
        &password_form(&member, "email offline_access"),
    )
    .await;
    assert_eq!(s, 200, "{t}");
    let user_token = t["access_token"].as_str().unwrap().to_string();
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    assert!(active(&b, &rs, &user_token).await);
    assert!(active(&b, &rs, &refresh).await);
    let ended = services::authorizations::revoke_for_app(
        &a.state.db,
        &Principal::operator_in(&org.id),
        &mobile.id,
        None,
    )
    .await
    .unwrap();
    assert_eq!(ended, 1);
    assert!(
        within(|| async { !active(&b, &rs, &user_token).await }).await,
        "a revoked authorization's access token is inactive on B"
    );
    assert!(!active(&b, &rs, &refresh).await);
    let (s, body) = post(
        &b,
        "/oauth2/token",
        &mobile,
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!((s, body["error"].as_str()), (400, Some("invalid_grant")));

    // A lowered role: an admin's token may read the users through B's API until A makes
    // them a member (members may not).
    let admin2 = a.add_user(&org, "admin").await;
    let (s, t) = post(
        &a,
        "/oauth2/token",
        &mobile,
        &password_form(&admin2, "read:users"),
    )
    .await;
    assert_eq!(s, 200, "{t}");
    let admin_token = t["access_token"].as_str().unwrap().to_string();
    let (status, _, body) = api(&b, "GET", "/users", Some(&admin_token), None).await;
    assert_eq!(status, 200, "{body}");
    let admin2_id = a.user_id(&org, &admin2).await;
    services::users::change_role(
        &a.state.db,
        &Principal::operator_in(&org.id),
        &admin2_id,
        "member",
    )
    .await
    .unwrap();
    assert!(
        within(|| async { api(&b, "GET", "/users", Some(&admin_token), None).await.0 == 403 })
            .await,
        "a lowered role is refused on B"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_rotation_reaches_both_jwks() {
    let (a, b) = two().await;
    let (kids, _) = services::keys::rotate(&a.state.db, &a.state.settings.master_key)
        .await
        .unwrap();
    let published = |app: &TestApp| {
        let url = format!("{}/oauth2/jwks", app.base);
        let kids = kids.clone();
        async move {
            let set: Value = reqwest::get(url).await.unwrap().json().await.unwrap();
            let have: Vec<&str> = set["keys"]
                .as_array()
                .unwrap()
                .iter()
                .filter_map(|k| k["kid"].as_str())
                .collect();
            kids.iter().all(|k| have.contains(&k.as_str()))
        }
    };
    assert!(within(|| published(&a)).await, "A publishes the new keys");
    assert!(within(|| published(&b)).await, "B publishes the new keys");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refresh_raced_on_both_is_redeemed_once() {
    let (a, b) = two().await;
    let org = a.org_with_admin("Acme").await;
    let rs = own_app(&a, &org, "").await;
    let mobile = user_app(&a, &org).await;
    let member = a.add_user(&org, "member").await;
    let sign_in = || async {
        let (s, t) = post(
            &a,
            "/oauth2/token",
            &mobile,
            &password_form(&member, "email offline_access"),
        )
        .await;
        assert_eq!(s, 200, "{t}");
        t
    };
    // Another authorization of the same user and app, which no race may touch.
    let bystander = sign_in().await;
    for round in 0..10 {
        let t = sign_in().await;
        let refresh = t["refresh_token"].as_str().unwrap().to_string();
        let form = [
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh.as_str()),
        ];
        let (ra, rb) = tokio::join!(
            post(&a, "/oauth2/token", &mobile, &form),
            post(&b, "/oauth2/token", &mobile, &form)
        );
        let won: Vec<&(u16, Value)> = [&ra, &rb].into_iter().filter(|r| r.0 == 200).collect();
        assert_eq!(
            won.len(),
            1,
            "round {round}: exactly one wins: {ra:?} {rb:?}"
        );
        let lost = if ra.0 == 200 { &rb } else { &ra };
        assert_eq!(
            (lost.0, lost.1["error"].as_str()),
            (400, Some("invalid_grant")),
            "round {round}"
        );
        // The second presentation is a replay (RFC 9700 §4.14.2): it ends its own grant,
        // the winner's new tokens with it, and nothing else.
        let winner = &won[0].1;
        let next = winner["refresh_token"].as_str().unwrap();
        let access = winner["access_token"].as_str().unwrap();
        assert!(
            within(|| async { !active(&b, &rs, access).await }).await,
            "round {round}"
        );
        assert!(!active(&a, &rs, next).await, "round {round}");
        assert!(
            active(&a, &rs, bystander["access_token"].as_str().unwrap()).await
                && active(&b, &rs, bystander["refresh_token"].as_str().unwrap()).await,
            "round {round}: the user's other authorization is untouched"
        );
    }
    let (s, body) = post(
        &b,
        "/oauth2/token",
        &mobile,
        &[
            ("grant_type", "refresh_token"),
            (
                "refresh_token",
                bystander["refresh_token"].as_str().unwrap(),
            ),
        ],
    )
    .await;
    assert_eq!(s, 200, "{body}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sign_in_on_one_consent_on_the_other() {
    let (a, b) = two().await;
    let org = a.org_with_admin("Acme").await;
    let mobile = user_app(&a, &org).await;
    let member = a.add_user(&org, "member").await;
    let on_a = a.signed_in(&member).await;
    // The same browser (cookies are per host, not per port) now reaches B.
    let on_b = Browser {
        http: on_a.http.clone(),
        base: b.base.clone(),
    };
    let (status, body, _) = on_b.get("/account/apps").await;
    assert_eq!(status, 200, "the session made on A is good on B: {body}");
    let code = code_for(&b, &on_b, &mobile.id, &member).await;
    let rp = Rp {
        id: mobile.id.clone(),
        secret: Some(mobile.secret.clone()),
    };
    let (s, t) = exchange(
        &a,
        &rp,
        &[
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(s, 200, "B's code is redeemed on A: {t}");
    assert!(t["id_token"].is_string());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_chains_stay_whole_under_load_on_both() {
    let (a, b) = two().await;
    let org = a.org_with_admin("Acme").await;
    let ci = own_app(&a, &org, "read:apps").await;
    let mut tasks = Vec::new();
    for i in 0..8 {
        let (base, id, secret) = (
            if i % 2 == 0 {
                a.base.clone()
            } else {
                b.base.clone()
            },
            ci.id.clone(),
            ci.secret.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut ok = 0;
            for j in 0..40 {
                // Some refused (a wrong secret) among the issued.
                let secret = if j % 10 == 9 {
                    "wrong".to_string()
                } else {
                    secret.clone()
                };
                let res = http
                    .post(format!("{base}/oauth2/token"))
                    .basic_auth(&id, Some(&secret))
                    .form(&[("grant_type", "client_credentials")])
                    .send()
                    .await
                    .unwrap();
                if res.status() == 200 {
                    ok += 1;
                }
            }
            ok
        }));
    }
    let mut issued = 0;
    for t in tasks {
        issued += t.await.unwrap();
    }
    assert_eq!(issued, 8 * 36);
    let recorded = a
        .count(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'token.issued' AND object_id = '{}'",
            ci.id
        ))
        .await;
    assert_eq!(
        recorded, issued as i64,
        "every token answered has its record"
    );
    let reports = services::audit::verify(&a.state.db, None).await.unwrap();
    assert!(!reports.is_empty());
    for r in &reports {
        assert!(r.first_broken.is_none(), "{r:?}");
    }
}

/// After its listening connection is lost, an instance reads the database until it is back
/// and then starts its cache over, so a change whose notification it missed is never
/// served stale.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lost_listener_never_leaves_stale_state() {
    let (a, b) = two().await;
    let org = a.org_with_admin("Acme").await;
    let ci = own_app(&a, &org, "read:apps").await;
    let (s, _) = cc(&b, &ci).await;
    assert_eq!(s, 200, "B caches the app as enabled");
    let before = b.state.db.cache.restarts();
    // Keep killing the listeners while A disables the app: B misses the notification.
    let kill = "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                WHERE application_name = 'latchkey-cache-listener' AND datname = current_database()";
    let killer = {
        let pool = a.state.db.pool.clone();
        tokio::spawn(async move {
            for _ in 0..15 {
                let _ = sqlx::query(kill).execute(&pool).await;
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    tokio::time::sleep(Duration::from_millis(100)).await;
    a.set_enabled(&org.id, &ci.id, false).await;
    killer.await.unwrap();
    b.cache_serving().await;
    assert!(
        b.state.db.cache.restarts() > before,
        "B started its cache over"
    );
    let (s, body) = cc(&b, &ci).await;
    assert_eq!(
        (s, body["error"].as_str()),
        (401, Some("invalid_client")),
        "never stale"
    );
}
