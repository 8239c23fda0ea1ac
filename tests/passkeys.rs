//! Passkeys (WebAuthn, issue 12) through the portal's server functions, with a software
//! authenticator (`common::webauthn`): added after a fresh sign-in, a sign-in of their own
//! and a second step after a password, what ID tokens say of them, and the attacks — an
//! answer for another origin, RP id or challenge, a counter that does not grow, another
//! key claiming the credential, another user's credential, a replayed answer, a stranger
//! removing one. SQLite and PostgreSQL; the server's issuer is `localhost` (browsers refuse
//! an IP address as the RP id).

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::webauthn::Authenticator;
use common::*;
use latchkey::domain::mfa::ACR_MFA;
use serde_json::Value;

on_both!(
    a_passkey_signs_in_alone_or_as_the_second_step,
    forged_passkey_answers_are_refused,
    passkeys_obey_the_organization_policy,
);

async fn spawn(b: Backend) -> (TestApp, String) {
    let app = spawn_app_with(b, |s| {
        s.issuer = s.issuer.replace("127.0.0.1", "localhost");
    })
    .await;
    let origin = app.state.settings.issuer.clone();
    (app, origin)
}

fn ok(s: reqwest::StatusCode) -> bool {
    s.is_success() || s.is_redirection()
}

fn text(v: &Value) -> String {
    v.as_str()
        .unwrap_or_else(|| panic!("not a string: {v}"))
        .to_string()
}

async fn signed_in_as(b: &Browser) -> Option<String> {
    let (_, ctx) = b.call("page_context", &[]).await;
    ctx["me"]["email"].as_str().map(str::to_string)
}

/// Adds a passkey of `auth` to the signed-in `b`'s account: where the page goes next.
async fn add(b: &Browser, auth: &mut Authenticator, name: &str) -> (reqwest::StatusCode, Value) {
    let (s, options) = b.act("passkey_register_options", &[]).await;
    assert_eq!(s, 200, "{options}");
    let answer = auth.register(&text(&options));
    b.act(
        "passkey_register",
        &[("credential", &answer), ("name", name)],
    )
    .await
}

/// The options of a passkey sign-in (`step` "" alone, "second" after a password).
async fn options(b: &Browser, step: &str) -> String {
    let (s, o) = b.act("passkey_sign_in_options", &[("step", step)]).await;
    assert_eq!(s, 200, "{o}");
    text(&o)
}

async fn answer(b: &Browser, step: &str, credential: &str) -> (reqwest::StatusCode, Value) {
    b.act(
        "passkey_sign_in",
        &[
            ("step", step),
            ("credential", credential),
            ("next", "/apps"),
        ],
    )
    .await
}

async fn audited(app: &TestApp, action: &str, outcome: &str) -> i64 {
    app.count(&format!(
        "SELECT COUNT(*) FROM audit_events WHERE action = '{action}' AND outcome = '{outcome}'"
    ))
    .await
}

