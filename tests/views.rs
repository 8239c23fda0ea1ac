//! What the portal shows people: the audit log read by names and periods, the lists'
//! search, sort and columns, the organization's overview, the app a sign-in continues to,
//! and a failed form posted without JavaScript coming back as it was typed. SQLite and
//! PostgreSQL.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use serde_json::Value;

on_both!(
    the_audit_log_answers_what_an_app_did_yesterday_by_name,
    lists_sort_and_show_last_use_and_last_sign_in,
    the_overview_counts_tokens_refusals_and_busy_apps,
    the_sign_in_page_names_the_app_asking,
    a_failed_plain_post_comes_back_as_typed_without_its_password,
);

/// Token requests of a new own-behalf app named `name`: `ok` issued, `bad` refused for a
/// wrong secret. Returns its client id.
async fn busy_app(app: &TestApp, org: &Org, name: &str, ok: usize, bad: usize) -> String {
    let (a, s) = app
        .register_app(&org.id, &own_behalf(name, "read:apps"), "")
        .await;
    use secrecy::ExposeSecret;
    let secret = s.unwrap().expose_secret().to_string();
    let http = reqwest::Client::new();
    for i in 0..ok + bad {
        let s = if i < bad { "not the secret" } else { &secret };
        http.post(format!("{}/oauth2/token", app.base))
            .basic_auth(&a.client_id, Some(s))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
    }
    a.client_id
}

fn actions(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action_words"].as_str().unwrap().to_string())
        .collect()
}

async fn the_audit_log_answers_what_an_app_did_yesterday_by_name(backend: Backend) {
    let app = spawn_app(backend).await;
    let org = app.org_with_admin("Acme").await;
    let other = app.org_with_admin("Other").await;
    let client_id = busy_app(&app, &org, "Nightly export", 2, 1).await;
    // One of its token requests happened yesterday (the test moves it back a day).
    let moved = app
        .count(&format!(
            "SELECT MIN(id) FROM audit_events WHERE app_id = '{client_id}' AND action = 'token.issued'"
        ))
        .await;
    sqlx::query(&format!(
        "UPDATE audit_events SET at = at - 86400 WHERE id = {moved}"
    ))
    .execute(&app.state.db.pool)
    .await
    .unwrap();

    let admin = app.signed_in(&org.admin_email).await;
    // The filter offers the app by its name.
    let (s, choices) = admin.call("audit_choices", &[]).await;
    assert_eq!(s, 200, "{choices}");
    assert!(
        choices["apps"]
            .as_array()
            .unwrap()
            .contains(&serde_json::json!([client_id, "Nightly export"])),
        "{choices}"
    );
    assert!(
        choices["users"]
            .as_array()
            .unwrap()
            .iter()
            .any(|u| u[1].as_str().unwrap().contains(&org.admin_email)),
        "{choices}"
    );

    let (s, yesterday) = admin
        .call(
            "list_audit",
            &[("q[app]", &client_id), ("q[range]", "yesterday")],
        )
        .await;
    assert_eq!(s, 200, "{yesterday}");
    assert_eq!(actions(&yesterday), ["Token issued"], "{yesterday}");
    let record = &yesterday["items"][0];
    assert_eq!(record["app_name"], "Nightly export");
    assert_eq!(record["actor_type"], "app");
    let (_, today) = admin
        .call(
            "list_audit",
            &[("q[app]", &client_id), ("q[range]", "today")],
        )
        .await;
    let mut today = actions(&today);
    today.sort();
    assert_eq!(
        today,
        ["App created", "Token issued", "Token refused"],
        "the app's own creation is its record too"
    );
    // A date range picked as two dates includes the second day.
    let day = latchkey::domain::when::date(latchkey::services::now());
    let (_, dated) = admin
        .call(
            "list_audit",
            &[("q[app]", &client_id), ("q[from]", &day), ("q[to]", &day)],
        )
        .await;
    assert_eq!(actions(&dated).len(), 3, "{dated}");
    let (s, bad) = admin.call("list_audit", &[("q[range]", "fortnight")]).await;
    assert_eq!(s, 422, "{bad}");

    // Another organization sees neither the app among its choices nor its records.
    let outsider = app.signed_in(&other.admin_email).await;
    let (_, theirs) = outsider.call("audit_choices", &[]).await;
    assert!(!theirs.to_string().contains(&client_id), "{theirs}");
    let (_, theirs) = outsider.call("list_audit", &[("q[app]", &client_id)]).await;
    assert_eq!(theirs["items"], serde_json::json!([]));

    // The export's time column is ISO 8601.
    let (s, csv, _) = admin
        .get(&format!("/admin/audit/export?format=csv&app={client_id}"))
        .await;
    assert_eq!(s, 200);
    let line = csv.lines().nth(1).unwrap();
    let at = line.split(',').nth(1).unwrap();
    assert!(
        time::OffsetDateTime::parse(at, &time::format_description::well_known::Rfc3339).is_ok()
            && at.ends_with('Z'),
        "{line}"
    );

    // The viewer's page reads by names: the app linked by name, actions in words.
    let (s, html, _) = admin
        .get(&format!("/admin/audit?app={client_id}&range=week"))
        .await;
    assert_eq!(s, 200);
    assert!(
        html.contains(&format!(
            "<a href=\"/admin/apps/{client_id}\">Nightly export</a>"
        )),
        "{html}"
    );
    assert!(html.contains("Token refused") && html.contains("details class=\"drawer\""));
}

