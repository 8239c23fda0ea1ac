//! The audit viewer: filters, cursor paging, bounded queries, CSV and NDJSON exports (API
//! and portal), retention with a purge that keeps the chain verifiable, and the per-app
//! hourly chart. SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use latchkey::services::{self, Caller};
use serde_json::Value;

on_both!(
    filters_and_cursor_paging,
    exports_hold_the_filtered_set,
    the_portal_export_is_for_admins_only,
    retention_purges_and_the_chain_still_verifies,
    the_app_chart_counts_token_requests_per_hour,
);

/// Token requests: `ok` successful and `bad` refused (a scope the app is not allowed) for a
/// new app.
async fn token_requests(app: &TestApp, org: &Org, name: &str, ok: usize, bad: usize) -> String {
    let (client_id, secret, _) = app_token(app, org, &format!("read:audit {name}")).await;
    let http = reqwest::Client::new();
    for i in 0..ok + bad {
        let scope = if i < bad { "manage:org" } else { "" };
        http.post(format!("{}/oauth2/token", app.base))
            .basic_auth(&client_id, Some(&secret))
            .form(&[("grant_type", "client_credentials"), ("scope", scope)])
            .send()
            .await
            .unwrap();
    }
    client_id
}

async fn items(app: &TestApp, token: &str, query: &str) -> (u16, Value) {
    let (s, _, body) = api(app, "GET", &format!("/audit?{query}"), Some(token), None).await;
    (s, body)
}

