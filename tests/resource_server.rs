//! Custom APIs: a token asked for with `resource=` (RFC 8707) or carrying an API's scopes
//! names the API in its audience; the example resource server in `examples/` accepts it,
//! by JWKS and by introspection, and refuses tokens for other audiences, without the
//! scope, tampered or revoked; this server's own API refuses tokens meant for another API.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;
#[path = "../examples/resource_server.rs"]
mod example;

use common::*;
use latchkey::domain::AppInput;
use latchkey::domain::api::ApiInput;
use latchkey::services;
use serde_json::Value;

on_both!(
    tokens_for_a_custom_api,
    custom_api_registration_rules,
    a_users_token_is_exchanged_for_a_downstream_api,
);

const ORDERS: &str = "https://orders.example.com/api";

async fn register_orders(app: &TestApp, org: &Org) {
    let input = ApiInput {
        name: "Orders".into(),
        identifier: ORDERS.into(),
        scopes: "orders:read Read your orders\norders:write Place orders".into(),
    };
    services::apis::create(
        &app.state.db,
        &latchkey::services::Principal::operator_in(&org.id),
        &app.base,
        &input,
    )
    .await
    .unwrap();
}

async fn serve(api: example::Api) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, example::router(api)).await });
    format!("http://{addr}")
}

