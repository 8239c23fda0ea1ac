//! What an organization's admins control around its apps: the switch that turns connected
//! apps off (every token inactive at once, nothing deleted), app ownership (transferable,
//! passed on when the owner leaves), and the limits (apps per organization, authorized apps
//! per user). SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

on_both!(
    turning_connected_apps_off_ends_every_token_at_once,
    an_apps_owner_is_transferred_and_passed_on,
    an_organization_has_at_most_so_many_apps,
    a_user_has_at_most_so_many_authorized_apps,
);

const ADMIN_SCOPES: &str =
    "read:org manage:org read:users manage:users read:apps manage:apps read:audit";

/// Introspects `token` as the client `(id, secret)`: its `active`.
async fn active(app: &TestApp, (id, secret): (&str, &str), token: &str) -> bool {
    let (s, v) = post_as_client(
        &app.base,
        "/oauth2/introspect",
        id,
        secret,
        &[("token", token)],
    )
    .await;
    assert_eq!(s, 200, "{v}");
    v["active"].as_bool().unwrap()
}

/// A password-grant token pair of `user` through `(id, secret)`.
async fn user_tokens(app: &TestApp, (id, secret): (&str, &str), user: &str) -> Value {
    let (s, t) = post_as_client(
        &app.base,
        "/oauth2/token",
        id,
        secret,
        &password_form(user, "openid offline_access read:apps"),
    )
    .await;
    assert_eq!(s, 200, "{t}");
    t
}

async fn turning_connected_apps_off_ends_every_token_at_once(b: Backend) {
    let app = spawn_app(b).await;
    let acme = app.org_with_admin("Acme").await;
    let other = app.org_with_admin("Other").await;
    let (ci_id, ci_secret, admin) = app_token(&app, &acme, ADMIN_SCOPES).await;
    let (o_id, o_secret, o_token) = app_token(&app, &other, "read:apps").await;
    let web = app
        .register_app(
            &acme.id,
            &for_users("Console", "openid offline_access read:apps"),
            "",
        )
        .await;
    let web_id = web.0.client_id.clone();
    let web_secret = web.1.unwrap().expose_secret().to_string();
    let web_c = (web_id.as_str(), web_secret.as_str());
    let user = user_tokens(&app, web_c, &acme.admin_email).await;
    let user_at = user["access_token"].as_str().unwrap().to_string();
    let user_rt = user["refresh_token"].as_str().unwrap().to_string();
    // Another organization's app acting for an Acme user: Acme's switch ends it too.
    let mut input = for_users("Partner", "openid read:apps");
    input.audience = "everyone".into();
    let partner = app.register_app(&other.id, &input, "").await;
    let rp = Rp {
        id: partner.0.client_id.clone(),
        secret: Some(partner.1.unwrap().expose_secret().to_string()),
    };
    let browser = app.client();
    let code = code_for(&app, &browser, &rp.id, &acme.admin_email).await;
    let (s, t) = redeem(&app, &rp, &code).await;
    assert_eq!(s, 200, "{t}");
    let partner_at = t["access_token"].as_str().unwrap().to_string();
    let ci = (ci_id.as_str(), ci_secret.as_str());
    for token in [&admin, &user_at, &user_rt, &partner_at] {
        assert!(active(&app, ci, token).await, "inactive again: {token}");
    }

    // Off: an admin app turns it off with its own token (its last act).
    let (s, _, v) = api(
        &app,
        "PATCH",
        "/org",
        Some(&admin),
        Some(json!({ "connected_apps_enabled": false })),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["org"]["connected_apps_enabled"], false, "{v}");
    for token in [&admin, &user_at, &user_rt, &partner_at] {
        assert!(!active(&app, ci, token).await, "still active: {token}");
    }
    for token in [&admin, &user_at, &partner_at] {
        let (s, _, _) = api(&app, "GET", "/me", Some(token), None).await;
        assert_eq!(s, 401);
    }
    // No new token in Acme, whatever the grant, each with the reason.
    let (s, v) = post_as_client(
        &app.base,
        "/oauth2/token",
        &ci_id,
        &ci_secret,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("unauthorized_client")),
        "{v}"
    );
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains("turned off"),
        "{v}"
    );
    let (s, v) = post_as_client(
        &app.base,
        "/oauth2/token",
        web_c.0,
        web_c.1,
        &password_form(&acme.admin_email, "openid"),
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    let (s, v) = post_as_client(
        &app.base,
        "/oauth2/token",
        web_c.0,
        web_c.1,
        &[("grant_type", "refresh_token"), ("refresh_token", &user_rt)],
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    // The partner cannot start a new authorization for an Acme user either.
    let url = format!("{}{}", app.base, authorize_url(&good(&rp.id)));
    let back = browser.authorize(&url, &acme.admin_email, "allow").await;
    let q = query_of(&back);
    assert_eq!(
        q.get("error").map(String::as_str),
        Some("access_denied"),
        "{back}"
    );
    // The other organization is untouched.
    let o = (o_id.as_str(), o_secret.as_str());
    assert!(active(&app, o, &o_token).await);
    let (s, _, _) = api(&app, "GET", "/me", Some(&o_token), None).await;
    assert_eq!(s, 200);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE org_id = '{}' AND action = 'org.apps_disable'",
            acme.id
        ))
        .await,
        1
    );

    // On again (an admin in the portal): nothing was deleted, every live token works again.
    let admin_browser = app.signed_in(&acme.admin_email).await;
    let csrf = admin_browser.csrf().await;
    let (s, v) = admin_browser
        .call("set_connected_apps", &[("csrf", &csrf), ("enabled", "on")])
        .await;
    assert!(s.is_success(), "{v}");
    for token in [&admin, &user_at, &user_rt, &partner_at] {
        assert!(active(&app, ci, token).await, "inactive again: {token}");
    }
    // A member cannot turn it off.
    let member = app.add_user(&acme, "member").await;
    let member_browser = app.signed_in(&member).await;
    let csrf = member_browser.csrf().await;
    let (s, _) = member_browser
        .call("set_connected_apps", &[("csrf", &csrf), ("enabled", "off")])
        .await;
    assert!(!s.is_success());
    assert!(active(&app, ci, &admin).await);
}

