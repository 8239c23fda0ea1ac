//! Business groups and environments: a pipeline given power in one environment of one
//! business group and nowhere else; group admins who manage their subtree and not its
//! parent, siblings or another organization; resource servers asking in a context
//! (introspection and the decision endpoint). SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

on_both!(
    a_pipeline_holds_power_in_sandbox_only,
    resource_servers_ask_in_a_context,
    group_admins_manage_their_subtree_only,
    deleting_a_group_ends_what_depended_on_it,
    existing_apps_keep_their_power_in_the_organization,
    a_move_ends_assignments_outside_their_app,
    limits_and_parallel_moves,
    an_app_for_users_in_a_group_acts_only_there,
    audit_records_are_read_by_business_group_and_environment,
);

/// The actions (with their object) of an audit page.
fn actions(page: &Value) -> Vec<(String, String)> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["action"].as_str().unwrap().to_string(),
                r["object"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn audit_records_are_read_by_business_group_and_environment(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let other = app.org_with_admin("Other").await;
    let admin = admin_token(&app, &org).await;
    let (pay, _, pay_sbx) = group(&app, &admin, "Payments", None).await;
    let (cards, _, _) = group(&app, &admin, "Cards", Some(&pay)).await;
    let (retail, _, _) = group(&app, &admin, "Retail", None).await;
    let (foreign, _, _) = group(&app, &admin_token(&app, &other).await, "Foreign", None).await;
    // A pipeline that lives in Payments' Sandbox gets a token; an app of Retail too.
    let job = ok(
        &app,
        "POST",
        &format!("/groups/{pay}/environments/{pay_sbx}/apps"),
        &admin,
        Some(ci("Sandbox job", "read:apps")),
    )
    .await;
    let (job_id, _, _) = client_token(&app, &job).await;
    let shop = ok(
        &app,
        "POST",
        &format!("/groups/{retail}/apps"),
        &admin,
        Some(ci("Shop job", "read:apps")),
    )
    .await;
    let (shop_id, _, _) = client_token(&app, &shop).await;
    let has = |page: &Value, action: &str, object: &str| {
        actions(page).contains(&(action.to_string(), object.to_string()))
    };

    // Payments: its own records, those of Cards below it and of the apps living there.
    let page = ok(
        &app,
        "GET",
        &format!("/audit?business_group={pay}"),
        &admin,
        None,
    )
    .await;
    assert!(
        has(&page, "group.create", &format!("business_group {pay}")),
        "{page}"
    );
    assert!(
        has(&page, "group.create", &format!("business_group {cards}")),
        "{page}"
    );
    assert!(has(&page, "app.create", &format!("app {job_id}")), "{page}");
    assert!(
        has(&page, "token.issued", &format!("app {job_id}")),
        "{page}"
    );
    assert!(
        !has(&page, "group.create", &format!("business_group {retail}")),
        "{page}"
    );
    assert!(
        !actions(&page).iter().any(|(_, o)| o.contains(&shop_id)),
        "{page}"
    );
    // Sandbox: the pipeline's records, not the group's own.
    let page = ok(
        &app,
        "GET",
        &format!("/audit?environment={pay_sbx}"),
        &admin,
        None,
    )
    .await;
    assert!(
        has(&page, "token.issued", &format!("app {job_id}")),
        "{page}"
    );
    assert!(
        !has(&page, "group.create", &format!("business_group {pay}")),
        "{page}"
    );
    // With another filter, and exported.
    let page = ok(
        &app,
        "GET",
        &format!("/audit?business_group={pay}&action=token.issued"),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        actions(&page),
        vec![("token.issued".into(), format!("app {job_id}"))]
    );
    // The organization as a whole: everything.
    let page = ok(
        &app,
        "GET",
        &format!("/audit?business_group={}", org.id),
        &admin,
        None,
    )
    .await;
    assert!(
        has(&page, "token.issued", &format!("app {shop_id}")),
        "{page}"
    );

    // Another organization's group, or an environment given with another group: not found.
    for q in [
        format!("business_group={foreign}"),
        format!("business_group={retail}&environment={pay_sbx}"),
        "environment=nope".to_string(),
    ] {
        let (s, _, v) = api(&app, "GET", &format!("/audit?{q}"), Some(&admin), None).await;
        assert_eq!(s, 404, "{q}: {v}");
    }

    // An auditor of Retail alone reads Retail's records, never Payments' nor the whole.
    let auditor = ok(
        &app,
        "POST",
        &format!("/groups/{retail}/apps"),
        &admin,
        Some(ci("Retail auditor", "read:audit")),
    )
    .await;
    let (_, _, retail_token) = client_token(&app, &auditor).await;
    let page = ok(
        &app,
        "GET",
        &format!("/audit?business_group={retail}"),
        &retail_token,
        None,
    )
    .await;
    assert!(
        has(&page, "token.issued", &format!("app {shop_id}")),
        "{page}"
    );
    for q in [
        format!("?business_group={pay}"),
        String::new(),
        format!("?environment={pay_sbx}"),
    ] {
        let (s, challenge, v) = api(
            &app,
            "GET",
            &format!("/audit{q}"),
            Some(&retail_token),
            None,
        )
        .await;
        assert_eq!(s, 403, "{q}: {v}");
        assert!(challenge.contains("read:audit"), "{challenge}");
    }
    let (s, _, _) = api(
        &app,
        "GET",
        &format!("/audit/export?format=ndjson&business_group={pay}"),
        Some(&retail_token),
        None,
    )
    .await;
    assert_eq!(s, 403);
}

async fn a_move_ends_assignments_outside_their_app(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let admin = admin_token(&app, &org).await;
    let (pay, _, _) = group(&app, &admin, "Payments", None).await;
    let (cards, _, _) = group(&app, &admin, "Cards", Some(&pay)).await;
    let job = ok(
        &app,
        "POST",
        &format!("/groups/{pay}/apps"),
        &admin,
        Some(ci("Pay job", "read:apps")),
    )
    .await;
    let id = job["client_id"].as_str().unwrap();
    let assigned = json!([{ "scope": "read:apps", "business_group": cards }]);
    ok(
        &app,
        "PUT",
        &format!("/apps/{id}/assignments"),
        &admin,
        Some(assigned),
    )
    .await;
    // Cards moves out of Payments: the Payments app's assignment there ends, audited.
    let moved = ok(
        &app,
        "PATCH",
        &format!("/groups/{cards}"),
        &admin,
        Some(json!({ "parent_id": org.id })),
    )
    .await;
    assert_eq!(moved["depth"], 1);
    assert_eq!(
        ok(
            &app,
            "GET",
            &format!("/apps/{id}/assignments"),
            &admin,
            None
        )
        .await,
        json!([])
    );
    let audit = ok(&app, "GET", "/audit?action=group.update", &admin, None).await;
    let detail: Value =
        serde_json::from_str(audit["items"][0]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["assignments_ended"], 1, "{audit}");
    // The organization-wide role is the membership's, never a group role.
    let user = app.add_user(&org, "member").await;
    let user_id = app.user_id(&org, &user).await;
    let (s, _, v) = api(
        &app,
        "PUT",
        &format!("/groups/{}/roles/{user_id}", org.id),
        Some(&admin),
        Some(json!({ "role": "admin" })),
    )
    .await;
    assert_eq!(s, 403, "{v}");
}

/// An app acting for users that lives in a business group holds nothing outside it, even
/// with an organization admin's token.
async fn an_app_for_users_in_a_group_acts_only_there(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let admin = admin_token(&app, &org).await;
    let (pay, _, _) = group(&app, &admin, "Payments", None).await;
    let (retail, _, _) = group(&app, &admin, "Retail", None).await;
    let web = json!({ "name": "Payments console", "kind": "on-behalf-of-user",
        "grant_types": ["password"], "scopes": ["full"] });
    let made = ok(
        &app,
        "POST",
        &format!("/groups/{pay}/apps"),
        &admin,
        Some(web),
    )
    .await;
    let (id, secret) = (
        made["client_id"].as_str().unwrap(),
        made["client_secret"].as_str().unwrap(),
    );
    let (s, t) = post_as_client(
        &app.base,
        "/oauth2/token",
        id,
        secret,
        &password_form(&org.admin_email, "full"),
    )
    .await;
    assert_eq!(s, 200, "{t}");
    let token = t["access_token"].as_str().unwrap();
    let me = ok(&app, "GET", "/me", token, None).await;
    assert_eq!(
        me["scopes"],
        json!([]),
        "nothing in the organization as a whole: {me}"
    );
    assert!(
        me["contexts"]
            .as_array()
            .unwrap()
            .iter()
            .all(|c| c["business_group"] == pay.as_str()),
        "{me}"
    );
    ok(
        &app,
        "POST",
        &format!("/groups/{pay}/apps"),
        token,
        Some(ci("Inside", "read:apps")),
    )
    .await;
    for path in [format!("/groups/{retail}/apps"), "/apps".to_string()] {
        let (s, _, v) = api(
            &app,
            "POST",
            &path,
            Some(token),
            Some(ci("Outside", "read:apps")),
        )
        .await;
        assert_eq!(s, 403, "{path}: {v}");
    }
}

/// An org-wide admin token (an own-behalf app with every platform scope).
async fn admin_token(app: &TestApp, org: &Org) -> String {
    app_token(
        app,
        org,
        "read:org manage:org read:users manage:users read:apps manage:apps read:audit",
    )
    .await
    .2
}

async fn ok(app: &TestApp, method: &str, path: &str, token: &str, body: Option<Value>) -> Value {
    let (s, _, v) = api(app, method, path, Some(token), body).await;
    assert_eq!(s, 200, "{method} {path}: {v}");
    v
}

/// A business group below `parent` (None: the organization): (its id, Production's id,
/// Sandbox's id).
async fn group(
    app: &TestApp,
    token: &str,
    name: &str,
    parent: Option<&str>,
) -> (String, String, String) {
    let g = ok(
        app,
        "POST",
        "/groups",
        token,
        Some(json!({ "name": name, "parent_id": parent })),
    )
    .await;
    let env = |n: &str| {
        g["environments"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["name"] == n)
            .unwrap()["id"]
            .as_str()
            .unwrap()
            .to_string()
    };
    (
        g["id"].as_str().unwrap().to_string(),
        env("Production"),
        env("Sandbox"),
    )
}

/// A client-credentials token of an app: (client id, secret, access token).
async fn client_token(app: &TestApp, created: &Value) -> (String, String, String) {
    let id = created["client_id"].as_str().unwrap().to_string();
    let secret = created["client_secret"].as_str().unwrap().to_string();
    let (s, t) = post_as_client(
        &app.base,
        "/oauth2/token",
        &id,
        &secret,
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    (id, secret, t["access_token"].as_str().unwrap().to_string())
}

/// An app made at `path` (`/apps`, or a group's or environment's), then given
/// `assignments`: the answer of its creation.
async fn assigned(
    app: &TestApp,
    token: &str,
    path: &str,
    body: Value,
    assignments: Value,
) -> Value {
    let created = ok(app, "POST", path, token, Some(body)).await;
    let id = created["client_id"].as_str().unwrap();
    ok(
        app,
        "PUT",
        &format!("/apps/{id}/assignments"),
        token,
        Some(assignments),
    )
    .await;
    created
}

fn ci(name: &str, scopes: &str) -> Value {
    json!({ "name": name, "kind": "own-behalf", "grant_types": ["client_credentials"], "scopes": [scopes] })
}

async fn a_pipeline_holds_power_in_sandbox_only(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let admin = admin_token(&app, &org).await;
    let (pay, pay_prod, pay_sbx) = group(&app, &admin, "Payments", None).await;
    let (retail, _, _) = group(&app, &admin, "Retail", None).await;

    // The pipeline lives in Payments; manage:apps in Sandbox, read:apps in Payments.
    let created = ok(
        &app,
        "POST",
        &format!("/groups/{pay}/apps"),
        &admin,
        Some(ci("Deployer", "read:apps manage:apps")),
    )
    .await;
    assert_eq!(created["app"]["business_group"], pay.as_str());
    let cid = created["client_id"].as_str().unwrap().to_string();
    let assigned = ok(
        &app,
        "PUT",
        &format!("/apps/{cid}/assignments"),
        &admin,
        Some(json!([
            { "scope": "manage:apps", "business_group": pay, "environment": pay_sbx },
            { "scope": "read:apps", "business_group": pay },
        ])),
    )
    .await;
    assert_eq!(assigned.as_array().unwrap().len(), 2, "{assigned}");
    let (_, _, token) = client_token(&app, &created).await;

    // It creates an app in Sandbox, and is refused in Production, in Payments as a whole,
    // in a sibling and in the organization.
    let made = ok(
        &app,
        "POST",
        &format!("/groups/{pay}/environments/{pay_sbx}/apps"),
        &token,
        Some(ci("Sandbox job", "read:apps")),
    )
    .await;
    // Nobody hands out what they do not hold: an app made in Sandbox with manage:users.
    let (s, challenge, v) = api(
        &app,
        "POST",
        &format!("/groups/{pay}/environments/{pay_sbx}/apps"),
        Some(&token),
        Some(ci("Escalator", "read:apps manage:users")),
    )
    .await;
    assert_eq!(s, 403, "{v}");
    assert!(challenge.contains("manage:users"), "{challenge}");
    // Nor assigns what it does not hold: an app an admin made in Sandbox with manage:users.
    let mixed = ok(
        &app,
        "POST",
        &format!("/groups/{pay}/environments/{pay_sbx}/apps"),
        &admin,
        Some(ci("Mixed", "read:apps manage:users")),
    )
    .await;
    let mixed_id = mixed["client_id"].as_str().unwrap();
    let wider = json!([{ "scope": "manage:users", "business_group": pay, "environment": pay_sbx }]);
    let (s, challenge, v) = api(
        &app,
        "PUT",
        &format!("/apps/{mixed_id}/assignments"),
        Some(&token),
        Some(wider),
    )
    .await;
    assert_eq!(s, 403, "{v}");
    assert!(challenge.contains("manage:users"), "{challenge}");
    ok(&app, "DELETE", &format!("/apps/{mixed_id}"), &admin, None).await;
    assert_eq!(made["app"]["environment"], pay_sbx.as_str());
    for path in [
        format!("/groups/{pay}/environments/{pay_prod}/apps"),
        format!("/groups/{pay}/apps"),
        format!("/groups/{retail}/apps"),
        "/apps".to_string(),
    ] {
        let (s, challenge, body) = api(
            &app,
            "POST",
            &path,
            Some(&token),
            Some(ci("Nope", "read:apps")),
        )
        .await;
        assert_eq!(s, 403, "{path}: {body}");
        assert!(
            challenge.contains("insufficient_scope") && challenge.contains("manage:apps"),
            "{challenge}"
        );
    }
    // It reads in Payments and its environments, not in the sibling.
    let listed = ok(
        &app,
        "GET",
        &format!("/groups/{pay}/environments/{pay_sbx}/apps"),
        &token,
        None,
    )
    .await;
    assert_eq!(listed["items"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["items"][0]["name"], "Sandbox job");
    ok(&app, "GET", &format!("/groups/{pay}/apps"), &token, None).await;
    let (s, _, _) = api(
        &app,
        "GET",
        &format!("/groups/{retail}/apps"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 403);
    // The new app, made in Sandbox, holds its scope in Sandbox only.
    let made_id = made["client_id"].as_str().unwrap();
    let its = ok(
        &app,
        "GET",
        &format!("/apps/{made_id}/assignments"),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        its,
        json!([{ "scope": "read:apps", "business_group": pay, "environment": pay_sbx }])
    );
    // What it may do where, as /me says.
    let me = ok(&app, "GET", "/me", &token, None).await;
    assert_eq!(
        me["scopes"],
        json!([]),
        "nothing in the organization as a whole: {me}"
    );
    let contexts = me["contexts"].as_array().unwrap();
    let at = |env: Option<&str>| {
        contexts
            .iter()
            .find(|c| c["business_group"] == pay.as_str() && c["environment"].as_str() == env)
            .map(|c| c["scopes"].clone())
    };
    assert_eq!(
        at(Some(&pay_sbx)),
        Some(json!(["read:apps", "manage:apps"])),
        "{me}"
    );
    assert_eq!(at(Some(&pay_prod)), Some(json!(["read:apps"])), "{me}");
    assert_eq!(at(None), Some(json!(["read:apps"])), "{me}");
    assert!(
        !contexts
            .iter()
            .any(|c| c["business_group"] == retail.as_str()),
        "{me}"
    );
}

async fn resource_servers_ask_in_a_context(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let other = app.org_with_admin("Other").await;
    let admin = admin_token(&app, &org).await;
    let (pay, pay_prod, pay_sbx) = group(&app, &admin, "Payments", None).await;
    let other_admin = admin_token(&app, &other).await;
    let (foreign, _, _) = group(&app, &other_admin, "Foreign", None).await;
    let created = assigned(
        &app,
        &admin,
        "/apps",
        ci("Deployer", "manage:apps read:apps"),
        json!([
            { "scope": "manage:apps", "business_group": pay, "environment": pay_sbx },
        ]),
    )
    .await;
    let (_, _, token) = client_token(&app, &created).await;
    // The resource server: a confidential app of the organization.
    let rs = ok(
        &app,
        "POST",
        "/apps",
        &admin,
        Some(ci("Orders API", "read:org")),
    )
    .await;
    let (rs_id, rs_secret) = (
        rs["client_id"].as_str().unwrap(),
        rs["client_secret"].as_str().unwrap(),
    );

    let introspect = async |extra: &[(&str, &str)]| {
        let mut form = vec![("token", token.as_str())];
        form.extend_from_slice(extra);
        let (s, v) = post_as_client(&app.base, "/oauth2/introspect", rs_id, rs_secret, &form).await;
        assert_eq!(s, 200, "{v}");
        v
    };
    let plain = introspect(&[]).await;
    assert_eq!(plain["active"], true);
    // Without a context: what holds in the organization as a whole, which is nothing.
    assert_eq!(plain["scope"], "", "assigned in Sandbox only: {plain}");
    let sbx = introspect(&[("business_group", &pay), ("environment", &pay_sbx)]).await;
    assert_eq!(
        (sbx["scope"].as_str(), sbx["environment"].as_str()),
        (Some("manage:apps"), Some(pay_sbx.as_str())),
        "{sbx}"
    );
    let prod = introspect(&[("business_group", &pay), ("environment", &pay_prod)]).await;
    assert_eq!(prod["scope"], "", "{prod}");
    let elsewhere = introspect(&[("business_group", &foreign)]).await;
    assert_eq!(
        elsewhere["scope"], "",
        "another organization's group holds nothing: {elsewhere}"
    );
    let (s, v) = post_as_client(
        &app.base,
        "/oauth2/introspect",
        rs_id,
        rs_secret,
        &[("token", &token), ("environment", &pay_sbx)],
    )
    .await;
    assert_eq!(
        (s, v["error"].as_str()),
        (400, Some("invalid_request")),
        "{v}"
    );

    // The decision endpoint: allow or deny, with the reason.
    let decide = async |action: &str, resource: Value| {
        let res = reqwest::Client::new()
            .post(format!("{}/access/v1/evaluation", app.base))
            .basic_auth(rs_id, Some(rs_secret))
            .json(&json!({ "subject": { "type": "token", "id": token }, "action": { "name": action }, "resource": resource }))
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        (status, res.json::<Value>().await.unwrap())
    };
    let env = |e: &str| json!({ "type": "environment", "id": e, "properties": { "business_group": pay } });
    let (s, d) = decide("manage:apps", env(&pay_sbx)).await;
    assert_eq!((s, &d["decision"]), (200, &json!(true)), "{d}");
    assert!(
        d["context"]["reason"]
            .as_str()
            .unwrap()
            .contains("Sandbox of business group Payments"),
        "{d}"
    );
    let (_, d) = decide("manage:apps", env(&pay_prod)).await;
    assert_eq!(d["decision"], false, "{d}");
    assert!(
        d["context"]["reason"]
            .as_str()
            .unwrap()
            .contains("no assignment"),
        "{d}"
    );
    let (_, d) = decide("manage:users", env(&pay_sbx)).await;
    assert_eq!(d["decision"], false);
    assert!(
        d["context"]["reason"]
            .as_str()
            .unwrap()
            .contains("does not carry"),
        "{d}"
    );
    let (_, d) = decide(
        "manage:apps",
        json!({ "type": "business_group", "id": foreign }),
    )
    .await;
    assert_eq!(d["decision"], false);
    assert!(
        d["context"]["reason"].as_str().unwrap().contains("no such"),
        "{d}"
    );
    // An environment named under the wrong group is no place.
    let (_, d) = decide(
        "manage:apps",
        json!({ "type": "environment", "id": pay_sbx, "properties": { "business_group": org.id } }),
    )
    .await;
    assert_eq!(d["decision"], false, "{d}");
    let (s, d) = decide("manage:apps", json!({ "type": "printer", "id": "x" })).await;
    assert_eq!(
        (s, d["error"].as_str()),
        (400, Some("invalid_request")),
        "{d}"
    );
    // Another organization's resource server learns nothing of the token.
    let ors = ok(
        &app,
        "POST",
        "/apps",
        &other_admin,
        Some(ci("Spy", "read:org")),
    )
    .await;
    let res = reqwest::Client::new()
        .post(format!("{}/access/v1/evaluation", app.base))
        .basic_auth(ors["client_id"].as_str().unwrap(), Some(ors["client_secret"].as_str().unwrap()))
        .json(&json!({ "subject": { "type": "token", "id": token }, "action": { "name": "manage:apps" }, "resource": env(&pay_sbx) }))
        .send()
        .await
        .unwrap();
    let d: Value = res.json().await.unwrap();
    assert_eq!(d["decision"], false);
    assert_eq!(d["context"]["reason"], "the token is not active");
    // Without client authentication: refused.
    let res = reqwest::Client::new()
        .post(format!("{}/access/v1/evaluation", app.base))
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 401);
}

async fn group_admins_manage_their_subtree_only(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let other = app.org_with_admin("Other").await;
    let admin = admin_token(&app, &org).await;
    let (pay, pay_prod, pay_sbx) = group(&app, &admin, "Payments", None).await;
    let (retail, retail_prod, _) = group(&app, &admin, "Retail", None).await;
    let other_admin = admin_token(&app, &other).await;
    let (foreign, _, _) = group(&app, &other_admin, "Foreign", None).await;

    // Bob is a member of the organization and an admin of Payments.
    let bob = app.add_user(&org, "member").await;
    let bob_id = app.user_id(&org, &bob).await;
    ok(
        &app,
        "PUT",
        &format!("/groups/{pay}/roles/{bob_id}"),
        &admin,
        Some(json!({ "role": "admin" })),
    )
    .await;
    let web = app
        .register_app(&org.id, &for_users("Console", "full"), "")
        .await;
    let (web_id, web_secret) = (
        web.0.client_id.clone(),
        web.1.unwrap().expose_secret().to_string(),
    );
    let (s, t) = post_as_client(
        &app.base,
        "/oauth2/token",
        &web_id,
        &web_secret,
        &password_form(&bob, "full"),
    )
    .await;
    assert_eq!(s, 200, "{t}");
    let token = t["access_token"].as_str().unwrap().to_string();

    // Inside Payments: a group below, an environment, an app.
    let (cards, _, _) = group(&app, &token, "Cards", Some(&pay)).await;
    ok(
        &app,
        "POST",
        &format!("/groups/{pay}/environments"),
        &token,
        Some(json!({ "name": "Design", "type": "design" })),
    )
    .await;
    ok(
        &app,
        "PATCH",
        &format!("/groups/{cards}"),
        &token,
        Some(json!({ "name": "Card issuing" })),
    )
    .await;
    let card_job = ok(
        &app,
        "POST",
        &format!("/groups/{cards}/apps"),
        &token,
        Some(ci("Card job", "read:apps")),
    )
    .await;
    // The apps of his subtree are his to manage one by one, as the organization's admins do.
    let card_id = card_job["client_id"].as_str().unwrap().to_string();
    let retail_job = ok(
        &app,
        "POST",
        &format!("/groups/{retail}/apps"),
        &admin,
        Some(ci("Retail job", "read:apps")),
    )
    .await;
    let root_job = ok(
        &app,
        "POST",
        "/apps",
        &admin,
        Some(ci("Root job", "read:apps")),
    )
    .await;
    let one_app_ops = |id: &str| -> Vec<(&'static str, String, Option<Value>)> {
        vec![
            ("GET", format!("/apps/{id}"), None),
            (
                "PUT",
                format!("/apps/{id}"),
                Some(
                    json!({ "name": format!("Renamed {id}"), "kind": "own-behalf",
                             "grant_types": ["client_credentials"], "scopes": ["read:apps"] }),
                ),
            ),
            ("POST", format!("/apps/{id}/disable"), None),
            ("POST", format!("/apps/{id}/enable"), None),
            ("POST", format!("/apps/{id}/secrets"), None),
            ("GET", format!("/apps/{id}/authorizations"), None),
        ]
    };
    for (method, path, body) in one_app_ops(&card_id) {
        ok(&app, method, &path, &token, body).await;
    }
    for other in [&retail_job, &root_job] {
        let id = other["client_id"].as_str().unwrap();
        for (method, path, body) in one_app_ops(id) {
            let (s, _, v) = api(&app, method, &path, Some(&token), body).await;
            // Reading holds by his membership's role (a member reads the organization's
            // apps); every change needs manage:apps where the app lives.
            let expected = if method == "GET" { 200 } else { 403 };
            assert_eq!(s, expected, "{method} {path}: {v}");
        }
        let (s, _, v) = api(&app, "DELETE", &format!("/apps/{id}"), Some(&token), None).await;
        assert_eq!(s, 403, "DELETE {id}: {v}");
    }
    // Its parent, its sibling: refused.
    let refused: Vec<(&str, String, Value)> = vec![
        ("POST", "/groups".into(), json!({ "name": "At the root" })),
        (
            "PATCH",
            format!("/groups/{retail}"),
            json!({ "name": "Mine now" }),
        ),
        (
            "POST",
            format!("/groups/{retail}/environments"),
            json!({ "name": "X", "type": "sandbox" }),
        ),
        (
            "POST",
            format!("/groups/{retail}/apps"),
            ci("Sneaky", "read:apps"),
        ),
        (
            "POST",
            format!("/groups/{retail}/environments/{retail_prod}/apps"),
            ci("Sneaky", "read:apps"),
        ),
        ("DELETE", format!("/groups/{pay}"), Value::Null),
        (
            "PATCH",
            format!("/groups/{org_id}", org_id = org.id),
            json!({ "name": "Renamed" }),
        ),
        (
            "PATCH",
            format!("/groups/{cards}"),
            json!({ "parent_id": retail }),
        ),
        (
            "PUT",
            format!("/groups/{retail}/roles/{bob_id}"),
            json!({ "role": "admin" }),
        ),
        ("POST", "/apps".into(), ci("Root app", "read:apps")),
    ];
    for (method, path, body) in &refused {
        let body = (!body.is_null()).then(|| body.clone());
        let (s, _, v) = api(&app, method, path, Some(&token), body).await;
        assert_eq!(s, 403, "{method} {path}: {v}");
    }
    // Another organization's group: not found, whatever the operation.
    for (method, path) in [
        ("GET", format!("/groups/{foreign}")),
        ("PATCH", format!("/groups/{foreign}")),
        ("DELETE", format!("/groups/{foreign}")),
        ("POST", format!("/groups/{foreign}/environments")),
        ("POST", format!("/groups/{foreign}/apps")),
        ("GET", format!("/groups/{foreign}/apps")),
    ] {
        let body = match method {
            "GET" | "DELETE" => None,
            _ if path.ends_with("/apps") => Some(ci("X", "read:apps")),
            "PATCH" => Some(json!({ "name": "X" })),
            _ => Some(json!({ "name": "X", "type": "sandbox" })),
        };
        for t in [&token, &admin] {
            let (s, _, v) = api(&app, method, &path, Some(t), body.clone()).await;
            assert_eq!(s, 404, "{method} {path}: {v}");
        }
    }
    // A move below its own descendant, and a parent in another organization: refused.
    let (s, _, v) = api(
        &app,
        "PATCH",
        &format!("/groups/{pay}"),
        Some(&admin),
        Some(json!({ "parent_id": cards })),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert_eq!(v["fields"][0]["field"], "parent", "{v}");
    let (s, _, v) = api(
        &app,
        "POST",
        "/groups",
        Some(&admin),
        Some(json!({ "name": "Stray", "parent_id": foreign })),
    )
    .await;
    assert_eq!(s, 404, "{v}");
    // Assignments only to places of the organization, within where the app lives.
    let cd = ok(
        &app,
        "POST",
        "/apps",
        &admin,
        Some(ci("Placer", "manage:apps")),
    )
    .await;
    let cd_id = cd["client_id"].as_str().unwrap();
    for wrong in [
        json!([{ "scope": "manage:apps", "business_group": foreign }]),
        json!([{ "scope": "manage:apps", "business_group": retail, "environment": pay_sbx }]),
        json!([{ "scope": "manage:users", "business_group": pay }]),
        json!([{ "scope": "manage:apps", "business_group": "deleted-or-never" }]),
    ] {
        let (s, _, v) = api(
            &app,
            "PUT",
            &format!("/apps/{cd_id}/assignments"),
            Some(&admin),
            Some(wrong.clone()),
        )
        .await;
        assert_eq!(s, 422, "{wrong}: {v}");
    }
    // A role in one environment: Carol administers Payments' Sandbox and nothing else; Bob,
    // an admin of Payments, gives it.
    let carol = app.add_user(&org, "member").await;
    let carol_id = app.user_id(&org, &carol).await;
    let sandbox_admin = json!({ "role": "admin", "environment": pay_sbx });
    ok(
        &app,
        "PUT",
        &format!("/groups/{pay}/roles/{carol_id}"),
        &token,
        Some(sandbox_admin),
    )
    .await;
    let user_token = async |email: &str| {
        let (s, t) = post_as_client(
            &app.base,
            "/oauth2/token",
            &web_id,
            &web_secret,
            &password_form(email, "full"),
        )
        .await;
        assert_eq!(s, 200, "{t}");
        t["access_token"].as_str().unwrap().to_string()
    };
    let carol_token = user_token(&carol).await;
    let in_sandbox = format!("/groups/{pay}/environments/{pay_sbx}/apps");
    ok(
        &app,
        "POST",
        &in_sandbox,
        &carol_token,
        Some(ci("Carol's job", "read:apps")),
    )
    .await;
    for path in [
        format!("/groups/{pay}/environments/{pay_prod}/apps"),
        format!("/groups/{pay}/apps"),
    ] {
        let (s, _, v) = api(
            &app,
            "POST",
            &path,
            Some(&carol_token),
            Some(ci("Too far", "read:apps")),
        )
        .await;
        assert_eq!(s, 403, "{path}: {v}");
    }
    // Taken back: she holds what she inherits (a member's) there again.
    let (s, _, v) = api(
        &app,
        "DELETE",
        &format!("/groups/{pay}/roles/{carol_id}?environment={pay_sbx}"),
        Some(&token),
        None,
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, _, _) = api(
        &app,
        "POST",
        &in_sandbox,
        Some(&carol_token),
        Some(ci("Again", "read:apps")),
    )
    .await;
    assert_eq!(s, 403);
    // Bob cannot take power from those above him inside Payments: an organization admin
    // set to member there is still its admin.
    let root_admin = app.user_id(&org, &org.admin_email).await;
    ok(
        &app,
        "PUT",
        &format!("/groups/{pay}/roles/{root_admin}"),
        &token,
        Some(json!({ "role": "member" })),
    )
    .await;
    let admin_user = user_token(&org.admin_email).await;
    ok(
        &app,
        "POST",
        &format!("/groups/{pay}/apps"),
        &admin_user,
        Some(ci("Still mine", "read:apps")),
    )
    .await;
}

async fn deleting_a_group_ends_what_depended_on_it(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let admin = admin_token(&app, &org).await;
    let (pay, _, pay_sbx) = group(&app, &admin, "Payments", None).await;
    let (cards, _, _) = group(&app, &admin, "Cards", Some(&pay)).await;
    let created = assigned(
        &app,
        &admin,
        "/apps",
        ci("Deployer", "manage:apps read:apps"),
        json!([
            { "scope": "manage:apps", "business_group": pay, "environment": pay_sbx },
            { "scope": "read:apps", "business_group": cards },
        ]),
    )
    .await;
    let cid = created["client_id"].as_str().unwrap();
    let (_, _, token) = client_token(&app, &created).await;
    let user = app.add_user(&org, "member").await;
    let user_id = app.user_id(&org, &user).await;
    ok(
        &app,
        "PUT",
        &format!("/groups/{cards}/roles/{user_id}"),
        &admin,
        Some(json!({ "role": "admin" })),
    )
    .await;
    let made = ok(
        &app,
        "POST",
        &format!("/groups/{cards}/apps"),
        &admin,
        Some(ci("Card job", "read:apps")),
    )
    .await;

    // Not while a group or an app is below it.
    let (s, _, v) = api(
        &app,
        "DELETE",
        &format!("/groups/{pay}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(s, 409, "{v}");
    let (s, _, v) = api(
        &app,
        "DELETE",
        &format!("/groups/{cards}"),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(s, 409, "{v}");
    let made_id = made["client_id"].as_str().unwrap();
    ok(&app, "DELETE", &format!("/apps/{made_id}"), &admin, None).await;
    ok(&app, "DELETE", &format!("/groups/{cards}"), &admin, None).await;
    // What was given in it ended: the assignment and the role, audited.
    let left = ok(
        &app,
        "GET",
        &format!("/apps/{cid}/assignments"),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        left,
        json!([{ "scope": "manage:apps", "business_group": pay, "environment": pay_sbx }])
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM group_roles WHERE user_id = '{user_id}'"
        ))
        .await,
        0
    );
    let audit = ok(&app, "GET", "/audit?action=group.delete", &admin, None).await;
    let detail: Value =
        serde_json::from_str(audit["items"][0]["detail"].as_str().unwrap()).unwrap();
    assert_eq!(detail["assignments_ended"], 1, "{audit}");
    assert_eq!(detail["roles_ended"], 1, "{audit}");
    // Deleting an environment ends its assignments too; the pipeline can do nothing more.
    let (s, _, _) = api(
        &app,
        "POST",
        &format!("/groups/{pay}/environments/{pay_sbx}/apps"),
        Some(&token),
        // What it holds there itself, and nothing more, is what it may hand out.
        Some(ci("Before", "manage:apps")),
    )
    .await;
    assert_eq!(s, 200);
    let before = ok(
        &app,
        "GET",
        &format!("/groups/{pay}/environments/{pay_sbx}/apps"),
        &admin,
        None,
    )
    .await;
    for a in before["items"].as_array().unwrap() {
        ok(
            &app,
            "DELETE",
            &format!("/apps/{}", a["client_id"].as_str().unwrap()),
            &admin,
            None,
        )
        .await;
    }
    ok(
        &app,
        "DELETE",
        &format!("/groups/{pay}/environments/{pay_sbx}"),
        &admin,
        None,
    )
    .await;
    assert_eq!(
        ok(
            &app,
            "GET",
            &format!("/apps/{cid}/assignments"),
            &admin,
            None
        )
        .await,
        json!([])
    );
    let me = ok(&app, "GET", "/me", &token, None).await;
    assert_eq!(me["contexts"], json!([]), "{me}");
    // The organization itself is neither deleted nor moved here.
    let (s, _, _) = api(
        &app,
        "DELETE",
        &format!("/groups/{}", org.id),
        Some(&admin),
        None,
    )
    .await;
    assert_eq!(s, 403);
}

/// Apps made before business groups, and apps made at the organization: their scopes hold
/// in the whole organization, as before.
async fn existing_apps_keep_their_power_in_the_organization(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let (_, _, token) = app_token(&app, &org, "read:org manage:org read:apps").await;
    let g = group(&app, &token, "Payments", None).await;
    let me = ok(&app, "GET", "/me", &token, None).await;
    assert_eq!(
        me["scopes"],
        json!(["read:org", "manage:org", "read:apps"]),
        "{me}"
    );
    let listed = ok(&app, "GET", &format!("/groups/{}/apps", g.0), &token, None).await;
    assert_eq!(listed["items"], json!([]));
    // The organization's groups, the organization first with its two environments.
    let groups = ok(&app, "GET", "/groups", &token, None).await;
    let groups = groups.as_array().unwrap();
    assert_eq!(groups[0]["id"], org.id.as_str());
    assert_eq!(groups[0]["parent_id"], Value::Null);
    assert_eq!(groups[0]["environments"].as_array().unwrap().len(), 2);
    assert_eq!(groups[1]["name"], "Payments");
    assert_eq!(groups[1]["depth"], 1);
}

/// A group has at most 20 environments; two moves at once that would make a cycle: one
/// of them is refused (the tree is checked again under a lock inside the transaction).
async fn limits_and_parallel_moves(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let admin = admin_token(&app, &org).await;
    let (pay, _, _) = group(&app, &admin, "Payments", None).await;
    for i in 0..18 {
        let env = json!({ "name": format!("Env {i}"), "type": "design" });
        ok(
            &app,
            "POST",
            &format!("/groups/{pay}/environments"),
            &admin,
            Some(env),
        )
        .await;
    }
    let env = json!({ "name": "One too many", "type": "design" });
    let (s, _, v) = api(
        &app,
        "POST",
        &format!("/groups/{pay}/environments"),
        Some(&admin),
        Some(env),
    )
    .await;
    assert_eq!(s, 409, "{v}");
    for round in 0..5 {
        let (a, _, _) = group(&app, &admin, &format!("A{round}"), None).await;
        let (b, _, _) = group(&app, &admin, &format!("B{round}"), None).await;
        let (path_a, path_b) = (format!("/groups/{a}"), format!("/groups/{b}"));
        let (first, second) = tokio::join!(
            api(
                &app,
                "PATCH",
                &path_a,
                Some(&admin),
                Some(json!({ "parent_id": b }))
            ),
            api(
                &app,
                "PATCH",
                &path_b,
                Some(&admin),
                Some(json!({ "parent_id": a }))
            ),
        );
        let mut statuses = [first.0, second.0];
        statuses.sort();
        assert_eq!(statuses, [200, 422], "round {round}: {first:?} {second:?}");
    }
    // Every group still hangs from the organization: each one's depth is known.
    let groups = ok(&app, "GET", "/groups", &admin, None).await;
    let groups = groups.as_array().unwrap();
    assert_eq!(groups.len(), 1 + 1 + 10, "{groups:?}");
    assert!(
        groups.iter().all(|g| g["depth"].as_u64().unwrap() <= 2),
        "{groups:?}"
    );
}