async fn token(app: &TestApp, id: &str, secret: &str, form: &[(&str, &str)]) -> (u16, Value) {
    let mut all = vec![("grant_type", "client_credentials")];
    all.extend_from_slice(form);
    let res = reqwest::Client::new()
        .post(format!("{}/oauth2/token", app.base))
        .basic_auth(id, Some(secret))
        .form(&all)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn orders(rs: &str, method: &str, token: &str) -> (u16, String) {
    let client = reqwest::Client::new();
    let req = if method == "POST" {
        client.post(format!("{rs}/orders"))
    } else {
        client.get(format!("{rs}/orders"))
    };
    let res = req.bearer_auth(token).send().await.unwrap();
    let challenge = res
        .headers()
        .get("www-authenticate")
        .map(|v| v.to_str().unwrap().to_string())
        .unwrap_or_default();
    (res.status().as_u16(), challenge)
}

async fn tokens_for_a_custom_api(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    register_orders(&app, &org).await;
    let (id, secret, _) = app_token(&app, &org, "read:apps orders:read").await;
    let rs = serve(example::Api::with_jwks(&app.base, ORDERS).await.unwrap()).await;

    // resource=: the token is for the API alone, with its scopes only.
    let (s, t) = token(&app, &id, &secret, &[("resource", ORDERS)]).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["scope"], "orders:read");
    let for_orders = t["access_token"].as_str().unwrap().to_string();
    assert_eq!(claims(&for_orders)["aud"], ORDERS);
    assert_eq!(orders(&rs, "GET", &for_orders).await.0, 200);
    // Without the route's scope: 403 naming it.
    let (s, challenge) = orders(&rs, "POST", &for_orders).await;
    assert_eq!(s, 403);
    assert!(challenge.contains("insufficient_scope") && challenge.contains("orders:write"));
    // This server's own API refuses a token meant for another API.
    let (s, _, _) = api(&app, "GET", "/me", Some(&for_orders), None).await;
    assert_eq!(s, 401);

    // Without resource, a token carrying both kinds names both audiences; both accept it.
    let (_, t) = token(&app, &id, &secret, &[]).await;
    let both = t["access_token"].as_str().unwrap().to_string();
    assert_eq!(claims(&both)["aud"], serde_json::json!([app.base, ORDERS]));
    assert_eq!(orders(&rs, "GET", &both).await.0, 200);
    assert_eq!(api(&app, "GET", "/apps", Some(&both), None).await.0, 200);
    // A token of platform scopes only is not for the orders API.
    let (_, t) = token(&app, &id, &secret, &[("scope", "read:apps")]).await;
    let platform = t["access_token"].as_str().unwrap().to_string();
    assert_eq!(claims(&platform)["aud"], app.base.as_str());
    assert_eq!(orders(&rs, "GET", &platform).await.0, 401);
    // Tampered: the scope edited by hand, the signature kept.
    let mut parts: Vec<String> = for_orders.split('.').map(str::to_string).collect();
    let mut c = claims(&for_orders);
    c["scope"] = "orders:read orders:write".into();
    use base64::Engine;
    parts[1] = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(c.to_string());
    assert_eq!(orders(&rs, "POST", &parts.join(".")).await.0, 401);
    assert_eq!(orders(&rs, "GET", "garbage").await.0, 401);

    // Bad targets: unknown resource, or a resource none of whose scopes is asked for.
    let (s, e) = token(
        &app,
        &id,
        &secret,
        &[("resource", "https://unknown.example.com")],
    )
    .await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_target")));
    let (s, e) = token(
        &app,
        &id,
        &secret,
        &[("resource", ORDERS), ("scope", "read:apps")],
    )
    .await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_scope")));
    let (s, e) = token(&app, &id, &secret, &[("scope", "orders:write")]).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_scope")));
    // Another organization's API is no target for this app.
    let other = app.org_with_admin("Other").await;
    let theirs = ApiInput {
        name: "Theirs".into(),
        identifier: "urn:other:api".into(),
        scopes: "orders:read".into(),
    };
    services::apis::create(
        &app.state.db,
        &latchkey::services::Principal::operator_in(&other.id),
        &app.base,
        &theirs,
    )
    .await
    .unwrap();
    let (s, e) = token(&app, &id, &secret, &[("resource", "urn:other:api")]).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_target")));

    // By introspection (the app itself, a confidential client of the organization).
    let introspecting = serve(example::Api {
        issuer: app.base.clone(),
        audience: ORDERS.into(),
        check: example::Check::Introspection {
            client_id: id.clone(),
            secret: secret.clone(),
        },
    })
    .await;
    assert_eq!(orders(&introspecting, "GET", &for_orders).await.0, 200);
    assert_eq!(orders(&introspecting, "GET", &platform).await.0, 401);
    // Revoked: inactive at introspection at once.
    let res = reqwest::Client::new()
        .post(format!("{}/oauth2/revoke", app.base))
        .basic_auth(&id, Some(&secret))
        .form(&[("token", for_orders.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(orders(&introspecting, "GET", &for_orders).await.0, 401);
}

async fn custom_api_registration_rules(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let db = &app.state.db;
    // An app may be allowed only scopes an API of its organization defines.
    let input = AppInput {
        name: "Shop".into(),
        kind: "on-behalf-of-user".into(),
        grant_types: vec!["authorization_code".into()],
        redirect_uris: vec!["https://shop.example.com/cb".into()],
        scopes: vec!["openid orders:read".into()],
        ..Default::default()
    };
    let e = services::apps::create(
        db,
        &latchkey::services::Principal::operator_in(&org.id),
        &input,
        "",
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("orders:read"), "{e}");
    register_orders(&app, &org).await;
    let (shop, _) = services::apps::create(
        db,
        &latchkey::services::Principal::operator_in(&org.id),
        &input,
        "",
    )
    .await
    .unwrap();
    // The consent page's words come from the API.
    let set = latchkey::domain::ScopeSet::parse(["openid orders:read"]).unwrap();
    let words = services::apis::describe(db, &org.id, &set).await.unwrap();
    assert_eq!(
        words[1],
        (
            "orders:read".to_string(),
            "Read your orders (Orders)".to_string()
        )
    );

    // Identifier taken, scope defined twice, our own address, bad input: refused.
    let again = |identifier: &str, scopes: &str| ApiInput {
        name: format!("API {identifier}"),
        identifier: identifier.into(),
        scopes: scopes.into(),
    };
    for (input, field) in [
        (again(ORDERS, "billing:read"), "identifier"),
        (again("urn:billing", "orders:read"), "scopes"),
        (again(&app.base, "billing:read"), "identifier"),
        (again("ftp://x.example", "billing:read"), "identifier"),
        (again("urn:billing", "read:apps"), "scopes"),
    ] {
        let e = services::apis::create(
            db,
            &latchkey::services::Principal::operator_in(&org.id),
            &app.base,
            &input,
        )
        .await
        .unwrap_err();
        let shown = format!("{e:?}");
        assert!(shown.contains(field), "{shown}");
    }
    // An API in use cannot be deleted; once no app uses it, it can.
    let apis = services::apis::list(db, &latchkey::services::Principal::operator_in(&org.id))
        .await
        .unwrap();
    let e = services::apis::delete(
        db,
        &latchkey::services::Principal::operator_in(&org.id),
        &apis[0].id,
    )
    .await
    .unwrap_err();
    assert!(format!("{e:?}").contains("Shop"));
    let narrowed = AppInput {
        scopes: vec!["openid".into()],
        ..input
    };
    services::apps::update(
        db,
        &latchkey::services::Principal::operator_in(&org.id),
        &shop.client_id,
        &narrowed,
        "",
    )
    .await
    .unwrap();
    services::apis::delete(
        db,
        &latchkey::services::Principal::operator_in(&org.id),
        &apis[0].id,
    )
    .await
    .unwrap();
    // Through the REST API: listed and created with manage:apps; another organization's
    // admin token cannot delete it.
    let (_, _, t) = app_token(&app, &org, "read:apps manage:apps").await;
    let body = serde_json::json!({ "name": "Billing", "identifier": "urn:acme:billing", "scopes": "billing:read Read invoices" });
    let (s, _, created) = api(&app, "POST", "/apis", Some(&t), Some(body)).await;
    assert_eq!(s, 200, "{created}");
    let (s, _, list) = api(&app, "GET", "/apis", Some(&t), None).await;
    assert_eq!((s, list.as_array().unwrap().len()), (200, 1));
    let other = app.org_with_admin("Other").await;
    let (_, _, theirs) = app_token(&app, &other, "manage:apps").await;
    let path = format!("/apis/{}", created["id"].as_str().unwrap());
    assert_eq!(api(&app, "DELETE", &path, Some(&theirs), None).await.0, 404);
    let (s, _, bad) = api(
        &app,
        "POST",
        "/apis",
        Some(&t),
        Some(serde_json::json!({ "name": 3 })),
    )
    .await;
    assert_eq!((s, bad["error"].as_str()), (422, Some("invalid")));
    assert_eq!(api(&app, "DELETE", &path, Some(&t), None).await.0, 200);
}

const BILLING: &str = "https://billing.example.com/api";

/// A token exchange request of client `id` for `subject` (extra parameters in `form`).
async fn exchange_for(
    app: &TestApp,
    id: &str,
    secret: &str,
    subject: &str,
    form: &[(&str, &str)],
) -> (u16, Value) {
    let mut all = vec![
        (
            "grant_type",
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        ("subject_token", subject),
        (
            "subject_token_type",
            "urn:ietf:params:oauth:token-type:access_token",
        ),
    ];
    all.extend_from_slice(form);
    let res = reqwest::Client::new()
        .post(format!("{}/oauth2/token", app.base))
        .basic_auth(id, Some(secret))
        .form(&all)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.json().await.unwrap())
}

async fn a_users_token_is_exchanged_for_a_downstream_api(b: Backend) {
    use secrecy::ExposeSecret;
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let rival = app.org_with_admin("Rival").await;
    register_orders(&app, &org).await;
    services::apis::create(
        &app.state.db,
        &latchkey::services::Principal::operator_in(&org.id),
        &app.base,
        &ApiInput {
            name: "Billing".into(),
            identifier: BILLING.into(),
            scopes: "billing:read Read your invoices".into(),
        },
    )
    .await
    .unwrap();
    let user = app.add_user(&org, "member").await;

    // The front end the user signs in to; the orders backend that calls billing for them.
    let (web, web_secret) = app
        .register_app(
            &org.id,
            &for_users("Shop", "openid email orders:read billing:read"),
            "",
        )
        .await;
    let web = Rp {
        id: web.client_id,
        secret: web_secret.map(|s| s.expose_secret().to_string()),
    };
    let backend_input = AppInput {
        name: "Orders backend".into(),
        kind: "on-behalf-of-user".into(),
        grant_types: vec!["urn:ietf:params:oauth:grant-type:token-exchange".into()],
        scopes: vec!["billing:read orders:read".into()],
        exchange_audiences: vec![BILLING.into()],
        ..Default::default()
    };
    let (backend, secret) = app.register_app(&org.id, &backend_input, "").await;
    assert_eq!(backend.exchange_audiences, vec![BILLING.to_string()]);
    let (be, be_secret) = (
        backend.client_id.clone(),
        secret.unwrap().expose_secret().to_string(),
    );

    let browser = app.client();
    let asks = with(
        &good(&web.id),
        "scope",
        Some("openid email orders:read billing:read"),
    );
    let back = browser
        .authorize(
            &format!("{}{}", app.base, authorize_url(&asks)),
            &user,
            "allow",
        )
        .await;
    let (_, tokens) = redeem(&app, &web, &query_of(&back)["code"]).await;
    let subject = tokens["access_token"].as_str().unwrap().to_string();
    let subject_claims = claims(&subject);

    // Exchanged: the user stays the subject, the backend is the actor, billing alone.
    let (s, got) = exchange_for(&app, &be, &be_secret, &subject, &[("audience", BILLING)]).await;
    assert_eq!(s, 200, "{got}");
    assert_eq!(
        got["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    assert_eq!(got["token_type"], "Bearer");
    assert!(got["refresh_token"].is_null());
    // The answer reads as a standard token response in a client library (openidconnect's
    // typed model), RFC 8693's extra field beside it.
    let typed: openidconnect::core::CoreTokenResponse =
        serde_json::from_value(got.clone()).expect("a standard token response");
    {
        use openidconnect::OAuth2TokenResponse;
        assert_eq!(
            typed.token_type(),
            &openidconnect::core::CoreTokenType::Bearer
        );
        assert!(typed.refresh_token().is_none());
    }
    let exchanged = got["access_token"].as_str().unwrap().to_string();
    let c = claims(&exchanged);
    assert_eq!(c["sub"], subject_claims["sub"]);
    assert_eq!(c["aud"], BILLING);
    assert_eq!(c["scope"], "billing:read");
    assert_eq!(c["client_id"], be.as_str());
    assert_eq!(c["act"]["sub"], be.as_str());
    assert_eq!(
        c["gid"], subject_claims["gid"],
        "under the user's own grant"
    );
    // Exchanged again (the backend passing it on): the actors nest.
    let (s, again) =
        exchange_for(&app, &be, &be_secret, &exchanged, &[("resource", BILLING)]).await;
    assert_eq!(s, 200, "{again}");
    assert_eq!(
        claims(again["access_token"].as_str().unwrap())["act"]["act"]["sub"],
        be.as_str()
    );

    // Never wider, never elsewhere, never for another organization, never without the grant.
    let refused = [
        (
            vec![("audience", BILLING), ("scope", "orders:read")],
            "invalid_scope",
        ),
        (vec![("audience", ORDERS)], "invalid_target"),
        (vec![], "invalid_target"),
        (
            vec![("audience", BILLING), ("resource", ORDERS)],
            "invalid_request",
        ),
        (
            vec![("audience", BILLING), ("actor_token", "x")],
            "invalid_request",
        ),
        (
            vec![
                ("audience", BILLING),
                (
                    "requested_token_type",
                    "urn:ietf:params:oauth:token-type:id_token",
                ),
            ],
            "invalid_request",
        ),
    ];
    for (form, error) in refused {
        let (s, e) = exchange_for(&app, &be, &be_secret, &subject, &form).await;
        assert_eq!(
            (s, e["error"].as_str()),
            (400, Some(error)),
            "{form:?}: {e}"
        );
    }
    let (s, e) = exchange_for(
        &app,
        &be,
        &be_secret,
        "not-a-token",
        &[("audience", BILLING)],
    )
    .await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    let (_, _, own_token) = app_token(&app, &org, "read:apps").await;
    let (s, e) = exchange_for(&app, &be, &be_secret, &own_token, &[("audience", BILLING)]).await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "an app's own token"
    );
    let (s, e) = exchange_for(
        &app,
        web.id.as_str(),
        web.secret.as_deref().unwrap(),
        &subject,
        &[("audience", BILLING)],
    )
    .await;
    assert_eq!((s, e["error"].as_str()), (400, Some("unauthorized_client")));
    // A token of another organization's user and app.
    let outsider = app.add_user(&rival, "member").await;
    let (rweb, rsecret) = app
        .register_app(&rival.id, &for_users("Rival shop", "openid email"), "")
        .await;
    let rweb = Rp {
        id: rweb.client_id,
        secret: rsecret.map(|s| s.expose_secret().to_string()),
    };
    let code = code_for(&app, &app.client(), &rweb.id, &outsider).await;
    let (_, rtokens) = redeem(&app, &rweb, &code).await;
    let (s, e) = exchange_for(
        &app,
        &be,
        &be_secret,
        rtokens["access_token"].as_str().unwrap(),
        &[("audience", BILLING)],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "another organization's token"
    );

    // Audited with the token it came from.
    assert!(
        app.count(&format!(
            "SELECT COUNT(*) FROM audit_events WHERE action = 'token.issued' AND detail LIKE '%{}%'",
            subject_claims["jti"].as_str().unwrap()
        ))
        .await
            >= 1
    );

    // The user withdraws the front end's access: the exchanged token ends with it.
    let introspect = |token: String| {
        let (app, be, be_secret) = (&app, be.clone(), be_secret.clone());
        async move {
            let (_, body) = post_as_client(
                &app.base,
                "/oauth2/introspect",
                &be,
                &be_secret,
                &[("token", &token)],
            )
            .await;
            body["active"].as_bool().unwrap()
        }
    };
    assert!(introspect(exchanged.clone()).await);
    let (s, _) = browser
        .act("revoke_my_authorization", &[("client_id", &web.id)])
        .await;
    assert_eq!(s, 200);
    assert!(
        !introspect(exchanged).await,
        "revoking the grant ends exchanged tokens"
    );
    let (s, e) = exchange_for(&app, &be, &be_secret, &subject, &[("audience", BILLING)]).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));

    // The registration rules: the grant needs audiences, and they must be the
    // organization's APIs.
    let p = latchkey::services::Principal::operator_in(&org.id);
    for (audiences, grant) in [
        (vec![], "urn:ietf:params:oauth:grant-type:token-exchange"),
        (
            vec!["https://unknown.example.com".to_string()],
            "urn:ietf:params:oauth:grant-type:token-exchange",
        ),
        (vec![BILLING.to_string()], "authorization_code"),
    ] {
        let input = AppInput {
            grant_types: vec![grant.into()],
            exchange_audiences: audiences,
            redirect_uris: vec![CB.into()],
            ..backend_input.clone()
        };
        let e = services::apps::create(&app.state.db, &p, &input, "")
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("exchange") || format!("{e:?}").contains("exchange_audiences"),
            "{e:?}"
        );
    }
}
