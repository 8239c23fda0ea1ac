//! Client secret expiry (refused once past, set and cleared by admins, audited, warned of,
//! noted once by the hourly job) and app usage (users and organizations that authorized
//! an app, tokens issued in the last 24 hours and 7 days). SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use latchkey::services::{self, Principal};
use secrecy::ExposeSecret;
use serde_json::{Value, json};

on_both!(
    an_expired_secret_is_refused_at_every_endpoint,
    expiry_through_the_api_is_checked_audited_and_shown,
    another_organization_cannot_touch_the_expiry,
    the_portal_sets_an_expiry_and_warns,
    the_expiry_job_records_each_event_once,
    usage_counts_users_and_organizations,
);

const DAY: i64 = 86_400;

/// An own-behalf app of `org`: (client id, secret).
async fn ci_app(app: &TestApp, org: &Org, name: &str) -> (String, String) {
    let (a, s) = app
        .register_app(&org.id, &own_behalf(name, "read:apps"), "")
        .await;
    (a.client_id, s.unwrap().expose_secret().to_string())
}

async fn client_credentials(app: &TestApp, id: &str, secret: &str) -> (u16, Value) {
    post_as_client(
        &app.base,
        "/oauth2/token",
        id,
        secret,
        &[("grant_type", "client_credentials")],
    )
    .await
}

fn secret_ids(detail: &latchkey::domain::views::AppDetail) -> Vec<String> {
    detail.secrets.iter().map(|s| s.id.clone()).collect()
}

async fn an_expired_secret_is_refused_at_every_endpoint(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let op = Principal::operator_in(&org.id);
    let db = &app.state.db;
    let (id, secret) = ci_app(&app, &org, "CI").await;
    let (status, body) = client_credentials(&app, &id, &secret).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();

    // The secret expires in 3 seconds; its replacement never does.
    let first = secret_ids(&services::apps::get(db, &op, &id).await.unwrap())[0].clone();
    let soon = (services::now() + 3).to_string();
    let view = services::apps::set_secret_expiry(db, &op, &id, &first, &soon)
        .await
        .unwrap();
    assert!(view.expires_soon && !view.expired);
    let (replacement, _) = services::apps::add_secret(db, &op, &id, "").await.unwrap();
    let replacement = replacement.expose_secret().to_string();
    assert_eq!(client_credentials(&app, &id, &secret).await.0, 200);
    tokio::time::sleep(std::time::Duration::from_millis(4200)).await;

    // Past it, the secret is refused like a wrong one, wherever a client authenticates.
    let (status, body) = client_credentials(&app, &id, &secret).await;
    assert_eq!(status, 401, "{body}");
    assert_eq!(body["error"], "invalid_client");
    for path in ["/oauth2/introspect", "/oauth2/revoke"] {
        let (status, body) =
            post_as_client(&app.base, path, &id, &secret, &[("token", &token)]).await;
        assert_eq!(status, 401, "{path}: {body}");
        assert_eq!(body["error"], "invalid_client", "{path}");
    }
    // The replacement works, and the token was not revoked by the refused call.
    let (status, body) = post_as_client(
        &app.base,
        "/oauth2/introspect",
        &id,
        &replacement,
        &[("token", &token)],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["active"], true);
    assert_eq!(client_credentials(&app, &id, &replacement).await.0, 200);

    // The app's page says so; an expired secret cannot be brought back to life.
    let detail = services::apps::get(db, &op, &id).await.unwrap();
    let dead = detail.secrets.iter().find(|s| s.id == first).unwrap();
    assert!(dead.expired && !dead.expires_soon);
    assert!(detail.app.secret_expires_soon);
    let later = (services::now() + 30 * DAY).to_string();
    assert!(matches!(
        services::apps::set_secret_expiry(db, &op, &id, &first, &later).await,
        Err(services::Error::Forbidden(_))
    ));
    assert!(matches!(
        services::apps::set_secret_expiry(db, &op, &id, &first, "").await,
        Err(services::Error::Forbidden(_))
    ));
    assert_eq!(client_credentials(&app, &id, &secret).await.0, 401);
}

