//! DPoP (RFC 9449) end to end with a client key of the test's own (`common::dpop`, ES256
//! with ring): our nonce asked for first; tokens bound to the key (`cnf.jkt`, type DPoP),
//! said so by introspection; this server's API and userinfo accepting a bound token only
//! with a fresh proof of its key for that request; codes bound by `dpop_jkt` and public
//! clients' refresh tokens bound to their key. And the attacks: a proof replayed, for
//! another URL or method, too old, signed by another key than its jwk, two at once; a
//! bound token presented as a bearer token or with another key's proof. Both databases.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::dpop::{Claims, DpopKey};
use common::*;
use latchkey::domain::AppInput;
use secrecy::ExposeSecret;
use serde_json::Value;

on_both!(
    client_credentials_bound_to_a_key,
    codes_and_refresh_tokens_bound_to_a_key,
);

/// An answer of the token endpoint: status, body and the `DPoP-Nonce` it sent.
struct Answer {
    status: u16,
    body: Value,
    nonce: Option<String>,
}

async fn token(app: &TestApp, c: &Rp, form: &[(&str, &str)], proofs: &[&str]) -> Answer {
    let mut req = reqwest::Client::new().post(format!("{}/oauth2/token", app.base));
    let mut all = form.to_vec();
    match &c.secret {
        Some(s) => req = req.basic_auth(&c.id, Some(s)),
        None => all.push(("client_id", &c.id)),
    }
    for p in proofs {
        req = req.header("DPoP", *p);
    }
    let res = req.form(&all).send().await.unwrap();
    let nonce = res
        .headers()
        .get("dpop-nonce")
        .map(|v| v.to_str().unwrap().to_string());
    Answer {
        status: res.status().as_u16(),
        body: res.json().await.unwrap_or(Value::Null),
        nonce,
    }
}

fn error(a: &Answer) -> (u16, &str) {
    (a.status, a.body["error"].as_str().unwrap_or(""))
}

/// Calls `GET path` of this server with `Authorization: <scheme> token` and `proofs`.
async fn call(
    app: &TestApp,
    path: &str,
    scheme: &str,
    token: &str,
    proofs: &[&str],
) -> (u16, String) {
    let mut req = reqwest::Client::new()
        .get(format!("{}{path}", app.base))
        .header("authorization", format!("{scheme} {token}"));
    for p in proofs {
        req = req.header("DPoP", *p);
    }
    let res = req.send().await.unwrap();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (res.status().as_u16(), challenge)
}