async fn filters_and_cursor_paging(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let a = token_requests(&app, &org, "read:apps", 3, 2).await;
    let bee = token_requests(&app, &org, "read:users", 1, 0).await;
    let (_, _, token) = app_token(&app, &org, "read:audit").await;

    // By app: its 3 + 1 (app_token's own request) issued, 2 refused, and its creation.
    let (s, page) = items(&app, &token, &format!("app={a}&action=token.*&limit=200")).await;
    assert_eq!(s, 200, "{page}");
    let list = page["items"].as_array().unwrap();
    assert_eq!(list.len(), 6, "{page}");
    assert!(list.iter().all(|e| e["app_id"] == a.as_str()));
    let (_, failed) = items(&app, &token, &format!("app={a}&outcome=failure")).await;
    assert_eq!(failed["items"].as_array().unwrap().len(), 2);
    assert!(
        failed["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|e| e["action"] == "token.refused")
    );
    let (_, exact) = items(&app, &token, &format!("app={bee}&action=token.issued")).await;
    assert_eq!(exact["items"].as_array().unwrap().len(), 2);
    let (_, created) = items(&app, &token, &format!("app={a}&action=app.create")).await;
    assert_eq!(created["items"].as_array().unwrap().len(), 1);

    // Newest first, paged by cursor: every record once, in order, pages of 3.
    let (_, all) = items(&app, &token, "limit=200").await;
    let all_ids: Vec<i64> = all["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["id"].as_i64().unwrap())
        .collect();
    assert!(all_ids.windows(2).all(|w| w[0] > w[1]));
    let mut seen = Vec::new();
    let mut cursor = String::new();
    loop {
        let (_, page) = items(&app, &token, &format!("limit=3{cursor}")).await;
        seen.extend(
            page["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_i64().unwrap()),
        );
        match page["next"].as_i64() {
            Some(next) => cursor = format!("&before={next}"),
            None => break,
        }
    }
    // The listing's own API calls were audited meanwhile, above the first page.
    assert_eq!(&seen[seen.len() - all_ids.len()..], &all_ids[..]);

    // Time range: nothing before 2001, everything in [now-1h, now+1h).
    let now = services::now();
    let (_, none) = items(&app, &token, "to=2001-01-01").await;
    assert!(none["items"].as_array().unwrap().is_empty());
    let (_, some) = items(
        &app,
        &token,
        &format!("from={}&to={}", now - 3600, now + 3600),
    )
    .await;
    assert!(!some["items"].as_array().unwrap().is_empty());

    // Absurd sizes are bounded; bad filters are 422 with the field named.
    let (s, big) = items(&app, &token, "limit=100000000").await;
    assert_eq!(s, 200);
    assert!(big["items"].as_array().unwrap().len() <= 200);
    for bad in [
        "limit=lots",
        "from=yesterday",
        "outcome=maybe",
        "before=-1",
        "from=2026-02-02&to=2026-01-01",
    ] {
        let (s, body) = items(&app, &token, bad).await;
        assert_eq!(s, 422, "{bad}: {body}");
        assert_eq!(body["error"], "invalid", "{bad}");
    }
    let (s, _) = items(&app, &token, &format!("app={}", "x".repeat(5000))).await;
    assert_eq!(s, 422);

    // A wrong secret for an app of the organization is recorded there, unauthenticated; an
    // unknown client in no organization's log.
    for (client, secret) in [(a.as_str(), "wrong"), ("no-such-client", "x")] {
        reqwest::Client::new()
            .post(format!("{}/oauth2/token", app.base))
            .basic_auth(client, Some(secret))
            .form(&[("grant_type", "client_credentials")])
            .send()
            .await
            .unwrap();
    }
    let (_, refused) = items(&app, &token, &format!("app={a}&action=token.refused")).await;
    let refused = refused["items"].as_array().unwrap();
    assert_eq!(refused.len(), 3);
    assert_eq!(refused[0]["actor"], "anonymous");
    assert!(
        refused[0]["detail"]
            .as_str()
            .unwrap()
            .contains("\"client_authenticated\":false")
    );
    let (_, unknown) = items(&app, &token, "app=no-such-client").await;
    assert!(unknown["items"].as_array().unwrap().is_empty());

    // The user filter: what an admin did and what concerns the user.
    let member = app.add_user(&org, "member").await;
    let user_id = app.user_id(&org, &member).await;
    let (_, about) = items(&app, &token, &format!("user={user_id}")).await;
    let about = about["items"].as_array().unwrap();
    assert_eq!(about.len(), 1, "{about:?}");
    assert_eq!(about[0]["action"], "user.create");
}

async fn exports_hold_the_filtered_set(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let a = token_requests(&app, &org, "read:apps", 4, 3).await;
    let (_, _, token) = app_token(&app, &org, "read:audit").await;
    let export = |format: &'static str, query: String| {
        let (base, token) = (app.base.clone(), token.clone());
        async move {
            let res = reqwest::Client::new()
                .get(format!(
                    "{base}/api/v1/audit/export?format={format}&{query}"
                ))
                .bearer_auth(token)
                .send()
                .await
                .unwrap();
            let status = res.status().as_u16();
            let kind = res
                .headers()
                .get("content-type")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            let disposition = res
                .headers()
                .get("content-disposition")
                .map(|v| v.to_str().unwrap().to_string())
                .unwrap_or_default();
            (status, kind, disposition, res.text().await.unwrap())
        }
    };
    let (s, kind, disposition, csv) = export("csv", format!("app={a}&action=token.")).await;
    assert_eq!(s, 200);
    assert!(kind.starts_with("text/csv"), "{kind}");
    assert!(disposition.contains("audit.csv"));
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("id,at,org_id,actor_type"),
        "{}",
        lines[0]
    );
    assert_eq!(lines.len(), 1 + 8, "{csv}"); // 4 + 1 issued, 3 refused
    let (s, kind, _, nd) = export("ndjson", format!("app={a}&outcome=failure")).await;
    assert_eq!(s, 200);
    assert_eq!(kind, "application/x-ndjson");
    let records: Vec<Value> = nd
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 3);
    assert!(
        records
            .iter()
            .all(|r| r["action"] == "token.refused" && r["app_id"] == a.as_str())
    );
    // Detail with commas, quotes and newlines stays one CSV field.
    assert!(csv.contains("\"{\"\"grant_type\"\""), "{csv}");
    let (s, _, _, _) = export("xml", String::new()).await;
    assert_eq!(s, 422);
    // The export is a call like any other: scope-checked and audited.
    let (_, _, weak) = app_token(&app, &org, "read:apps").await;
    let (s, _, _) = api(&app, "GET", "/audit/export?format=csv", Some(&weak), None).await;
    assert_eq!(s, 403);
}

