//! Sign-in beyond a password (issue 12): an authenticator app and recovery codes, the
//! organization's multi-factor policy, what ID tokens say about the sign-in (`amr`, `acr`,
//! `acr_values`), and getting back in by mail (password reset, invitation, verification),
//! each with the attacks on it. SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use latchkey::crypto::totp;
use latchkey::domain::mfa::{ACR_MFA, ACR_PASSWORD};
use serde_json::Value;

on_both!(
    an_authenticator_app_guards_the_sign_in,
    wrong_codes_are_throttled_and_audited,
    the_organization_requires_a_second_factor,
    id_tokens_say_how_the_user_signed_in,
    a_forgotten_password_is_reset_by_mail,
    an_invited_user_chooses_their_password,
    an_address_is_verified_by_mail,
    users_see_and_end_their_sessions,
    a_stricter_organization_asks_for_its_second_factor,
);

fn now() -> u64 {
    latchkey::services::now() as u64
}

/// The code of `secret` `steps` time steps after `t0`.
fn code(secret: &[u8], t0: u64, steps: u64) -> String {
    totp::code_at(secret, t0 + steps * totp::STEP).unwrap()
}

fn ok(s: reqwest::StatusCode) -> bool {
    s.is_success() || s.is_redirection()
}

async fn signed_in_as(b: &Browser) -> Option<String> {
    let (_, ctx) = b.call("page_context", &[]).await;
    ctx["me"]["email"].as_str().map(str::to_string)
}

/// Sets up an authenticator app for the signed-in `b` with the code of `t0`; returns its
/// secret and the recovery codes shown once.
async fn enrol(b: &Browser, t0: u64) -> (Vec<u8>, Vec<String>) {
    let (s, e) = b.call("own_enrolment", &[]).await;
    assert_eq!(s, 200, "{e}");
    assert!(e["qr_svg"].as_str().unwrap().contains("<svg"));
    assert!(e["uri"].as_str().unwrap().starts_with("otpauth://totp/"));
    let secret = totp::from_base32(e["secret"].as_str().unwrap()).unwrap();
    let (s, body) = b
        .act("confirm_own_totp", &[("code", &code(&secret, t0, 0))])
        .await;
    assert!(ok(s), "{s} {body}");
    let (s, codes) = b.call("recovery_codes_once", &[]).await;
    assert_eq!(s, 200);
    let codes: Vec<String> = serde_json::from_value(codes).unwrap();
    assert_eq!(codes.len(), 10);
    // Shown once.
    let (_, again) = b.call("recovery_codes_once", &[]).await;
    assert_eq!(again, Value::Array(vec![]));
    (secret, codes)
}

async fn second_step(b: &Browser, code: &str) -> (reqwest::StatusCode, Value) {
    b.act("second_factor", &[("code", code)]).await
}

/// A browser signed in with password and the code `code`.
async fn sign_in_with(app: &TestApp, email: &str, code: &str) -> Browser {
    let b = app.client();
    let (s, body) = b.login(email, PASSWORD).await;
    assert!(ok(s), "{s} {body}");
    assert_eq!(
        signed_in_as(&b).await,
        None,
        "not signed in before the second step"
    );
    let (s, body) = second_step(&b, code).await;
    assert!(ok(s), "{s} {body}");
    assert_eq!(signed_in_as(&b).await.as_deref(), Some(email));
    b
}

