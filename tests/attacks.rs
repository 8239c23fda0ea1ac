//! The attacks of the security review (issue 8), each performed as an attacker would, on
//! SQLite and PostgreSQL. Every one of them succeeded against the code before its fix.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use jsonwebtoken::{EncodingKey, Header, encode};
use latchkey::domain::AppInput;
use latchkey::services;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

on_both!(
    an_app_cannot_act_for_another_organizations_user,
    a_burst_of_parallel_guesses_is_counted_before_any_is_checked,
    a_stranger_cannot_lock_the_owner_out,
    a_forged_forwarded_for_does_not_choose_the_address,
    narrowing_an_app_narrows_the_grants_it_holds,
    grants_end_at_their_absolute_lifetime,
    logout_is_no_open_redirect,
    native_apps_ask_the_user_every_time,
    a_stolen_code_does_not_burn_the_victims_grant,
    an_access_token_is_no_id_token_hint,
    bad_secrets_cannot_flood_the_audit_chain,
    csv_exports_cannot_carry_formulas,
    pages_allow_only_their_own_scripts,
    user_creation_does_not_reveal_other_organizations_addresses,
    refresh_tokens_are_introspected,
    nul_characters_and_overlong_paths_are_refused_not_errors,
);

const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

async fn token(app: &TestApp, basic: (&str, &str), form: &[(&str, &str)]) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{}/oauth2/token", app.base))
        .basic_auth(basic.0, Some(basic.1))
        .form(form)
        .send()
        .await
        .unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

/// The JWT bearer grant through `rp` with an assertion for `sub` signed by `key`.
async fn bearer_grant(
    app: &TestApp,
    rp: &Rp,
    key: &latchkey::crypto::signing::GeneratedKey,
    sub: &str,
    scope: &str,
) -> (u16, Value) {
    let secret = rp.secret.clone().unwrap_or_default();
    let endpoint = format!("{}/oauth2/token", app.base);
    token(
        app,
        (&rp.id, &secret),
        &[
            ("grant_type", JWT_BEARER),
            ("assertion", &assertion(key, &rp.id, sub, &endpoint)),
            ("scope", scope),
        ],
    )
    .await
}

/// The password grant for `user` through the app `rp` (its secret), with `scope`.
async fn password_grant(app: &TestApp, rp: &Rp, user: &str, scope: &str) -> (u16, Value) {
    let secret = rp.secret.clone().unwrap_or_default();
    token(
        app,
        (&rp.id, &secret),
        &[
            ("grant_type", "password"),
            ("username", user),
            ("password", PASSWORD),
            ("scope", scope),
        ],
    )
    .await
}

/// An on-behalf-of-user app with a secret (and a key for JWT bearer when `key` is given).
async fn user_app(
    app: &TestApp,
    org: &Org,
    input: AppInput,
    key: Option<&latchkey::crypto::signing::GeneratedKey>,
) -> Rp {
    let jwks = key
        .map(|k| json!({ "keys": [k.public_jwk] }).to_string())
        .unwrap_or_default();
    let (a, s) = app.register_app(&org.id, &input, &jwks).await;
    Rp {
        id: a.client_id,
        secret: s.map(|s| s.expose_secret().to_string()),
    }
}

fn bearer_input(audience: &str) -> AppInput {
    AppInput {
        name: format!("Bearer {audience}"),
        kind: "on-behalf-of-user".into(),
        grant_types: vec![
            JWT_BEARER.into(),
            "password".into(),
            "authorization_code".into(),
            "refresh_token".into(),
        ],
        redirect_uris: vec![CB.into()],
        scopes: vec!["openid email offline_access full".into()],
        audience: audience.into(),
        ..Default::default()
    }
}