async fn the_portal_export_is_for_admins_only(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let other = app.org_with_admin("Other").await;
    token_requests(&app, &other, "read:apps", 2, 1).await;
    let admin = app.signed_in(&org.admin_email).await;
    let res = admin
        .http
        .get(format!("{}/admin/audit/export?format=ndjson", app.base))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let body = res.text().await.unwrap();
    let records: Vec<Value> = body
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert!(!records.is_empty());
    // Only this organization's records: another organization's never show.
    assert!(
        records.iter().all(|r| r["org_id"] == org.id.as_str()),
        "{body}"
    );
    let (s, _, _) = admin
        .get("/admin/audit/export?format=csv&from=garbage")
        .await;
    assert_eq!(s, 400);
    // A malformed filter in the page's URL: 400, the page says which and why.
    for bad in ["from=yesterday", "before=-1&limit=abc", "action=%00x"] {
        let (s, html, _) = admin.get(&format!("/admin/audit?{bad}")).await;
        assert_eq!(s, 400, "{bad}");
        assert!(
            html.contains("Check the request") && html.contains("<li>"),
            "{bad}: {html}"
        );
    }
    let (s, html, _) = admin.get("/admin/audit?from=yesterday").await;
    assert!(html.contains("from must be a time"), "{s} {html}");
    let (s, html, _) = admin.get("/admin/audit?action=login&outcome=success").await;
    assert_eq!(s, 200);
    assert!(html.contains("<code>login</code>"), "{html}");
    assert!(html.contains("/admin/audit/export?format=csv&amp;action=login&amp;outcome=success"));

    // An auditor reads and exports the log too; a member does not.
    let auditor = app.signed_in(&app.add_user(&org, "auditor").await).await;
    let (s, csv, _) = auditor.get("/admin/audit/export?format=csv").await;
    assert_eq!(s, 200, "{csv}");
    assert_eq!(auditor.call("list_audit", &[]).await.0, 200);
    let (s, html, _) = auditor.get("/admin/audit").await;
    assert_eq!(s, 200);
    assert!(html.contains("Audit log") && !html.contains("Not allowed"));
    assert_eq!(auditor.call("list_apps", &[]).await.0, 403);
    let member = app.signed_in(&app.add_user(&org, "member").await).await;
    let (s, _, _) = member.get("/admin/audit/export?format=csv").await;
    assert_eq!(s, 403);
    assert_eq!(member.call("list_audit", &[]).await.0, 403);
    let (s, _, _) = member.get("/admin/audit").await;
    assert_eq!(s, 403);
    let (s, _, _) = app.client().get("/admin/audit/export?format=csv").await;
    assert_eq!(s, 401);
}

async fn retention_purges_and_the_chain_still_verifies(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let other = app.org_with_admin("Other").await;
    token_requests(&app, &org, "read:apps", 5, 2).await;
    token_requests(&app, &other, "read:apps", 2, 0).await;
    let db = &app.state.db;
    let total = app
        .count(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE org_id = '{}'",
            org.id
        ))
        .await;
    // The oldest half of the records is made 40 days old.
    let keep_from: i64 = app
        .count(&format!(
            "SELECT id FROM audit_events WHERE org_id = '{}' ORDER BY id LIMIT 1 OFFSET {}",
            org.id,
            total / 2
        ))
        .await;
    sqlx::query("UPDATE audit_events SET at = at - 40 * 86400 WHERE org_id = $1 AND id < $2")
        .bind(&org.id)
        .bind(keep_from)
        .execute(&db.pool)
        .await
        .unwrap();
    // The hash covers `at`: re-chain as if the records had been written then.
    rechain(&app, &org.id).await;
    assert!(
        services::audit::verify(db, Some(&org.id)).await.unwrap()[0]
            .first_broken
            .is_none()
    );

    // Bad settings are refused; 30 days purges the old half only, in this organization only.
    for bad in ["0", "99999", "thirty"] {
        assert!(
            services::orgs::set_retention(
                db,
                &latchkey::services::Principal::operator_in(&org.id),
                bad
            )
            .await
            .is_err()
        );
    }
    services::orgs::set_retention(
        db,
        &latchkey::services::Principal::operator_in(&org.id),
        "30",
    )
    .await
    .unwrap();
    let purged = services::audit::purge_expired(db, &Caller::system())
        .await
        .unwrap();
    assert_eq!(purged, vec![(org.id.clone(), total / 2)]);
    let left = app
        .count(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE org_id = '{}' AND id < {keep_from}",
            org.id
        ))
        .await;
    assert_eq!(left, 0);
    let report = services::audit::verify(db, Some(&org.id)).await.unwrap();
    assert!(report[0].first_broken.is_none(), "{report:?}");
    let (_, _, token) = app_token(&app, &org, "read:audit").await;
    let (_, page) = items(&app, &token, "action=audit.purged").await;
    assert_eq!(
        page["items"][0]["detail"],
        format!("{{\"removed\":{},\"retention_days\":30}}", total / 2)
    );
    // Purging again removes nothing; the chain goes on verifying as records are added.
    assert!(
        services::audit::purge_expired(db, &Caller::system())
            .await
            .unwrap()
            .is_empty()
    );
    token_requests(&app, &org, "read:users", 1, 1).await;
    assert!(
        services::audit::verify(db, None)
            .await
            .unwrap()
            .iter()
            .all(|r| r.first_broken.is_none())
    );
    // Deleting the oldest remaining record is still detected after the checkpoint.
    sqlx::query(
        "DELETE FROM audit_events WHERE id = (SELECT MIN(id) FROM audit_events WHERE org_id = $1)",
    )
    .bind(&org.id)
    .execute(&db.pool)
    .await
    .unwrap();
    assert!(
        services::audit::verify(db, Some(&org.id)).await.unwrap()[0]
            .first_broken
            .is_some()
    );
}

