//! The portal's business groups: the groups page and a group's page (create, rename, move,
//! delete, environments, roles), the apps list filtered by business group, apps created in
//! a group, and an app's Add Scopes dialog; a group's admin who sees and manages only their
//! subtree, and cannot assign an app's scopes in a sibling group through the portal.
//! SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use serde_json::{Value, json};

on_both!(
    groups_are_created_renamed_moved_and_deleted_from_the_portal,
    roles_are_given_and_taken_back_by_e_mail,
    a_group_admin_sees_and_manages_only_their_subtree,
    apps_live_in_a_group_and_the_list_filters_by_it,
    the_add_scopes_dialog_assigns_in_context,
    a_group_admin_cannot_assign_in_a_sibling_group,
);

/// Creates a group through the portal: its id.
async fn group(c: &Browser, name: &str, parent: &str) -> String {
    let (status, body) = c
        .act("create_group", &[("name", name), ("parent", parent)])
        .await;
    assert_eq!(status, 200, "create_group {name}: {body}");
    body.as_str().unwrap().to_string()
}

async fn detail(c: &Browser, id: &str) -> Value {
    let (status, body) = c.call("get_group", &[("id", id)]).await;
    assert_eq!(status, 200, "get_group: {body}");
    body
}

fn env_id(detail: &Value, name: &str) -> String {
    detail["group"]["environments"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap_or_else(|| panic!("no {name}: {detail}"))["id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap_or_else(|| panic!("not a list: {list}"))
        .iter()
        .map(|g| g["name"].as_str().unwrap().to_string())
        .collect()
}

async fn groups_are_created_renamed_moved_and_deleted_from_the_portal(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = app.signed_in(&org.admin_email).await;
    let pay = group(&c, "Payments", "").await;
    let cards = group(&c, "Cards", &pay).await;
    let hr = group(&c, "HR", &org.id).await;
    // The tree depth first, the organization first.
    let (_, list) = c.call("list_groups", &[]).await;
    assert_eq!(names(&list), ["Acme", "HR", "Payments", "Cards"], "{list}");
    assert_eq!(list[3]["depth"], 2);
    assert_eq!(list[2]["children"], 1);
    assert_eq!(list[0]["parent_id"], Value::Null);
    // A new group starts with Production and Sandbox; another environment is added.
    let (s, body) = c
        .act(
            "add_environment",
            &[
                ("group", &cards),
                ("env_name", "Design"),
                ("env_type", "design"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = c
        .act(
            "add_environment",
            &[
                ("group", &cards),
                ("env_name", "QA"),
                ("env_type", "staging"),
            ],
        )
        .await;
    assert_eq!(s, 422);
    assert!(field_error(&body, "type").is_some(), "{body}");
    let d = detail(&c, &cards).await;
    let mut envs: Vec<&str> = d["group"]["environments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    envs.sort();
    assert_eq!(envs, ["Design", "Production", "Sandbox"]);
    assert_eq!(d["parent_name"], "Payments");
    // It may move below the organization or HR, never below itself.
    let parents = names(&d["parents"]);
    assert_eq!(parents, ["Acme", "HR", "Payments"], "{d}");
    // A move below its own descendant is refused with the field named.
    let (s, body) = c
        .act(
            "update_group",
            &[
                ("id", &pay),
                ("group_name", "Payments"),
                ("group_parent", &cards),
            ],
        )
        .await;
    assert_eq!(s, 422, "{body}");
    assert!(
        field_error(&body, "parent").unwrap().contains("below"),
        "{body}"
    );
    // Renamed and moved below HR.
    let (s, body) = c
        .act(
            "update_group",
            &[
                ("id", &cards),
                ("group_name", "Card issuing"),
                ("group_parent", &hr),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let d = detail(&c, &cards).await;
    assert_eq!(
        (d["group"]["name"].as_str(), d["parent_name"].as_str()),
        (Some("Card issuing"), Some("HR"))
    );
    // A group with a group below it is not deleted; an empty one is.
    let (s, body) = c.act("delete_group", &[("id", &hr)]).await;
    assert_eq!(s, 422, "{body}");
    assert!(field_error(&body, "business_group").is_some(), "{body}");
    let (s, body) = c.act("delete_group", &[("id", &cards)]).await;
    assert_eq!(s, 200, "{body}");
    let (_, list) = c.call("list_groups", &[]).await;
    assert_eq!(names(&list), ["Acme", "HR", "Payments"]);
    // An environment is deleted too.
    let d = detail(&c, &pay).await;
    let sbx = env_id(&d, "Sandbox");
    let (s, body) = c
        .act("delete_environment", &[("group", &pay), ("env", &sbx)])
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        detail(&c, &pay).await["group"]["environments"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    // The pages render.
    for path in ["/admin/groups".to_string(), format!("/admin/groups/{pay}")] {
        let (s, html, _) = c.get(&path).await;
        assert_eq!(s, 200, "{path}");
        assert!(html.contains("Payments"), "{path}");
    }
    // A plain form post that fails comes back to the page with what was typed.
    let back = c
        .plain_post(
            "create_group",
            "/admin/groups",
            &[("name", ""), ("parent", &pay)],
        )
        .await;
    assert!(back.starts_with("/admin/groups"), "{back}");
    let (_, html, _) = c.get(&back).await;
    assert!(html.contains("aria-invalid=\"true\""), "{html}");
}

async fn roles_are_given_and_taken_back_by_e_mail(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = app.signed_in(&org.admin_email).await;
    let pay = group(&c, "Payments", "").await;
    let user = app.add_user(&org, "member").await;
    let user_id = app.user_id(&org, &user).await;
    let d = detail(&c, &pay).await;
    assert!(
        d["members"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["email"] == user.as_str()),
        "the organization's members to pick from: {d}"
    );
    let sbx = env_id(&d, "Sandbox");
    let (s, body) = c
        .act(
            "grant_group_role",
            &[
                ("group", &pay),
                ("user", &user.to_uppercase()),
                ("role", "admin"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let (s, body) = c
        .act(
            "grant_group_role",
            &[
                ("group", &pay),
                ("user", &user),
                ("role", "auditor"),
                ("environment", &sbx),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    // The users list shows each member's roles in groups, and a search by a group's name
    // finds who holds one there.
    let (s, users) = c.call("list_users", &[("q", "payments")]).await;
    assert_eq!(s, 200, "{users}");
    let items = users["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{users}");
    assert_eq!(items[0]["email"], user.as_str());
    assert_eq!(
        items[0]["group_roles"],
        json!(["Payments · Sandbox: auditor", "Payments: admin"]),
        "{users}"
    );
    let (s, body) = c
        .act(
            "grant_group_role",
            &[
                ("group", &pay),
                ("user", "nobody@example.com"),
                ("role", "admin"),
            ],
        )
        .await;
    assert_eq!(s, 422);
    assert!(field_error(&body, "user").is_some(), "{body}");
    let roles = detail(&c, &pay).await["roles"].clone();
    let listed: Vec<(Value, Value)> = roles
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["role"].clone(), r["environment_name"].clone()))
        .collect();
    assert_eq!(
        listed,
        [
            (Value::from("admin"), Value::Null),
            (Value::from("auditor"), Value::from("Sandbox"))
        ],
        "{roles}"
    );
    // A role at the organization as a whole is the membership's, refused here.
    let (s, _) = c
        .act(
            "grant_group_role",
            &[("group", &org.id), ("user", &user), ("role", "admin")],
        )
        .await;
    assert_eq!(s, 409);
    let (s, body) = c
        .act(
            "remove_group_role",
            &[
                ("group", &pay),
                ("user_id", &user_id),
                ("environment", &sbx),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(detail(&c, &pay).await["roles"].as_array().unwrap().len(), 1);
}

/// An organization with Payments (and Cards below it) and HR, and a member who is an admin
/// of Payments: (Payments, Cards, HR, the member's browser).
async fn payments_admin(
    app: &TestApp,
    org: &Org,
    admin: &Browser,
) -> (String, String, String, Browser) {
    let pay = group(admin, "Payments", "").await;
    let cards = group(admin, "Cards", &pay).await;
    let hr = group(admin, "HR", "").await;
    let user = app.add_user(org, "member").await;
    let (s, body) = admin
        .act(
            "grant_group_role",
            &[("group", &pay), ("user", &user), ("role", "admin")],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    (pay, cards, hr, app.signed_in(&user).await)
}

async fn a_group_admin_sees_and_manages_only_their_subtree(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let admin = app.signed_in(&org.admin_email).await;
    let (pay, cards, hr, g) = payments_admin(&app, &org, &admin).await;
    let (_, ctx) = g.call("page_context", &[]).await;
    assert_eq!(
        (
            ctx["me"]["is_admin"].as_bool(),
            ctx["me"]["manages_groups"].as_bool()
        ),
        (Some(false), Some(true))
    );
    let (_, list) = g.call("list_groups", &[]).await;
    assert_eq!(names(&list), ["Payments", "Cards"], "{list}");
    assert_eq!(
        list[0]["may_move"], false,
        "Payments moves only with an admin above it"
    );
    assert_eq!(list[1]["may_move"], true);
    let (_, html, _) = g.get("/admin/groups").await;
    assert!(html.contains("Cards") && !html.contains(">HR<"), "{html}");
    // The parent, a sibling, another organization: refused or not found.
    for id in [&hr, &org.id] {
        assert_eq!(g.call("get_group", &[("id", id)]).await.0, 403, "{id}");
        let (s, _) = g
            .act("create_group", &[("name", "Sneaky"), ("parent", id)])
            .await;
        assert_eq!(s, 403);
        let (s, _) = g
            .act(
                "add_environment",
                &[("group", id), ("env_name", "Mine"), ("env_type", "design")],
            )
            .await;
        assert_eq!(s, 403);
    }
    let other = app.org_with_admin("Other").await;
    assert_eq!(g.call("get_group", &[("id", &other.id)]).await.0, 404);
    // Their own group may not be deleted or moved out (that needs its parent); below it,
    // they manage.
    assert_eq!(g.act("delete_group", &[("id", &pay)]).await.0, 403);
    let (s, _) = g
        .act(
            "update_group",
            &[
                ("id", &cards),
                ("group_name", "Cards"),
                ("group_parent", &hr),
            ],
        )
        .await;
    assert_eq!(s, 403, "not below a sibling of their group");
    let (s, body) = g
        .act(
            "update_group",
            &[("id", &pay), ("group_name", "Payments EU")],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let sub = group(&g, "Issuing", &cards).await;
    assert_eq!(g.act("delete_group", &[("id", &sub)]).await.0, 200);
    // A plain member administers nothing.
    let member = app.signed_in(&app.add_user(&org, "member").await).await;
    let (_, list) = member.call("list_groups", &[]).await;
    assert_eq!(list, Value::Array(vec![]));
    let (_, ctx) = member.call("page_context", &[]).await;
    assert_eq!(ctx["me"]["manages_groups"], false);
}

fn own_app<'a>(name: &'a str, place: &'a str) -> Vec<(&'static str, &'a str)> {
    vec![
        ("app[name]", name),
        ("app[kind]", "own-behalf"),
        ("app[scopes][]", "read:apps"),
        ("app[scopes][]", "manage:apps"),
        ("app[access_token_ttl]", "600"),
        ("place", place),
    ]
}

fn client_ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{page}"))
        .iter()
        .map(|a| a["client_id"].as_str().unwrap().to_string())
        .collect()
}

async fn apps_live_in_a_group_and_the_list_filters_by_it(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = app.signed_in(&org.admin_email).await;
    let pay = group(&c, "Payments", "").await;
    let sbx = env_id(&detail(&c, &pay).await, "Sandbox");
    let (at_root, _) = c.create_app(&own_app("Root job", "")).await;
    let (in_pay, _) = c.create_app(&own_app("Pay job", &pay)).await;
    let in_sbx_place = format!("{pay}/{sbx}");
    let (in_sbx, _) = c.create_app(&own_app("Sandbox job", &in_sbx_place)).await;
    let (_, all) = c.call("list_apps", &[]).await;
    assert_eq!(client_ids(&all).len(), 3);
    let (_, in_group) = c.call("list_apps", &[("place", &pay)]).await;
    let mut ids = client_ids(&in_group);
    ids.sort();
    let mut want = vec![in_pay.clone(), in_sbx.clone()];
    want.sort();
    assert_eq!(ids, want);
    let (_, in_env) = c.call("list_apps", &[("place", &in_sbx_place)]).await;
    assert_eq!(client_ids(&in_env), vec![in_sbx]);
    let (_, at_org) = c.call("list_apps", &[("place", &org.id)]).await;
    assert_eq!(client_ids(&at_org), [at_root]);
    let (_, html, _) = c.get(&format!("/admin?place={pay}")).await;
    assert!(
        html.contains("Pay job") && !html.contains("Root job"),
        "{html}"
    );
    // The group's page counts them.
    let d = detail(&c, &pay).await;
    assert_eq!(d["group"]["apps"], 2);
    // A place of another organization is not found.
    let other = app.org_with_admin("Other").await;
    let (s, _) = c.act("create_app", &own_app("Elsewhere", &other.id)).await;
    assert_eq!(s, 404);
}

async fn contexts(c: &Browser, id: &str) -> Value {
    let (s, body) = c.call("app_contexts", &[("client_id", id)]).await;
    assert_eq!(s, 200, "{body}");
    body
}

/// An app's assignments by name, sorted.
fn assigned(ctx: &Value) -> Vec<(String, String, Option<String>)> {
    let mut list: Vec<(String, String, Option<String>)> = ctx["assignments"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            (
                a["scope"].as_str().unwrap().to_string(),
                a["place"]["group_name"].as_str().unwrap().to_string(),
                a["place"]["env_name"].as_str().map(str::to_string),
            )
        })
        .collect();
    list.sort();
    list
}

fn a(scope: &str, group: &str, env: Option<&str>) -> (String, String, Option<String>) {
    (scope.into(), group.into(), env.map(str::to_string))
}

async fn the_add_scopes_dialog_assigns_in_context(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = app.signed_in(&org.admin_email).await;
    let pay = group(&c, "Payments", "").await;
    let cards = group(&c, "Cards", &pay).await;
    let d = detail(&c, &pay).await;
    let (sbx, prod) = (env_id(&d, "Sandbox"), env_id(&d, "Production"));
    let (id, _) = c.create_app(&own_app("Deployer", &pay)).await;
    let ctx = contexts(&c, &id).await;
    assert_eq!(ctx["own_behalf"], true);
    assert_eq!(ctx["home"]["group_name"], "Payments");
    assert_eq!(
        assigned(&ctx),
        [
            a("manage:apps", "Payments", None),
            a("read:apps", "Payments", None)
        ]
    );
    // Where it may be assigned: where it lives and below, never the organization.
    assert_eq!(names(&ctx["groups"]), ["Payments", "Cards"]);
    // Step by step: the scope, the group, its Sandbox only; and Cards as a whole.
    let mode = format!("add[modes][g{pay}]");
    let env = format!("{pay}/{sbx}");
    let (s, body) = c
        .act(
            "add_app_scopes",
            &[
                ("client_id", &id),
                ("add[scopes][]", "manage:apps"),
                ("add[groups][]", &pay),
                ("add[groups][]", &cards),
                (&mode, "some"),
                ("add[envs][]", &env),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let ctx = contexts(&c, &id).await;
    assert_eq!(
        assigned(&ctx),
        [
            a("manage:apps", "Cards", None),
            a("manage:apps", "Payments", None),
            a("manage:apps", "Payments", Some("Sandbox")),
            a("read:apps", "Payments", None),
        ]
    );
    // A step left out is named.
    let (s, body) = c
        .act(
            "add_app_scopes",
            &[("client_id", &id), ("add[groups][]", &pay)],
        )
        .await;
    assert_eq!(s, 422);
    assert!(field_error(&body, "scopes").is_some(), "{body}");
    let (s, body) = c
        .act(
            "add_app_scopes",
            &[
                ("client_id", &id),
                ("add[scopes][]", "read:apps"),
                ("add[groups][]", &pay),
                (&mode, "some"),
            ],
        )
        .await;
    assert_eq!(s, 422);
    assert!(field_error(&body, "environments").is_some(), "{body}");
    // A scope the app is not allowed is refused.
    let (s, _) = c
        .act(
            "add_app_scopes",
            &[
                ("client_id", &id),
                ("add[scopes][]", "manage:users"),
                ("add[groups][]", &pay),
            ],
        )
        .await;
    assert_eq!(s, 422);
    // Remove one: the others stay.
    let (s, body) = c
        .act(
            "remove_app_scope",
            &[
                ("client_id", &id),
                ("scope", "manage:apps"),
                ("business_group", &pay),
                ("environment", &sbx),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(assigned(&contexts(&c, &id).await).len(), 3);
    let (s, _) = c
        .act(
            "remove_app_scope",
            &[
                ("client_id", &id),
                ("scope", "manage:apps"),
                ("business_group", &pay),
                ("environment", &prod),
            ],
        )
        .await;
    assert_eq!(s, 404, "no such assignment");
    // The tab renders, without JavaScript too.
    let (s, html, _) = c.get(&format!("/admin/apps/{id}/contexts")).await;
    assert_eq!(s, 200);
    assert!(
        html.contains("Add scopes") && html.contains("Cards"),
        "{html}"
    );
    let back = c
        .plain_post(
            "add_app_scopes",
            &format!("/admin/apps/{id}/contexts"),
            &[
                ("client_id", &id),
                ("add[scopes][]", "read:apps"),
                ("add[groups][]", &cards),
            ],
        )
        .await;
    assert!(
        back.starts_with(&format!("/admin/apps/{id}/contexts")),
        "{back}"
    );
    assert_eq!(assigned(&contexts(&c, &id).await).len(), 4);
}

async fn a_group_admin_cannot_assign_in_a_sibling_group(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let admin = app.signed_in(&org.admin_email).await;
    let (pay, cards, hr, g) = payments_admin(&app, &org, &admin).await;
    let (in_pay, _) = admin.create_app(&own_app("Pay job", &pay)).await;
    let (in_hr, _) = admin.create_app(&own_app("HR job", &hr)).await;
    let before = assigned(&contexts(&admin, &in_pay).await);
    // Their group's app, assigned in the sibling HR: refused, naming it; nothing changes.
    let (s, body) = g
        .act(
            "add_app_scopes",
            &[
                ("client_id", &in_pay),
                ("add[scopes][]", "read:apps"),
                ("add[groups][]", &hr),
            ],
        )
        .await;
    assert_eq!(s, 422, "{body}");
    let why = field_error(&body, "groups").unwrap();
    assert!(why.contains("HR") && why.contains("outside"), "{why}");
    // Or at the organization as a whole.
    let (s, _) = g
        .act(
            "add_app_scopes",
            &[
                ("client_id", &in_pay),
                ("add[scopes][]", "read:apps"),
                ("add[groups][]", &org.id),
            ],
        )
        .await;
    assert_eq!(s, 422);
    assert_eq!(assigned(&contexts(&admin, &in_pay).await), before);
    // The sibling's own app: a member reads it, and may assign it nowhere.
    let theirs = contexts(&g, &in_hr).await;
    assert_eq!(theirs["groups"], Value::Array(vec![]), "{theirs}");
    let (s, _) = g
        .act(
            "add_app_scopes",
            &[
                ("client_id", &in_hr),
                ("add[scopes][]", "read:apps"),
                ("add[groups][]", &hr),
            ],
        )
        .await;
    assert_eq!(s, 403);
    let (s, _) = g
        .act(
            "remove_app_scope",
            &[
                ("client_id", &in_hr),
                ("scope", "read:apps"),
                ("business_group", &hr),
            ],
        )
        .await;
    assert_eq!(s, 403);
    // In their own group they may.
    let (s, body) = g
        .act(
            "add_app_scopes",
            &[
                ("client_id", &in_pay),
                ("add[scopes][]", "read:apps"),
                ("add[groups][]", &cards),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    assert_eq!(
        g.act(
            "add_app_scopes",
            &[("client_id", "no-such-app"), ("add[groups][]", &pay)]
        )
        .await
        .0,
        404
    );
}
