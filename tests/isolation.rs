//! Tenant isolation at the service layer, generated from the services themselves: every
//! service operation that takes a `Principal` is listed here (a test reads `src/services`
//! and fails on any operation the table misses), and each is called by an admin of
//! organization B against organization A's objects. B gets not-found (or sees only its
//! own), and A is exactly as it was. SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use latchkey::domain::AppInput;
use latchkey::domain::api::ApiInput;
use latchkey::services::{self, Error, Principal, RequestMeta};
use serde_json::{Value, json};

on_both!(a_principal_of_another_organization_reaches_none_of_its_objects);

/// Every operation of the table, by `module::function`.
const TABLE: &[&str] = &[
    "apps::create",
    "apps::list",
    "apps::get",
    "apps::update",
    "apps::set_enabled",
    "apps::delete",
    "apps::add_secret",
    "apps::delete_secret",
    "apps::set_secret_expiry",
    "users::create",
    "users::list",
    "users::page",
    "users::change_role",
    "users::remove",
    "orgs::create",
    "orgs::list",
    "orgs::get",
    "orgs::rename",
    "orgs::set_retention",
    "apis::list",
    "apis::page",
    "apis::create",
    "apis::delete",
    "policy::get",
    "policy::set",
    "policy::candidate",
    "policy::approve",
    "policy::remove",
    "audit::search",
    "audit::export",
    "audit::token_chart",
    "audit::choices",
    "audit::org_activity",
    "authorizations::of_app",
    "authorizations::of_user",
    "authorizations::revoke_for_app",
    "authorizations::revoke_mine",
    "apps::create_at",
    "apps::list_at",
    "contexts::list",
    "contexts::get",
    "contexts::create",
    "contexts::update",
    "contexts::delete",
    "contexts::create_env",
    "contexts::delete_env",
    "contexts::assignments",
    "contexts::set_assignments",
    "contexts::set_role",
    "contexts::remove_role",
    "contexts::contexts",
    "contexts::add_assignments",
    "contexts::remove_assignment",
    "contexts::app_contexts",
    "contexts::detail",
    "contexts::set_role_by_email",
    "contexts::administered",
    "contexts::administers_any",
    "contexts::groups_where",
    "apps::transfer_owner",
    "orgs::set_apps_enabled",
    "scopes::catalogue",
    "scopes::all",
    "users::invite",
    "mfa::status",
    "mfa::begin_totp",
    "mfa::confirm_own_totp",
    "mfa::remove_totp",
    "mfa::new_recovery_codes",
    "mfa::policy",
    "mfa::set_policy",
    "mfa::reset_for_member",
    "passkeys::mine",
    "passkeys::begin_registration",
    "passkeys::finish_registration",
    "passkeys::rename",
    "passkeys::remove",
    "registration::issue_initial_token",
    "registration::list_initial_tokens",
    "registration::revoke_initial_token",
    "recovery::send_verification",
    "recovery::invite",
    "sessions::mine",
    "sessions::end_mine",
    "sessions::end_others",
    "sessions::end_user_sessions",
    "upstream::get",
    "upstream::set",
    "upstream::remove",
];

#[test]
fn the_table_lists_every_operation_that_takes_a_principal() {
    let sources = [
        ("apps", include_str!("../src/services/apps.rs")),
        ("users", include_str!("../src/services/users.rs")),
        ("orgs", include_str!("../src/services/orgs.rs")),
        ("apis", include_str!("../src/services/apis.rs")),
        ("policy", include_str!("../src/services/policy.rs")),
        ("audit", include_str!("../src/services/audit.rs")),
        (
            "authorizations",
            include_str!("../src/services/authorizations.rs"),
        ),
        ("contexts", include_str!("../src/services/contexts.rs")),
        ("scopes", include_str!("../src/services/scopes.rs")),
        ("mfa", include_str!("../src/services/mfa.rs")),
        ("passkeys", include_str!("../src/services/passkeys.rs")),
        ("recovery", include_str!("../src/services/recovery.rs")),
        (
            "registration",
            include_str!("../src/services/registration.rs"),
        ),
        ("sessions", include_str!("../src/services/sessions.rs")),
        ("upstream", include_str!("../src/services/upstream.rs")),
    ];
    let mut found = Vec::new();
    for (module, text) in sources {
        for chunk in text.split("pub async fn ").skip(1) {
            let name: String = chunk
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            let signature = chunk.split('{').next().unwrap_or("");
            if signature.contains("&Principal") {
                found.push(format!("{module}::{name}"));
            }
        }
    }
    for op in &found {
        assert!(
            TABLE.contains(&op.as_str()),
            "{op} takes a Principal but is not in the isolation table"
        );
    }
    for op in TABLE {
        assert!(
            found.iter().any(|f| f == op),
            "{op} is in the table but no longer a service operation"
        );
    }
}

