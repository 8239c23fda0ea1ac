//! The REST API: one scope per operation, checked against the effective scopes at the
//! moment of the call; tenant isolation; revocation and role changes taking effect on the
//! next call; every call audited. SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use latchkey::domain::AppInput;
use latchkey::services;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

on_both!(
    each_operation_needs_its_scope,
    the_effective_scope_follows_the_role_at_the_moment_of_use,
    the_audit_chain_detects_tampering,
    every_route_is_scoped_and_isolated,
);

async fn each_operation_needs_its_scope(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let other = app.org_with_admin("Other").await;
    let (ci_id, _, token) = app_token(&app, &org, "read:apps manage:apps").await;
    let (foreign_id, _, _) = app_token(&app, &other, "read:apps").await;
    let t = Some(token.as_str());

    // No token, a bad token: 401 invalid_token.
    for bad in [
        None,
        Some("nope"),
        Some("eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."),
    ] {
        let (s, challenge, _) = api(&app, "GET", "/apps", bad, None).await;
        assert_eq!(s, 401);
        assert!(challenge.contains("invalid_token"), "{challenge}");
    }
    // With the scope: 200; without: 403 naming the scope.
    let (s, _, page) = api(&app, "GET", "/apps", t, None).await;
    assert_eq!(s, 200);
    assert!(
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|a| a["org_id"] == org.id.as_str())
    );
    for path in ["/users", "/audit", "/org"] {
        let (s, challenge, _) = api(&app, "GET", path, t, None).await;
        assert_eq!(s, 403, "{path}");
        assert!(challenge.contains("insufficient_scope"), "{challenge}");
    }
    let (_, challenge, _) = api(&app, "GET", "/users", t, None).await;
    assert!(challenge.contains("scope=\"read:users\""), "{challenge}");

    // Automation: create an app, rotate its secret, disable it, delete it.
    let (s, _, created) = api(&app, "POST", "/apps", t, Some(json!({
        "name": "Deploy bot", "kind": "own-behalf", "grant_types": ["client_credentials"], "scopes": ["read:apps"],
    }))).await;
    assert_eq!(s, 200, "{created}");
    assert!(
        created["client_secret"]
            .as_str()
            .unwrap()
            .starts_with("lks_")
    );
    let id = created["client_id"].as_str().unwrap().to_string();
    let (s, _, _) = api(&app, "POST", &format!("/apps/{id}/secrets"), t, None).await;
    assert_eq!(s, 200);
    let (s, _, _) = api(&app, "POST", &format!("/apps/{id}/disable"), t, None).await;
    assert_eq!(s, 200);
    let (_, _, one) = api(&app, "GET", &format!("/apps/{id}"), t, None).await;
    assert_eq!(one["app"]["enabled"], false);
    let (s, _, _) = api(&app, "DELETE", &format!("/apps/{id}"), t, None).await;
    assert_eq!(s, 200);
    let (s, _, bad) = api(
        &app,
        "POST",
        "/apps",
        t,
        Some(json!({ "name": "", "kind": "own-behalf" })),
    )
    .await;
    assert_eq!((s, bad["error"].as_str()), (422, Some("invalid")));

    // Another organization's app is not found, for every operation.
    for (method, path) in [
        ("GET", format!("/apps/{foreign_id}")),
        ("POST", format!("/apps/{foreign_id}/disable")),
        ("POST", format!("/apps/{foreign_id}/secrets")),
        ("GET", format!("/apps/{foreign_id}/authorizations")),
        ("DELETE", format!("/apps/{foreign_id}/authorizations")),
        ("DELETE", format!("/apps/{foreign_id}")),
    ] {
        let (s, _, _) = api(&app, method, &path, t, None).await;
        assert_eq!(s, 404, "{method} {path}");
    }

    // Narrowing the app's scopes takes effect on the next call, as does disabling it.
    let narrowed = AppInput {
        name: "CI read:apps manage:apps".into(),
        grant_types: vec!["client_credentials".into()],
        scopes: vec!["read:apps".into()],
        ..Default::default()
    };
    services::apps::update(
        &app.state.db,
        &latchkey::services::Principal::operator_in(&org.id),
        &ci_id,
        &narrowed,
        "",
    )
    .await
    .unwrap();
    assert_eq!(api(&app, "GET", "/apps", t, None).await.0, 200);
    assert_eq!(
        api(&app, "POST", &format!("/apps/{ci_id}/secrets"), t, None)
            .await
            .0,
        403
    );
    app.set_enabled(&org.id, &ci_id, false).await;
    assert_eq!(api(&app, "GET", "/apps", t, None).await.0, 401);

    // Every call is audited: method, route, status, app.
    let calls = app
        .count(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'api.call' AND object_id = '{ci_id}'"
        ))
        .await;
    assert_eq!(calls, 19, "every authenticated call, refused or not");
    let without_ip = app
        .count("SELECT COUNT(*) FROM audit_events WHERE action = 'api.call' AND ip IS NULL")
        .await;
    assert_eq!(without_ip, 0, "API calls are audited with the client's IP");

    // The OpenAPI document names each operation's scope.
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc["paths"]["/users"]["get"]["x-required-scope"],
        "read:users"
    );
}