async fn expiry_through_the_api_is_checked_audited_and_shown(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let (_, _, admin) = app_token(&app, &org, "read:apps manage:apps").await;
    let (id, _) = ci_app(&app, &org, "Billing").await;
    let (quiet, _) = ci_app(&app, &org, "Quiet").await;
    let path = format!("/apps/{id}/secrets");

    // A time already past, or one that is no time, is a field error; nothing is added.
    for bad in [json!("2001-01-01"), json!(1), json!("soon"), json!(true)] {
        let (status, _, body) = api(
            &app,
            "POST",
            &path,
            Some(&admin),
            Some(json!({ "expires_at": bad })),
        )
        .await;
        assert_eq!(status, 422, "{bad}: {body}");
        assert_eq!(body["fields"][0]["field"], "expires_at", "{body}");
    }
    let (status, _, body) = api(
        &app,
        "POST",
        &path,
        Some(&admin),
        Some(json!({ "expires_at": 5, "other": 1 })),
    )
    .await;
    assert_eq!(status, 422, "unknown fields are refused: {body}");

    // Five days from now: added, and flagged as expiring soon.
    let at = services::now() + 5 * DAY;
    let (status, _, body) = api(
        &app,
        "POST",
        &path,
        Some(&admin),
        Some(json!({ "expires_at": at })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert!(body["client_secret"].as_str().unwrap().len() > 20);
    assert_eq!(body["secret"]["expires_at"], at);
    assert_eq!(body["secret"]["expires_soon"], true);
    assert_eq!(body["secret"]["expired"], false);
    let secret_id = body["secret"]["id"].as_str().unwrap().to_string();

    let (status, _, got) = api(&app, "GET", &format!("/apps/{id}"), Some(&admin), None).await;
    assert_eq!(status, 200, "{got}");
    assert_eq!(got["app"]["secret_expires_soon"], true);
    let listed = got["secrets"].as_array().unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0]["expires_at"], Value::Null);
    assert_eq!(listed[0]["expires_soon"], false);
    assert_eq!(listed[1]["expires_soon"], true);
    let (_, _, list) = api(&app, "GET", "/apps", Some(&admin), None).await;
    let flag = |cid: &str| {
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["client_id"] == cid)
            .unwrap()["secret_expires_soon"]
            .clone()
    };
    assert_eq!(flag(&id), true, "{list}");
    assert_eq!(flag(&quiet), false);

    // Moved further than the warning period, then cleared; the past and bad bodies refused.
    let one = format!("/apps/{id}/secrets/{secret_id}");
    let far = "2099-01-01";
    let (status, _, body) = api(
        &app,
        "PATCH",
        &one,
        Some(&admin),
        Some(json!({ "expires_at": far })),
    )
    .await;
    assert_eq!(status, 422, "more than ten years ahead: {body}");
    let later = services::now() + 60 * DAY;
    let (status, _, body) = api(
        &app,
        "PATCH",
        &one,
        Some(&admin),
        Some(json!({ "expires_at": latchkey::domain::when::iso8601(later) })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_at"], later);
    assert_eq!(body["expires_soon"], false);
    let (_, _, list) = api(&app, "GET", "/apps", Some(&admin), None).await;
    assert_eq!(
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["client_id"] == id.as_str())
            .unwrap()["secret_expires_soon"],
        false
    );
    for bad in [
        Some(json!({ "expires_at": "1999-12-31" })),
        Some(json!({})),
        None,
    ] {
        let (status, _, body) = api(&app, "PATCH", &one, Some(&admin), bad.clone()).await;
        assert_eq!(status, 422, "{bad:?}: {body}");
    }
    let (status, _, body) = api(
        &app,
        "PATCH",
        &one,
        Some(&admin),
        Some(json!({ "expires_at": null })),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["expires_at"], Value::Null);
    let (status, _, _) = api(
        &app,
        "PATCH",
        &format!("/apps/{id}/secrets/no-such-secret"),
        Some(&admin),
        Some(json!({ "expires_at": null })),
    )
    .await;
    assert_eq!(status, 404);
    // A token that may only read apps changes nothing.
    let (_, _, reader) = app_token(&app, &org, "read:apps").await;
    let (status, challenge, _) = api(
        &app,
        "PATCH",
        &one,
        Some(&reader),
        Some(json!({ "expires_at": null })),
    )
    .await;
    assert_eq!(status, 403);
    assert!(challenge.contains("insufficient_scope"), "{challenge}");

    // Each change is audited with the date.
    let records = |action: &str| {
        let sql = format!(
            "SELECT COUNT(*) FROM audit_events WHERE action = '{action}' AND app_id = '{id}'"
        );
        let app = &app;
        async move { app.count(&sql).await }
    };
    assert_eq!(records("app.secret_add").await, 1);
    assert_eq!(records("app.secret_expiry").await, 2);
    let dated = format!(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'app.secret_add' AND detail LIKE '%{}%'",
        latchkey::domain::when::iso8601(at)
    );
    assert_eq!(
        app.count(&dated).await,
        1,
        "the added secret's expiry is recorded"
    );
    let dated = format!(
        "SELECT COUNT(*) FROM audit_events WHERE action = 'app.secret_expiry' AND detail LIKE '%{}%'",
        latchkey::domain::when::iso8601(later)
    );
    assert_eq!(
        app.count(&dated).await,
        2,
        "set, then the previous one when cleared"
    );
}