async fn a_passkey_signs_in_alone_or_as_the_second_step(b: Backend) {
    use latchkey::domain::AppInput;
    let (app, origin) = spawn(b).await;
    let org = app.org_with_admin("Acme").await;
    let user = app.add_user(&org, "member").await;
    let u = app.signed_in(&user).await;
    let (_, s) = u.call("security_status", &[]).await;
    assert_eq!(s["passkeys_available"], true);
    assert_eq!(s["passkeys"], Value::Array(vec![]));

    // Adding the first passkey: the recovery codes, shown once.
    let mut key = Authenticator::new(&origin);
    let (s, next) = add(&u, &mut key, "  Laptop  ").await;
    assert_eq!(s, 200, "{next}");
    assert!(text(&next).starts_with("/account/recovery-codes"), "{next}");
    let (_, codes) = u.call("recovery_codes_once", &[]).await;
    let codes: Vec<String> = serde_json::from_value(codes).unwrap();
    assert_eq!(codes.len(), 10);
    // The same credential again is refused (the request excludes it); another account
    // registering a credential with its id is refused too (ids are unique across users).
    let (s, body) = add(&u, &mut key, "Again").await;
    assert_eq!(s, 409, "{body}");
    let other = app.add_user(&org, "member").await;
    let o = app.signed_in(&other).await;
    let (s, body) = add(&o, &mut Authenticator::impostor_of(&key), "Copy").await;
    assert_eq!(s, 422, "{body}");
    assert_eq!(
        field_error(&body, "name").as_deref(),
        Some("this passkey is registered already")
    );
    let mut phone = Authenticator::new(&origin);
    phone.backup_eligible = true;
    let (s, next) = add(&u, &mut phone, "Phone").await;
    assert_eq!(s, 200, "{next}");
    assert_eq!(text(&next), "/account/security?passkey=added");
    let (_, s) = u.call("security_status", &[]).await;
    let names: Vec<&str> = s["passkeys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Laptop", "Phone"]);
    assert_eq!(s["passkeys"][1]["synced"], true);
    assert_eq!(s["recovery_codes_left"], 10);
    assert_eq!(audited(&app, "mfa.passkey_added", "success").await, 2);

    // A sign-in with the passkey alone: no password, two factors (amr hwk, user, mfa).
    let input = AppInput {
        name: "Portal".into(),
        kind: "on-behalf-of-user".into(),
        grant_types: vec!["authorization_code".into()],
        redirect_uris: vec![CB.into()],
        scopes: vec!["openid email".into()],
        ..Default::default()
    };
    let (a, secret) = app.register_app(&org.id, &input, "").await;
    let rp = Rp {
        id: a.client_id.clone(),
        secret: secret.map(|s| secrecy::ExposeSecret::expose_secret(&s).to_string()),
    };
    let alone = app.client();
    let o = options(&alone, "").await;
    let v: Value = serde_json::from_str(&o).unwrap();
    assert_eq!(v["publicKey"]["rpId"], "localhost");
    assert!(v.get("mediation").is_none(), "a modal prompt, not autofill");
    let (s, next) = answer(&alone, "", &key.assert(&o)).await;
    assert!(ok(s), "{s} {next}");
    assert_eq!(text(&next), "/apps");
    assert_eq!(signed_in_as(&alone).await.as_deref(), Some(user.as_str()));
    let code = code_for(&app, &alone, &rp.id, &user).await;
    let (s, t) = redeem(&app, &rp, &code).await;
    assert_eq!(s, 200, "{t}");
    let id = claims(t["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], serde_json::json!(["hwk", "user", "mfa"]));
    assert_eq!(id["acr"], ACR_MFA);

    // The password alone no longer signs in: the second step takes the synced passkey.
    let second = app.client();
    second.login(&user, PASSWORD).await;
    assert_eq!(signed_in_as(&second).await, None);
    let (_, has) = second.call("pending_passkey", &[]).await;
    assert_eq!(has, true);
    let o = options(&second, "second").await;
    let v: Value = serde_json::from_str(&o).unwrap();
    assert_eq!(
        v["publicKey"]["allowCredentials"].as_array().unwrap().len(),
        2
    );
    let reply = phone.assert(&o);
    let (s, body) = answer(&second, "second", &reply).await;
    assert!(ok(s), "{s} {body}");
    assert_eq!(signed_in_as(&second).await.as_deref(), Some(user.as_str()));
    let code = code_for(&app, &second, &rp.id, &user).await;
    let (_, t) = redeem(&app, &rp, &code).await;
    let id = claims(t["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], serde_json::json!(["pwd", "swk", "user", "mfa"]));
    // The same answer again is refused: its ceremony is spent.
    let (s, body) = answer(&second, "second", &reply).await;
    assert_eq!(s, 409, "{body}");
    // A recovery code still stands in for the passkeys.
    let third = app.client();
    third.login(&user, PASSWORD).await;
    let (s, body) = third.act("second_factor", &[("code", &codes[0])]).await;
    assert!(ok(s), "{s} {body}");
    assert_eq!(signed_in_as(&third).await.as_deref(), Some(user.as_str()));
    assert_eq!(audited(&app, "login.second_factor", "success").await, 2);

    // Renamed, then removed; last used is kept.
    let (_, s) = u.call("security_status", &[]).await;
    let laptop = text(&s["passkeys"][0]["id"]);
    assert!(s["passkeys"][0]["last_used_at"].is_number());
    let (st, body) = u
        .act(
            "passkey_rename",
            &[("id", &laptop), ("name", "Work laptop")],
        )
        .await;
    assert!(ok(st), "{st} {body}");
    let (st, _) = u
        .act(
            "passkey_rename",
            &[("id", &laptop), ("name", &"x".repeat(61))],
        )
        .await;
    assert_eq!(st, 422);
    let (st, body) = u.act("passkey_remove", &[("id", &laptop)]).await;
    assert!(ok(st), "{st} {body}");
    // The removed passkey signs in no more.
    let gone = app.client();
    let o = options(&gone, "").await;
    let (s, _) = answer(&gone, "", &key.assert(&o)).await;
    assert_eq!(s, 409);
    assert_eq!(signed_in_as(&gone).await, None);
    assert_eq!(audited(&app, "mfa.passkey_removed", "success").await, 1);
    assert_eq!(audited(&app, "mfa.passkey_renamed", "success").await, 1);
}

async fn forged_passkey_answers_are_refused(b: Backend) {
    let (app, origin) = spawn(b).await;
    let org = app.org_with_admin("Acme").await;
    let alice = app.add_user(&org, "member").await;
    let bob = app.add_user(&org, "member").await;
    let a = app.signed_in(&alice).await;
    let bb = app.signed_in(&bob).await;

    // Registration answered for another origin or RP id, or for another challenge.
    for lie in 0..3 {
        let mut k = Authenticator::new(&origin);
        match lie {
            0 => k.origin = "http://evil.example".into(),
            1 => k.rp_id = Some("evil.example".into()),
            _ => k.challenge = Some(b"another challenge".to_vec()),
        }
        let (s, body) = add(&a, &mut k, "Bad").await;
        assert_eq!(s, 409, "lie {lie}: {body}");
    }
    assert_eq!(audited(&app, "mfa.passkey_added", "failure").await, 3);
    // An answer with no ceremony started, and one that is not JSON.
    let mut k = Authenticator::new(&origin);
    let (_, opts) = a.act("passkey_register_options", &[]).await;
    let reply = k.register(&text(&opts));
    let (s, _) = a
        .act("passkey_register", &[("credential", "{not json")])
        .await;
    assert_eq!(s, 400);
    let (s, body) = a
        .act(
            "passkey_register",
            &[("credential", &reply), ("name", "Key")],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    // The answer replayed: its ceremony is spent.
    let (s, _) = a
        .act(
            "passkey_register",
            &[("credential", &reply), ("name", "Key")],
        )
        .await;
    assert_eq!(s, 409);
    // Nobody signed in cannot start one.
    let (s, _) = app.client().act("passkey_register_options", &[]).await;
    assert_eq!(s, 401);

    // Sign-in answers that lie.
    let mut bob_key = Authenticator::new(&origin);
    bob_key.counter = 5;
    add(&bb, &mut bob_key, "Bob's key").await;
    type Lie = Box<dyn Fn(&Authenticator, &str) -> String>;
    // Each the same authenticator, one thing changed.
    let lie = |change: fn(&mut Authenticator)| -> Lie {
        Box::new(move |k: &Authenticator, o: &str| {
            let mut f = k.twin();
            change(&mut f);
            f.assert(o)
        })
    };
    let cases: Vec<(&str, Lie)> = vec![
        (
            "another origin",
            lie(|f| f.origin = "http://evil.example".into()),
        ),
        (
            "another RP id",
            lie(|f| f.rp_id = Some("evil.example".into())),
        ),
        (
            "another challenge",
            lie(|f| f.challenge = Some(b"old".to_vec())),
        ),
        (
            "another key",
            Box::new(|k: &Authenticator, o: &str| Authenticator::impostor_of(k).assert(o)),
        ),
        (
            "a counter that did not grow",
            Box::new(|k: &Authenticator, o: &str| {
                let v: Value = serde_json::from_str(o).unwrap();
                k.sign("localhost", &base64_url(&v["publicKey"]["challenge"]))
            }),
        ),
    ];
    // One good sign-in first, so the stored counter is 6.
    let c = app.client();
    let o = options(&c, "").await;
    let (s, body) = answer(&c, "", &bob_key.assert(&o)).await;
    assert!(ok(s), "{s} {body}");
    for (what, make) in &cases {
        let c = app.client();
        let o = options(&c, "").await;
        let (s, body) = answer(&c, "", &make(&bob_key, &o)).await;
        assert_eq!(s, 409, "{what}: {body}");
        assert_eq!(signed_in_as(&c).await, None, "{what}");
    }
    assert!(
        app.count(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'login' AND outcome = 'failure'"
        )
        .await
            >= cases.len() as i64
    );
    // A cloned authenticator used twice at once, with the same counter, in two sessions:
    // both answers are good to webauthn-rs (each sees the stored counter before either
    // writes), and the compare-and-set on the counter lets one through.
    let (c1, c2) = (app.client(), app.client());
    let (o1, o2) = (options(&c1, "").await, options(&c2, "").await);
    let (r1, r2) = (bob_key.twin().assert(&o1), bob_key.twin().assert(&o2));
    let ((s1, _), (s2, _)) = tokio::join!(answer(&c1, "", &r1), answer(&c2, "", &r2));
    assert_eq!(
        [ok(s1), ok(s2)].iter().filter(|x| **x).count(),
        1,
        "{s1} {s2}"
    );
    // Bob's credential naming Alice as its user.
    let mut liar = Authenticator::impostor_of(&bob_key);
    liar.user_handle = uuid::Uuid::parse_str(&app.user_id(&org, &alice).await)
        .unwrap()
        .as_bytes()
        .to_vec();
    let c = app.client();
    let o = options(&c, "").await;
    let (s, _) = answer(&c, "", &liar.assert(&o)).await;
    assert_eq!(s, 409);

    // Alice's password, then Bob's passkey as her second step: refused.
    let mut alice_key = Authenticator::new(&origin);
    add(&a, &mut alice_key, "Alice's key").await;
    let c = app.client();
    c.login(&alice, PASSWORD).await;
    let o = options(&c, "second").await;
    let (s, _) = answer(&c, "second", &bob_key.assert(&o)).await;
    assert_eq!(s, 409);
    assert_eq!(signed_in_as(&c).await, None);
    // A second step without a password first.
    let c = app.client();
    let (s, _) = c
        .act("passkey_sign_in_options", &[("step", "second")])
        .await;
    assert_eq!(s, 409);

    // Bob cannot rename or remove Alice's passkey.
    let (_, st) = a.call("security_status", &[]).await;
    let alice_first = text(&st["passkeys"][0]["id"]);
    let (s, _) = bb.act("passkey_remove", &[("id", &alice_first)]).await;
    assert_eq!(s, 404);
    let (s, _) = bb
        .act("passkey_rename", &[("id", &alice_first), ("name", "Mine")])
        .await;
    assert_eq!(s, 404);
    let (_, st) = a.call("security_status", &[]).await;
    assert_eq!(st["passkeys"][0]["name"], "Key");
}

fn base64_url(v: &Value) -> Vec<u8> {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(v.as_str().unwrap())
        .unwrap()
}

async fn passkeys_obey_the_organization_policy(b: Backend) {
    let (app, origin) = spawn(b).await;
    let org = app.org_with_admin("Acme").await;
    let admin = app.signed_in(&org.admin_email).await;
    let mut key = Authenticator::new(&origin);
    let (s, body) = add(&admin, &mut key, "Key").await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = admin
        .act("set_mfa_policy", &[("mfa_policy", "everyone")])
        .await;
    assert!(ok(s), "{s} {body}");
    // A passkey sign-in meets the policy on its own.
    let c = app.client();
    let o = options(&c, "").await;
    let (s, body) = answer(&c, "", &key.assert(&o)).await;
    assert!(ok(s), "{s} {body}");
    let (s, _) = c.call("list_apps", &[]).await;
    assert_eq!(s, 200);
    // The last second factor cannot be removed while the policy requires one.
    let (_, st) = c.call("security_status", &[]).await;
    let id = text(&st["passkeys"][0]["id"]);
    let (s, body) = c.act("passkey_remove", &[("id", &id)]).await;
    assert_eq!(s, 409, "{body}");
    let (_, st) = c.call("security_status", &[]).await;
    assert_eq!(st["passkeys"].as_array().unwrap().len(), 1);
    // Optional again: removed, and the recovery codes with it.
    c.act("set_mfa_policy", &[("mfa_policy", "optional")]).await;
    let (s, body) = c.act("passkey_remove", &[("id", &id)]).await;
    assert!(ok(s), "{s} {body}");
    let (_, st) = c.call("security_status", &[]).await;
    assert_eq!(st["recovery_codes_left"], 0);

    // An admin's reset removes a member's passkeys (and ends their sessions).
    let member = app.add_user(&org, "member").await;
    let m = app.signed_in(&member).await;
    let mut mk = Authenticator::new(&origin);
    add(&m, &mut mk, "Member key").await;
    let member_id = app.user_id(&org, &member).await;
    let (s, body) = c
        .act("reset_second_factor", &[("user_id", &member_id)])
        .await;
    assert!(ok(s), "{s} {body}");
    assert_eq!(signed_in_as(&m).await, None);
    let again = app.client();
    let o = options(&again, "").await;
    let (s, _) = answer(&again, "", &mk.assert(&o)).await;
    assert_eq!(s, 409);
    // The password alone signs in again.
    let p = app.signed_in(&member).await;
    assert_eq!(signed_in_as(&p).await.as_deref(), Some(member.as_str()));

    // A member whose organization requires its own provider for their domain goes there,
    // passkey or not (as a password is never checked for them).
    let mut again_key = Authenticator::new(&origin);
    let (s, body) = add(&p, &mut again_key, "New key").await;
    assert_eq!(s, 200, "{body}");
    sqlx::query(
        "INSERT INTO identity_providers (id, org_id, name, issuer, client_id, client_secret, domains, \
         provisioning, default_role, required, created_at) \
         VALUES ('idp-test', $1, 'Corp SSO', 'https://idp.example', 'c', 'sealed', 'example.com', 'link', 'member', 1, 0)",
    )
    .bind(&org.id)
    .execute(&app.state.db.pool)
    .await
    .unwrap();
    let sso = app.client();
    let o = options(&sso, "").await;
    let (s, body) = answer(&sso, "", &again_key.assert(&o)).await;
    assert_eq!(s, 409, "{body}");
    assert!(body.to_string().contains("Corp SSO"), "{body}");
    assert_eq!(signed_in_as(&sso).await, None);
}
