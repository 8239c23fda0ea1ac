//! The scope catalogue: `GET /api/v1/scopes` and the portal's `/admin/scopes` list every
//! scope an app of the caller's organization may be allowed, the platform's and the
//! organization's own APIs', never another organization's; anonymous callers get 401.
//! SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use latchkey::services;
use secrecy::ExposeSecret;
use serde_json::Value;

on_both!(
    the_catalogue_lists_the_platform_and_the_organizations_apis,
    another_organizations_api_scopes_never_appear,
    the_portal_page_searches_without_javascript,
);

async fn register_api(app: &TestApp, org: &Org, name: &str, identifier: &str, scopes: &str) {
    services::apis::create(
        &app.state.db,
        &services::Principal::operator_in(&org.id),
        &app.base,
        &latchkey::domain::api::ApiInput {
            name: name.into(),
            identifier: identifier.into(),
            scopes: scopes.into(),
        },
    )
    .await
    .unwrap();
}

fn names(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("no items: {body}"))
        .iter()
        .map(|e| e["name"].as_str().unwrap().to_string())
        .collect()
}

fn entry<'a>(body: &'a Value, name: &str) -> &'a Value {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("{name} missing: {body}"))
}

/// Two organizations, each with an API: (A, B).
async fn two_orgs(app: &TestApp) -> (Org, Org) {
    let a = app.org_with_admin("Org A").await;
    let b = app.org_with_admin("Org B").await;
    register_api(
        app,
        &a,
        "Orders API",
        "urn:a:orders",
        "orders:read Read your orders\norders:write Place orders",
    )
    .await;
    register_api(
        app,
        &b,
        "Vault of B",
        "urn:b:vault",
        "vault:open Open B's secret vault",
    )
    .await;
    (a, b)
}

