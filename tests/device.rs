//! The device authorization grant (RFC 8628) end to end: a device (the `openidconnect`
//! crate's device flow, as a command-line tool would use it) starts a request and polls; a
//! signed-in user types its code on the device page and answers the consent screen. Then
//! the attacks: codes guessed in a burst, another client's device code, polls too fast, a
//! code used twice, denied or expired, an app that may not use the grant, a user of another
//! organization. SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use latchkey::domain::AppInput;
use openidconnect::core::{CoreClient, CoreProviderMetadata};
use openidconnect::{
    ClientId, DeviceAuthorizationUrl, IssuerUrl, Nonce, OAuth2TokenResponse, Scope, TokenResponse,
};
use secrecy::ExposeSecret;
use serde_json::Value;

on_both!(
    a_device_is_connected_through_a_client_library,
    device_codes_resist_guessing_and_replay,
    device_requests_obey_the_app_and_the_organization,
);

const GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";

async fn device_app(app: &TestApp, org: &Org, name: &str, public: bool, audience: &str) -> Rp {
    let input = AppInput {
        name: name.into(),
        kind: "on-behalf-of-user".into(),
        grant_types: vec![GRANT.into(), "refresh_token".into()],
        scopes: vec!["openid email offline_access read:apps".into()],
        audience: audience.into(),
        public_client: public,
        ..Default::default()
    };
    let (a, s) = app.register_app(&org.id, &input, "").await;
    Rp {
        id: a.client_id,
        secret: s.map(|s| s.expose_secret().to_string()),
    }
}

/// Posts `form` to `path` as client `c` (HTTP Basic, or its id alone when public).
async fn as_client(app: &TestApp, c: &Rp, path: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let mut req = reqwest::Client::new().post(format!("{}{path}", app.base));
    let mut all = form.to_vec();
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

/// Starts a device request: the device authorization response.
async fn start(app: &TestApp, c: &Rp, scope: &str) -> Value {
    let (s, body) = as_client(app, c, "/oauth2/device_authorization", &[("scope", scope)]).await;
    assert_eq!(s, 200, "{body}");
    body
}

async fn poll(app: &TestApp, c: &Rp, device_code: &str) -> (u16, Value) {
    as_client(
        app,
        c,
        "/oauth2/token",
        &[("grant_type", GRANT), ("device_code", device_code)],
    )
    .await
}

/// Types `code` on the device page as `b`'s user: where the page goes next.
async fn enter(b: &Browser, code: &str) -> String {
    b.plain_post("enter_device_code", "/device", &[("user_code", code)])
        .await
}

/// Answers the consent page `consent` (`allow` or `deny`): where it goes next.
async fn answer(b: &Browser, consent: &str, decision: &str) -> String {
    let request = query_of(&format!("http://x{consent}"))["request"].clone();
    let (s, page) = b.call("get_consent", &[("request", &request)]).await;
    assert_eq!(s, 200, "{page}");
    b.plain_post(
        "decide_consent",
        consent,
        &[("request", &request), ("decision", decision)],
    )
    .await
}

fn text(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}

async fn a_device_is_connected_through_a_client_library(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let user = app.add_user(&org, "member").await;
    let c = device_app(&app, &org, "Acme CLI", true, "internal").await;
    let http = openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap();

    // Discovery advertises the endpoint and the grant.
    let (_, doc) = b_get_json(&app, "/.well-known/openid-configuration").await;
    assert_eq!(
        doc["device_authorization_endpoint"],
        format!("{}/oauth2/device_authorization", app.base)
    );
    assert!(
        doc["grant_types_supported"]
            .as_array()
            .unwrap()
            .contains(&Value::from(GRANT))
    );

    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(app.base.clone()).unwrap(), &http)
            .await
            .expect("discovery");
    let client = CoreClient::from_provider_metadata(meta, ClientId::new(c.id.clone()), None)
        .set_device_authorization_url(
            DeviceAuthorizationUrl::new(text(&doc["device_authorization_endpoint"])).unwrap(),
        );
    let details: openidconnect::core::CoreDeviceAuthorizationResponse = client
        .exchange_device_code()
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("offline_access".into()))
        .request_async(&http)
        .await
        .expect("device authorization");
    let user_code = details.user_code().secret().clone();
    assert_eq!(user_code.len(), 9, "XXXX-XXXX: {user_code}");
    assert_eq!(
        details.verification_uri().as_str(),
        format!("{}/device", app.base)
    );
    let complete = details
        .verification_uri_complete()
        .expect("verification_uri_complete")
        .secret()
        .clone();
    assert!(complete.ends_with(&format!("/device?user_code={user_code}")));

    // The page opened from the complete URI asks the user to sign in first, then shows the
    // code filled in.
    let browser = app.client();
    let path = complete.trim_start_matches(&app.base).to_string();
    let (_, _, to) = browser.get(&path).await;
    assert!(
        to.as_deref()
            .is_some_and(|t| t.starts_with("/login?next=/device%3Fuser_code%3D")),
        "sign in first: {to:?}"
    );
    let browser = app.signed_in(&user).await;
    let (s, html, _) = browser.get(&path).await;
    assert_eq!(s, 200);
    assert!(html.contains(&user_code), "the code is filled in");

    // The user types it in lower case without the dash: the consent screen, always.
    let typed = user_code.replace('-', "").to_lowercase();
    let consent = enter(&browser, &typed).await;
    assert!(consent.starts_with("/consent?request="), "{consent}");
    let done = answer(&browser, &consent, "allow").await;
    assert_eq!(done, "/device?result=approved");
    let (_, html, _) = browser.get(&done).await;
    assert!(html.contains("Your device is connected"));

    // The device, polling with the library, gets its tokens.
    let tokens = client
        .exchange_device_access_token(&details)
        .unwrap()
        .request_async(&http, tokio::time::sleep, None)
        .await
        .expect("device access token");
    let id_token = tokens.id_token().expect("an ID token");
    let claims = id_token
        .claims(&client.id_token_verifier(), |_: Option<&Nonce>| Ok(()))
        .expect("a valid ID token");
    assert_eq!(claims.email().map(|e| e.as_str()), Some(user.as_str()));
    let access = claims_of(tokens.access_token().secret());
    assert_eq!(access["client_id"], c.id);
    assert!(
        tokens.refresh_token().is_some(),
        "offline_access was granted"
    );

    // A second consent of the same user remembers it; the grant is listed in My apps.
    let (s, apps) = browser.call("my_authorizations", &[]).await;
    assert_eq!(s, 200, "{apps}");
    assert!(apps.to_string().contains("Acme CLI"), "{apps}");

    // The audit tells the story.
    for action in [
        "device.authorization_started",
        "device.code_entered",
        "consent.granted",
        "device.approved",
        "token.issued",
    ] {
        assert!(
            app.count(&format!(
                "SELECT COUNT(*) FROM audit_events WHERE action = '{action}'"
            ))
            .await
                >= 1,
            "{action} audited"
        );
    }
    // Waiting polls are not: no refusal was recorded.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'token.refused'")
            .await,
        0
    );
}

