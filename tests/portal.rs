//! The admin portal's server functions and pages over real HTTP, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use serde_json::Value;

on_both!(
    health_and_readiness,
    login_wrong_password_unknown_user_and_success,
    repeated_failures_are_throttled,
    csrf_is_required_on_every_change,
    pages_require_sign_in_and_admin_role,
    create_apps_of_each_kind_secret_shown_once,
    bad_app_input_is_refused_with_field_errors_and_nothing_written,
    rotate_secrets_with_no_downtime,
    edit_disable_enable_and_delete_app,
    search_and_paging,
    tenant_isolation,
    users_create_change_role_remove,
    organization_rename_and_audit_list,
    plain_form_posts_work_without_javascript,
    metacharacters_are_stored_and_escaped,
    logout_ends_the_session,
    bootstrap_creates_the_first_admin_once,
    the_quick_start_commands_get_tokens,
);

async fn health_and_readiness(b: Backend) {
    let app = spawn_app(b).await;
    let c = app.client();
    assert_eq!(c.get("/healthz").await.0, 200);
    assert_eq!(c.get("/readyz").await.0, 200);
    let (status, _, _) = c.get("/no/such/page").await;
    assert_eq!(status, 404);
}

async fn login_wrong_password_unknown_user_and_success(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = app.client();
    let (status, body) = c.login(&org.admin_email, "wrong password!!").await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body, serde_json::json!("BadCredentials"));
    let (status2, body2) = c.login("nobody@example.com", "wrong password!!").await;
    assert_eq!(
        (status2, &body2),
        (status, &body),
        "unknown users answer exactly like wrong passwords"
    );
    let (_, ctx) = c.call("page_context", &[]).await;
    assert!(ctx["me"].is_null());

    let before = c.csrf().await;
    let (status, body) = c.login(&org.admin_email, PASSWORD).await;
    assert_eq!(status, 200, "{body}");
    let (_, ctx) = c.call("page_context", &[]).await;
    assert_eq!(ctx["me"]["email"], org.admin_email.as_str());
    assert_eq!(ctx["me"]["org_id"], org.id.as_str());
    assert_eq!(ctx["me"]["is_admin"], true);
    assert_ne!(
        ctx["csrf"].as_str().unwrap(),
        before,
        "a new CSRF token after sign-in"
    );
    let failures = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'login' AND outcome = 'failure'")
        .await;
    let successes = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'login' AND outcome = 'success'")
        .await;
    assert_eq!((failures, successes), (2, 1));
}

async fn repeated_failures_are_throttled(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = app.client();
    for _ in 0..5 {
        assert_eq!(c.login(&org.admin_email, "wrong password!!").await.0, 401);
    }
    let (status, body) = c.login(&org.admin_email, PASSWORD).await;
    assert_eq!(status, 429, "{body}");
    assert!(
        body["Throttled"].as_str().unwrap().contains("Try again in"),
        "{body}"
    );
}

async fn csrf_is_required_on_every_change(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = app.signed_in(&org.admin_email).await;
    let fields = user_app("Forged");
    let mut forged: Vec<(&str, &str)> = vec![("csrf", "not-the-token")];
    forged.extend(as_refs(&fields));
    let (status, body) = c.call("create_app", &forged).await;
    assert_eq!(status, 403, "{body}");
    assert_eq!(body, Value::String("Csrf".into()));
    let (status, body) = c.call("create_app", &as_refs(&fields)).await;
    assert_eq!(status, 400, "a missing token is a bad request: {body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM apps").await, 0);
    for (endpoint, form) in [
        ("rename_org", vec![("csrf", "x"), ("name", "Evil")]),
        (
            "create_user",
            vec![
                ("csrf", "x"),
                ("email", "e@example.com"),
                ("name", "E"),
                ("role", "admin"),
                ("password", "long enough password"),
            ],
        ),
        ("logout", vec![("csrf", "x")]),
    ] {
        assert_eq!(c.call(endpoint, &form).await.0, 403, "{endpoint}");
    }
    // A token from another session does not work either.
    let other = app.client();
    let foreign = other.csrf().await;
    assert_eq!(
        c.call("rename_org", &[("csrf", &foreign), ("name", "Evil")])
            .await
            .0,
        403
    );
}

