//! OpenID Connect Back-Channel Logout 1.0 received by a small app of the test's own: the ID
//! token names the session (`sid`); when the user signs out, ends the session from their
//! security page, or an admin ends their sessions, the app is posted a logout token signed
//! with a published key, for it, naming the user and that session, with the logout event
//! and no nonce. An app that fails is retried and then given up, each outcome audited; an
//! app without the URI hears nothing. Both databases.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::post;
use common::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
use latchkey::domain::AppInput;
use secrecy::ExposeSecret;
use serde_json::Value;

on_both!(
    apps_hear_when_a_session_ends,
    failing_apps_are_retried_then_given_up
);

/// The logout tokens an app received; it answers `status`.
#[derive(Clone)]
struct Receiver {
    tokens: Arc<Mutex<Vec<String>>>,
    status: u16,
}

async fn receive(
    State(r): State<Receiver>,
    axum::Form(form): axum::Form<std::collections::HashMap<String, String>>,
) -> axum::http::StatusCode {
    if let Some(t) = form.get("logout_token") {
        r.tokens.lock().unwrap().push(t.clone());
    }
    axum::http::StatusCode::from_u16(r.status).unwrap()
}

/// Starts a receiving app; its back-channel URI and what it received.
async fn receiver(status: u16) -> (String, Arc<Mutex<Vec<String>>>) {
    let tokens = Arc::new(Mutex::new(Vec::new()));
    let r = Receiver {
        tokens: tokens.clone(),
        status,
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/backchannel", post(receive))
        .with_state(r);
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}/backchannel"), tokens)
}