async fn an_apps_owner_is_transferred_and_passed_on(b: Backend) {
    let app = spawn_app(b).await;
    let acme = app.org_with_admin("Acme").await;
    let other = app.org_with_admin("Other").await;
    let (_, _, admin) = app_token(&app, &acme, ADMIN_SCOPES).await;
    // Made in the portal by Bob, an admin: he owns it.
    let bob = app.add_user(&acme, "admin").await;
    let bob_id = app.user_id(&acme, &bob).await;
    let (client_id, _) = app
        .signed_in(&bob)
        .await
        .create_app(&[
            ("app[name]", "Bob's job"),
            ("app[kind]", "own-behalf"),
            ("app[scopes][]", "read:apps"),
        ])
        .await;
    let got = ok(&app, "GET", &format!("/apps/{client_id}"), &admin).await;
    assert_eq!(got["owner"]["user_id"], bob_id.as_str(), "{got}");
    assert_eq!(got["owner"]["email"], bob.as_str(), "{got}");

    // Transferred to Carol; not to another organization's user, nor to nobody.
    let carol = app.add_user(&acme, "member").await;
    let carol_id = app.user_id(&acme, &carol).await;
    let outsider = app.user_id(&other, &other.admin_email).await;
    let path = format!("/apps/{client_id}/owner");
    for wrong in [outsider.as_str(), "no-such-user", ""] {
        let (s, _, v) = api(
            &app,
            "PUT",
            &path,
            Some(&admin),
            Some(json!({ "owner_id": wrong })),
        )
        .await;
        assert_eq!(s, 422, "{wrong}: {v}");
        assert_eq!(v["fields"][0]["field"], "owner_id", "{v}");
    }
    let (s, _, v) = api(
        &app,
        "PUT",
        &path,
        Some(&admin),
        Some(json!({ "owner": carol_id })),
    )
    .await;
    assert_eq!(s, 422, "unknown field: {v}");
    let (s, _, v) = api(
        &app,
        "PUT",
        &path,
        Some(&admin),
        Some(json!({ "owner_id": carol_id })),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["email"], carol.as_str());
    // Another organization's admin cannot touch it.
    let (_, _, other_admin) = app_token(&app, &other, ADMIN_SCOPES).await;
    let (s, _, _) = api(
        &app,
        "PUT",
        &path,
        Some(&other_admin),
        Some(json!({ "owner_id": outsider })),
    )
    .await;
    assert_eq!(s, 404);
    // A token with read:apps only cannot transfer it.
    let (_, _, reader) = app_token(&app, &acme, "read:apps").await;
    let (s, _, _) = api(
        &app,
        "PUT",
        &path,
        Some(&reader),
        Some(json!({ "owner_id": bob_id })),
    )
    .await;
    assert_eq!(s, 403);

    // Carol leaves: the organization's longest-standing admin owns it now.
    let (s, _, v) = api(
        &app,
        "DELETE",
        &format!("/users/{carol_id}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let first_admin = app.user_id(&acme, &acme.admin_email).await;
    let got = ok(&app, "GET", &format!("/apps/{client_id}"), &admin).await;
    assert_eq!(got["owner"]["user_id"], first_admin.as_str(), "{got}");
    let passed = app
        .count(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'user.remove' AND detail LIKE '%{client_id}%'"
        ))
        .await;
    assert_eq!(passed, 1);
}

async fn ok(app: &TestApp, method: &str, path: &str, token: &str) -> Value {
    let (s, _, v) = api(app, method, path, Some(token), None).await;
    assert_eq!(s, 200, "{method} {path}: {v}");
    v
}

/// Copies the app `seed` `n` times (names `Filler 1`…), as rows.
async fn fill_apps(app: &TestApp, seed: &str, n: i64) {
    sqlx::query(
        "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $2) \
         INSERT INTO apps (client_id, org_id, name, kind, grant_types, redirect_uris, website_url, \
           audience, scopes, access_token_ttl, refresh_token_ttl, enabled, owner_id, public_client, \
           public_keys, created_at, updated_at, id_token_alg, post_logout_redirect_uris, grant_ttl) \
         SELECT 'filler-' || CAST(n.i AS TEXT), a.org_id, 'Filler ' || CAST(n.i AS TEXT), a.kind, \
           a.grant_types, a.redirect_uris, a.website_url, a.audience, a.scopes, a.access_token_ttl, \
           a.refresh_token_ttl, a.enabled, a.owner_id, a.public_client, a.public_keys, a.created_at, \
           a.updated_at, a.id_token_alg, a.post_logout_redirect_uris, a.grant_ttl \
         FROM apps a, n WHERE a.client_id = $1",
    )
    .bind(seed)
    .bind(n)
    .execute(&app.state.db.pool)
    .await
    .unwrap();
}

async fn an_organization_has_at_most_so_many_apps(b: Backend) {
    let app = spawn_app(b).await;
    let acme = app.org_with_admin("Acme").await;
    let (seed, _, admin) = app_token(&app, &acme, ADMIN_SCOPES).await;
    let max = latchkey::services::apps::MAX_APPS;
    fill_apps(&app, &seed, max - 1).await;
    let body = json!({ "name": "One too many", "kind": "own-behalf",
                       "grant_types": ["client_credentials"], "scopes": ["read:apps"] });
    let (s, _, v) = api(&app, "POST", "/apps", Some(&admin), Some(body.clone())).await;
    assert_eq!(s, 403, "{v}");
    assert!(
        v["message"].as_str().unwrap().contains(&max.to_string()),
        "{v}"
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM apps WHERE org_id = '{}'",
            acme.id
        ))
        .await,
        max
    );
    // One deleted, one more fits.
    let (s, _, v) = api(&app, "DELETE", "/apps/filler-1", Some(&admin), None).await;
    assert_eq!(s, 200, "{v}");
    let (s, _, v) = api(&app, "POST", "/apps", Some(&admin), Some(body)).await;
    assert_eq!(s, 200, "{v}");
}