/// Not found, or refused: never A's data.
fn refused<T: std::fmt::Debug>(op: &str, r: Result<T, Error>) {
    match r {
        Err(Error::NotFound | Error::Forbidden(_) | Error::MissingPermission(_)) => {}
        other => panic!("{op}: B reached A's object: {other:?}"),
    }
}

/// Everything an admin of A can see of A, to compare before and after.
async fn snapshot(app: &TestApp, a: &Principal, app_id: &str) -> Value {
    let db = &app.state.db;
    let detail = services::apps::get(db, a, app_id).await.unwrap();
    json!({
        "org": services::orgs::get(db, a).await.unwrap(),
        "apps": services::apps::list(db, a, &Default::default()).await.unwrap(),
        "app": detail.app,
        "secrets": detail.secrets.iter().map(|s| s.id.clone()).collect::<Vec<_>>(),
        "users": services::users::list(db, a).await.unwrap(),
        "apis": services::apis::list(db, a).await.unwrap(),
        "policy": services::policy::get(db, a).await.unwrap(),
        "authorizations": services::authorizations::of_app(db, a, app_id).await.unwrap(),
        "groups": services::contexts::list(db, a).await.unwrap(),
    })
}

async fn a_principal_of_another_organization_reaches_none_of_its_objects(b: Backend) {
    let app = spawn_app(b).await;
    let db = &app.state.db;
    let org_a = app.org_with_admin("Org A").await;
    let org_b = app.org_with_admin("Org B").await;
    let org_c = app.org_with_admin("Org C").await;
    let a = Principal::operator_in(&org_a.id);
    let b_admin = app.user_id(&org_b, &org_b.admin_email).await;
    let bee = services::principal::of_session(
        db,
        &b_admin,
        &org_b.id,
        Default::default(),
        RequestMeta::default(),
    )
    .await
    .unwrap()
    .unwrap();

    // A's objects: an app with a secret, a member, an API, an approved external app.
    let input = AppInput {
        name: "A's app".into(),
        kind: "on-behalf-of-user".into(),
        grant_types: vec!["authorization_code".into()],
        redirect_uris: vec![CB.into()],
        scopes: vec!["openid email".into()],
        ..Default::default()
    };
    let (a_app, _) = services::apps::create(db, &a, &input, "").await.unwrap();
    let a_app = a_app.client_id;
    let a_secret = services::apps::get(db, &a, &a_app).await.unwrap().secrets[0]
        .id
        .clone();
    let a_member_email = app.add_user(&org_a, "member").await;
    let a_member = app.user_id(&org_a, &a_member_email).await;
    let api = ApiInput {
        name: "Orders".into(),
        identifier: "https://orders.a.example".into(),
        scopes: "orders:read Read orders".into(),
    };
    let a_api = services::apis::create(db, &a, &app.base, &api)
        .await
        .unwrap()
        .id;
    let c = Principal::operator_in(&org_c.id);
    let external = AppInput {
        name: "Everyone's app".into(),
        audience: "everyone".into(),
        ..input.clone()
    };
    let (c_app, _) = services::apps::create(db, &c, &external, "").await.unwrap();
    services::policy::set(db, &a, "restricted").await.unwrap();
    services::policy::approve(db, &a, &c_app.client_id, &["openid".into()])
        .await
        .unwrap();
    // A's business group with its environments, a role in it, an own-behalf app assigned there.
    use services::contexts::{Assignment, EnvInput, GroupInput, RoleInput};
    let a_group = services::contexts::create(
        db,
        &a,
        &GroupInput {
            name: Some("A's group".into()),
            parent_id: None,
        },
    )
    .await
    .unwrap();
    let a_env = a_group.environments[0].id.clone();
    let a_group = a_group.id;
    services::contexts::set_role(
        db,
        &a,
        &a_group,
        &a_member,
        &RoleInput {
            role: "admin".into(),
            environment: None,
        },
    )
    .await
    .unwrap();
    let (a_ci, _) = services::apps::create(db, &a, &own_behalf("A's pipeline", "manage:apps"), "")
        .await
        .unwrap();
    let a_ci = a_ci.client_id;
    let there = vec![Assignment {
        scope: "manage:apps".into(),
        business_group: a_group.clone(),
        environment: Some(a_env.clone()),
    }];
    services::contexts::set_assignments(db, &a, &a_ci, &there)
        .await
        .unwrap();
    let before = snapshot(&app, &a, &a_app).await;
    let a_assignments = services::contexts::assignments(db, &a, &a_ci)
        .await
        .unwrap();

    // Operations on one of A's objects: not found.
    refused("apps::get", services::apps::get(db, &bee, &a_app).await);
    refused(
        "apps::update",
        services::apps::update(db, &bee, &a_app, &input, "").await,
    );
    refused(
        "apps::set_enabled",
        services::apps::set_enabled(db, &bee, &a_app, false).await,
    );
    refused(
        "apps::delete",
        services::apps::delete(db, &bee, &a_app, "A's app").await,
    );
    refused(
        "apps::add_secret",
        services::apps::add_secret(db, &bee, &a_app, "").await,
    );
    refused(
        "apps::set_secret_expiry",
        services::apps::set_secret_expiry(
            db,
            &bee,
            &a_app,
            &a_secret,
            &(services::now() + 86_400).to_string(),
        )
        .await,
    );
    refused(
        "apps::delete_secret",
        services::apps::delete_secret(db, &bee, &a_app, &a_secret).await,
    );
    refused(
        "users::change_role",
        services::users::change_role(db, &bee, &a_member, "admin").await,
    );
    refused(
        "users::remove",
        services::users::remove(db, &bee, &a_member).await,
    );
    refused(
        "apis::delete",
        services::apis::delete(db, &bee, &a_api).await,
    );
    refused(
        "policy::candidate",
        services::policy::candidate(db, &bee, &a_app).await,
    );
    refused(
        "policy::approve",
        services::policy::approve(db, &bee, &a_app, &["openid".into()]).await,
    );
    refused(
        "policy::remove",
        services::policy::remove(db, &bee, &c_app.client_id).await,
    );
    refused(
        "authorizations::of_app",
        services::authorizations::of_app(db, &bee, &a_app).await,
    );
    refused(
        "authorizations::revoke_for_app",
        services::authorizations::revoke_for_app(db, &bee, &a_app, None).await,
    );
    // A's business groups, environments, roles and assignments: not found.
    let a_place = latchkey::domain::context::Place::env(&a_group, &a_env);
    refused(
        "contexts::get",
        services::contexts::get(db, &bee, &a_group).await,
    );
    let rename = GroupInput {
        name: Some("Taken".into()),
        parent_id: None,
    };
    refused(
        "contexts::update",
        services::contexts::update(db, &bee, &a_group, &rename).await,
    );
    refused(
        "contexts::delete",
        services::contexts::delete(db, &bee, &a_group).await,
    );
    let env = EnvInput {
        name: "Mine".into(),
        kind: "sandbox".into(),
    };
    refused(
        "contexts::create_env",
        services::contexts::create_env(db, &bee, &a_group, &env).await,
    );
    refused(
        "contexts::delete_env",
        services::contexts::delete_env(db, &bee, &a_group, &a_env).await,
    );
    refused(
        "contexts::assignments",
        services::contexts::assignments(db, &bee, &a_ci).await,
    );
    refused(
        "contexts::set_assignments",
        services::contexts::set_assignments(db, &bee, &a_ci, &[]).await,
    );
    let role = RoleInput {
        role: "member".into(),
        environment: None,
    };
    refused(
        "contexts::set_role",
        services::contexts::set_role(db, &bee, &a_group, &a_member, &role).await,
    );
    refused(
        "contexts::remove_role",
        services::contexts::remove_role(db, &bee, &a_group, &a_member, None).await,
    );
    refused(
        "apps::create_at",
        services::apps::create_at(db, &bee, &a_place, &own_behalf("Planted", "read:apps"), "")
            .await,
    );
    refused(
        "apps::list_at",
        services::apps::list_at(db, &bee, &a_place, &Default::default()).await,
    );
    // A group below A's: B's tree has no such parent.
    let below = GroupInput {
        name: Some("Below A".into()),
        parent_id: Some(a_group.clone()),
    };
    refused(
        "contexts::create",
        services::contexts::create(db, &bee, &below).await,
    );
    // A's app's chart, owner, and the Add Scopes dialog and its rows: not found.
    refused(
        "audit::token_chart",
        services::audit::token_chart(db, &bee, &a_app).await,
    );
    refused(
        "apps::transfer_owner",
        services::apps::transfer_owner(db, &bee, &a_app, services::apps::NewOwner::Id(&b_admin))
            .await,
    );
    let steps = latchkey::domain::groups::AddScopes {
        scopes: vec!["manage:apps".into()],
        groups: vec![a_group.clone()],
        ..Default::default()
    };
    refused(
        "contexts::add_assignments",
        services::contexts::add_assignments(db, &bee, &a_ci, &steps).await,
    );
    refused(
        "contexts::remove_assignment",
        services::contexts::remove_assignment(db, &bee, &a_ci, &there[0]).await,
    );
    refused(
        "contexts::app_contexts",
        services::contexts::app_contexts(db, &bee, &a_ci).await,
    );
    refused(
        "contexts::detail",
        services::contexts::detail(db, &bee, &a_group).await,
    );
    refused(
        "contexts::set_role_by_email",
        services::contexts::set_role_by_email(
            db,
            &bee,
            &a_group,
            &a_member_email,
            &RoleInput {
                role: "admin".into(),
                environment: None,
            },
        )
        .await,
    );
    // Withdrawing "my" authorization of A's app touches only B's user's own grants.
    assert_eq!(
        services::authorizations::revoke_mine(db, &bee, &a_app)
            .await
            .unwrap(),
        0
    );

    // Operations on the principal's own organization: only B's, never A's.
    let seen = json!([
        services::apps::list(db, &bee, &Default::default())
            .await
            .unwrap(),
        services::users::list(db, &bee).await.unwrap(),
        services::users::page(db, &bee, &Default::default())
            .await
            .unwrap(),
        services::apis::list(db, &bee).await.unwrap(),
        services::apis::page(db, &bee, &Default::default())
            .await
            .unwrap(),
        services::audit::choices(db, &bee).await.unwrap(),
        services::audit::org_activity(db, &bee).await.unwrap(),
        services::policy::get(db, &bee).await.unwrap(),
        services::orgs::get(db, &bee).await.unwrap(),
        services::audit::search(
            db,
            &bee,
            &latchkey::domain::audit::AuditQuery::default()
                .parse(0)
                .unwrap()
        )
        .await
        .unwrap(),
        services::audit::export(
            db,
            &bee,
            &latchkey::domain::audit::AuditQuery::default()
                .parse(0)
                .unwrap()
        )
        .await
        .unwrap()
        .len(),
        services::authorizations::of_user(db, &bee).await.unwrap(),
        services::contexts::list(db, &bee).await.unwrap(),
        services::contexts::contexts(db, &bee).await.unwrap(),
        services::contexts::administered(db, &bee).await.unwrap(),
        services::contexts::administers_any(db, &bee).await.unwrap(),
        services::contexts::groups_where(db, &bee, services::principal::READ_APPS)
            .await
            .unwrap(),
        services::scopes::catalogue(db, &bee, &Default::default())
            .await
            .unwrap(),
        services::scopes::all(db, &bee).await.unwrap(),
    ])
    .to_string();
    for secret_of_a in [
        org_a.id.as_str(),
        a_app.as_str(),
        a_member.as_str(),
        a_api.as_str(),
        a_group.as_str(),
        a_env.as_str(),
        a_ci.as_str(),
        "Org A",
        "orders:read",
        "orders.a.example",
    ] {
        assert!(!seen.contains(secret_of_a), "B saw {secret_of_a}: {seen}");
    }
    services::orgs::rename(db, &bee, "Org B renamed")
        .await
        .unwrap();
    services::orgs::set_retention(db, &bee, "30").await.unwrap();
    // B's switch turns B's connected apps off and on, never A's.
    services::orgs::set_apps_enabled(db, &bee, false)
        .await
        .unwrap();
    assert!(db.apps_on(&org_a.id).await.unwrap());
    services::orgs::set_apps_enabled(db, &bee, true)
        .await
        .unwrap();
    services::policy::set(db, &bee, "unrestricted")
        .await
        .unwrap();
    // B's sign-in policy is B's alone.
    services::mfa::set_policy(db, &bee, "everyone")
        .await
        .unwrap();
    assert_eq!(
        db.mfa_policy(&org_a.id).await.unwrap(),
        latchkey::domain::mfa::MfaPolicy::Optional
    );
    assert_eq!(
        services::mfa::policy(db, &bee).await.unwrap(),
        latchkey::domain::mfa::MfaPolicy::Everyone
    );
    services::mfa::set_policy(db, &bee, "optional")
        .await
        .unwrap();
    // Factors are the principal's own, and change only after a recent sign-in (this
    // principal has none): never another user's.
    let own = services::mfa::status(db, &app.base, &bee).await.unwrap();
    assert_eq!(own.email, org_b.admin_email);
    let key = &app.state.settings.master_key;
    refused(
        "mfa::begin_totp",
        services::mfa::begin_totp(db, key, "Latchkey", &bee).await,
    );
    refused(
        "mfa::confirm_own_totp",
        services::mfa::confirm_own_totp(db, key, &bee, "123456").await,
    );
    refused(
        "mfa::remove_totp",
        services::mfa::remove_totp(db, &bee).await,
    );
    refused(
        "mfa::new_recovery_codes",
        services::mfa::new_recovery_codes(db, &bee).await,
    );
    // An app's token never manages anyone's factors.
    refused(
        "mfa::status",
        services::mfa::status(db, &app.base, &Principal::operator_in(&org_a.id)).await,
    );
    // Passkeys: B's admin lists only their own, adds none without a recent sign-in, and
    // renames or removes none of anyone else's (a passkey id of A's member is not found).
    assert!(services::passkeys::mine(db, &bee).await.unwrap().is_empty());
    refused(
        "passkeys::begin_registration",
        services::passkeys::begin_registration(db, "http://localhost", &bee).await,
    );
    let a_passkey = latchkey::store::passkeys::StoredPasskey {
        id: "pk-of-a".into(),
        user_id: a_member.clone(),
        credential_id: "cred-of-a".into(),
        name: "A's key".into(),
        credential: "{}".into(),
        counter: 0,
        synced: false,
        created_at: 0,
        last_used_at: None,
    };
    assert!(
        latchkey::store::passkeys::insert(&db.pool, &a_passkey)
            .await
            .unwrap()
    );
    refused(
        "passkeys::rename",
        services::passkeys::rename(db, &bee, "pk-of-a", "Mine").await,
    );
    refused(
        "passkeys::remove",
        services::passkeys::remove(db, &bee, "pk-of-a").await,
    );
    refused(
        "passkeys::mine",
        services::passkeys::mine(db, &Principal::operator_in(&org_a.id)).await,
    );
    // Initial access tokens: B's admin sees none of A's, revokes none, and issues none into
    // A's organization or one of its business groups.
    let a_admin = Principal::operator_in(&org_a.id);
    let token_input = latchkey::domain::registration::InitialTokenInput {
        name: "A's partner".into(),
        uses: "1".into(),
        days: "1".into(),
        scopes: vec!["openid".into()],
        grant_types: vec!["authorization_code".into()],
        business_group: String::new(),
    };
    let (a_token, _) = services::registration::issue_initial_token(db, &a_admin, &token_input)
        .await
        .unwrap();
    assert!(
        services::registration::list_initial_tokens(db, &bee)
            .await
            .unwrap()
            .tokens
            .is_empty()
    );
    refused(
        "registration::revoke_initial_token",
        services::registration::revoke_initial_token(db, &bee, &a_token.id).await,
    );
    refused(
        "registration::issue_initial_token",
        services::registration::issue_initial_token(
            db,
            &bee,
            &latchkey::domain::registration::InitialTokenInput {
                business_group: org_a.id.clone(),
                ..token_input.clone()
            },
        )
        .await,
    );
    assert!(
        services::registration::list_initial_tokens(db, &a_admin)
            .await
            .unwrap()
            .tokens[0]
            .live
    );
    // finish_registration checks the same fresh sign-in first, before any answer is read.
    assert!(
        latchkey::store::passkeys::by_credential_id(&db.pool, "cred-of-a")
            .await
            .unwrap()
            .is_some_and(|k| k.name == "A's key")
    );
    let mailer = &app.state.settings.mailer;
    services::recovery::send_verification(db, mailer, &app.base, &bee)
        .await
        .unwrap();
    // An invitation lands in B, whatever A holds.
    let invited = services::recovery::invite(
        db,
        mailer,
        &app.base,
        &bee,
        ("invited-to-b@example.com", "Invited", "member"),
    )
    .await
    .unwrap();
    assert!(
        db.member(&org_b.id, &invited.user_id)
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        db.member(&org_a.id, &invited.user_id)
            .await
            .unwrap()
            .is_none()
    );
    services::users::invite(db, &bee, "invited-2@example.com", "Invited", "member")
        .await
        .unwrap();
    // Sessions: B's admin ends none of A's member's, and lists only their own.
    refused(
        "sessions::end_user_sessions",
        services::sessions::end_user_sessions(db, &bee, &a_member).await,
    );
    assert!(
        services::sessions::mine(db, &bee, "")
            .await
            .unwrap()
            .is_empty()
    );
    refused(
        "sessions::end_mine",
        services::sessions::end_mine(db, &bee, "0123456789abcdef01234567").await,
    );
    services::sessions::end_others(db, &bee, "").await.unwrap();
    // Identity providers: A's is neither read nor removed by B (`tests/sso.rs` sets one up
    // against a real provider; here A has none and B sees only its own absence).
    assert!(
        services::upstream::get(db, &bee, &app.base)
            .await
            .unwrap()
            .is_none()
    );
    refused(
        "upstream::remove",
        services::upstream::remove(db, &bee).await,
    );
    // Setting one up acts in the principal's own organization only (an anonymous caller
    // is not let in at all).
    assert!(matches!(
        services::upstream::set(
            db,
            key,
            &app.base,
            &Principal::anonymous(Default::default()),
            &Default::default(),
        )
        .await,
        Err(Error::Unauthenticated)
    ));
    services::users::create(
        db,
        &bee,
        &format!(
            "new-{}@example.com",
            latchkey::crypto::random_token(4).to_lowercase()
        ),
        "New",
        "member",
        PASSWORD.to_string().into(),
    )
    .await
    .unwrap();
    services::apps::create(
        db,
        &bee,
        &AppInput {
            name: "A's app".into(),
            ..input.clone()
        },
        "",
    )
    .await
    .unwrap();
    // The identifier is global: B cannot take A's, and learns only that it is taken.
    assert!(
        services::apis::create(db, &bee, &app.base, &api)
            .await
            .is_err()
    );
    // Organizations are the operator's alone.
    refused(
        "orgs::create",
        services::orgs::create(db, &bee, "Mine").await,
    );
    refused("orgs::list", services::orgs::list(db, &bee).await);

    assert_eq!(snapshot(&app, &a, &a_app).await, before, "A is unchanged");
    assert_eq!(
        services::contexts::assignments(db, &a, &a_ci)
            .await
            .unwrap(),
        a_assignments
    );
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM group_roles WHERE user_id = '{a_member}' AND role = 'admin'"
        ))
        .await,
        1
    );
}