fn assertion(
    key: &latchkey::crypto::signing::GeneratedKey,
    client_id: &str,
    sub: &str,
    aud: &str,
) -> String {
    let now = services::now();
    let claims = json!({ "iss": client_id, "sub": sub, "aud": aud, "exp": now + 120, "iat": now,
                         "jti": latchkey::crypto::random_token(12) });
    let mut h = Header::new(jsonwebtoken::Algorithm::ES256);
    h.kid = Some(key.kid.clone());
    encode(&h, &claims, &EncodingKey::from_ec_der(&key.pkcs8)).unwrap()
}

/// Finding 1 (and 12 for grant errors): an admin of organization A registers an
/// `everyone` app with the JWT bearer grant, scope `full` and their own key, and signs an
/// assertion for organization B's admin; the password grant is tried the same way.
async fn an_app_cannot_act_for_another_organizations_user(b: Backend) {
    let app = spawn_app(b).await;
    let attacker = app.org_with_admin("Attacker").await;
    let victim = app.org_with_admin("Victim").await;
    let key = latchkey::crypto::signing::generate_es256().unwrap();
    let rogue = user_app(&app, &attacker, bearer_input("everyone"), Some(&key)).await;
    let secret = rogue.secret.clone().unwrap();

    let (status, body) = bearer_grant(&app, &rogue, &key, &victim.admin_email, "full").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "an assertion for another organization's admin: {body}"
    );
    let refused_victim = body["error_description"].clone();
    // An address nobody has gets the very same answer: nothing to enumerate.
    let (_, body) = bearer_grant(&app, &rogue, &key, "nobody@example.com", "").await;
    assert_eq!(body["error_description"], refused_victim);

    // The password grant never serves another organization's user, even with their password.
    let (status, body) = token(
        &app,
        (&rogue.id, &secret),
        &[
            ("grant_type", "password"),
            ("username", &victim.admin_email),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let (_, body2) = token(
        &app,
        (&rogue.id, &secret),
        &[
            ("grant_type", "password"),
            ("username", &victim.admin_email),
            ("password", "wrong password entirely"),
        ],
    )
    .await;
    assert_eq!(
        body["error_description"], body2["error_description"],
        "a right password for a foreign user reads like a wrong one"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM grants WHERE client_id = '{}'",
            rogue.id
        ))
        .await,
        0,
        "no grant was started"
    );
    assert!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'token.refused' AND detail LIKE '%invalid_grant%'")
            .await
            >= 3,
        "every refusal is audited"
    );

    // Once the victim authorizes the app in the browser themselves, the app may act for
    // them, in their organization, within what they consented to.
    let user = app.add_user(&victim, "member").await;
    let browser = app.signed_in(&user).await;
    let pairs = with(&good(&rogue.id), "scope", Some("openid email"));
    let back = browser
        .authorize(
            &format!("{}{}", app.base, authorize_url(&pairs)),
            &user,
            "allow",
        )
        .await;
    assert!(query_of(&back).contains_key("code"), "{back}");
    let (status, body) = bearer_grant(&app, &rogue, &key, &user, "openid email full").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["scope"], "openid email",
        "within the consent: no `full`"
    );
    // The password grant stays closed to them.
    let (status, _) = token(
        &app,
        (&rogue.id, &secret),
        &[
            ("grant_type", "password"),
            ("username", &user),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(status, 400);

    // A member of the app's own organization is served as before.
    let (status, body) = bearer_grant(&app, &rogue, &key, &attacker.admin_email, "full").await;
    assert_eq!(status, 200, "{body}");
}

async fn password_app(app: &TestApp, org: &Org) -> (String, String) {
    let mut input = bearer_input("internal");
    input.grant_types = vec!["password".into(), "refresh_token".into()];
    input.redirect_uris.clear();
    let rp = user_app(app, org, input, None).await;
    (rp.id, rp.secret.unwrap())
}

async fn failed_checks(app: &TestApp) -> i64 {
    app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'login' AND detail LIKE '%bad_credentials%'")
        .await
}

/// Finding 2: 40 wrong passwords for one account sent at once are all checked when the
/// throttle is read before and written after the check.
async fn a_burst_of_parallel_guesses_is_counted_before_any_is_checked(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let (id, secret) = password_app(&app, &org).await;
    let guesses = (0..40).map(|n| {
        let (app, id, secret, user) = (&app, &id, &secret, &org.admin_email);
        async move {
            token(
                app,
                (id, secret),
                &[
                    ("grant_type", "password"),
                    ("username", user),
                    ("password", &format!("guess number {n}")),
                ],
            )
            .await
        }
    });
    let answers = futures_join(guesses).await;
    assert!(answers.iter().all(|(s, _)| *s == 400));
    let checked = failed_checks(&app).await;
    assert!(
        checked <= 5,
        "only the free attempts are checked, {checked} were"
    );
    assert!(
        answers
            .iter()
            .filter(|(_, b)| b["error_description"]
                .as_str()
                .unwrap()
                .contains("too many"))
            .count()
            >= 35
    );
}

async fn futures_join<F: std::future::Future>(fs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let handles: Vec<_> = fs.collect();
    let mut out = Vec::new();
    // Polled together on this task: the requests are in flight at once.
    let mut pinned: Vec<_> = handles.into_iter().map(Box::pin).collect();
    let mut done: Vec<Option<F::Output>> = (0..pinned.len()).map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in pinned.iter_mut().enumerate() {
            if done[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => done[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.extend(done.into_iter().map(|d| d.unwrap()));
    out
}

/// A password-grant request from `ip`, as our one trusted proxy forwards it.
async fn login_from(
    app: &TestApp,
    client: &(String, String),
    ip: &str,
    email: &str,
    password: &str,
) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{}/oauth2/token", app.base))
        .header("x-forwarded-for", ip)
        .basic_auth(&client.0, Some(&client.1))
        .form(&[
            ("grant_type", "password"),
            ("username", email),
            ("password", password),
        ])
        .send()
        .await
        .unwrap();
    (
        res.status().as_u16(),
        res.json().await.unwrap_or(Value::Null),
    )
}

/// A server behind one trusted proxy, an organization and its password app.
async fn behind_one_proxy(b: Backend) -> (TestApp, Org, (String, String)) {
    let app = spawn_app_with(b, |s| s.trusted_proxies = 1).await;
    let org = app.org_with_admin("Acme").await;
    let client = password_app(&app, &org).await;
    (app, org, client)
}

/// Finding 2: a stranger guessing one account's password from their address locks only
/// themselves out; the owner, from theirs, signs in.
async fn a_stranger_cannot_lock_the_owner_out(b: Backend) {
    let (app, org, c) = behind_one_proxy(b).await;
    for n in 0..8 {
        let (status, _) =
            login_from(&app, &c, "203.0.113.66", &org.admin_email, &format!("x{n}")).await;
        assert_eq!(status, 400);
    }
    let (_, body) = login_from(&app, &c, "203.0.113.66", &org.admin_email, PASSWORD).await;
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("too many"),
        "the stranger's address waits, even with the right password: {body}"
    );
    let (status, body) = login_from(&app, &c, "198.51.100.7", &org.admin_email, PASSWORD).await;
    assert_eq!(status, 200, "the owner is not locked out: {body}");
}

/// Finding 3: behind an appending proxy the leftmost X-Forwarded-For entry is the
/// client's own words; rotating it must not escape the per-address throttle.
async fn a_forged_forwarded_for_does_not_choose_the_address(b: Backend) {
    let (app, _, c) = behind_one_proxy(b).await;
    let mut throttled = 0;
    for n in 0..26 {
        // What our proxy forwards: the client's forged entry, then the real address.
        let forged = format!("10.9.{n}.1, 203.0.113.9");
        let user = format!("someone{n}@example.com");
        let (_, body) = login_from(&app, &c, &forged, &user, "wrong").await;
        if body["error_description"]
            .as_str()
            .unwrap()
            .contains("too many")
        {
            throttled += 1;
        }
    }
    assert!(
        throttled >= 5,
        "the real address (the rightmost) is throttled after 20 failures: {throttled}"
    );
    let recorded = app
        .count("SELECT COUNT(*) FROM audit_events WHERE ip = '203.0.113.9'")
        .await;
    assert!(recorded > 0, "the audit names the real address");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE ip LIKE '10.9.%'")
            .await,
        0,
        "never the forged one"
    );
}

async fn me(app: &TestApp, access: &str) -> (u16, Value) {
    let (s, _, body) = api(app, "GET", "/me", Some(access), None).await;
    (s, body)
}

/// Finding 4: an admin removes `manage:apps` from an app, or makes it internal; its refresh
/// tokens and access tokens must follow at once.
async fn narrowing_an_app_narrows_the_grants_it_holds(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let other = app.org_with_admin("Other").await;
    let mut input = bearer_input("everyone");
    input.grant_types.retain(|g| g != JWT_BEARER);
    input.scopes = vec!["openid email offline_access manage:apps read:apps".into()];
    let rp = user_app(&app, &org, input.clone(), None).await;
    let secret = rp.secret.clone().unwrap();

    let (status, t) = password_grant(
        &app,
        &rp,
        &org.admin_email,
        "offline_access manage:apps read:apps",
    )
    .await;
    assert_eq!(status, 200, "{t}");
    let access = t["access_token"].as_str().unwrap().to_string();
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    assert!(
        me(&app, &access).await.1["scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("manage:apps"))
    );

    // An outsider authorizes the everyone app in the browser.
    let outsider = app.add_user(&other, "admin").await;
    let browser = app.signed_in(&outsider).await;
    let pairs = with(
        &good(&rp.id),
        "scope",
        Some("openid offline_access read:apps"),
    );
    let back = browser
        .authorize(
            &format!("{}{}", app.base, authorize_url(&pairs)),
            &outsider,
            "allow",
        )
        .await;
    let code = query_of(&back)["code"].clone();
    let (s, ot) = exchange(
        &app,
        &rp,
        &[
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(s, 200, "{ot}");
    let outsider_refresh = ot["refresh_token"].as_str().unwrap().to_string();

    // The admin narrows the app and makes it internal.
    input.scopes = vec!["openid email offline_access read:apps".into()];
    input.audience = "internal".into();
    services::apps::update(
        &app.state.db,
        &latchkey::services::Principal::operator_in(&org.id),
        &rp.id,
        &input,
        "",
    )
    .await
    .unwrap();

    let (s, body) = me(&app, &access).await;
    assert_eq!(s, 200);
    assert!(
        !body["scopes"]
            .as_array()
            .unwrap()
            .contains(&json!("manage:apps")),
        "the API intersects with the app's scopes now: {body}"
    );
    let (s, _, _) = api(
        &app,
        "POST",
        &format!("/apps/{}/disable", rp.id),
        Some(&access),
        None,
    )
    .await;
    assert_eq!(s, 403);

    let (status, t) = token(
        &app,
        (&rp.id, &secret),
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(status, 200, "{t}");
    assert_eq!(
        t["scope"], "offline_access read:apps",
        "a refresh mints only what the app may have now"
    );
    let (status, t) = token(
        &app,
        (&rp.id, &secret),
        &[
            ("grant_type", "refresh_token"),
            ("refresh_token", &outsider_refresh),
        ],
    )
    .await;
    assert_eq!(
        (status, t["error"].as_str()),
        (400, Some("invalid_grant")),
        "an internal app serves no other organization's user: {t}"
    );
}

/// Finding 4: a grant refreshed forever would live forever; past the app's grant lifetime
/// the user signs in again.
async fn grants_end_at_their_absolute_lifetime(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let mut input = bearer_input("internal");
    input.grant_types.retain(|g| g != JWT_BEARER);
    input.grant_ttl = "3600".into();
    let rp = user_app(&app, &org, input, None).await;
    let secret = rp.secret.clone().unwrap();
    let (status, t) = password_grant(&app, &rp, &org.admin_email, "offline_access").await;
    assert_eq!(status, 200, "{t}");
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    // The refresh token itself never outlives the grant.
    let expires = app
        .count("SELECT MAX(expires_at - created_at) FROM refresh_tokens")
        .await;
    assert!(expires <= 3600, "{expires}");
    sqlx::query("UPDATE grants SET created_at = created_at - 3601")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let (status, t) = token(
        &app,
        (&rp.id, &secret),
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!((status, t["error"].as_str()), (400, Some("invalid_grant")));
    assert!(
        t["error_description"]
            .as_str()
            .unwrap()
            .contains("sign in again")
    );
}

async fn rp_app(app: &TestApp, org: &Org, public: bool, redirect: &str) -> Rp {
    let input = AppInput {
        name: format!("RP {}", latchkey::crypto::random_token(4)),
        kind: "on-behalf-of-user".into(),
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        redirect_uris: vec![redirect.into()],
        post_logout_redirect_uris: vec!["https://rp.example.com/bye".into()],
        scopes: vec!["openid email offline_access".into()],
        public_client: public,
        ..Default::default()
    };
    user_app(app, org, input, None).await
}

/// Finding 5: `/oauth2/logout` followed a registered *authorization* redirect URI with
/// nothing but a `client_id`.
async fn logout_is_no_open_redirect(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let rp = rp_app(&app, &org, false, CB).await;
    let browser = app.signed_in(&org.admin_email).await;
    let q = |pairs: &[(&str, &str)]| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(pairs)
            .finish()
    };
    for uri in [CB, "https://rp.example.com/bye"] {
        let (status, _, loc) = browser
            .get(&format!(
                "/oauth2/logout?{}",
                q(&[("client_id", &rp.id), ("post_logout_redirect_uri", uri)])
            ))
            .await;
        assert!(
            loc.as_deref().is_none_or(|l| !l.starts_with("https://")),
            "no redirect to {uri} without an ID token: {status} {loc:?}"
        );
    }
    let code = code_for(&app, &browser, &rp.id, &org.admin_email).await;
    let (_, t) = exchange(
        &app,
        &rp,
        &[
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    let id_token = t["id_token"].as_str().unwrap();
    // With the hint, an authorization redirect URI is still not a post-logout one.
    let (status, _, loc) = browser
        .get(&format!(
            "/oauth2/logout?{}",
            q(&[
                ("id_token_hint", id_token),
                ("post_logout_redirect_uri", CB)
            ])
        ))
        .await;
    assert_eq!((status.as_u16(), loc), (400, None));
    let (status, _, loc) = browser
        .get(&format!(
            "/oauth2/logout?{}",
            q(&[
                ("id_token_hint", id_token),
                ("post_logout_redirect_uri", "https://rp.example.com/bye"),
                ("state", "s1"),
            ])
        ))
        .await;
    assert_eq!(status, 303);
    assert_eq!(loc.unwrap(), "https://rp.example.com/bye?state=s1");
}

/// Finding 6: a public client on a loopback or private-use redirect got codes silently
/// (remembered consent, `prompt=none`), which any app on the device could claim.
async fn native_apps_ask_the_user_every_time(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let loopback = "http://127.0.0.1:8765/cb";
    let rp = rp_app(&app, &org, true, loopback).await;
    let browser = app.signed_in(&org.admin_email).await;
    let pairs = with(&good(&rp.id), "redirect_uri", Some(loopback));
    let url = format!("{}{}", app.base, authorize_url(&pairs));
    let back = browser.authorize(&url, &org.admin_email, "allow").await;
    assert!(query_of(&back).contains_key("code"));
    // The consent is remembered, yet the next request asks again.
    let (_, _, loc) = browser.get(&authorize_url(&pairs)).await;
    assert!(
        loc.as_deref().unwrap().starts_with("/consent"),
        "asked again: {loc:?}"
    );
    let silent = with(&pairs, "prompt", Some("none"));
    let (_, _, loc) = browser.get(&authorize_url(&silent)).await;
    let loc = loc.unwrap();
    assert!(loc.starts_with(loopback), "{loc}");
    assert_eq!(query_of(&loc)["error"], "consent_required");
}

/// Finding 7: another client presenting a victim's code made the code spent, and the
/// rightful client's exchange then looked like a replay and revoked the grant.
async fn a_stolen_code_does_not_burn_the_victims_grant(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let victim_rp = rp_app(&app, &org, false, CB).await;
    let thief = rp_app(&app, &org, false, CB).await;
    let browser = app.signed_in(&org.admin_email).await;
    let code = code_for(&app, &browser, &victim_rp.id, &org.admin_email).await;
    let form = [
        ("code", code.as_str()),
        ("redirect_uri", CB),
        ("code_verifier", VERIFIER),
    ];
    let (s, e) = exchange(&app, &thief, &form).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    // A wrong verifier by the rightful client spends nothing either.
    let (s, _) = exchange(
        &app,
        &victim_rp,
        &[
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", &"x".repeat(43)),
        ],
    )
    .await;
    assert_eq!(s, 400);
    let (s, t) = exchange(&app, &victim_rp, &form).await;
    assert_eq!(s, 200, "the victim still gets their tokens: {t}");
    // Only the same client presenting it again is a replay.
    let (s, _) = exchange(&app, &victim_rp, &form).await;
    assert_eq!(s, 400);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM grants WHERE revoked_at IS NOT NULL")
            .await,
        1
    );
}

/// Finding 8: any token signed by us, an access token too, was taken as `id_token_hint`.
async fn an_access_token_is_no_id_token_hint(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let (_, _, access) = app_token(&app, &org, "read:apps").await;
    let browser = app.signed_in(&org.admin_email).await;
    let (status, body, loc) = browser
        .get(&format!("/oauth2/logout?id_token_hint={access}"))
        .await;
    assert_eq!((status.as_u16(), loc), (400, None), "{body}");
    assert_eq!(
        browser.call("page_context", &[]).await.1["me"]["email"],
        org.admin_email.as_str(),
        "still signed in"
    );
}

/// Finding 9: bad secrets for an organization's client id each appended a hash-chained
/// record to that organization's log.
async fn bad_secrets_cannot_flood_the_audit_chain(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let (client_id, secret, _) = app_token(&app, &org, "read:apps").await;
    // The count is per minute: start early in one.
    if services::now() % 60 > 45 {
        tokio::time::sleep(std::time::Duration::from_secs(
            (61 - services::now() % 60) as u64,
        ))
        .await;
    }
    let before = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'token.refused'")
        .await;
    let mut statuses = Vec::new();
    for n in 0..30 {
        let (s, _) = token(
            &app,
            (&client_id, &format!("wrong-{n}")),
            &[("grant_type", "client_credentials")],
        )
        .await;
        statuses.push(s);
    }
    let recorded = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'token.refused'")
        .await
        - before;
    assert!(
        recorded <= 2,
        "30 bad secrets fold into one record per minute, not {recorded}"
    );
    assert!(statuses[..20].iter().all(|s| *s == 401));
    assert!(
        statuses[20..].iter().all(|s| *s == 429),
        "past 20 failures from one address: 429 {statuses:?}"
    );
    // The rightful client, with its secret, is never locked out.
    let (s, body) = token(
        &app,
        (&client_id, &secret),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(s, 200, "{body}");
}

/// Finding 10: cells starting with `= + - @` ran as formulas in a spreadsheet.
async fn csv_exports_cannot_carry_formulas(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let (client_id, _, _) = app_token(&app, &org, "read:apps").await;
    let res = reqwest::Client::new()
        .post(format!("{}/oauth2/token", app.base))
        .header("user-agent", "=HYPERLINK(\"https://evil.example\",\"x\")")
        .basic_auth(&client_id, Some("wrong"))
        .form(&[("grant_type", "client_credentials")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let browser = app.signed_in(&org.admin_email).await;
    let res = browser
        .http
        .get(format!("{}/admin/audit/export?format=csv", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let csv = res.text().await.unwrap();
    let mut reader = csv::ReaderBuilder::new().from_reader(csv.as_bytes());
    let mut cells = 0;
    for record in reader.records() {
        for cell in record.unwrap().iter() {
            cells += 1;
            assert!(
                !cell.starts_with(['=', '+', '-', '@']),
                "a live formula: {cell}"
            );
        }
    }
    assert!(cells > 0);
    assert!(csv.contains("'=HYPERLINK"), "{csv}");
}

/// Finding 11: a page's scripts are only its own (a nonce), forms post only here, and an
/// https issuer pins https.
async fn pages_allow_only_their_own_scripts(b: Backend) {
    let app = spawn_app(b).await;
    let res = reqwest::get(format!("{}/login", app.base)).await.unwrap();
    let csp = res.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string();
    let html = res.text().await.unwrap();
    assert!(csp.contains("default-src 'self'"), "{csp}");
    assert!(csp.contains("form-action 'self'"), "{csp}");
    let nonce = csp
        .split(';')
        .find_map(|d| d.trim().strip_prefix("script-src "))
        .and_then(|d| d.split_whitespace().find_map(|s| s.strip_prefix("'nonce-")))
        .map(|n| n.trim_end_matches('\'').to_string())
        .unwrap_or_else(|| panic!("a nonce in script-src: {csp}"));
    assert!(!csp.contains("unsafe-inline") || csp.contains("'nonce-"));
    let scripts = html.matches("<script").count();
    assert!(scripts > 0);
    assert_eq!(
        html.matches(&format!("nonce=\"{nonce}\"")).count(),
        scripts,
        "every script carries this response's nonce"
    );
    let again = reqwest::get(format!("{}/login", app.base)).await.unwrap();
    assert_ne!(
        again.headers()["content-security-policy"].to_str().unwrap(),
        csp,
        "a new nonce per response"
    );
    assert!(
        res_has_no_hsts(&app).await,
        "no HSTS on a plain-http issuer"
    );

    let secure = spawn_app_with(b, |s| s.issuer = "https://login.example.com".into()).await;
    let res = reqwest::get(format!("{}/.well-known/openid-configuration", secure.base))
        .await
        .unwrap();
    assert!(
        res.headers()["strict-transport-security"]
            .to_str()
            .unwrap()
            .contains("max-age=")
    );
}

async fn res_has_no_hsts(app: &TestApp) -> bool {
    reqwest::get(format!("{}/login", app.base))
        .await
        .unwrap()
        .headers()
        .get("strict-transport-security")
        .is_none()
}

/// Finding 12: creating a user answered "already used by another user" for an address of
/// another organization, which lists who the other organizations have.
async fn user_creation_does_not_reveal_other_organizations_addresses(b: Backend) {
    let app = spawn_app(b).await;
    let mine = app.org_with_admin("Mine").await;
    let theirs = app.org_with_admin("Theirs").await;
    let browser = app.signed_in(&mine.admin_email).await;
    let create = |email: String| {
        let browser = &browser;
        async move {
            browser
                .act(
                    "create_user",
                    &[
                        ("email", &email),
                        ("name", "New person"),
                        ("role", "member"),
                        ("password", PASSWORD),
                    ],
                )
                .await
        }
    };
    let (fresh, fresh_body) = create("fresh@example.com".into()).await;
    let (taken, taken_body) = create(theirs.admin_email.clone()).await;
    assert_eq!(fresh, taken, "{fresh_body} / {taken_body}");
    assert!(taken.is_success(), "{taken_body}");
    // The other organization's account is untouched: same password, still theirs.
    assert!(app.signed_in(&theirs.admin_email).await.csrf().await.len() > 10);
    // Within one organization a repeat is a plain conflict.
    let (again, body) = create("fresh@example.com".into()).await;
    assert_eq!(again, 422, "{body}");
    assert!(
        body.to_string()
            .contains("already a member of this organization")
    );
}

/// Finding 13: introspection answered `active: false` for a live refresh token.
async fn refresh_tokens_are_introspected(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let other = app.org_with_admin("Other").await;
    let (id, secret) = password_app(&app, &org).await;
    let (_, t) = token(
        &app,
        (&id, &secret),
        &[
            ("grant_type", "password"),
            ("username", &org.admin_email),
            ("password", PASSWORD),
            ("scope", "openid offline_access"),
        ],
    )
    .await;
    let refresh = t["refresh_token"].as_str().unwrap().to_string();
    let introspect = |who: (String, String), token: String| {
        let app = &app;
        async move {
            let res = reqwest::Client::new()
                .post(format!("{}/oauth2/introspect", app.base))
                .basic_auth(&who.0, Some(&who.1))
                .form(&[
                    ("token", token.as_str()),
                    ("token_type_hint", "refresh_token"),
                ])
                .send()
                .await
                .unwrap();
            res.json::<Value>().await.unwrap()
        }
    };
    let v = introspect((id.clone(), secret.clone()), refresh.clone()).await;
    assert_eq!(v["active"], true, "{v}");
    assert_eq!(v["token_use"], "refresh_token");
    assert_eq!(v["client_id"], id.as_str());
    assert_eq!(v["scope"], "openid offline_access");
    assert!(v["exp"].as_i64().unwrap() > services::now());
    assert!(v["sub"].is_string());
    // Another organization's client learns nothing.
    let (oid, osecret, _) = app_token(&app, &other, "read:apps").await;
    let v = introspect((oid, osecret), refresh.clone()).await;
    assert_eq!(v, json!({ "active": false }));
    // Used (rotated), it is inactive.
    let (s, _) = token(
        &app,
        (&id, &secret),
        &[("grant_type", "refresh_token"), ("refresh_token", &refresh)],
    )
    .await;
    assert_eq!(s, 200);
    let v = introspect((id, secret), refresh).await;
    assert_eq!(v, json!({ "active": false }));
}

/// Found by the hostile campaign: a NUL character reached PostgreSQL (which cannot store one
/// in text: 500) and an overlong path reached the file server (ENAMETOOLONG: 500). Each is
/// now a clear client error, wherever it is put.
async fn nul_characters_and_overlong_paths_are_refused_not_errors(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let (id, secret, token) = app_token(&app, &org, "read:apps manage:apps").await;
    let http = reqwest::Client::new();
    let base = &app.base;
    let (status, _, body) = api(&app, "GET", "/apps/%00", Some(&token), None).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, _, _) = api(
        &app,
        "POST",
        "/apps",
        Some(&token),
        Some(serde_json::json!({ "name": "a\u{0}b" })),
    )
    .await;
    assert_eq!(status, 400);
    let res = http
        .post(format!("{base}/oauth2/token"))
        .basic_auth(&id, Some(&secret))
        .form(&[
            ("grant_type", "client_credentials"),
            ("scope", "read:apps\0"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"], "invalid_request");
    for path in [
        "/admin/apps/%00",
        "/consent?request=%00",
        "/oauth2/authorize?client_id=%00",
    ] {
        let res = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(res.status(), 400, "{path}");
    }
    let long = "x".repeat(300);
    for path in [
        format!("/{long}"),
        format!("/pkg/{long}.js"),
        format!("/api/v1/apps/{long}"),
    ] {
        let res = http.get(format!("{base}{path}")).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
}
