//! Dynamic client registration (RFC 7591) and management (RFC 7592): an admin issues an
//! initial access token in the portal; an app registers itself with it, gets credentials
//! and a registration access token, signs a user in like any app, reads, updates and
//! deletes its registration. And the refusals: no token, a wrong, spent, revoked or
//! expired one; a wildcard or plain-http redirect URI; scopes or grant types beyond the
//! token's; another app's registration token. Both databases.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{Value, json};

on_both!(
    an_app_registers_and_manages_itself,
    registrations_that_are_refused
);

/// Issues an initial access token as `admin` in the portal: its value, shown once.
async fn issue(admin: &Browser, uses: &str, scopes: &[&str], grants: &[&str]) -> String {
    let mut form = vec![
        ("token[name]", "Partner platform"),
        ("token[uses]", uses),
        ("token[days]", "7"),
    ];
    form.extend(scopes.iter().map(|s| ("token[scopes][]", *s)));
    form.extend(grants.iter().map(|g| ("token[grant_types][]", *g)));
    let (s, body) = admin.act("issue_initial_token", &form).await;
    assert_eq!(s, 200, "{body}");
    let (s, page) = admin.call("list_initial_tokens", &[]).await;
    assert_eq!(s, 200, "{page}");
    let value = page["new_value"]
        .as_str()
        .expect("the value, once")
        .to_string();
    let (_, again) = admin.call("list_initial_tokens", &[]).await;
    assert!(again["new_value"].is_null(), "shown once");
    value
}

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    url: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value, String) {
    let mut req = reqwest::Client::new().request(method, url);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    if let Some(b) = body {
        req = req.json(&b);
    }
    let res = req.send().await.unwrap();
    let _ = app;
    let status = res.status().as_u16();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    if status != 204 {
        assert_eq!(res.headers()["cache-control"], "no-store");
    }
    (status, res.json().await.unwrap_or(Value::Null), challenge)
}

fn partner() -> Value {
    json!({
        "client_name": "Partner dashboard",
        "redirect_uris": [CB],
        "grant_types": ["authorization_code", "refresh_token"],
        "response_types": ["code"],
        "scope": "openid email",
        "client_uri": "https://partner.example.com",
        "contacts": ["ops@partner.example.com"],
        "software_id": "ignored-but-accepted",
    })
}