async fn another_organization_cannot_touch_the_expiry(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let other = app.org_with_admin("Other").await;
    let (id, _) = ci_app(&app, &org, "CI").await;
    let op = Principal::operator_in(&org.id);
    let secret_id =
        secret_ids(&services::apps::get(&app.state.db, &op, &id).await.unwrap())[0].clone();
    let at = (services::now() + 3 * DAY).to_string();

    // Through the API, with a token of the other organization that may manage its apps.
    let (_, _, theirs) = app_token(&app, &other, "read:apps manage:apps").await;
    let (status, _, body) = api(
        &app,
        "PATCH",
        &format!("/apps/{id}/secrets/{secret_id}"),
        Some(&theirs),
        Some(json!({ "expires_at": at })),
    )
    .await;
    assert_eq!(status, 404, "{body}");
    let (status, _, _) = api(
        &app,
        "PATCH",
        &format!("/apps/{id}/secrets/{secret_id}"),
        Some(&theirs),
        Some(json!({ "nonsense": true })),
    )
    .await;
    assert_eq!(status, 404, "not found before the body is read");
    let (status, _, _) = api(
        &app,
        "POST",
        &format!("/apps/{id}/secrets"),
        Some(&theirs),
        Some(json!({ "expires_at": at })),
    )
    .await;
    assert_eq!(status, 404);

    // Through the portal, as the other organization's admin.
    let admin = app.signed_in(&other.admin_email).await;
    let (status, _) = admin
        .act(
            "set_secret_expiry",
            &[
                ("client_id", &id),
                ("secret_id", &secret_id),
                ("expires_at", &at),
            ],
        )
        .await;
    assert_eq!(status, 404);
    let (status, _) = admin
        .act("add_secret", &[("client_id", &id), ("expires_at", &at)])
        .await;
    assert_eq!(status, 404);

    // Nothing changed.
    let detail = services::apps::get(&app.state.db, &op, &id).await.unwrap();
    assert_eq!(detail.secrets.len(), 1);
    assert_eq!(detail.secrets[0].expires_at, None);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action IN ('app.secret_expiry', 'app.secret_add')")
            .await,
        0
    );
}