async fn b_get_json(app: &TestApp, path: &str) -> (u16, Value) {
    let res = reqwest::get(format!("{}{path}", app.base)).await.unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

fn claims_of(token: &str) -> Value {
    claims(token)
}

async fn device_codes_resist_guessing_and_replay(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let user = app.add_user(&org, "member").await;
    let c = device_app(&app, &org, "TV", false, "internal").await;
    let other = device_app(&app, &org, "Other TV", false, "internal").await;
    let browser = app.signed_in(&user).await;

    let d = start(&app, &c, "openid email").await;
    let (device_code, user_code) = (text(&d["device_code"]), text(&d["user_code"]));
    assert_eq!(d["interval"], 5);
    assert_eq!(d["expires_in"], 600);

    // Before the user answers: pending, then slow_down for polling sooner than 5 seconds.
    let (s, e) = poll(&app, &c, &device_code).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("authorization_pending"))
    );
    let (s, e) = poll(&app, &c, &device_code).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("slow_down")));
    // Another client presenting this device code learns nothing.
    let (s, e) = poll(&app, &other, &device_code).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    let (s, e) = as_client(&app, &c, "/oauth2/token", &[("grant_type", GRANT)]).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_request")));

    // Wrong codes are refused with one message, audited; malformed ones too.
    for wrong in ["BCDF-GHJK", "not a code", "<script>", &"X".repeat(300)] {
        let (s, body) = browser
            .act("enter_device_code", &[("user_code", wrong)])
            .await;
        assert_eq!(s, 409, "{body}");
        assert!(body.to_string().contains("not valid"), "{body}");
    }
    assert!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'device.code_refused'")
            .await
            >= 4
    );
    // A burst of parallel guesses is counted in full: the user waits, even with the right
    // code, and the wait is audited.
    let mut burst = tokio::task::JoinSet::new();
    for _ in 0..8 {
        let b = Browser {
            http: browser.http.clone(),
            base: browser.base.clone(),
        };
        burst.spawn(async move {
            b.act("enter_device_code", &[("user_code", "BCDF-GHJK")])
                .await
                .0
        });
    }
    let answers = burst.join_all().await;
    assert!(
        answers.contains(&reqwest::StatusCode::TOO_MANY_REQUESTS),
        "throttled: {answers:?}"
    );
    let (s, body) = browser
        .act("enter_device_code", &[("user_code", &user_code)])
        .await;
    assert_eq!(s, 429, "{body}");

    // Another user approves it (their own counter is fresh), then the device polls after
    // the interval and gets its tokens once.
    let second = app.signed_in(&app.add_user(&org, "member").await).await;
    let consent = enter(&second, &user_code).await;
    assert!(consent.starts_with("/consent"), "{consent}");
    // The code is answered once: two consent pages for it, the second answer comes late.
    let consent_again = enter(&second, &user_code).await;
    assert_eq!(
        answer(&second, &consent, "allow").await,
        "/device?result=approved"
    );
    assert_eq!(
        answer(&second, &consent_again, "allow").await,
        "/device?result=expired"
    );
    // An approved code can no longer be typed.
    let (s, _) = second
        .act("enter_device_code", &[("user_code", &user_code)])
        .await;
    assert_eq!(s, 409);
    sqlx::query("UPDATE device_codes SET last_polled_at = last_polled_at - 60")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let (s, tokens) = poll(&app, &c, &device_code).await;
    assert_eq!(s, 200, "{tokens}");
    let access = text(&tokens["access_token"]);
    let active = |token: String| {
        let (app, c) = (&app, &c);
        async move {
            let (_, body) = as_client(app, c, "/oauth2/introspect", &[("token", &token)]).await;
            body["active"].as_bool().unwrap()
        }
    };
    assert!(active(access.clone()).await);
    // Used again: refused, and the grant it started ends (a theft signal), as a replayed
    // authorization code does.
    let (s, e) = poll(&app, &c, &device_code).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    assert!(!active(access).await, "the replay revoked the grant");

    // Denied: the device hears access_denied.
    let d = start(&app, &c, "openid").await;
    let consent = enter(&second, &text(&d["user_code"])).await;
    assert_eq!(
        answer(&second, &consent, "deny").await,
        "/device?result=denied"
    );
    let (s, e) = poll(&app, &c, &text(&d["device_code"])).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("access_denied")));

    // Expired: the user cannot type it and the device hears expired_token.
    let d = start(&app, &c, "openid").await;
    sqlx::query("UPDATE device_codes SET expires_at = expires_at - 601")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let (s, _) = second
        .act(
            "enter_device_code",
            &[("user_code", &text(&d["user_code"]))],
        )
        .await;
    assert_eq!(s, 409);
    let (s, e) = poll(&app, &c, &text(&d["device_code"])).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("expired_token")));

    // A made-up device code.
    let (s, e) = poll(&app, &c, "lkd_made_up").await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
}