async fn pages_require_sign_in_and_admin_role(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let anon = app.client();
    let (status, _, location) = anon.get("/admin/users").await;
    assert_eq!(status, 302);
    assert_eq!(location.as_deref(), Some("/login?next=/admin/users"));
    let (status, html, _) = anon.get("/login").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("name=\"password\"") && html.contains("name=\"csrf\""),
        "{html}"
    );
    assert_eq!(anon.call("list_apps", &[]).await.0, 401);

    let member_email = app.add_user(&org, "member").await;
    let member = app.signed_in(&member_email).await;
    for path in [
        "/admin",
        "/admin/apps/new",
        "/admin/users",
        "/admin/org",
        "/admin/audit",
    ] {
        let (status, html, _) = member.get(path).await;
        assert_eq!(status, 403, "{path}");
        assert!(html.contains("Not allowed"), "{path}: {html}");
    }
    for endpoint in ["list_apps", "list_users", "get_org", "list_audit"] {
        let (status, body) = member.call(endpoint, &[]).await;
        assert_eq!(status, 403, "{endpoint}: {body}");
    }
    let (status, body) = member.act("create_app", &as_refs(&user_app("Nope"))).await;
    assert_eq!(
        (status.as_u16(), body),
        (403, Value::String("NotAllowed".into()))
    );

    let admin = app.signed_in(&org.admin_email).await;
    for path in [
        "/admin",
        "/admin/apps/new",
        "/admin/users",
        "/admin/org",
        "/admin/audit",
    ] {
        let (status, html, _) = admin.get(path).await;
        assert_eq!(status, 200, "{path}");
        assert!(!html.contains("Not allowed"), "{path}");
    }
}

async fn create_apps_of_each_kind_secret_shown_once(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = app.signed_in(&org.admin_email).await;

    let (user_id, secret) = c.create_app(&as_refs(&user_app("Web portal"))).await;
    let secret = secret.expect("a confidential app gets a secret");
    assert!(secret.starts_with("lks_") && secret.len() > 40);
    let (_, again) = c.call("get_app", &[("client_id", &user_id)]).await;
    assert!(again["new_secret"].is_null(), "the secret is shown once");
    let detail = &again["detail"];
    assert_eq!(detail["app"]["kind"], "on-behalf-of-user");
    assert_eq!(
        detail["app"]["grant_types"],
        serde_json::json!(["authorization_code", "refresh_token"])
    );
    assert_eq!(
        detail["app"]["redirect_uris"],
        serde_json::json!(["https://app.example.com/cb", "http://127.0.0.1:8765/cb"])
    );
    assert_eq!(
        detail["app"]["scopes"],
        serde_json::json!(["openid", "email"])
    );
    assert_eq!(detail["secrets"].as_array().unwrap().len(), 1);
    // Stored as a digest only, never in the audit log.
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM client_secrets WHERE digest = '{secret}' OR hint = '{secret}'"
        ))
        .await,
        0
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE detail LIKE '%{}%'",
            &secret[4..]
        ))
        .await,
        0
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM sessions WHERE data LIKE '%{}%'",
            &secret[4..]
        ))
        .await,
        0
    );

    let own = [
        ("app[name]", "CI pipeline"),
        ("app[kind]", "own-behalf"),
        // Fields the form hides for this kind are ignored.
        ("app[grant_types][]", "authorization_code"),
        ("app[scopes][]", "read:apps"),
        ("app[scopes][]", "manage:apps"),
        ("app[scopes][]", "openid"),
        ("app[access_token_ttl]", "600"),
    ];
    let (own_id, own_secret) = c.create_app(&own).await;
    assert!(own_secret.is_some());
    let (_, page) = c.call("get_app", &[("client_id", &own_id)]).await;
    assert_eq!(
        page["detail"]["app"]["grant_types"],
        serde_json::json!(["client_credentials"])
    );
    assert_eq!(
        page["detail"]["app"]["scopes"],
        serde_json::json!(["read:apps", "manage:apps"])
    );
    assert_eq!(page["detail"]["app"]["audience"], "internal");
    assert_eq!(page["detail"]["app"]["access_token_ttl"], 600);

    let mut public = user_app("SPA");
    public.push(("app[public_client]", "true".into()));
    let (_, public_secret) = c.create_app(&as_refs(&public)).await;
    assert!(public_secret.is_none(), "a public client has no secret");

    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'app.create'")
            .await,
        3
    );
    let (_, html, _) = c.get(&format!("/admin/apps/{own_id}")).await;
    assert!(html.contains("CI pipeline") && html.contains(&own_id));
}