async fn the_portal_sets_an_expiry_and_warns(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let admin = app.signed_in(&org.admin_email).await;
    let fields = user_app("Portal app");
    let (id, _) = admin.create_app(&as_refs(&fields)).await;
    let (_, page) = admin.call("get_app", &[("client_id", &id)]).await;
    let first = page["detail"]["secrets"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let credentials = format!("/admin/apps/{id}/credentials");
    let (_, html, _) = admin.get(&credentials).await;
    assert!(!html.contains("secret-expiry-warning"));

    // Yesterday is refused with a field error; so is today (its midnight has passed).
    let today = latchkey::domain::when::date(services::now());
    let yesterday = latchkey::domain::when::date(services::now() - DAY);
    for past in [&yesterday, &today] {
        let (status, body) = admin
            .act(
                "set_secret_expiry",
                &[
                    ("client_id", &id),
                    ("secret_id", &first),
                    ("expires_at", past),
                ],
            )
            .await;
        assert_eq!(status, 422, "{body}");
        assert_eq!(
            field_error(&body, "expires_at").as_deref(),
            Some("must be in the future")
        );
        let (status, body) = admin
            .act("add_secret", &[("client_id", &id), ("expires_at", past)])
            .await;
        assert_eq!(status, 422, "{body}");
        assert!(field_error(&body, "expires_at").is_some());
    }

    // In ten days: the page warns on every tab, the list flags the app.
    let soon = latchkey::domain::when::date(services::now() + 10 * DAY);
    let (status, body) = admin
        .act(
            "set_secret_expiry",
            &[
                ("client_id", &id),
                ("secret_id", &first),
                ("expires_at", &soon),
            ],
        )
        .await;
    assert_eq!(status, 200, "{body}");
    let (_, page) = admin.call("get_app", &[("client_id", &id)]).await;
    assert_eq!(page["detail"]["secrets"][0]["expires_soon"], true);
    for path in [credentials.clone(), format!("/admin/apps/{id}")] {
        let (status, html, _) = admin.get(&path).await;
        assert_eq!(status, 200);
        assert!(html.contains("secret-expiry-warning"), "{path}");
        assert!(html.contains(&format!("{soon} 00:00 UTC")), "{path}");
    }
    let (_, html, _) = admin.get(&credentials).await;
    assert!(html.contains("expires soon"));
    assert!(
        html.contains(&format!("value=\"{soon}\"")),
        "the date input shows it"
    );
    let (_, list, _) = admin.get("/admin").await;
    assert!(list.contains("secret expiring"));

    // A second secret with an expiry far ahead, and the first one's expiry cleared.
    let far = latchkey::domain::when::date(services::now() + 90 * DAY);
    let (status, body) = admin
        .act("add_secret", &[("client_id", &id), ("expires_at", &far)])
        .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = admin
        .act(
            "set_secret_expiry",
            &[
                ("client_id", &id),
                ("secret_id", &first),
                ("expires_at", ""),
            ],
        )
        .await;
    assert_eq!(status, 200);
    let (_, page) = admin.call("get_app", &[("client_id", &id)]).await;
    let secrets = page["detail"]["secrets"].as_array().unwrap();
    assert_eq!(secrets[0]["expires_at"], Value::Null);
    assert!(secrets[1]["expires_at"].as_i64().unwrap() > services::now() + 80 * DAY);
    assert_eq!(secrets[1]["expires_soon"], false);
    let (_, html, _) = admin.get(&credentials).await;
    assert!(!html.contains("secret-expiry-warning"));
    let (_, list, _) = admin.get("/admin").await;
    assert!(!list.contains("secret expiring"));
}

async fn the_expiry_job_records_each_event_once(b: Backend) {
    use services::maintenance::note_secret_expiry;
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let op = Principal::operator_in(&org.id);
    let db = &app.state.db;
    let (id, _) = ci_app(&app, &org, "CI").await;
    let (never, _) = ci_app(&app, &org, "Forever").await;
    let first = secret_ids(&services::apps::get(db, &op, &id).await.unwrap())[0].clone();
    let t = services::now();
    services::apps::set_secret_expiry(db, &op, &id, &first, &(t + 20 * DAY).to_string())
        .await
        .unwrap();
    let count = |action: &'static str| {
        let sql = format!(
            "SELECT COUNT(*) FROM audit_events WHERE action = '{action}' AND app_id = '{id}' \
             AND actor_type = 'system' AND org_id = '{}'",
            org.id
        );
        let app = &app;
        async move { app.count(&sql).await }
    };

    // Twenty days ahead: nothing yet.
    assert_eq!(note_secret_expiry(db, t).await.unwrap(), 0);
    // Within fourteen days: one warning, however many instances run the job at once (each
    // run on a connection of its own).
    let at = t + 7 * DAY;
    let (a, b2, c) = tokio::join!(
        note_secret_expiry(db, at),
        note_secret_expiry(db, at),
        note_secret_expiry(db, at),
    );
    assert_eq!(a.unwrap() + b2.unwrap() + c.unwrap(), 1);
    assert_eq!(note_secret_expiry(db, at + DAY).await.unwrap(), 0);
    assert_eq!(count("app.secret_expiring").await, 1);
    assert_eq!(count("app.secret_expired").await, 0);

    // Past it: one "expired".
    let past = t + 21 * DAY;
    let (a, b2) = tokio::join!(note_secret_expiry(db, past), note_secret_expiry(db, past));
    assert_eq!(a.unwrap() + b2.unwrap(), 1);
    assert_eq!(note_secret_expiry(db, past + DAY).await.unwrap(), 0);
    assert_eq!(count("app.secret_expiring").await, 1);
    assert_eq!(count("app.secret_expired").await, 1);

    // A new expiry starts over; a secret first seen already expired gets "expired" alone.
    services::apps::set_secret_expiry(db, &op, &id, &first, &(t + 30 * DAY).to_string())
        .await
        .unwrap();
    assert_eq!(note_secret_expiry(db, t + 40 * DAY).await.unwrap(), 1);
    assert_eq!(count("app.secret_expiring").await, 1);
    assert_eq!(count("app.secret_expired").await, 2);
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE app_id = '{never}' AND action LIKE 'app.secret_expir%'"
        ))
        .await,
        0,
        "a secret without expiry is never noted"
    );
    // The events name the secret and its expiry, in the app's organization's log.
    let (_, _, reader) = app_token(&app, &org, "read:audit").await;
    let (status, _, page) = api(
        &app,
        "GET",
        "/audit?action=app.secret_expired",
        Some(&reader),
        None,
    )
    .await;
    assert_eq!(status, 200, "{page}");
    let item = &page["items"][0];
    assert_eq!(item["app_id"], id.as_str());
    assert!(item["detail"].as_str().unwrap().contains(&first), "{item}");
}