async fn the_catalogue_lists_the_platform_and_the_organizations_apis(b: Backend) {
    let app = spawn_app(b).await;
    let (a, _) = two_orgs(&app).await;
    let (_, _, token) = app_token(&app, &a, "read:apps").await;

    let (status, _, body) = api(&app, "GET", "/scopes", Some(&token), None).await;
    assert_eq!(status, 200, "{body}");
    let all = names(&body);
    // The platform's catalogue first, in its order, then the API's scopes.
    let platform: Vec<&str> = latchkey::domain::scope::CATALOGUE
        .iter()
        .map(|(n, _)| *n)
        .collect();
    assert_eq!(&all[..platform.len()], platform.as_slice(), "{all:?}");
    assert_eq!(&all[platform.len()..], ["orders:read", "orders:write"]);
    assert_eq!(body["total"], (platform.len() + 2) as i64);

    // Each entry states the rule validation enforces, and what it belongs to.
    let openid = entry(&body, "openid");
    assert_eq!(openid["display_name"], "Sign in");
    assert_eq!(openid["product"], "Sign-in (OpenID Connect)");
    assert_eq!(
        openid["app_kinds"],
        serde_json::json!(["on-behalf-of-user"])
    );
    let manage = entry(&body, "manage:apps");
    assert_eq!(manage["product"], "Latchkey API");
    assert_eq!(
        manage["app_kinds"],
        serde_json::json!(["on-behalf-of-user", "own-behalf"])
    );
    assert_eq!(manage["sensitive"], true);
    let orders = entry(&body, "orders:read");
    assert_eq!(orders["product"], "Orders API");
    assert_eq!(orders["description"], "Read your orders");
    assert_eq!(orders["custom"], true);
    assert_eq!(
        orders["app_kinds"],
        serde_json::json!(["on-behalf-of-user", "own-behalf"])
    );
    // The catalogue never names an API's identifier.
    assert!(!body.to_string().contains("urn:a:orders"));

    // And what it says holds: an own-behalf app may be allowed orders:read, never openid.
    let ok = app_token(&app, &a, "orders:read").await;
    assert!(!ok.0.is_empty());
    let refused = services::apps::create(
        &app.state.db,
        &services::Principal::operator_in(&a.id),
        &own_behalf("Signs in", "openid"),
        "",
    )
    .await;
    assert!(refused.is_err());

    // Searched: in names, words, products and app kinds.
    let (_, _, found) = api(&app, "GET", "/scopes?q=ORDERS", Some(&token), None).await;
    assert_eq!(names(&found), ["orders:read", "orders:write"]);
    let (_, _, found) = api(&app, "GET", "/scopes?q=sign-in", Some(&token), None).await;
    assert_eq!(
        names(&found),
        ["openid", "profile", "email", "offline_access"]
    );
    let (_, _, found) = api(&app, "GET", "/scopes?q=audit%20log", Some(&token), None).await;
    assert_eq!(names(&found), ["read:audit"]);
    let (_, _, found) = api(&app, "GET", "/scopes?q=nothing-like-it", Some(&token), None).await;
    assert_eq!((found["total"].as_i64(), names(&found).len()), (Some(0), 0));
    let (_, _, sorted) = api(&app, "GET", "/scopes?sort=-name", Some(&token), None).await;
    assert_eq!(names(&sorted)[0], "read:users");

    // A user's token with a sign-in scope only may read it too: it documents what exists.
    let (mobile, secret) = app
        .register_app(&a.id, &for_users("Mobile", "openid email"), "")
        .await;
    let member = app.add_user(&a, "member").await;
    let (s, t) = post_as_client(
        &app.base,
        "/oauth2/token",
        &mobile.client_id,
        secret.unwrap().expose_secret(),
        &password_form(&member, "openid"),
    )
    .await;
    assert_eq!(s, 200, "{t}");
    let user_token = t["access_token"].as_str().unwrap();
    let (status, _, body) = api(&app, "GET", "/scopes?q=orders", Some(user_token), None).await;
    assert_eq!((status, names(&body).len()), (200, 2), "{body}");

    // In the OpenAPI document, with no scope required.
    let doc: Value = reqwest::get(format!("{}/api/v1/openapi.json", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/scopes"]["get"]["summary"].is_string());
    assert!(doc["paths"]["/scopes"]["get"]["x-required-scope"].is_null());
}

async fn another_organizations_api_scopes_never_appear(b: Backend) {
    let app = spawn_app(b).await;
    let (a, bee) = two_orgs(&app).await;
    let (_, _, a_token) = app_token(&app, &a, "read:org").await;
    let (_, _, b_token) = app_token(&app, &bee, "read:org").await;

    for q in ["", "?q=vault", "?q=Vault%20of%20B", "?q=urn:b", "?page=2"] {
        let (status, _, body) =
            api(&app, "GET", &format!("/scopes{q}"), Some(&a_token), None).await;
        assert_eq!(status, 200, "{q}: {body}");
        let text = body.to_string();
        for secret in ["vault:open", "Vault of B", "secret vault", "urn:b:vault"] {
            assert!(!text.contains(secret), "{q} leaked {secret}: {text}");
        }
    }
    let (_, _, body) = api(&app, "GET", "/scopes", Some(&b_token), None).await;
    let b_names = names(&body);
    assert!(b_names.contains(&"vault:open".to_string()));
    assert!(!b_names.iter().any(|n| n.starts_with("orders:")));

    // Anonymous, or a token that is not one: 401 with a bearer challenge, no catalogue.
    for token in [None, Some("not-a-token")] {
        let (status, challenge, body) = api(&app, "GET", "/scopes", token, None).await;
        assert_eq!(status, 401, "{token:?}: {body}");
        assert!(challenge.starts_with("Bearer"), "{challenge}");
        assert!(body.get("items").is_none());
    }

    // The portal's server function: a signed-in member of A sees A's, never B's; a
    // visitor who is not signed in is refused.
    let member = app.add_user(&a, "member").await;
    let browser = app.signed_in(&member).await;
    let (status, body) = browser.call("list_scopes", &[("q", "")]).await;
    assert_eq!(status, 200, "{body}");
    assert!(names(&body).contains(&"orders:write".to_string()));
    assert!(!body.to_string().contains("vault"));
    let (status, body) = browser.call("list_scopes", &[("q", "vault")]).await;
    assert_eq!((status.as_u16(), names(&body).len()), (200, 0), "{body}");
    let (status, body) = app.client().call("list_scopes", &[("q", "")]).await;
    assert_eq!(status, 401, "{body}");
    assert!(!body.to_string().contains("orders"));
}

async fn the_portal_page_searches_without_javascript(b: Backend) {
    let app = spawn_app(b).await;
    let (a, _) = two_orgs(&app).await;
    let member = app.add_user(&a, "member").await;
    let browser = app.signed_in(&member).await;

    let (status, html, _) = browser.get("/admin/scopes").await;
    assert_eq!(status, 200);
    assert!(!html.contains("Not allowed"), "a member may read it");
    for shown in [
        "<code>openid</code>",
        "<code>orders:read</code>",
        "Orders API",
        "Read your orders",
        "On its own behalf",
    ] {
        assert!(html.contains(shown), "{shown} missing");
    }
    assert!(!html.contains("vault"));

    let (status, html, _) = browser.get("/admin/scopes?q=orders").await;
    assert_eq!(status, 200);
    assert!(html.contains("<code>orders:write</code>"));
    assert!(!html.contains("<code>openid</code>"));
    let (_, html, _) = browser.get("/admin/scopes?q=zzz-nothing").await;
    assert!(html.contains("No scope matches"));

    // Not signed in: sent to sign in, nothing listed.
    let (status, html, location) = app.client().get("/admin/scopes").await;
    assert!(!html.contains("<code>orders:read</code>"));
    assert!(
        status.is_redirection() || html.contains("/login"),
        "{status} {location:?}"
    );
}