async fn an_app_registers_and_manages_itself(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let user = app.add_user(&org, "member").await;
    let admin = app.signed_in(&org.admin_email).await;
    let doc: Value = reqwest::get(format!("{}/.well-known/openid-configuration", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let endpoint = format!("{}/oauth2/register", app.base);
    assert_eq!(doc["registration_endpoint"], endpoint.as_str());

    let iat = issue(
        &admin,
        "2",
        &["openid", "email", "offline_access"],
        &["authorization_code", "refresh_token"],
    )
    .await;
    assert!(iat.starts_with("lki_"));
    let (s, reg, _) = send(
        &app,
        reqwest::Method::POST,
        &endpoint,
        Some(&iat),
        Some(partner()),
    )
    .await;
    assert_eq!(s, 201, "{reg}");
    let client_id = reg["client_id"].as_str().unwrap().to_string();
    let secret = reg["client_secret"].as_str().unwrap().to_string();
    let rat = reg["registration_access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let uri = reg["registration_client_uri"].as_str().unwrap().to_string();
    assert_eq!(uri, format!("{endpoint}/{client_id}"));
    assert_eq!(reg["client_secret_expires_at"], 0);
    assert_eq!(reg["token_endpoint_auth_method"], "client_secret_basic");
    assert_eq!(reg["scope"], "openid email");
    assert_eq!(reg["client_name"], "Partner dashboard");

    // It is an app like any other: a user signs in to it; the portal marks it registered.
    let c = Rp {
        id: client_id.clone(),
        secret: Some(secret),
    };
    let code = code_for(&app, &app.client(), &c.id, &user).await;
    let (s, tokens) = redeem(&app, &c, &code).await;
    assert_eq!(s, 200, "{tokens}");
    let (s, detail) = admin.call("get_app", &[("client_id", &client_id)]).await;
    assert_eq!(s, 200, "{detail}");
    assert_eq!(detail["detail"]["app"]["registered_dynamically"], true);
    assert!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'app.registered' AND actor_type = 'registration'")
            .await
            == 1
    );

    // It reads and updates its own registration (within the token's limits).
    let (s, read, _) = send(&app, reqwest::Method::GET, &uri, Some(&rat), None).await;
    assert_eq!(s, 200, "{read}");
    assert_eq!(read["redirect_uris"], json!([CB]));
    let mut changed = partner();
    changed["client_id"] = client_id.clone().into();
    changed["client_name"] = "Partner dashboard v2".into();
    changed["redirect_uris"] = json!([CB, "https://partner.example.com/cb2"]);
    let (s, updated, _) = send(
        &app,
        reqwest::Method::PUT,
        &uri,
        Some(&rat),
        Some(changed.clone()),
    )
    .await;
    assert_eq!(s, 200, "{updated}");
    assert_eq!(updated["client_name"], "Partner dashboard v2");
    let mut wider = changed.clone();
    wider["scope"] = "openid email admin:org".into();
    let (s, e, _) = send(&app, reqwest::Method::PUT, &uri, Some(&rat), Some(wider)).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_client_metadata")),
        "{e}"
    );
    let mut other = changed.clone();
    other["client_id"] = "someone-else".into();
    let (s, _, _) = send(&app, reqwest::Method::PUT, &uri, Some(&rat), Some(other)).await;
    assert_eq!(s, 400);

    // Another registration with the same token (it allows two), then none.
    let (s, second, _) = send(
        &app,
        reqwest::Method::POST,
        &endpoint,
        Some(&iat),
        Some(partner()),
    )
    .await;
    assert_eq!(s, 201, "{second}");
    let second_rat = second["registration_access_token"]
        .as_str()
        .unwrap()
        .to_string();
    let (s, _, challenge) = send(
        &app,
        reqwest::Method::POST,
        &endpoint,
        Some(&iat),
        Some(partner()),
    )
    .await;
    assert_eq!(s, 401, "spent");
    assert!(challenge.contains("invalid_token"));
    // One app's registration token manages no other app.
    let (s, _, _) = send(&app, reqwest::Method::GET, &uri, Some(&second_rat), None).await;
    assert_eq!(s, 401);
    let (s, _, _) = send(&app, reqwest::Method::GET, &uri, Some("lkg_wrong"), None).await;
    assert_eq!(s, 401);
    let (s, _, _) = send(&app, reqwest::Method::GET, &uri, None, None).await;
    assert_eq!(s, 401);

    // It deletes itself: gone.
    let (s, _, _) = send(&app, reqwest::Method::DELETE, &uri, Some(&rat), None).await;
    assert_eq!(s, 204);
    let (s, _, _) = send(&app, reqwest::Method::GET, &uri, Some(&rat), None).await;
    assert_eq!(s, 401);
    let (s, _) = admin.call("get_app", &[("client_id", &client_id)]).await;
    assert_eq!(s, 404);
}

async fn registrations_that_are_refused(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let admin = app.signed_in(&org.admin_email).await;
    let endpoint = format!("{}/oauth2/register", app.base);
    let iat = issue(&admin, "5", &["openid", "email"], &["authorization_code"]).await;
    let uses_left = || app.count("SELECT uses_left FROM initial_access_tokens");

    for token in [None, Some("lki_made_up")] {
        let (s, e, challenge) = send(
            &app,
            reqwest::Method::POST,
            &endpoint,
            token,
            Some(partner()),
        )
        .await;
        assert_eq!((s, e["error"].as_str()), (401, Some("invalid_token")));
        assert_eq!(challenge, "Bearer error=\"invalid_token\"");
    }
    let base = || {
        let mut m = partner();
        m["grant_types"] = json!(["authorization_code"]);
        m
    };
    let bad = [
        (
            "redirect_uris",
            json!(["https://*.partner.example.com/cb"]),
            "invalid_redirect_uri",
        ),
        (
            "redirect_uris",
            json!(["http://partner.example.com/cb"]),
            "invalid_redirect_uri",
        ),
        (
            "redirect_uris",
            json!(["javascript:alert(1)"]),
            "invalid_redirect_uri",
        ),
        (
            "scope",
            json!("openid email admin:org"),
            "invalid_client_metadata",
        ),
        (
            "grant_types",
            json!(["authorization_code", "password"]),
            "invalid_client_metadata",
        ),
        (
            "grant_types",
            json!(["client_credentials"]),
            "invalid_client_metadata",
        ),
        (
            "response_types",
            json!(["token"]),
            "invalid_client_metadata",
        ),
        (
            "token_endpoint_auth_method",
            json!("tls_client_auth"),
            "invalid_client_metadata",
        ),
        (
            "jwks_uri",
            json!("https://partner.example.com/jwks"),
            "invalid_client_metadata",
        ),
        (
            "redirect_uris",
            json!("not a list"),
            "invalid_client_metadata",
        ),
    ];
    for (field, value, error) in bad {
        let mut m = base();
        m[field] = value.clone();
        let (s, e, _) = send(&app, reqwest::Method::POST, &endpoint, Some(&iat), Some(m)).await;
        assert_eq!(
            (s, e["error"].as_str()),
            (400, Some(error)),
            "{field} = {value}: {e}"
        );
    }
    let res = reqwest::Client::new()
        .post(&endpoint)
        .bearer_auth(&iat)
        .form(&[("client_name", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400, "not JSON");
    assert_eq!(uses_left().await, 5, "refused registrations spend nothing");

    // A public client gets no secret.
    let mut public = base();
    public["token_endpoint_auth_method"] = "none".into();
    public["require_pushed_authorization_requests"] = true.into();
    public["dpop_bound_access_tokens"] = true.into();
    let (s, reg, _) = send(
        &app,
        reqwest::Method::POST,
        &endpoint,
        Some(&iat),
        Some(public),
    )
    .await;
    assert_eq!(s, 201, "{reg}");
    assert!(reg["client_secret"].is_null());
    assert_eq!(reg["token_endpoint_auth_method"], "none");
    assert_eq!(reg["require_pushed_authorization_requests"], true);
    assert_eq!(reg["dpop_bound_access_tokens"], true);
    assert_eq!(uses_left().await, 4);

    // Revoked, or expired: refused.
    let (_, page) = admin.call("list_initial_tokens", &[]).await;
    let id = page["tokens"][0]["id"].as_str().unwrap().to_string();
    sqlx::query("UPDATE initial_access_tokens SET expires_at = 0")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let (s, _, _) = send(
        &app,
        reqwest::Method::POST,
        &endpoint,
        Some(&iat),
        Some(base()),
    )
    .await;
    assert_eq!(s, 401, "expired");
    sqlx::query("UPDATE initial_access_tokens SET expires_at = 9999999999")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let (s, body) = admin.act("revoke_initial_token", &[("id", &id)]).await;
    assert_eq!(s, 200, "{body}");
    let (s, _, _) = send(
        &app,
        reqwest::Method::POST,
        &endpoint,
        Some(&iat),
        Some(base()),
    )
    .await;
    assert_eq!(s, 401, "revoked");

    // The portal's checks on issuing one.
    let (s, e) = admin
        .act(
            "issue_initial_token",
            &[
                ("token[name]", "x"),
                ("token[uses]", "0"),
                ("token[days]", "7"),
                ("token[scopes][]", "openid"),
            ],
        )
        .await;
    assert_eq!(s, 422, "{e}");
    assert!(field_error(&e, "uses").is_some(), "{e}");
    assert!(field_error(&e, "grant_types").is_some(), "{e}");
}