async fn lists_sort_and_show_last_use_and_last_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let org = app.org_with_admin("Acme").await;
    let quiet = app
        .register_app(&org.id, &own_behalf("Alpha quiet", "read:apps"), "")
        .await
        .0
        .client_id;
    let used = busy_app(&app, &org, "Beta used", 1, 0).await;
    let admin = app.signed_in(&org.admin_email).await;

    let names = |page: &Value| -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|a| a["name"].as_str().unwrap().to_string())
            .collect()
    };
    let (_, by_name) = admin.call("list_apps", &[]).await;
    assert_eq!(names(&by_name), ["Alpha quiet", "Beta used"]);
    assert_eq!(by_name["sort"], "name");
    let (_, desc) = admin.call("list_apps", &[("sort", "-name")]).await;
    assert_eq!(names(&desc), ["Beta used", "Alpha quiet"]);
    let (_, recent) = admin.call("list_apps", &[("sort", "-used")]).await;
    assert_eq!(names(&recent), ["Beta used", "Alpha quiet"], "{recent}");
    assert!(recent["items"][0]["last_used_at"].as_i64().is_some());
    assert_eq!(recent["items"][1]["last_used_at"], Value::Null);
    assert_eq!(recent["items"][1]["client_id"], quiet.as_str());
    let (_, odd) = admin.call("list_apps", &[("sort", "secret")]).await;
    assert_eq!(
        odd["sort"], "name",
        "an unknown column sorts by the default"
    );
    let _ = used;

    // Users: the admin has signed in (the session above); a new member has not.
    let member = app.add_user(&org, "member").await;
    let (_, users) = admin.call("list_users", &[("sort", "-signed_in")]).await;
    let items = users["items"].as_array().unwrap();
    assert_eq!(items[0]["email"], org.admin_email.as_str(), "{users}");
    assert!(items[0]["last_sign_in_at"].as_i64().is_some());
    assert_eq!(items[1]["email"], member.as_str());
    assert_eq!(items[1]["last_sign_in_at"], Value::Null);
    let (_, found) = admin.call("list_users", &[("q", &member[..10])]).await;
    assert_eq!(found["total"], 1, "{found}");
    let (s, html, _) = admin.get("/admin/users?sort=-signed_in").await;
    assert_eq!(s, 200);
    assert!(
        html.contains("aria-sort=\"descending\""),
        "the sorted column says so"
    );
}