/// Recomputes an organization's chain after a test moved records back in time.
async fn rechain(app: &TestApp, org_id: &str) {
    use sqlx::Row;
    let db = &app.state.db;
    let mut tx = db.begin().await.unwrap();
    let rows = sqlx::query("SELECT id FROM audit_events WHERE org_id = $1 ORDER BY id")
        .bind(org_id)
        .fetch_all(&mut *tx)
        .await
        .unwrap();
    let mut prev = String::new();
    for r in rows {
        let id: i64 = r.try_get("id").unwrap();
        let link = latchkey::store::audit::chain_page(&mut *tx, org_id, id - 1, 1)
            .await
            .unwrap()
            .remove(0);
        let hash = latchkey::store::audit::chain_hash(&prev, &link.row);
        sqlx::query("UPDATE audit_events SET prev_hash = $1, hash = $2 WHERE id = $3")
            .bind(&prev)
            .bind(&hash)
            .bind(id)
            .execute(&mut *tx)
            .await
            .unwrap();
        prev = hash;
    }
    sqlx::query("UPDATE audit_heads SET last_hash = $1 WHERE chain = $2")
        .bind(&prev)
        .bind(org_id)
        .execute(&mut *tx)
        .await
        .unwrap();
    tx.commit().await.unwrap();
}

async fn the_app_chart_counts_token_requests_per_hour(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let a = token_requests(&app, &org, "read:apps", 3, 2).await;
    // Two requests 30 hours ago.
    sqlx::query("UPDATE audit_events SET at = at - 30 * 3600 WHERE id IN (SELECT id FROM audit_events WHERE app_id = $1 AND action = 'token.refused')")
        .bind(&a)
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    let hours = services::audit::token_chart(
        &app.state.db,
        &latchkey::services::Principal::operator_in(&org.id),
        &a,
    )
    .await
    .unwrap();
    assert_eq!(hours.len(), 168);
    assert!(hours.windows(2).all(|w| w[1].hour == w[0].hour + 3600));
    let last = hours.last().unwrap();
    assert_eq!((last.issued, last.refused), (4, 0));
    assert_eq!(hours.iter().map(|h| h.refused).sum::<i64>(), 2);
    assert_eq!(hours[168 - 31].refused + hours[168 - 32].refused, 2);
    // The app's Activity tab shows it.
    let admin = app.signed_in(&org.admin_email).await;
    let (s, html, _) = admin.get(&format!("/admin/apps/{a}/activity")).await;
    assert_eq!(s, 200);
    assert!(html.contains("4 issued, 2 refused"), "{html}");
    // Another organization's app: not found, no chart.
    let other = app.org_with_admin("Other").await;
    let theirs = app.signed_in(&other.admin_email).await;
    let (s, html, _) = theirs.get(&format!("/admin/apps/{a}/activity")).await;
    assert!(!html.contains("issued"), "{s} {html}");
}