async fn bad_app_input_is_refused_with_field_errors_and_nothing_written(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = app.signed_in(&org.admin_email).await;
    c.create_app(&as_refs(&user_app("Taken"))).await;
    let secrets_before = app.count("SELECT COUNT(*) FROM client_secrets").await;

    let cases: Vec<(&str, &str, &str)> = vec![
        ("app[name]", "Taken", "name"),
        (
            "app[name]",
            &*Box::leak("x".repeat(101).into_boxed_str()),
            "name",
        ),
        ("app[name]", "   ", "name"),
        (
            "app[redirect_uris][]",
            "http://evil.example.com/cb",
            "redirect_uris",
        ),
        (
            "app[redirect_uris][]",
            "https://app.example.com/cb#frag",
            "redirect_uris",
        ),
        (
            "app[redirect_uris][]",
            "https://*.example.com/cb",
            "redirect_uris",
        ),
        (
            "app[redirect_uris][]",
            "javascript:alert(1)",
            "redirect_uris",
        ),
        ("app[redirect_uris][]", "", "redirect_uris"),
        ("app[scopes][]", "admin:everything", "scopes"),
        ("app[access_token_ttl]", "59", "access_token_ttl"),
        ("app[access_token_ttl]", "abc", "access_token_ttl"),
        (
            "app[refresh_token_ttl]",
            "999999999999",
            "refresh_token_ttl",
        ),
        ("app[kind]", "robot", "kind"),
        ("app[website_url]", "javascript:alert(1)", "website_url"),
        ("app[audience]", "world", "audience"),
        ("app[grant_types][]", "implicit", "grant_types"),
    ];
    for (key, value, field) in cases {
        let mut fields = user_app("Fresh name");
        if key == "app[scopes][]" || key == "app[grant_types][]" {
            fields.push((key, value.to_string()));
        } else {
            fields.retain(|(k, _)| *k != key);
            fields.push((key, value.to_string()));
        }
        let (status, body) = c.act("create_app", &as_refs(&fields)).await;
        assert_eq!(status, 422, "{key}={value}: {body}");
        assert!(
            field_error(&body, field).is_some(),
            "{key}={value} should blame {field}: {body}"
        );
    }
    // JWT bearer without a key, and a private key.
    let mut jwt = user_app("Fresh name");
    jwt.push((
        "app[grant_types][]",
        "urn:ietf:params:oauth:grant-type:jwt-bearer".into(),
    ));
    let (status, body) = c.act("create_app", &as_refs(&jwt)).await;
    assert_eq!(status, 422);
    assert!(field_error(&body, "public_keys").is_some(), "{body}");
    jwt.push((
        "public_keys",
        "-----BEGIN PRIVATE KEY-----\nMIIB\n-----END PRIVATE KEY-----".into(),
    ));
    let (_, body) = c.act("create_app", &as_refs(&jwt)).await;
    assert!(
        field_error(&body, "public_keys")
            .unwrap()
            .contains("public keys only"),
        "{body}"
    );
    // Oversized body.
    let huge = "x".repeat(300 * 1024);
    let (status, _) = c.act("create_app", &[("app[name]", &huge)]).await;
    assert_eq!(status, 413);

    assert_eq!(
        app.count("SELECT COUNT(*) FROM apps").await,
        1,
        "nothing half-written"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM client_secrets").await,
        secrets_before
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'app.create'")
            .await,
        1
    );
}