async fn a_user_has_at_most_so_many_authorized_apps(b: Backend) {
    let app = spawn_app(b).await;
    let acme = app.org_with_admin("Acme").await;
    let user = app.add_user(&acme, "member").await;
    let user_id = app.user_id(&acme, &user).await;
    let seed = app
        .register_app(&acme.id, &for_users("Seed", "openid read:apps"), "")
        .await;
    let max = latchkey::services::policy::MAX_AUTHORIZED_APPS;
    fill_apps(&app, &seed.0.client_id, max).await;
    // The user authorized each filler once (some twice: a second grant does not count again).
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    for copy in ["a", "b"] {
        sqlx::query(
            "INSERT INTO grants (id, org_id, client_id, user_id, scopes, grant_type, created_at) \
             SELECT client_id || $3, org_id, client_id, $1, 'openid', 'password', $2 \
             FROM apps WHERE name LIKE 'Filler %' AND ($3 = '-a' OR name LIKE 'Filler 1%')",
        )
        .bind(&user_id)
        .bind(now)
        .bind(format!("-{copy}"))
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    }
    let one_more = app
        .register_app(&acme.id, &for_users("One more", "openid read:apps"), "")
        .await;
    let c = (
        one_more.0.client_id.clone(),
        one_more.1.unwrap().expose_secret().to_string(),
    );
    let (s, v) = post_as_client(
        &app.base,
        "/oauth2/token",
        &c.0,
        &c.1,
        &password_form(&user, "openid"),
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_grant")),
        "{v}"
    );
    assert!(
        v["error_description"]
            .as_str()
            .unwrap()
            .contains(&max.to_string()),
        "{v}"
    );
    // The browser flow refuses too, back at the app with access_denied.
    let mut web = for_users("One more web", "openid");
    web.grant_types = vec!["authorization_code".into()];
    let web = app.register_app(&acme.id, &web, "").await;
    let browser = app.client();
    let url = format!("{}{}", app.base, authorize_url(&good(&web.0.client_id)));
    let back = browser.authorize(&url, &user, "allow").await;
    assert_eq!(
        query_of(&back).get("error").map(String::as_str),
        Some("access_denied"),
        "{back}"
    );
    // Another user is not limited by this one's apps.
    let (s, v) = post_as_client(
        &app.base,
        "/oauth2/token",
        &c.0,
        &c.1,
        &password_form(&acme.admin_email, "openid"),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    // Revoking one (expired grants do not count either) makes room.
    sqlx::query("UPDATE grants SET revoked_at = $1 WHERE id = 'filler-5-a'")
        .bind(now)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    sqlx::query("UPDATE grants SET created_at = 0 WHERE id = 'filler-6-a'")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let (s, v) = post_as_client(
        &app.base,
        "/oauth2/token",
        &c.0,
        &c.1,
        &password_form(&user, "openid"),
    )
    .await;
    assert_eq!(s, 200, "{v}");
}