async fn client_credentials_bound_to_a_key(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let (a, s) = app
        .register_app(&org.id, &own_behalf("CI", "read:apps"), "")
        .await;
    let c = Rp {
        id: a.client_id,
        secret: s.map(|s| s.expose_secret().to_string()),
    };
    let htu = format!("{}/oauth2/token", app.base);
    let key = DpopKey::new();
    let other_key = DpopKey::new();
    let cc = [("grant_type", "client_credentials")];

    // Discovery says which algorithms proofs may use.
    let doc: Value = reqwest::get(format!("{}/.well-known/openid-configuration", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(
        doc["dpop_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .contains(&Value::from("ES256"))
    );

    // The first proof has no nonce: use_dpop_nonce, with one in DPoP-Nonce.
    let first = token(
        &app,
        &c,
        &cc,
        &[&key.proof("POST", &htu, &Claims::default())],
    )
    .await;
    assert_eq!(error(&first), (400, "use_dpop_nonce"));
    let nonce = first.nonce.clone().expect("a DPoP-Nonce header");
    let with_nonce = Claims {
        nonce: Some(&nonce),
        ..Default::default()
    };
    // Now it is bound to the key.
    let proof = key.proof("POST", &htu, &with_nonce);
    let got = token(&app, &c, &cc, &[&proof]).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body["token_type"], "DPoP");
    assert!(got.nonce.is_some(), "a fresh nonce for the next proof");
    let access = got.body["access_token"].as_str().unwrap().to_string();
    assert_eq!(claims(&access)["cnf"]["jkt"], key.thumbprint());

    // Bent proofs at the token endpoint: each refused.
    let replayed = token(&app, &c, &cc, &[&proof]).await;
    assert_eq!(
        error(&replayed),
        (400, "invalid_dpop_proof"),
        "a replayed proof"
    );
    for (why, bent) in [
        (
            "another URL",
            key.proof(
                "POST",
                &format!("{}/oauth2/introspect", app.base),
                &with_nonce,
            ),
        ),
        ("another method", key.proof("GET", &htu, &with_nonce)),
        (
            "too old",
            key.proof(
                "POST",
                &htu,
                &Claims {
                    nonce: Some(&nonce),
                    iat_shift: -600,
                    ..Default::default()
                },
            ),
        ),
        (
            "signed by another key than its jwk",
            other_key.forged_as(&key, "POST", &htu, &with_nonce),
        ),
        (
            "a nonce we did not issue",
            key.proof(
                "POST",
                &htu,
                &Claims {
                    nonce: Some("made-up"),
                    ..Default::default()
                },
            ),
        ),
        ("not a JWT", "nonsense".to_string()),
    ] {
        let a = token(&app, &c, &cc, &[&bent]).await;
        assert!(
            matches!(error(&a), (400, "invalid_dpop_proof" | "use_dpop_nonce")),
            "{why}: {}",
            a.body
        );
    }
    let two = token(
        &app,
        &c,
        &cc,
        &[
            &key.proof("POST", &htu, &with_nonce),
            &key.proof("POST", &htu, &with_nonce),
        ],
    )
    .await;
    assert_eq!(error(&two), (400, "invalid_dpop_proof"), "two proofs");
    // Without a proof the app gets a bearer token (it does not require DPoP).
    let plain = token(&app, &c, &cc, &[]).await;
    assert_eq!(plain.body["token_type"], "Bearer");
    assert!(claims(plain.body["access_token"].as_str().unwrap())["cnf"].is_null());

    // Introspection says the token is bound, and to which key.
    let (_, i) = post_as_client(
        &app.base,
        "/oauth2/introspect",
        &c.id,
        c.secret.as_deref().unwrap(),
        &[("token", &access)],
    )
    .await;
    assert_eq!(i["active"], true);
    assert_eq!(i["token_type"], "DPoP");
    assert_eq!(i["cnf"]["jkt"], key.thumbprint());

    // This server's API: a bound token needs a fresh proof of its key for the request.
    let path = "/api/v1/apps";
    let url = format!("{}{path}", app.base);
    let for_call = |nonce: Option<&'static str>| Claims {
        access_token: Some(&access),
        nonce,
        ..Default::default()
    };
    let good = key.proof("GET", &url, &for_call(None));
    let (s, _) = call(&app, path, "DPoP", &access, &[&good]).await;
    assert_eq!(s, 200);
    let (s, challenge) = call(&app, path, "DPoP", &access, &[&good]).await;
    assert_eq!(s, 401, "the same proof again");
    assert!(
        challenge.starts_with("DPoP error=\"invalid_dpop_proof\""),
        "{challenge}"
    );
    let (s, challenge) = call(&app, path, "Bearer", &access, &[]).await;
    assert_eq!(s, 401, "a bound token as a bearer token");
    assert!(challenge.contains("invalid_token"), "{challenge}");
    let (s, _) = call(&app, path, "DPoP", &access, &[]).await;
    assert_eq!(s, 401, "no proof");
    let (s, _) = call(
        &app,
        path,
        "DPoP",
        &access,
        &[&other_key.proof("GET", &url, &for_call(None))],
    )
    .await;
    assert_eq!(s, 401, "another key's proof");
    let (s, _) = call(
        &app,
        path,
        "DPoP",
        &access,
        &[&key.proof("POST", &url, &for_call(None))],
    )
    .await;
    assert_eq!(s, 401, "another method");
    let (s, _) = call(
        &app,
        path,
        "DPoP",
        &access,
        &[&key.proof(
            "GET",
            &format!("{}/api/v1/users", app.base),
            &for_call(None),
        )],
    )
    .await;
    assert_eq!(s, 401, "another URL");
    let (s, _) = call(
        &app,
        path,
        "DPoP",
        &access,
        &[&key.proof("GET", &url, &Claims::default())],
    )
    .await;
    assert_eq!(s, 401, "no ath");
    // A bearer token presented with the DPoP scheme is not one.
    let bearer = plain.body["access_token"].as_str().unwrap();
    let (s, _) = call(
        &app,
        path,
        "DPoP",
        bearer,
        &[&key.proof(
            "GET",
            &url,
            &Claims {
                access_token: Some(bearer),
                ..Default::default()
            },
        )],
    )
    .await;
    assert_eq!(s, 401);
    let (s, _) = call(&app, path, "Bearer", bearer, &[]).await;
    assert_eq!(s, 200);

    // An app that requires DPoP gets nothing without a proof.
    let input = AppInput {
        require_dpop: true,
        ..own_behalf("Strict CI", "read:apps")
    };
    let (a, s) = app.register_app(&org.id, &input, "").await;
    let strict = Rp {
        id: a.client_id,
        secret: s.map(|s| s.expose_secret().to_string()),
    };
    let none = token(&app, &strict, &cc, &[]).await;
    assert_eq!(error(&none), (400, "invalid_dpop_proof"));
    let fresh = token(&app, &strict, &cc, &[&key.proof("POST", &htu, &with_nonce)]).await;
    assert_eq!(fresh.status, 200, "{}", fresh.body);
}

async fn codes_and_refresh_tokens_bound_to_a_key(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let user = app.add_user(&org, "member").await;
    let input = AppInput {
        public_client: true,
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        ..for_users("Phone app", "openid email offline_access")
    };
    let (a, _) = app.register_app(&org.id, &input, "").await;
    let c = Rp {
        id: a.client_id,
        secret: None,
    };
    let htu = format!("{}/oauth2/token", app.base);
    let key = DpopKey::new();
    let thief = DpopKey::new();
    let nonce = token(
        &app,
        &c,
        &[("grant_type", "refresh_token"), ("refresh_token", "x")],
        &[&key.proof("POST", &htu, &Claims::default())],
    )
    .await
    .nonce
    .unwrap();
    let n = Claims {
        nonce: Some(&nonce),
        ..Default::default()
    };

    // The authorization request names the key; a malformed thumbprint is refused.
    let browser = app.signed_in(&user).await;
    let jkt = key.thumbprint();
    let mut params = good(&c.id);
    params.push(("scope", "openid email offline_access"));
    let params = with(&params, "dpop_jkt", Some(&jkt));
    let url = format!(
        "{}{}",
        app.base,
        authorize_url(&with(&params, "scope", Some("openid email offline_access")))
    );
    let back = browser.authorize(&url, &user, "allow").await;
    let code = query_of(&back)["code"].clone();
    let redeem_form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
        ("code_verifier", VERIFIER),
    ];
    // Another key cannot redeem it (nor can no key); the code is not spent by trying.
    let stolen = token(&app, &c, &redeem_form, &[&thief.proof("POST", &htu, &n)]).await;
    assert_eq!(error(&stolen), (400, "invalid_grant"), "{}", stolen.body);
    let keyless = token(&app, &c, &redeem_form, &[]).await;
    assert_eq!(error(&keyless), (400, "invalid_grant"));
    let got = token(&app, &c, &redeem_form, &[&key.proof("POST", &htu, &n)]).await;
    assert_eq!(got.status, 200, "{}", got.body);
    assert_eq!(got.body["token_type"], "DPoP");
    let access = got.body["access_token"].as_str().unwrap().to_string();
    let refresh = got.body["refresh_token"].as_str().unwrap().to_string();
    let (_, _, loc) = browser
        .get(&authorize_url(&with(
            &good(&c.id),
            "dpop_jkt",
            Some("short"),
        )))
        .await;
    assert_eq!(query_of(&loc.unwrap())["error"], "invalid_request");

    // A pushed request with a proof binds its code to that key (RFC 9449 §10.1).
    let par = format!("{}/oauth2/par", app.base);
    let pushed = reqwest::Client::new()
        .post(&par)
        .header("DPoP", key.proof("POST", &par, &n))
        .form(&with(&good(&c.id), "client_id", Some(&c.id)))
        .send()
        .await
        .unwrap();
    assert_eq!(pushed.status(), 201);
    let request_uri = pushed.json::<Value>().await.unwrap()["request_uri"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, _, loc) = browser
        .get(&authorize_url(&[
            ("client_id", &c.id),
            ("request_uri", &request_uri),
        ]))
        .await;
    let code = query_of(&loc.unwrap())["code"].clone();
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", CB),
        ("code_verifier", VERIFIER),
    ];
    let stolen = token(&app, &c, &form, &[&thief.proof("POST", &htu, &n)]).await;
    assert_eq!(error(&stolen), (400, "invalid_grant"));
    let got = token(&app, &c, &form, &[&key.proof("POST", &htu, &n)]).await;
    assert_eq!(got.status, 200, "{}", got.body);

    // Userinfo: the bound token with a proof of its key, never as a bearer token.
    let info = format!("{}/oauth2/userinfo", app.base);
    let with_ath = Claims {
        access_token: Some(&access),
        ..Default::default()
    };
    let (s, _) = call(
        &app,
        "/oauth2/userinfo",
        "DPoP",
        &access,
        &[&key.proof("GET", &info, &with_ath)],
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = call(&app, "/oauth2/userinfo", "Bearer", &access, &[]).await;
    assert_eq!(s, 401);
    let (s, _) = call(
        &app,
        "/oauth2/userinfo",
        "DPoP",
        &access,
        &[&thief.proof("GET", &info, &with_ath)],
    )
    .await;
    assert_eq!(s, 401);

    // The public client's refresh token is bound to its key: a thief's proof, or none,
    // refuses it without spending it; the key's own works and stays bound.
    let form = [
        ("grant_type", "refresh_token"),
        ("refresh_token", refresh.as_str()),
    ];
    let a = token(&app, &c, &form, &[&thief.proof("POST", &htu, &n)]).await;
    assert_eq!(error(&a), (400, "invalid_grant"));
    let a = token(&app, &c, &form, &[]).await;
    assert_eq!(error(&a), (400, "invalid_grant"));
    let a = token(&app, &c, &form, &[&key.proof("POST", &htu, &n)]).await;
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(
        claims(a.body["access_token"].as_str().unwrap())["cnf"]["jkt"],
        jkt
    );
    let next = a.body["refresh_token"].as_str().unwrap().to_string();
    let a = token(
        &app,
        &c,
        &[("grant_type", "refresh_token"), ("refresh_token", &next)],
        &[],
    )
    .await;
    assert_eq!(
        error(&a),
        (400, "invalid_grant"),
        "the new refresh token is bound too"
    );
}