async fn rotate_secrets_with_no_downtime(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = app.signed_in(&org.admin_email).await;
    let (id, first) = c.create_app(&as_refs(&user_app("Rotating"))).await;
    let first = first.unwrap();
    let (status, body) = c.act("add_secret", &[("client_id", &id)]).await;
    assert_eq!(status, 200, "{body}");
    let (_, page) = c.call("get_app", &[("client_id", &id)]).await;
    let second = page["new_secret"]
        .as_str()
        .expect("second secret shown once")
        .to_string();
    assert_ne!(first, second);
    let secrets = page["detail"]["secrets"].as_array().unwrap().clone();
    assert_eq!(secrets.len(), 2);
    let (status, body) = c.act("add_secret", &[("client_id", &id)]).await;
    assert_eq!(status, 409, "at most two: {body}");
    let old_id = secrets[0]["id"].as_str().unwrap();
    let (status, body) = c
        .act(
            "delete_secret",
            &[("client_id", &id), ("secret_id", old_id)],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, page) = c.call("get_app", &[("client_id", &id)]).await;
    let left = page["detail"]["secrets"].as_array().unwrap();
    assert_eq!(left.len(), 1);
    let last_id = left[0]["id"].as_str().unwrap();
    let (status, body) = c
        .act(
            "delete_secret",
            &[("client_id", &id), ("secret_id", last_id)],
        )
        .await;
    assert_eq!(status, 409, "the only secret stays: {body}");
    assert_eq!(app.count("SELECT COUNT(*) FROM audit_events WHERE action IN ('app.secret_add', 'app.secret_delete')").await, 2);
}

async fn edit_disable_enable_and_delete_app(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = app.signed_in(&org.admin_email).await;
    let (id, _) = c.create_app(&as_refs(&user_app("Editable"))).await;
    let mut fields = user_app("Edited");
    fields.retain(|(k, _)| *k != "app[redirect_uris][]");
    fields.push((
        "app[redirect_uris][]",
        "https://new.example.com/callback".into(),
    ));
    fields.retain(|(k, _)| *k != "app[kind]");
    fields.push(("app[kind]", "own-behalf".into())); // the kind is fixed after creation
    fields.push(("client_id", id.clone()));
    let (status, body) = c.act("update_app", &as_refs(&fields)).await;
    assert_eq!(status, 200, "{body}");
    let (_, page) = c.call("get_app", &[("client_id", &id)]).await;
    assert_eq!(page["detail"]["app"]["name"], "Edited");
    assert_eq!(page["detail"]["app"]["kind"], "on-behalf-of-user");
    assert_eq!(
        page["detail"]["app"]["redirect_uris"],
        serde_json::json!(["https://new.example.com/callback"])
    );

    assert_eq!(
        c.act(
            "set_app_enabled",
            &[("client_id", &id), ("enabled", "false")]
        )
        .await
        .0,
        200
    );
    let (_, page) = c.call("get_app", &[("client_id", &id)]).await;
    assert_eq!(page["detail"]["app"]["enabled"], false);
    assert_eq!(
        c.act(
            "set_app_enabled",
            &[("client_id", &id), ("enabled", "true")]
        )
        .await
        .0,
        200
    );
    let (_, page) = c.call("get_app", &[("client_id", &id)]).await;
    assert_eq!(page["detail"]["app"]["enabled"], true);

    let (status, body) = c
        .act(
            "delete_app",
            &[("client_id", &id), ("confirm_name", "Editable")],
        )
        .await;
    assert_eq!(status, 422, "the old name does not confirm: {body}");
    let (status, _) = c
        .act(
            "delete_app",
            &[("client_id", &id), ("confirm_name", "Edited")],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(app.count("SELECT COUNT(*) FROM apps").await, 0);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM client_secrets").await,
        0,
        "secrets go with the app"
    );
    assert_eq!(c.call("get_app", &[("client_id", &id)]).await.0, 404);
    for action in ["app.update", "app.disable", "app.enable", "app.delete"] {
        assert_eq!(
            app.count(&format!(
                "SELECT COUNT(*) FROM audit_events WHERE action = '{action}'"
            ))
            .await,
            1,
            "{action}"
        );
    }
}