async fn usage_counts_users_and_organizations(b: Backend) {
    let app = spawn_app(b).await;
    let vendor = app.org_with_admin("Vendor").await;
    let customer = app.org_with_admin("Customer").await;
    let input = latchkey::domain::AppInput {
        audience: "everyone".into(),
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        ..for_users("Partner portal", "openid email")
    };
    let (a, s) = app.register_app(&vendor.id, &input, "").await;
    let rp = Rp {
        id: a.client_id.clone(),
        secret: s.map(|s| s.expose_secret().to_string()),
    };
    let (other, _) = app
        .register_app(&vendor.id, &for_users("Other", "openid email"), "")
        .await;
    let vendor_user = app.add_user(&vendor, "member").await;
    let bob = app.add_user(&customer, "member").await;
    let carol = app.add_user(&customer, "member").await;

    // Nobody yet.
    let op = Principal::operator_in(&vendor.id);
    let usage = services::apps::get(&app.state.db, &op, &rp.id)
        .await
        .unwrap()
        .usage;
    assert_eq!(usage, Default::default());

    // One vendor user and two customer users authorize it; bob twice.
    for user in [&vendor_user, &bob, &carol, &bob] {
        let code = code_for(&app, &app.client(), &rp.id, user).await;
        let (status, body) = redeem(&app, &rp, &code).await;
        assert_eq!(status, 200, "{body}");
    }
    // A refused token request counts for nothing.
    let (status, _) = redeem(&app, &rp, "no-such-code").await;
    assert_eq!(status, 400);
    // One issued token three days ago, one ten days ago.
    for (n, days) in [(1, 3), (2, 10)] {
        let sql = format!(
            "UPDATE audit_events SET at = at - {} WHERE id = (SELECT id FROM audit_events \
             WHERE action = 'token.issued' AND app_id = '{}' ORDER BY id LIMIT 1 OFFSET {})",
            days * DAY,
            rp.id,
            n - 1
        );
        sqlx::query(&sql).execute(&app.state.db.pool).await.unwrap();
    }
    let usage = services::apps::get(&app.state.db, &op, &rp.id)
        .await
        .unwrap()
        .usage;
    assert_eq!(usage.users, 3);
    assert_eq!(usage.organizations, 2);
    assert_eq!(usage.tokens_24h, 2);
    assert_eq!(usage.tokens_7d, 3);
    let untouched = services::apps::get(&app.state.db, &op, &other.client_id)
        .await
        .unwrap()
        .usage;
    assert_eq!(untouched, Default::default());

    // The API's app says the same, and the Activity tab shows it.
    let (_, _, reader) = app_token(&app, &vendor, "read:apps").await;
    let (status, _, got) = api(
        &app,
        "GET",
        &format!("/apps/{}", rp.id),
        Some(&reader),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(
        got["usage"],
        json!({ "users": 3, "organizations": 2, "tokens_24h": 2, "tokens_7d": 3 })
    );
    let admin = app.signed_in(&vendor.admin_email).await;
    let (status, html, _) = admin.get(&format!("/admin/apps/{}/activity", rp.id)).await;
    assert_eq!(status, 200);
    assert!(html.contains("3 users in 2 organizations"), "{html}");

    // Revoked authorizations no longer count; the tokens issued still do.
    let bob_id = app.user_id(&customer, &bob).await;
    services::authorizations::revoke_for_app(&app.state.db, &op, &rp.id, Some(&bob_id))
        .await
        .unwrap();
    let usage = services::apps::get(&app.state.db, &op, &rp.id)
        .await
        .unwrap()
        .usage;
    assert_eq!((usage.users, usage.organizations), (2, 2));
    assert_eq!(usage.tokens_24h, 2);
}