async fn device_requests_obey_the_app_and_the_organization(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let rival = app.org_with_admin("Rival").await;
    let outsider = app.add_user(&rival, "member").await;
    let c = device_app(&app, &org, "Internal TV", false, "internal").await;

    // An app without the grant, and an own-behalf app, may not start device requests.
    let (web, web_secret) = app
        .register_app(&org.id, &for_users("Web", "openid email"), "")
        .await;
    let web = Rp {
        id: web.client_id,
        secret: web_secret.map(|s| s.expose_secret().to_string()),
    };
    let (s, e) = as_client(&app, &web, "/oauth2/device_authorization", &[]).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("unauthorized_client")));
    let (svc, svc_secret) = app
        .register_app(&org.id, &own_behalf("Svc", "read:apps"), "")
        .await;
    let svc = Rp {
        id: svc.client_id,
        secret: svc_secret.map(|s| s.expose_secret().to_string()),
    };
    let (s, e) = as_client(&app, &svc, "/oauth2/device_authorization", &[]).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("unauthorized_client")));
    // A wrong secret is invalid_client; a scope the app may not have, invalid_scope.
    let forged = Rp {
        id: c.id.clone(),
        secret: Some("wrong".into()),
    };
    let (s, e) = as_client(&app, &forged, "/oauth2/device_authorization", &[]).await;
    assert_eq!((s, e["error"].as_str()), (401, Some("invalid_client")));
    let (s, e) = as_client(
        &app,
        &c,
        "/oauth2/device_authorization",
        &[("scope", "admin:org")],
    )
    .await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_scope")));

    // A user of another organization typing an internal app's code is refused on the
    // page, and the device hears access_denied at once.
    let d = start(&app, &c, "openid email").await;
    let browser = app.signed_in(&outsider).await;
    let (s, body) = browser
        .act(
            "enter_device_code",
            &[("user_code", &text(&d["user_code"]))],
        )
        .await;
    assert_eq!(s, 409, "{body}");
    assert!(body.to_string().contains("cannot be connected"), "{body}");
    let (s, e) = poll(&app, &c, &text(&d["device_code"])).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("access_denied")));

    // A disabled app's device cannot be connected either.
    let member = app.add_user(&org, "member").await;
    let browser = app.signed_in(&member).await;
    let d = start(&app, &c, "openid").await;
    let consent = enter(&browser, &text(&d["user_code"])).await;
    app.set_enabled(&org.id, &c.id, false).await;
    assert_eq!(
        answer(&browser, &consent, "allow").await,
        "/device?result=refused"
    );
    let (s, e) = poll(&app, &c, &text(&d["device_code"])).await;
    assert!(s == 400 || s == 401, "{e}");
}