async fn search_and_paging(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    for n in 0..25 {
        let input = latchkey::domain::AppInput {
            name: format!("App {n:02}{}", if n % 5 == 0 { " billing" } else { "" }),
            kind: "own-behalf".into(),
            grant_types: vec!["client_credentials".into()],
            ..Default::default()
        };
        app.register_app(&org.id, &input, "").await;
    }
    let c = app.signed_in(&org.admin_email).await;
    let (_, p1) = c.call("list_apps", &[]).await;
    assert_eq!(
        (p1["total"].as_i64(), p1["items"].as_array().unwrap().len()),
        (Some(25), 20)
    );
    let (_, p2) = c.call("list_apps", &[("page", "2")]).await;
    assert_eq!(p2["items"].as_array().unwrap().len(), 5);
    assert_eq!(p2["items"][0]["name"], "App 20 billing");
    let (_, s) = c.call("list_apps", &[("q", "BILLING")]).await;
    assert_eq!(s["total"], 5);
    let (_, s) = c.call("list_apps", &[("q", "%")]).await;
    assert_eq!(s["total"], 0, "LIKE wildcards are literal");
    let (_, s) = c.call("list_apps", &[("page", "999")]).await;
    assert_eq!(s["page"], 2, "page is clamped");
    let (status, html, _) = c.get("/admin?q=billing").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("App 05 billing") && !html.contains("App 01<"),
        "{html}"
    );
}

async fn tenant_isolation(b: Backend) {
    let app = spawn_app(b).await;
    let a = app.org_with_admin("Org A").await;
    let bee = app.org_with_admin("Org B").await;
    let a_member = app.add_user(&a, "member").await;
    let ca = app.signed_in(&a.admin_email).await;
    let (a_app, _) = ca.create_app(&as_refs(&user_app("A's app"))).await;
    let (_, page) = ca.call("get_app", &[("client_id", &a_app)]).await;
    let a_secret_id = page["detail"]["secrets"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let (_, users) = ca.call("list_users", &[]).await;
    let a_member_id = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == a_member.as_str())
        .unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_string();

    let cb = app.signed_in(&bee.admin_email).await;
    let (_, list) = cb.call("list_apps", &[]).await;
    assert_eq!(list["total"], 0);
    assert_eq!(cb.call("get_app", &[("client_id", &a_app)]).await.0, 404);
    let mut upd = user_app("Stolen");
    upd.push(("client_id", a_app.clone()));
    assert_eq!(cb.act("update_app", &as_refs(&upd)).await.0, 404);
    assert_eq!(
        cb.act(
            "set_app_enabled",
            &[("client_id", &a_app), ("enabled", "false")]
        )
        .await
        .0,
        404
    );
    assert_eq!(cb.act("add_secret", &[("client_id", &a_app)]).await.0, 404);
    assert_eq!(
        cb.act(
            "delete_secret",
            &[("client_id", &a_app), ("secret_id", &a_secret_id)]
        )
        .await
        .0,
        404
    );
    assert_eq!(
        cb.act(
            "delete_app",
            &[("client_id", &a_app), ("confirm_name", "A's app")]
        )
        .await
        .0,
        404
    );
    assert_eq!(
        cb.act(
            "change_role",
            &[("user_id", &a_member_id), ("role", "admin")]
        )
        .await
        .0,
        404
    );
    assert_eq!(
        cb.act("remove_user", &[("user_id", &a_member_id)]).await.0,
        404
    );
    let (status, html, _) = cb.get(&format!("/admin/apps/{a_app}")).await;
    assert_eq!(status, 404);
    assert!(!html.contains("A's app"));
    let (_, audit) = cb.call("list_audit", &[]).await;
    assert!(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| !e["object"].as_str().unwrap().contains(&a_app))
    );
    let (_, users) = cb.call("list_users", &[]).await;
    assert_eq!(users["items"].as_array().unwrap().len(), 1);

    // Authorizations, APIs, external apps, the audit filters and export.
    assert_eq!(
        cb.call("app_authorizations", &[("client_id", &a_app)])
            .await
            .0,
        404
    );
    assert_eq!(
        cb.act("revoke_app_authorization", &[("client_id", &a_app)])
            .await
            .0,
        404
    );
    let api = [
        ("api[name]", "Orders"),
        ("api[identifier]", "urn:a:orders"),
        ("api[scopes]", "orders:read"),
    ];
    assert_eq!(ca.act("create_api", &api).await.0, 200);
    let (_, a_apis) = ca.call("list_apis", &[]).await;
    let a_api = a_apis["items"][0]["id"].as_str().unwrap().to_string();
    let (_, b_apis) = cb.call("list_apis", &[]).await;
    assert!(b_apis["items"].as_array().unwrap().is_empty());
    assert_eq!(cb.act("delete_api", &[("id", &a_api)]).await.0, 404);
    let (_, ext) = cb.call("get_external_apps", &[("client_id", &a_app)]).await;
    assert_eq!(
        ext["unknown"], true,
        "an internal app of A is nothing B can approve"
    );
    assert_eq!(
        cb.act(
            "approve_app",
            &[("client_id", &a_app), ("scopes[]", "openid")]
        )
        .await
        .0,
        404
    );
    assert_eq!(
        cb.act("remove_approval", &[("client_id", &a_app)]).await.0,
        404
    );
    let (_, filtered) = cb.call("list_audit", &[("q[app]", &a_app)]).await;
    assert!(
        filtered["items"].as_array().unwrap().is_empty(),
        "{filtered}"
    );
    let (s, csv, _) = cb
        .get(&format!("/admin/audit/export?format=csv&app={a_app}"))
        .await;
    assert_eq!((s.as_u16(), csv.lines().count()), (200, 0), "{csv}");
    let (_, nd, _) = cb.get("/admin/audit/export?format=ndjson").await;
    assert!(
        !nd.is_empty() && !nd.contains(&a.id) && !nd.contains(&a_app),
        "{nd}"
    );
    assert_eq!(cb.act("set_audit_retention", &[("days", "7")]).await.0, 200);
    assert_eq!(
        cb.act("set_app_policy", &[("policy", "restricted")])
            .await
            .0,
        200
    );
    let (_, a_org) = ca.call("get_org", &[]).await;
    assert_eq!(a_org["audit_retention_days"], 365);
    let (_, a_ext) = ca.call("get_external_apps", &[]).await;
    assert_eq!(a_ext["policy"]["policy"], "unrestricted");

    // Nothing changed in A.
    let (_, page) = ca.call("get_app", &[("client_id", &a_app)]).await;
    assert_eq!(page["detail"]["app"]["name"], "A's app");
    assert_eq!(page["detail"]["app"]["enabled"], true);
    assert_eq!(page["detail"]["secrets"].as_array().unwrap().len(), 1);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM memberships WHERE org_id = '{}' AND role = 'member'",
            a.id
        ))
        .await,
        1
    );
}

