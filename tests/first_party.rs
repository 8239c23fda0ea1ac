//! First-party apps: an organization admin marks an internal app acting for users as
//! trusted, and its organization's users are not asked to consent (audited). Who may mark
//! it, which apps may be marked, and what still asks. SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

on_both!(
    a_first_party_app_is_not_asked_about,
    only_an_organization_admin_marks_an_app_first_party,
);

/// Whether the REST API's 422 names `field`.
fn refused_field(v: &Value, field: &str) -> bool {
    v["fields"]
        .as_array()
        .is_some_and(|f| f.iter().any(|e| e["field"] == field))
}

/// A trusted app of `org`: (client id, secret).
async fn trusted(app: &TestApp, org: &Org, name: &str) -> Rp {
    let input = latchkey::domain::AppInput {
        skip_consent: true,
        ..for_users(name, "openid email offline_access")
    };
    let (a, s) = app.register_app(&org.id, &input, "").await;
    assert!(a.skip_consent);
    Rp {
        id: a.client_id,
        secret: s.map(|s| s.expose_secret().to_string()),
    }
}

async fn a_first_party_app_is_not_asked_about(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let other = app.org_with_admin("Other").await;
    let portal = trusted(&app, &org, "Acme portal").await;
    let user = app.add_user(&org, "member").await;

    // Sign-in, then straight back to the app with a code: no consent page.
    let browser = app.client();
    let url = format!("{}{}", app.base, authorize_url(&good(&portal.id)));
    let back = browser.authorize(&url, &user, "allow").await;
    assert!(back.starts_with(CB), "{back}");
    let code = query_of(&back)["code"].clone();
    let (s, t) = redeem(&app, &portal, &code).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'consent.skipped'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'consent.granted'")
            .await,
        0
    );
    // The user still sees it among their authorized apps, and may revoke it.
    let (s, mine) = browser.call("my_authorizations", &[]).await;
    assert_eq!(s, 200, "{mine}");
    assert!(mine.to_string().contains("Acme portal"), "{mine}");

    // prompt=consent still asks.
    let asked = authorize_url(&with(&good(&portal.id), "prompt", Some("consent")));
    let (_, _, location) = browser.get(&asked).await;
    assert!(
        location.as_deref().unwrap_or("").starts_with("/consent"),
        "{location:?}"
    );
    // An app that is not first-party asks, as before.
    let (plain, _) = app
        .register_app(&org.id, &for_users("Partner", "openid email"), "")
        .await;
    let (_, _, location) = browser.get(&authorize_url(&good(&plain.client_id))).await;
    assert!(
        location.as_deref().unwrap_or("").starts_with("/consent"),
        "{location:?}"
    );
    // A user of another organization never reaches it (it is internal).
    let outsider = app.add_user(&other, "admin").await;
    let stranger = app.client();
    let back = stranger.authorize(&url, &outsider, "allow").await;
    assert_eq!(query_of(&back)["error"], "access_denied", "{back}");
}

async fn only_an_organization_admin_marks_an_app_first_party(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let apps_admin = app_token(&app, &org, "read:apps manage:apps").await.2;
    let org_admin = app_token(&app, &org, "read:apps manage:apps manage:org")
        .await
        .2;
    let body = |audience: &str, skip: bool| {
        json!({ "name": format!("Portal {audience} {skip}"), "kind": "on-behalf-of-user",
                "grant_types": ["authorization_code"], "redirect_uris": [CB],
                "scopes": ["openid email"], "audience": audience, "skip_consent": skip })
    };

    // manage:apps alone cannot let an app skip consent: it decides for every user.
    let (s, challenge, v) = api(
        &app,
        "POST",
        "/apps",
        Some(&apps_admin),
        Some(body("internal", true)),
    )
    .await;
    assert_eq!(s, 403, "{v}");
    assert!(challenge.contains("manage:org"), "{challenge}");
    // Never an app open to everyone, nor an own-behalf app.
    let (s, _, v) = api(
        &app,
        "POST",
        "/apps",
        Some(&org_admin),
        Some(body("everyone", true)),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert!(refused_field(&v, "skip_consent"), "{v}");
    let own = json!({ "name": "CI", "kind": "own-behalf", "grant_types": ["client_credentials"],
                      "scopes": ["read:apps"], "skip_consent": true });
    let (s, _, v) = api(&app, "POST", "/apps", Some(&org_admin), Some(own)).await;
    assert_eq!(s, 422, "{v}");
    assert!(refused_field(&v, "skip_consent"), "{v}");

    // An organization admin marks it; the audit says so.
    let (s, _, made) = api(
        &app,
        "POST",
        "/apps",
        Some(&org_admin),
        Some(body("internal", true)),
    )
    .await;
    assert!(s == 200 || s == 201, "{made}");
    assert_eq!(made["app"]["skip_consent"], true, "{made}");
    let id = made["client_id"].as_str().unwrap().to_string();
    let (s, _, audit) = api(
        &app,
        "GET",
        "/audit?action=app.create",
        Some(&org_admin),
        None,
    )
    .await;
    assert_eq!(s, 403, "{audit}"); // no read:audit: the token holds none
    let reader = app_token(&app, &org, "read:audit").await.2;
    let (_, _, audit) = api(&app, "GET", "/audit?action=app.create", Some(&reader), None).await;
    let detail: Value = serde_json::from_str(
        audit["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["object"] == format!("app {id}"))
            .unwrap()["detail"]
            .as_str()
            .unwrap(),
    )
    .unwrap();
    assert_eq!(detail["skip_consent"], true);

    // manage:apps may keep it while changing other settings, or turn it off, but not on.
    let mut keep = body("internal", true);
    keep["name"] = "Portal renamed".into();
    let (s, _, v) = api(
        &app,
        "PUT",
        &format!("/apps/{id}"),
        Some(&apps_admin),
        Some(keep),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    // Opening it to everyone while it skips consent is refused.
    let (s, _, v) = api(
        &app,
        "PUT",
        &format!("/apps/{id}"),
        Some(&org_admin),
        Some(body("everyone", true)),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    let (s, _, v) = api(
        &app,
        "PUT",
        &format!("/apps/{id}"),
        Some(&apps_admin),
        Some(body("internal", false)),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["skip_consent"], false, "{v}");
    let (s, challenge, v) = api(
        &app,
        "PUT",
        &format!("/apps/{id}"),
        Some(&apps_admin),
        Some(body("internal", true)),
    )
    .await;
    assert_eq!(s, 403, "{v}");
    assert!(challenge.contains("manage:org"), "{challenge}");
    let (s, _, v) = api(
        &app,
        "PUT",
        &format!("/apps/{id}"),
        Some(&org_admin),
        Some(body("internal", true)),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (_, _, audit) = api(&app, "GET", "/audit?action=app.update", Some(&reader), None).await;
    let detail: Value =
        serde_json::from_str(audit["items"][0]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["skip_consent"], true, "{audit}");
}