async fn wait_for(tokens: &Arc<Mutex<Vec<String>>>, n: usize) -> Vec<String> {
    for _ in 0..100 {
        if tokens.lock().unwrap().len() >= n {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    tokens.lock().unwrap().clone()
}

async fn rp_with_backchannel(app: &TestApp, org: &Org, name: &str, uri: &str) -> Rp {
    let input = AppInput {
        backchannel_logout_uri: uri.into(),
        ..for_users(name, "openid email")
    };
    let (a, s) = app.register_app(&org.id, &input, "").await;
    assert_eq!(a.backchannel_logout_uri.as_deref(), Some(uri));
    Rp {
        id: a.client_id,
        secret: s.map(|s| s.expose_secret().to_string()),
    }
}

/// Signs `user` in to `c` in `browser`: the ID token's claims.
async fn sign_in_to(app: &TestApp, browser: &Browser, c: &Rp, user: &str) -> Value {
    let code = code_for(app, browser, &c.id, user).await;
    let (s, tokens) = redeem(app, c, &code).await;
    assert_eq!(s, 200, "{tokens}");
    claims(tokens["id_token"].as_str().unwrap())
}

/// Verifies a logout token with the published keys: its claims.
async fn verified(app: &TestApp, token: &str, client_id: &str) -> Value {
    let set: JwkSet = reqwest::get(format!("{}/oauth2/jwks", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let header = decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("logout+jwt"));
    let mut v = Validation::new(Algorithm::RS256);
    v.set_audience(&[client_id]);
    v.set_issuer(&[&app.base]);
    let key = DecodingKey::from_jwk(set.find(header.kid.as_deref().unwrap()).unwrap()).unwrap();
    decode::<Value>(token, &key, &v)
        .expect("signed by a published key")
        .claims
}

async fn apps_hear_when_a_session_ends(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let user = app.add_user(&org, "member").await;
    let (uri, received) = receiver(200).await;
    let c = rp_with_backchannel(&app, &org, "Dashboard", &uri).await;
    let (silent, _) = app
        .register_app(&org.id, &for_users("No back channel", "openid email"), "")
        .await;
    let silent = Rp {
        id: silent.client_id,
        secret: None,
    };
    let doc: Value = reqwest::get(format!("{}/.well-known/openid-configuration", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(doc["backchannel_logout_supported"], true);
    assert_eq!(doc["backchannel_logout_session_supported"], true);

    // Signed in to the app: the ID token names the session.
    let browser = app.signed_in(&user).await;
    let id = sign_in_to(&app, &browser, &c, &user).await;
    let sid = id["sid"].as_str().expect("sid in the ID token").to_string();
    // A second sign-in to it in the same session names the same session.
    let again = sign_in_to(&app, &browser, &c, &user).await;
    assert_eq!(again["sid"], sid.as_str());
    let _ = silent;

    // The user signs out: the app is posted one logout token for that session.
    let (s, _) = browser.act("logout", &[]).await;
    assert!(s.is_success() || s.is_redirection());
    let got = wait_for(&received, 1).await;
    assert_eq!(
        got.len(),
        1,
        "one token for the session, however many grants it made"
    );
    let claims = verified(&app, &got[0], &c.id).await;
    assert_eq!(claims["sub"], id["sub"]);
    assert_eq!(claims["sid"], sid.as_str());
    assert!(claims["events"]["http://schemas.openid.net/event/backchannel-logout"].is_object());
    assert!(claims["nonce"].is_null());
    assert!(claims["jti"].is_string());
    assert!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'logout.delivered'")
            .await
            >= 1
    );

    // Another session, ended from the user's security page by another of their sessions.
    let laptop = app.signed_in(&user).await;
    let id2 = sign_in_to(&app, &laptop, &c, &user).await;
    assert_ne!(id2["sid"], sid.as_str(), "a new session, a new sid");
    let phone = app.signed_in(&user).await;
    let (s, _) = phone.act("end_other_sessions", &[]).await;
    assert_eq!(s, 200);
    let got = wait_for(&received, 2).await;
    assert_eq!(got.len(), 2);
    assert_eq!(verified(&app, &got[1], &c.id).await["sid"], id2["sid"]);

    // An admin ends a member's sessions.
    let tablet = app.signed_in(&user).await;
    let id3 = sign_in_to(&app, &tablet, &c, &user).await;
    let admin = app.signed_in(&org.admin_email).await;
    let user_id = app.user_id(&org, &user).await;
    let (s, body) = admin
        .act("end_user_sessions", &[("user_id", &user_id)])
        .await;
    assert_eq!(s, 200, "{body}");
    let got = wait_for(&received, 3).await;
    assert!(
        got.iter()
            .skip(2)
            .any(|t| claims_of(t)["sid"] == id3["sid"]),
        "the admin's ending is heard"
    );
}

fn claims_of(token: &str) -> Value {
    claims(token)
}

async fn failing_apps_are_retried_then_given_up(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let user = app.add_user(&org, "member").await;
    let (down, received) = receiver(503).await;
    let (refusing, refused) = receiver(400).await;
    let flaky = rp_with_backchannel(&app, &org, "Flaky", &down).await;
    let strict = rp_with_backchannel(&app, &org, "Strict", &refusing).await;
    let browser = app.signed_in(&user).await;
    sign_in_to(&app, &browser, &flaky, &user).await;
    sign_in_to(&app, &browser, &strict, &user).await;
    let (s, _) = browser.act("logout", &[]).await;
    assert!(s.is_success() || s.is_redirection());

    // A 4xx is final: failed at once, audited.
    assert_eq!(wait_for(&refused, 1).await.len(), 1);
    // A 5xx is tried again later: the first attempt is recorded with its next time.
    assert_eq!(wait_for(&received, 1).await.len(), 1);
    for _ in 0..50 {
        if app
            .count("SELECT COUNT(*) FROM logout_deliveries WHERE attempts >= 1")
            .await
            == 2
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM logout_deliveries WHERE outcome = 'failed' AND last_error LIKE '%400%'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM logout_deliveries WHERE outcome IS NULL AND attempts = 1 AND last_error LIKE '%503%'")
            .await,
        1,
        "waiting for its retry"
    );
    // Retries come due (moved forward here rather than waited for) until given up.
    for _ in 0..latchkey::services::backchannel::MAX_ATTEMPTS {
        sqlx::query("UPDATE logout_deliveries SET next_attempt_at = 0 WHERE outcome IS NULL")
            .execute(&app.state.db.pool)
            .await
            .unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    }
    assert_eq!(
        app.count("SELECT COUNT(*) FROM logout_deliveries WHERE outcome = 'failed'")
            .await,
        2
    );
    assert_eq!(
        received.lock().unwrap().len() as i64,
        latchkey::services::backchannel::MAX_ATTEMPTS
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'logout.failed'")
            .await,
        2
    );
}