async fn the_effective_scope_follows_the_role_at_the_moment_of_use(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let input = AppInput {
        name: "Ops console".into(),
        kind: "on-behalf-of-user".into(),
        grant_types: vec!["password".into()],
        scopes: vec!["openid full".into()],
        ..Default::default()
    };
    let (a, s) = app.register_app(&org.id, &input, "").await;
    let secret = s.unwrap().expose_secret().to_string();
    let t: Value = reqwest::Client::new()
        .post(format!("{}/oauth2/token", app.base))
        .basic_auth(&a.client_id, Some(&secret))
        .form(&[
            ("grant_type", "password"),
            ("username", &org.admin_email),
            ("password", PASSWORD),
            ("scope", "full"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = t["access_token"].as_str().unwrap().to_string();
    let tk = Some(token.as_str());

    // As an admin, `full` is every permission.
    let (s, _, me) = api(&app, "GET", "/me", tk, None).await;
    assert_eq!(s, 200);
    assert_eq!(me["scopes"].as_array().unwrap().len(), 7, "{me}");
    assert_eq!(api(&app, "GET", "/users", tk, None).await.0, 200);
    assert_eq!(api(&app, "GET", "/audit", tk, None).await.0, 200);

    // Lowered to auditor, then member: the same unexpired token loses that power at once.
    let user_id = me["user_id"].as_str().unwrap().to_string();
    let second_admin = app.add_user(&org, "admin").await;
    let _ = second_admin;
    services::users::change_role(
        &app.state.db,
        &latchkey::services::Principal::operator_in(&org.id),
        &user_id,
        "auditor",
    )
    .await
    .unwrap();
    assert_eq!(api(&app, "GET", "/audit", tk, None).await.0, 200);
    assert_eq!(
        api(
            &app,
            "POST",
            "/apps",
            tk,
            Some(json!({ "name": "x", "kind": "own-behalf" }))
        )
        .await
        .0,
        403
    );
    services::users::change_role(
        &app.state.db,
        &latchkey::services::Principal::operator_in(&org.id),
        &user_id,
        "member",
    )
    .await
    .unwrap();
    assert_eq!(api(&app, "GET", "/audit", tk, None).await.0, 403);
    assert_eq!(api(&app, "GET", "/users", tk, None).await.0, 403);
    assert_eq!(api(&app, "GET", "/apps", tk, None).await.0, 200);
    let (_, _, me) = api(&app, "GET", "/me", tk, None).await;
    assert_eq!(me["scopes"], json!(["read:org", "read:apps"]));

    // Revoking the user's authorization ends the token at the API at once.
    services::authorizations::revoke_for_app(
        &app.state.db,
        &latchkey::services::Principal::operator_in(&org.id),
        &a.client_id,
        Some(&user_id),
    )
    .await
    .unwrap();
    assert_eq!(api(&app, "GET", "/apps", tk, None).await.0, 401);
}

async fn the_audit_chain_detects_tampering(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let other = app.org_with_admin("Other").await;
    // Records from the portal services, the token endpoint (group commit) and the API.
    let (_, _, token) = app_token(&app, &org, "read:apps").await;
    for _ in 0..5 {
        assert_eq!(api(&app, "GET", "/apps", Some(&token), None).await.0, 200);
    }
    app_token(&app, &other, "read:apps").await;
    // Concurrent calls: the group-commit writer chains whole batches.
    let base = app.base.clone();
    let calls: Vec<_> = (0..40)
        .map(|_| {
            let (base, token) = (base.clone(), token.clone());
            tokio::spawn(async move {
                reqwest::Client::new()
                    .get(format!("{base}/api/v1/apps"))
                    .bearer_auth(token)
                    .send()
                    .await
                    .unwrap()
                    .status()
                    .as_u16()
            })
        })
        .collect();
    for c in calls {
        assert_eq!(c.await.unwrap(), 200);
    }
    let verify = |org: Option<String>| {
        let db = app.state.db.clone();
        async move { services::audit::verify(&db, org.as_deref()).await.unwrap() }
    };
    let reports = verify(None).await;
    assert!(
        reports.iter().all(|r| r.first_broken.is_none()),
        "{reports:?}"
    );
    let mine = verify(Some(org.id.clone())).await;
    assert!(mine[0].records >= 48, "{mine:?}");

    // A row changed directly in the database: the chain breaks exactly there.
    use sqlx::Row;
    let ids: Vec<i64> = sqlx::query("SELECT id FROM audit_events WHERE org_id = $1 ORDER BY id")
        .bind(&org.id)
        .fetch_all(&app.state.db.pool)
        .await
        .unwrap()
        .iter()
        .map(|r| r.try_get::<i64, _>("id").unwrap())
        .collect();
    let victim = ids[ids.len() / 2];
    sqlx::query("UPDATE audit_events SET outcome = 'failure' WHERE id = $1")
        .bind(victim)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let broken = verify(Some(org.id.clone())).await;
    assert_eq!(
        broken[0].first_broken.as_deref(),
        Some(format!("record {victim}").as_str())
    );
    // The other organization's chain is untouched.
    assert!(
        verify(Some(other.id.clone())).await[0]
            .first_broken
            .is_none()
    );

    // The newest record removed: the chain's end no longer matches its head.
    let fresh = app.org_with_admin("Third").await;
    app_token(&app, &fresh, "read:apps").await;
    let third: i64 = sqlx::query("SELECT MAX(id) AS id FROM audit_events WHERE org_id = $1")
        .bind(&fresh.id)
        .fetch_one(&app.state.db.pool)
        .await
        .unwrap()
        .try_get("id")
        .unwrap();
    sqlx::query("DELETE FROM audit_events WHERE id = $1")
        .bind(third)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    assert_eq!(
        verify(Some(fresh.id.clone())).await[0]
            .first_broken
            .as_deref(),
        Some("end")
    );
}

/// A plausible body for each writing operation (what matters is who it touches).
fn body_for(op: &latchkey::api::Op) -> Option<Value> {
    match (op.method, op.path) {
        ("post", "/apps") => Some(
            json!({ "name": "Probe", "kind": "own-behalf", "grant_types": ["client_credentials"], "scopes": ["read:apps"] }),
        ),
        ("put", "/apps/{client_id}") => Some(
            json!({ "name": "Stolen", "kind": "own-behalf", "grant_types": ["client_credentials"], "scopes": ["read:apps"] }),
        ),
        ("patch", "/org") => Some(json!({ "name": "Renamed" })),
        ("post", "/users") => Some(
            json!({ "email": "probe@example.com", "name": "Probe", "password": "a long enough password" }),
        ),
        ("patch", "/users/{user_id}") => Some(json!({ "role": "admin" })),
        ("post", "/apis") => {
            Some(json!({ "name": "Probe API", "identifier": "urn:probe", "scopes": "probe:read" }))
        }
        ("put", "/external-apps/{client_id}") => Some(json!({ "scopes": ["openid"] })),
        _ => None,
    }
}

/// Every operation of the route table, with org B's token against org A's objects:
/// never a 2xx that touches A, never A's data in an answer; and without its scope, 403
/// naming the scope.
async fn every_route_is_scoped_and_isolated(b: Backend) {
    let app = spawn_app(b).await;
    let a = app.org_with_admin("Org A").await;
    let bee = app.org_with_admin("Org B").await;
    let (a_app, _, _) = app_token(&app, &a, "read:apps").await;
    let a_member = app.add_user(&a, "member").await;
    let a_user = app.user_id(&a, &a_member).await;
    let api_input = latchkey::domain::api::ApiInput {
        name: "A API".into(),
        identifier: "urn:a:api".into(),
        scopes: "a:read".into(),
    };
    let a_api = services::apis::create(
        &app.state.db,
        &latchkey::services::Principal::operator_in(&a.id),
        &app.base,
        &api_input,
    )
    .await
    .unwrap()
    .id;
    let all = "read:org manage:org read:users manage:users read:apps manage:apps read:audit";
    let (_, _, token) = app_token(&app, &bee, all).await;
    let (_, _, weak) = app_token(&app, &bee, "read:org").await;
    let http = reqwest::Client::new();
    let send = |method: &str, path: &str, token: &str, body: Option<Value>| {
        let url = format!("{}/api/v1{path}", app.base);
        let mut req = http
            .request(method.to_uppercase().parse().unwrap(), url)
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        req.send()
    };

    for op in latchkey::api::OPS {
        let path = op
            .path
            .replace("{client_id}", &a_app)
            .replace("{user_id}", &a_user)
            .replace("{api_id}", &a_api);
        let res = send(op.method, &path, &token, body_for(op)).await.unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        let route = format!("{} {}", op.method, op.path);
        if op.path.contains('{') {
            assert_eq!(status, 404, "{route}: {text}");
        } else {
            assert!(status < 500, "{route}: {status} {text}");
        }
        for secret in [&a.id, &a_app, &a_user, &a_api] {
            assert!(
                !text.contains(secret.as_str()),
                "{route} leaked {secret}: {text}"
            );
        }
        // Without the operation's scope: 403 naming it.
        if let Some(scope) = op.scope.filter(|s| *s != "read:org") {
            let res = send(op.method, &path, &weak, body_for(op)).await.unwrap();
            assert_eq!(res.status().as_u16(), 403, "{route} without {scope}");
            let challenge = res.headers()["www-authenticate"]
                .to_str()
                .unwrap()
                .to_string();
            assert!(
                challenge.contains(&format!("scope=\"{scope}\"")),
                "{route}: {challenge}"
            );
        }
    }
    // Org A is untouched: its app, member, API, name and policy.
    let db = &app.state.db;
    assert!(
        services::apps::get(
            db,
            &latchkey::services::Principal::operator_in(&a.id),
            &a_app
        )
        .await
        .unwrap()
        .app
        .enabled
    );
    let members = services::users::list(db, &latchkey::services::Principal::operator_in(&a.id))
        .await
        .unwrap();
    assert!(
        members
            .iter()
            .any(|m| m.user_id == a_user && m.role == "member")
    );
    assert_eq!(
        services::apis::list(db, &latchkey::services::Principal::operator_in(&a.id))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        services::orgs::get(db, &latchkey::services::Principal::operator_in(&a.id))
            .await
            .unwrap()
            .name,
        "Org A"
    );
    assert_eq!(
        services::policy::get(db, &latchkey::services::Principal::operator_in(&a.id))
            .await
            .unwrap()
            .policy,
        "unrestricted"
    );
    // B's own changes went through, in B.
    assert_eq!(
        services::orgs::get(db, &latchkey::services::Principal::operator_in(&bee.id))
            .await
            .unwrap()
            .name,
        "Renamed"
    );
}