async fn users_create_change_role_remove(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = app.signed_in(&org.admin_email).await;
    let (status, body) = c
        .act(
            "create_user",
            &[
                ("email", "Dev@Example.com"),
                ("name", "Dev"),
                ("role", "member"),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = c
        .act(
            "create_user",
            &[
                ("email", "dev@example.com"),
                ("name", "Dup"),
                ("role", "member"),
                ("password", "long enough password"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(field_error(&body, "email").is_some(), "{body}");
    let (status, body) = c
        .act(
            "create_user",
            &[
                ("email", "x@example.com"),
                ("name", "X"),
                ("role", "owner"),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(status, 422);
    assert!(
        field_error(&body, "role").is_some() && field_error(&body, "password").is_some(),
        "{body}"
    );

    let (_, users) = c.call("list_users", &[]).await;
    let dev = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == "dev@example.com")
        .unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let me = users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"] == org.admin_email.as_str())
        .unwrap()["user_id"]
        .as_str()
        .unwrap()
        .to_string();
    let (status, body) = c
        .act("change_role", &[("user_id", &me), ("role", "member")])
        .await;
    assert_eq!(status, 422, "the last admin keeps the role: {body}");
    assert_eq!(
        c.act("change_role", &[("user_id", &dev), ("role", "admin")])
            .await
            .0,
        200
    );
    // The new admin can sign in to the portal at once.
    let dev_browser = app.signed_in("dev@example.com").await;
    assert_eq!(dev_browser.call("list_apps", &[]).await.0, 200);
    assert_eq!(
        c.act("change_role", &[("user_id", &dev), ("role", "member")])
            .await
            .0,
        200
    );
    assert_eq!(
        dev_browser.call("list_apps", &[]).await.0,
        403,
        "a lowered role takes effect on the next request"
    );
    let (status, _) = c.act("remove_user", &[("user_id", &me)]).await;
    assert_eq!(status, 409, "you cannot remove yourself");
    assert_eq!(c.act("remove_user", &[("user_id", &dev)]).await.0, 200);
    assert_eq!(
        dev_browser.call("list_apps", &[]).await.0,
        401,
        "a removed user's session ends"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE email = 'dev@example.com'")
            .await,
        0
    );
    for action in ["user.create", "user.role_change", "user.remove"] {
        assert!(
            app.count(&format!(
                "SELECT COUNT(*) FROM audit_events WHERE action = '{action}'"
            ))
            .await
                >= 1,
            "{action}"
        );
    }
}

async fn organization_rename_and_audit_list(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = app.signed_in(&org.admin_email).await;
    let (status, body) = c.act("rename_org", &[("name", "")]).await;
    assert_eq!(status, 422);
    assert!(field_error(&body, "name").is_some());
    assert_eq!(c.act("rename_org", &[("name", "Acme Corp")]).await.0, 200);
    let (_, o) = c.call("get_org", &[]).await;
    assert_eq!(o["name"], "Acme Corp");
    let (_, audit) = c.call("list_audit", &[]).await;
    let events = audit["items"].as_array().unwrap();
    assert_eq!(events[0]["action"], "org.rename", "newest first");
    assert_eq!(events[0]["actor"], org.admin_email.as_str());
    assert_eq!(events[0]["ip"], "127.0.0.1");
    assert!(events.iter().any(|e| e["action"] == "login"));
    let ua = app
        .count(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'org.rename' AND user_agent IS NULL",
        )
        .await;
    assert_eq!(ua, 1, "reqwest sends no user agent by default");
}

async fn plain_form_posts_work_without_javascript(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = app.client();
    // Sign in as a browser without JavaScript does: an HTML form post, following the redirect.
    let back = c
        .plain_post(
            "login",
            "/login",
            &[
                ("email", &org.admin_email),
                ("password", "wrong password!!"),
                ("next", "/admin"),
            ],
        )
        .await;
    assert!(back.starts_with("/login?"), "{back}");
    let (_, html, _) = c.get(&back).await;
    assert!(
        html.contains("Wrong e-mail or password."),
        "the error shows on the page posted from: {html}"
    );
    let (_, html, _) = c.get("/login").await;
    assert!(!html.contains("Wrong e-mail or password."));

    let next = c
        .plain_post(
            "login",
            "/login",
            &[
                ("email", &org.admin_email),
                ("password", PASSWORD),
                ("next", "/admin/users"),
            ],
        )
        .await;
    assert_eq!(next, "/admin/users");

    let location = c
        .plain_post(
            "create_app",
            "/admin/apps/new",
            &as_refs(&user_app("No JS app")),
        )
        .await;
    assert!(location.starts_with("/admin/apps/"), "{location}");
    let (status, html, _) = c.get(&location).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("data-testid=\"new-secret\""),
        "secret shown after the redirect: {html}"
    );
    let (_, html, _) = c.get(&location).await;
    assert!(
        !html.contains("data-testid=\"new-secret\""),
        "and only once"
    );

    // A field error after a plain post shows on the form page.
    let back = c
        .plain_post(
            "create_app",
            "/admin/apps/new",
            &as_refs(&user_app("No JS app")),
        )
        .await;
    let (_, html, _) = c.get(&back).await;
    assert!(html.contains("is already used by another app"), "{html}");
    assert_eq!(app.count("SELECT COUNT(*) FROM apps").await, 1);
}

async fn metacharacters_are_stored_and_escaped(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = app.signed_in(&org.admin_email).await;
    let name = "<script>alert('x')</script>\"; DROP TABLE apps;--";
    let (id, _) = c.create_app(&as_refs(&user_app(name))).await;
    let (_, page) = c.call("get_app", &[("client_id", &id)]).await;
    assert_eq!(page["detail"]["app"]["name"], name);
    let (_, html, _) = c.get(&format!("/admin/apps/{id}")).await;
    assert!(
        !html.contains("<script>alert('x')</script>"),
        "escaped in HTML"
    );
    assert!(html.contains("&lt;script&gt;"));
    let (_, s) = c.call("list_apps", &[("q", "\"; DROP")]).await;
    assert_eq!(s["total"], 1);
    assert_eq!(
        c.call("get_app", &[("client_id", "' OR '1'='1")]).await.0,
        404
    );
    assert_eq!(app.count("SELECT COUNT(*) FROM apps").await, 1);
}

async fn logout_ends_the_session(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = app.signed_in(&org.admin_email).await;
    assert_eq!(c.call("list_apps", &[]).await.0, 200);
    assert_eq!(c.act("logout", &[]).await.0, 200);
    assert_eq!(c.call("list_apps", &[]).await.0, 401);
}

async fn bootstrap_creates_the_first_admin_once(b: Backend) {
    use latchkey::services::bootstrap::{Bootstrapped, ensure_admin};
    use secrecy::ExposeSecret;
    let app = spawn_app(b).await;
    let Bootstrapped::Created {
        email,
        generated_password: Some(password),
        ..
    } = ensure_admin(
        &app.state.db,
        "Default organization",
        "Boot@Example.com",
        None,
    )
    .await
    .unwrap()
    else {
        panic!("a fresh database gets a bootstrap admin with a generated password");
    };
    assert_eq!(email, "boot@example.com");
    assert!(password.expose_secret().len() >= 24);
    let c = app.client();
    assert_eq!(c.login(&email, password.expose_secret()).await.0, 200);
    let (_, ctx) = c.call("page_context", &[]).await;
    assert_eq!(ctx["me"]["is_admin"], true);
    assert_eq!(ctx["me"]["org_name"], "Default organization");
    assert!(matches!(
        ensure_admin(
            &app.state.db,
            "Other",
            "other@example.com",
            Some("given password 123".to_string().into())
        )
        .await
        .unwrap(),
        Bootstrapped::AlreadyInitialised
    ));
    assert_eq!(app.count("SELECT COUNT(*) FROM users").await, 1);
}

/// Runs a Quick start `curl` in a shell with `env`, and reads its JSON answer.
fn run_curl(curl: &str, env: &[(&str, &str)]) -> Value {
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(curl)
        .envs(env.iter().copied())
        .output()
        .expect("sh runs");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&out.stdout)))
}

/// The app page's Quick start: the `curl` it shows gets a token as it stands, for an app of
/// each kind (with the secret in `CLIENT_SECRET`, and the code from its authorization URL).
async fn the_quick_start_commands_get_tokens(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Quick start").await;
    let admin = app.signed_in(&org.admin_email).await;

    let own = [
        ("app[name]", "Deploy pipeline"),
        ("app[kind]", "own-behalf"),
        ("app[scopes][]", "read:apps"),
        ("app[access_token_ttl]", "600"),
    ];
    let (own_id, secret) = admin.create_app(&own).await;
    let secret = secret.expect("a new secret");
    let (_, page) = admin.call("get_app", &[("client_id", &own_id)]).await;
    let q = &page["quick_start"];
    assert_eq!(q["token"], format!("{}/oauth2/token", app.base));
    assert_eq!(
        q["discovery"],
        format!("{}/.well-known/openid-configuration", app.base)
    );
    let curl = q["curl"].as_str().expect("curl");
    let answer = run_curl(curl, &[("CLIENT_SECRET", &secret)]);
    assert!(answer["access_token"].is_string(), "{curl}\n{answer}");
    assert_eq!(answer["scope"], "read:apps", "{answer}");
    // The page shows the same command.
    let (_, html, _) = admin.get(&format!("/admin/apps/{own_id}")).await;
    assert!(html.contains("data-testid=\"quick-start-curl\""), "{html}");
    assert!(html.contains("grant_type=client_credentials"));

    let fields = user_app("Web portal");
    let (web_id, secret) = admin.create_app(&as_refs(&fields)).await;
    let secret = secret.expect("a new secret");
    let (_, page) = admin.call("get_app", &[("client_id", &web_id)]).await;
    let q = &page["quick_start"];
    let url = q["authorize_url"].as_str().expect("an authorization URL");
    let back = admin.authorize(url, &org.admin_email, "allow").await;
    let code = query_of(&back)["code"].clone();
    let curl = q["curl"].as_str().expect("curl");
    let answer = run_curl(curl, &[("CLIENT_SECRET", &secret), ("CODE", &code)]);
    assert!(answer["id_token"].is_string(), "{curl}\n{answer}");
    assert!(answer["access_token"].is_string(), "{answer}");
}