async fn an_authenticator_app_guards_the_sign_in(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let t0 = now();
    let admin = app.signed_in(&org.admin_email).await;
    let (status, s) = admin.call("security_status", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(s["totp"], false);
    let (secret, codes) = enrol(&admin, t0).await;
    let (_, s) = admin.call("security_status", &[]).await;
    assert_eq!(s["totp"], true);
    assert_eq!(s["recovery_codes_left"], 10);
    // A second enrolment while one is set up is refused.
    let (status, _) = admin.call("own_enrolment", &[]).await;
    assert_eq!(status, 409);

    // The password alone no longer signs in.
    let b1 = app.client();
    b1.login(&org.admin_email, PASSWORD).await;
    assert_eq!(signed_in_as(&b1).await, None);
    // The code that confirmed the enrolment is spent: replayed, it is refused.
    let (status, body) = second_step(&b1, &code(&secret, t0, 0)).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(
        field_error(&body, "code").as_deref(),
        Some("is not the current code")
    );
    // A code two steps away is outside the window.
    let (status, _) = second_step(&b1, &code(&secret, t0, 3)).await;
    assert_eq!(status, 422);
    assert_eq!(signed_in_as(&b1).await, None);
    // The next step's code works, once.
    let next = code(&secret, t0, 1);
    let (status, body) = second_step(&b1, &next).await;
    assert!(ok(status), "{status} {body}");
    assert_eq!(
        signed_in_as(&b1).await.as_deref(),
        Some(org.admin_email.as_str())
    );
    let b2 = app.client();
    b2.login(&org.admin_email, PASSWORD).await;
    let (status, _) = second_step(&b2, &next).await;
    assert_eq!(
        status, 422,
        "a code is accepted once, even in another session"
    );

    // A recovery code works once, typed in any case and without its dash.
    let typed = codes[0].to_uppercase().replace('-', " ");
    let (status, body) = second_step(&b2, &typed).await;
    assert!(ok(status), "{status} {body}");
    let b3 = app.client();
    b3.login(&org.admin_email, PASSWORD).await;
    let (status, _) = second_step(&b3, &codes[0]).await;
    assert_eq!(status, 422, "a recovery code is spent");
    let (_, s) = b2.call("security_status", &[]).await;
    assert_eq!(s["recovery_codes_left"], 9);

    // A second step without a password first is refused.
    let stranger = app.client();
    let (status, _) = second_step(&stranger, &codes[1]).await;
    assert_eq!(status, 409);

    // Removing it needs a recent sign-in: the session of a moment ago may.
    let (status, body) = b2.act("remove_totp", &[]).await;
    assert!(ok(status), "{status} {body}");
    let plain = app.signed_in(&org.admin_email).await;
    assert_eq!(
        signed_in_as(&plain).await.as_deref(),
        Some(org.admin_email.as_str())
    );

    // An admin resets a member's lost factor (not another organization's admin, not for a
    // user who belongs to another organization too); the member's sessions end.
    let member = app.add_user(&org, "member").await;
    let mb = app.signed_in(&member).await;
    let t1 = now();
    enrol(&mb, t1).await;
    let member_id = app.user_id(&org, &member).await;
    let other = app.org_with_admin("Other").await;
    let (status, _) = app
        .signed_in(&other.admin_email)
        .await
        .act("reset_second_factor", &[("user_id", &member_id)])
        .await;
    assert_eq!(status, 404);
    let (status, body) = plain
        .act("reset_second_factor", &[("user_id", &member_id)])
        .await;
    assert!(ok(status), "{status} {body}");
    assert_eq!(signed_in_as(&mb).await, None);
    let again = app.signed_in(&member).await;
    assert_eq!(signed_in_as(&again).await.as_deref(), Some(member.as_str()));
    let shared = app.add_user(&other, "member").await;
    latchkey::services::users::create(
        &app.state.db,
        &latchkey::services::Principal::operator_in(&org.id),
        &shared,
        "Shared",
        "member",
        PASSWORD.to_string().into(),
    )
    .await
    .unwrap();
    let sb = app.signed_in(&shared).await;
    enrol(&sb, t1).await;
    let shared_id = app.user_id(&org, &shared).await;
    let (status, _) = plain
        .act("reset_second_factor", &[("user_id", &shared_id)])
        .await;
    assert_eq!(status, 409);

    // Each step is in the audit log.
    for action in [
        "mfa.totp_enrolled",
        "login.second_factor",
        "mfa.totp_removed",
    ] {
        let n = app
            .count(&format!(
                "SELECT COUNT(*) FROM audit_events WHERE action = '{action}' AND outcome = 'success'"
            ))
            .await;
        assert!(n >= 1, "{action} recorded");
    }
    let failed = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'login.second_factor' AND outcome = 'failure'")
        .await;
    assert!(failed >= 3, "failed codes recorded: {failed}");
}

async fn wrong_codes_are_throttled_and_audited(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let t0 = now();
    let admin = app.signed_in(&org.admin_email).await;
    let (secret, _) = enrol(&admin, t0).await;
    let b1 = app.client();
    b1.login(&org.admin_email, PASSWORD).await;
    // A burst of parallel guesses is counted in full.
    let guesses: Vec<_> = (0..8)
        .map(|i| {
            let b = Browser {
                http: b1.http.clone(),
                base: b1.base.clone(),
            };
            tokio::spawn(async move { second_step(&b, &format!("{:06}", 100_000 + i)).await.0 })
        })
        .collect();
    let mut answers = Vec::new();
    for g in guesses {
        answers.push(g.await.unwrap());
    }
    assert!(
        answers.iter().all(|s| *s == 422 || *s == 429),
        "{answers:?}"
    );
    assert!(
        answers.contains(&reqwest::StatusCode::TOO_MANY_REQUESTS),
        "{answers:?}"
    );
    // Now even the right code waits.
    let (status, _) = second_step(&b1, &code(&secret, t0, 1)).await;
    assert_eq!(status, 429);
    assert_eq!(signed_in_as(&b1).await, None);
    let throttled = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'login.second_factor' AND outcome = 'failure' AND detail LIKE '%throttled%'")
        .await;
    assert!(throttled >= 1);
}

async fn the_organization_requires_a_second_factor(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let member = app.add_user(&org, "member").await;
    let admin = app.signed_in(&org.admin_email).await;
    let member_session = app.signed_in(&member).await;
    // Only an admin sets it, and only to a known value.
    let (status, _) = member_session
        .act("set_mfa_policy", &[("mfa_policy", "admins")])
        .await;
    assert_eq!(status, 403);
    let (status, body) = admin
        .act("set_mfa_policy", &[("mfa_policy", "sometimes")])
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = admin
        .act("set_mfa_policy", &[("mfa_policy", "admins")])
        .await;
    assert!(ok(status), "{status} {body}");
    let (_, o) = admin.call("get_org", &[]).await;
    assert_eq!(
        o["mfa_policy"],
        Value::Null,
        "the admin's session signed in without a second factor ended"
    );
    assert_eq!(signed_in_as(&admin).await, None);
    // The member is not covered.
    assert_eq!(
        signed_in_as(&member_session).await.as_deref(),
        Some(member.as_str())
    );

    // The admin's next sign-in enrols an authenticator app before it goes on.
    let t0 = now();
    let b1 = app.client();
    let (s, body) = b1.login(&org.admin_email, PASSWORD).await;
    assert!(ok(s), "{s} {body}");
    assert_eq!(signed_in_as(&b1).await, None);
    // Not the "verify" step: there is nothing to verify with yet.
    let (status, _) = second_step(&b1, "123456").await;
    assert_eq!(status, 409);
    let (status, e) = b1.call("sign_in_enrolment", &[]).await;
    assert_eq!(status, 200, "{e}");
    let secret = totp::from_base32(e["secret"].as_str().unwrap()).unwrap();
    let (status, _) = b1
        .act("confirm_sign_in_enrolment", &[("code", "000000")])
        .await;
    assert_eq!(status, 422);
    let (status, body) = b1
        .act(
            "confirm_sign_in_enrolment",
            &[("code", &code(&secret, t0, 0))],
        )
        .await;
    assert!(ok(status), "{status} {body}");
    assert_eq!(
        signed_in_as(&b1).await.as_deref(),
        Some(org.admin_email.as_str())
    );
    let (_, codes) = b1.call("recovery_codes_once", &[]).await;
    assert_eq!(codes.as_array().unwrap().len(), 10);
    // It cannot be removed while the policy covers them.
    let (status, body) = b1.act("remove_totp", &[]).await;
    assert_eq!(status, 409, "{body}");

    // Everyone: the member's session ends too, and a stranger to the organization sees
    // none of this.
    let (status, _) = b1
        .act("set_mfa_policy", &[("mfa_policy", "everyone")])
        .await;
    assert!(ok(status));
    assert_eq!(signed_in_as(&member_session).await, None);
    let audit = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'org.mfa_policy'")
        .await;
    assert_eq!(audit, 2);
    // Another organization's policy stays optional.
    let other = app.org_with_admin("Other").await;
    let o = app.signed_in(&other.admin_email).await;
    assert_eq!(
        signed_in_as(&o).await.as_deref(),
        Some(other.admin_email.as_str())
    );
}

async fn id_tokens_say_how_the_user_signed_in(b: Backend) {
    use latchkey::domain::AppInput;
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let plain_user = app.add_user(&org, "member").await;
    let input = AppInput {
        name: "Portal".into(),
        kind: "on-behalf-of-user".into(),
        grant_types: vec!["authorization_code".into(), "password".into()],
        redirect_uris: vec![CB.into()],
        scopes: vec!["openid email".into()],
        ..Default::default()
    };
    let (a, s) = app.register_app(&org.id, &input, "").await;
    let c = Rp {
        id: a.client_id.clone(),
        secret: s.map(|s| secrecy::ExposeSecret::expose_secret(&s).to_string()),
    };
    // Discovery lists the two acr values and the claims.
    let d: Value = reqwest::get(format!("{}/.well-known/openid-configuration", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        d["acr_values_supported"],
        serde_json::json!([ACR_PASSWORD, ACR_MFA])
    );
    assert!(
        d["claims_supported"]
            .as_array()
            .unwrap()
            .contains(&"amr".into())
    );

    // A password sign-in: amr pwd, acr password.
    let pb = app.signed_in(&plain_user).await;
    let code1 = code_for(&app, &pb, &c.id, &plain_user).await;
    let (s, t) = redeem(&app, &c, &code1).await;
    assert_eq!(s, 200, "{t}");
    let id = claims(t["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], serde_json::json!(["pwd"]));
    assert_eq!(id["acr"], ACR_PASSWORD);
    // An app asking for MFA sends that session to sign in again, with a second factor.
    let mfa_url = format!(
        "{}{}",
        app.base,
        authorize_url(&with(&good(&c.id), "acr_values", Some(ACR_MFA)))
    );
    let (_, _, loc) = pb.get(mfa_url.trim_start_matches(&app.base)).await;
    let loc = loc.unwrap();
    assert!(
        loc.starts_with("/login?") && loc.contains("reauth=1") && loc.contains("mfa=1"),
        "{loc}"
    );
    // With prompt=none it answers login_required.
    let none = authorize_url(&with(
        &with(&good(&c.id), "acr_values", Some(ACR_MFA)),
        "prompt",
        Some("none"),
    ));
    let (_, _, loc) = pb.get(&none).await;
    assert_eq!(query_of(&loc.unwrap())["error"], "login_required");
    // Signing in again from there, the user without a factor enrols one first.
    let next = query_of(&format!(
        "http://x{}",
        pb.get(mfa_url.trim_start_matches(&app.base))
            .await
            .2
            .unwrap()
    ))["next"]
        .clone();
    let (s, _) = pb
        .act(
            "login",
            &[
                ("email", &plain_user),
                ("password", PASSWORD),
                ("next", &next),
                ("mfa", "1"),
            ],
        )
        .await;
    assert!(ok(s));
    let (status, e) = pb.call("sign_in_enrolment", &[]).await;
    assert_eq!(status, 200, "{e}");

    // A user with an authenticator app: amr pwd otp mfa, acr multi-factor.
    let t0 = now();
    let admin = app.signed_in(&org.admin_email).await;
    let (secret, _) = enrol(&admin, t0).await;
    let mb = sign_in_with(&app, &org.admin_email, &code(&secret, t0, 1)).await;
    let back = mb.authorize(&mfa_url, &org.admin_email, "allow").await;
    let (s, t) = redeem(&app, &c, &query_of(&back)["code"]).await;
    assert_eq!(s, 200, "{t}");
    let id = claims(t["id_token"].as_str().unwrap());
    assert_eq!(id["amr"], serde_json::json!(["pwd", "otp", "mfa"]));
    assert_eq!(id["acr"], ACR_MFA);

    // The password grant cannot stand in for a second factor.
    let secret = c.secret.clone().unwrap();
    let token = |user: &str| {
        let form = password_form(user, "openid").map(|(k, v)| (k, v.to_string()));
        let (base, id, secret) = (app.base.clone(), c.id.clone(), secret.clone());
        async move {
            let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
            post_as_client(&base, "/oauth2/token", &id, &secret, &form).await
        }
    };
    let (s, body) = token(&org.admin_email).await;
    assert_eq!(s, 400, "{body}");
    assert_eq!(body["error"], "invalid_grant");
    let (s, body) = token(&plain_user).await;
    assert_eq!(s, 200, "a user without a second factor still may: {body}");
}

async fn a_forgotten_password_is_reset_by_mail(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let user = app.add_user(&org, "member").await;
    let old_session = app.signed_in(&user).await;

    // The same answer for an address with an account and one without; mail only to the first.
    let anon = app.client();
    let (s1, b1) = anon.act("forgot_password", &[("email", &user)]).await;
    let (s2, b2) = anon
        .act("forgot_password", &[("email", "nobody@example.com")])
        .await;
    assert!(ok(s1) && ok(s2), "{s1} {b1} {s2} {b2}");
    assert_eq!((s1, &b1), (s2, &b2));
    let mail = app.mail.wait_for(&user, 1).await;
    assert!(
        mail.contains("Subject: Choose a new Latchkey password"),
        "{mail}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.mail.to("nobody@example.com").is_empty());
    let link = link_in(&mail, "/login/reset?token=");
    let token = query_of(&format!("http://x{link}"))["token"].clone();

    // The link names the address; a weak password is refused without spending it.
    let (s, facts) = anon.call("password_link", &[("token", &token)]).await;
    assert_eq!(s, 200);
    assert_eq!(facts, serde_json::json!(["reset", user]));
    let (s, body) = anon
        .act(
            "choose_password",
            &[("token", &token), ("password", "short")],
        )
        .await;
    assert_eq!(s, 422, "{body}");
    let new_pw = "a brand new passphrase";
    let (s, body) = anon
        .act(
            "choose_password",
            &[("token", &token), ("password", new_pw)],
        )
        .await;
    assert!(ok(s), "{s} {body}");
    // Replayed, the link is refused; a forged one too.
    let (s, _) = anon
        .act(
            "choose_password",
            &[("token", &token), ("password", "another new passphrase")],
        )
        .await;
    assert_eq!(s, 409);
    let (s, _) = anon
        .act(
            "choose_password",
            &[("token", "forged"), ("password", "another new passphrase")],
        )
        .await;
    assert_eq!(s, 409);
    let (_, facts) = anon.call("password_link", &[("token", &token)]).await;
    assert_eq!(facts, Value::Null);

    // The old password and the old session are over; the new password signs in.
    assert_eq!(signed_in_as(&old_session).await, None);
    let (s, _) = app.client().login(&user, PASSWORD).await;
    assert_eq!(s, 401);
    let nb = app.client();
    let (s, _) = nb.login(&user, new_pw).await;
    assert!(ok(s));
    assert_eq!(signed_in_as(&nb).await.as_deref(), Some(user.as_str()));
    // The address is now verified (the user received the link).
    let (_, st) = nb.call("security_status", &[]).await;
    assert_eq!(st["email_verified"], true);

    // An expired link is refused.
    anon.act("forgot_password", &[("email", &user)]).await;
    let mail = app.mail.wait_for(&user, 2).await;
    let token = query_of(&format!(
        "http://x{}",
        link_in(&mail, "/login/reset?token=")
    ))["token"]
        .clone();
    sqlx::query("UPDATE email_links SET expires_at = 1 WHERE used_at IS NULL")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let (s, _) = anon
        .act(
            "choose_password",
            &[("token", &token), ("password", "another new passphrase")],
        )
        .await;
    assert_eq!(s, 409);

    // Requests for one address are throttled, whether or not it has an account.
    let mut last = reqwest::StatusCode::OK;
    for _ in 0..5 {
        last = app
            .client()
            .act("forgot_password", &[("email", "nobody@example.com")])
            .await
            .0;
    }
    assert_eq!(last, 429);
    let n = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'password.reset' AND outcome = 'success'")
        .await;
    assert_eq!(n, 1);
}

async fn an_invited_user_chooses_their_password(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let admin = app.signed_in(&org.admin_email).await;
    let invitee = "new.person@example.com";
    let (s, body) = admin
        .act(
            "create_user",
            &[
                ("email", invitee),
                ("name", "New Person"),
                ("role", "member"),
            ],
        )
        .await;
    assert!(ok(s), "{s} {body}");
    // No password works before the invitation is accepted (not even an empty one).
    let (s, _) = app.client().login(invitee, "").await;
    assert_eq!(s, 401);
    let mail = app.mail.wait_for(invitee, 1).await;
    assert!(mail.contains("invited to Acme"), "{mail}");
    let token = query_of(&format!(
        "http://x{}",
        link_in(&mail, "/login/reset?token=")
    ))["token"]
        .clone();
    let anon = app.client();
    let (_, facts) = anon.call("password_link", &[("token", &token)]).await;
    assert_eq!(facts, serde_json::json!(["invite", invitee]));
    let (s, body) = anon
        .act(
            "choose_password",
            &[("token", &token), ("password", PASSWORD)],
        )
        .await;
    assert!(ok(s), "{s} {body}");
    let nb = app.signed_in(invitee).await;
    assert_eq!(signed_in_as(&nb).await.as_deref(), Some(invitee));
    // A member of another organization cannot invite into this one.
    let other = app.org_with_admin("Other").await;
    let ob = app.signed_in(&other.admin_email).await;
    ob.act(
        "create_user",
        &[("email", "x@example.com"), ("name", "X"), ("role", "admin")],
    )
    .await;
    let (_, users) = admin.call("list_users", &[]).await;
    // (Quoted: generated addresses like `admin-…x@example.com` end the same way.)
    assert!(!users.to_string().contains("\"x@example.com\""));
    // Inviting an existing account adds it and tells it so, without a password link.
    let (s, _) = admin
        .act(
            "create_user",
            &[
                ("email", &other.admin_email),
                ("name", "Other Admin"),
                ("role", "member"),
            ],
        )
        .await;
    assert!(ok(s));
    let mail = app.mail.wait_for(&other.admin_email, 1).await;
    assert!(!mail.contains("token="), "{mail}");
    let n = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'user.invitation_accepted'")
        .await;
    assert_eq!(n, 1);
}

async fn an_address_is_verified_by_mail(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let user = app.add_user(&org, "member").await;
    let ub = app.signed_in(&user).await;
    let (_, st) = ub.call("security_status", &[]).await;
    assert_eq!(st["email_verified"], false);
    let (s, _) = ub.act("send_verification", &[]).await;
    assert!(ok(s));
    let mail = app.mail.wait_for(&user, 1).await;
    let token = query_of(&format!(
        "http://x{}",
        link_in(&mail, "/account/verify?token=")
    ))["token"]
        .clone();
    // A reset link cannot verify, nor a verification link reset.
    let (s, _) = app
        .client()
        .act(
            "choose_password",
            &[("token", &token), ("password", "a brand new passphrase")],
        )
        .await;
    assert_eq!(s, 409);
    let anon = app.client();
    let (s, body) = anon.act("confirm_address", &[("token", &token)]).await;
    assert!(ok(s), "{s} {body}");
    let (s, _) = anon.act("confirm_address", &[("token", &token)]).await;
    assert_eq!(s, 409, "once");
    let (_, st) = ub.call("security_status", &[]).await;
    assert_eq!(st["email_verified"], true);
}

async fn users_see_and_end_their_sessions(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let user = app.add_user(&org, "member").await;
    let laptop = app.signed_in(&user).await;
    let phone = app.signed_in(&user).await;
    let tablet = app.signed_in(&user).await;
    let (s, list) = laptop.call("my_sessions", &[]).await;
    assert_eq!(s, 200, "{list}");
    let list = list.as_array().unwrap().clone();
    assert_eq!(list.len(), 3, "{list:?}");
    assert_eq!(list.iter().filter(|s| s["current"] == true).count(), 1);
    assert!(
        list.iter()
            .all(|s| s["ip"] == "127.0.0.1" && s["signed_in_at"].is_i64())
    );
    // The handle names a session without being its id (the cookie's secret).
    let other = list.iter().find(|s| s["current"] == false).unwrap();
    let handle = other["handle"].as_str().unwrap();
    assert_eq!(handle.len(), 24);
    // Another user cannot end it; its owner can.
    let stranger = app.signed_in(&org.admin_email).await;
    let (s, _) = stranger.act("end_my_session", &[("handle", handle)]).await;
    assert_eq!(s, 404);
    let (s, body) = laptop.act("end_my_session", &[("handle", handle)]).await;
    assert!(ok(s), "{s} {body}");
    let alive = [
        signed_in_as(&phone).await.is_some(),
        signed_in_as(&tablet).await.is_some(),
    ];
    assert_eq!(
        alive.iter().filter(|a| **a).count(),
        1,
        "one of the two others ended"
    );
    // Everywhere else: only this one is left.
    let (s, n) = laptop.act("end_other_sessions", &[]).await;
    assert!(ok(s), "{s} {n}");
    assert_eq!(signed_in_as(&phone).await, None);
    assert_eq!(signed_in_as(&tablet).await, None);
    assert_eq!(signed_in_as(&laptop).await.as_deref(), Some(user.as_str()));
    // An admin ends every session of a member, not of another organization's user.
    let user_id = app.user_id(&org, &user).await;
    let other = app.org_with_admin("Other").await;
    let outsider = app.signed_in(&other.admin_email).await;
    let (s, _) = outsider
        .act("end_user_sessions", &[("user_id", &user_id)])
        .await;
    assert_eq!(s, 404);
    assert_eq!(signed_in_as(&laptop).await.as_deref(), Some(user.as_str()));
    let (s, body) = stranger
        .act("end_user_sessions", &[("user_id", &user_id)])
        .await;
    assert!(ok(s), "{s} {body}");
    assert_eq!(signed_in_as(&laptop).await, None);
    for action in [
        "session.ended",
        "session.ended_elsewhere",
        "user.sessions_ended",
    ] {
        let n = app
            .count(&format!(
                "SELECT COUNT(*) FROM audit_events WHERE action = '{action}'"
            ))
            .await;
        assert_eq!(n, 1, "{action}");
    }
}

async fn a_stricter_organization_asks_for_its_second_factor(b: Backend) {
    use latchkey::domain::AppInput;
    let app = spawn_app(b).await;
    let lenient = app.org_with_admin("Lenient").await;
    let strict = app.org_with_admin("Strict").await;
    // A member of both, who signs in (with a password alone) while both are lenient.
    let user = app.add_user(&lenient, "member").await;
    latchkey::services::users::create(
        &app.state.db,
        &latchkey::services::Principal::operator_in(&strict.id),
        &user,
        "Both",
        "member",
        PASSWORD.to_string().into(),
    )
    .await
    .unwrap();
    let input = AppInput {
        name: "Strict's portal".into(),
        kind: "on-behalf-of-user".into(),
        grant_types: vec!["authorization_code".into()],
        redirect_uris: vec![CB.into()],
        scopes: vec!["openid email".into()],
        ..Default::default()
    };
    let (a, _) = app.register_app(&strict.id, &input, "").await;
    let session = app.signed_in(&user).await;
    // Strict now requires a second factor of everyone; the session (working in Lenient)
    // goes on, but Strict's app does not take it.
    latchkey::services::mfa::set_policy(
        &app.state.db,
        &latchkey::services::Principal::operator_in(&strict.id),
        "everyone",
    )
    .await
    .unwrap();
    assert_eq!(signed_in_as(&session).await.as_deref(), Some(user.as_str()));
    let (_, _, loc) = session.get(&authorize_url(&good(&a.client_id))).await;
    let loc = loc.unwrap();
    assert!(loc.starts_with("/login?") && loc.contains("mfa=1"), "{loc}");
    let (_, _, loc) = session
        .get(&authorize_url(&with(
            &good(&a.client_id),
            "prompt",
            Some("none"),
        )))
        .await;
    assert_eq!(query_of(&loc.unwrap())["error"], "login_required");
    // Its next sign-in enrols an authenticator app whichever organization it works in.
    let again = app.client();
    again.login(&user, PASSWORD).await;
    assert_eq!(signed_in_as(&again).await, None);
    let (status, _) = again.call("sign_in_enrolment", &[]).await;
    assert_eq!(status, 200);
}