async fn the_overview_counts_tokens_refusals_and_busy_apps(backend: Backend) {
    let app = spawn_app(backend).await;
    let org = app.org_with_admin("Acme").await;
    let other = app.org_with_admin("Other").await;
    let busy = busy_app(&app, &org, "Busy", 3, 2).await;
    let calm = busy_app(&app, &org, "Calm", 1, 0).await;
    busy_app(&app, &other, "Elsewhere", 4, 4).await;

    let admin = app.signed_in(&org.admin_email).await;
    let (s, o) = admin.call("org_activity", &[]).await;
    assert_eq!(s, 200, "{o}");
    let hours = o["hours"].as_array().unwrap();
    assert_eq!(hours.len(), 7 * 24);
    let sum = |k: &str| hours.iter().map(|h| h[k].as_i64().unwrap()).sum::<i64>();
    // Failed client authentications of one app are recorded once per window (the rest
    // are counted in that record), so Busy's two wrong secrets are one refusal.
    assert_eq!(
        (sum("issued"), sum("refused")),
        (4, 1),
        "only this organization"
    );
    assert_eq!(
        o["refusals"],
        serde_json::json!([["invalid_client", "Wrong or unknown client credentials", 1]])
    );
    assert_eq!(
        o["apps"],
        serde_json::json!([[busy, "Busy", 3, 1], [calm, "Calm", 1, 0]])
    );
    let member = app.add_user(&org, "member").await;
    let member = app.signed_in(&member).await;
    assert_eq!(member.call("org_activity", &[]).await.0, 403);
    let (s, html, _) = admin.get("/admin/overview").await;
    assert_eq!(s, 200);
    assert!(html.contains("Wrong or unknown client credentials") && html.contains("Busy"));
}

async fn the_sign_in_page_names_the_app_asking(backend: Backend) {
    let app = spawn_app(backend).await;
    let org = app.org_with_admin("Acme").await;
    let (a, _) = app
        .register_app(&org.id, &for_users("Acme Web Portal", "openid"), "")
        .await;
    let browser = app.client();
    let url = authorize_url(&good(&a.client_id));
    let (_, _, location) = browser.get(&url).await;
    let login = location.expect("sent to sign in");
    let next = query_of(&format!("http://x{login}"))["next"].clone();
    let (s, name) = browser.call("app_asking", &[("next", &next)]).await;
    assert_eq!((s.as_u16(), name), (200, Value::from("Acme Web Portal")));
    let (_, html, _) = browser.get(&login).await;
    assert!(html.contains("to continue to"), "{html}");
    assert!(html.contains("Acme Web Portal"));
    assert!(
        !html.contains("aria-label=\"Main\""),
        "no portal navigation in the flow"
    );
    // Anything else names no app, and a disabled app is not named.
    for next in [
        "/admin",
        "/oauth2/authorize/resume?id=nope",
        "https://evil.example",
    ] {
        let (s, v) = browser.call("app_asking", &[("next", next)]).await;
        assert_eq!((s.as_u16(), v), (200, Value::Null), "{next}");
    }
    app.set_enabled(&org.id, &a.client_id, false).await;
    let (_, v) = browser.call("app_asking", &[("next", &next)]).await;
    assert_eq!(v, Value::Null);
}

async fn a_failed_plain_post_comes_back_as_typed_without_its_password(backend: Backend) {
    let app = spawn_app(backend).await;
    let org = app.org_with_admin("Acme").await;
    let admin = app.signed_in(&org.admin_email).await;
    let back = admin
        .plain_post(
            "create_app",
            "/admin/apps/new",
            &[
                ("app[name]", "Typed name 7"),
                ("app[kind]", "on-behalf-of-user"),
                ("app[redirect_uris][]", "https://app.example/cb#frag"),
                ("app[website_url]", "https://typed.example"),
                ("app[scopes][]", "email"),
                ("app[scopes][]", "orders:read"),
            ],
        )
        .await;
    assert!(back.contains("__err="), "{back}");
    let (s, html, _) = admin.get(&back).await;
    assert_eq!(s, 200);
    for typed in [
        "value=\"Typed name 7\"",
        "https://app.example/cb#frag</textarea>",
        "value=\"https://typed.example\"",
        "value=\"orders:read\"",
        "aria-invalid=\"true\"",
        "must not contain a fragment",
    ] {
        assert!(html.contains(typed), "{typed} in {html}");
    }
    // Once: the next visit is a fresh form.
    let (_, html, _) = admin.get("/admin/apps/new").await;
    assert!(!html.contains("Typed name 7"));

    // A password is never kept, even when the rest of the form is.
    let back = admin
        .plain_post(
            "create_user",
            "/admin/users",
            &[
                ("email", "not an email"),
                ("name", "Kept Name"),
                ("role", "member"),
                ("password", "the typed secret password"),
            ],
        )
        .await;
    let (_, html, _) = admin.get(&back).await;
    assert!(html.contains("value=\"Kept Name\""), "{html}");
    assert!(!html.contains("the typed secret password"));
    let kept = app
        .count("SELECT COUNT(*) FROM sessions WHERE data LIKE '%typed secret%'")
        .await;
    assert_eq!(kept, 0, "not in the session store either");
}
