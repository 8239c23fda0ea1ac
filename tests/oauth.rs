//! The token endpoint (client credentials), metadata and JWKS, on SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header, jwk::JwkSet};
use latchkey::domain::AppInput;
use latchkey::services;
use secrecy::ExposeSecret;
use serde_json::Value;

on_both!(
    metadata_and_jwks,
    client_credentials_with_basic_and_post,
    token_endpoint_errors_follow_rfc6749,
    rotated_secrets_and_disabled_apps,
    key_rotation_publishes_before_signing,
    introspection_and_revocation,
    password_and_refresh_grants,
    jwt_bearer_grant,
    token_requests_are_audited,
);

struct Client {
    id: String,
    secret: String,
}

async fn own_app(app: &TestApp, org: &Org, name: &str, scopes: &str) -> Client {
    let input = AppInput {
        name: name.into(),
        kind: "own-behalf".into(),
        grant_types: vec!["client_credentials".into()],
        scopes: vec![scopes.into()],
        access_token_ttl: "600".into(),
        ..Default::default()
    };
    let (a, s) = app.register_app(&org.id, &input, "").await;
    Client {
        id: a.client_id,
        secret: s.unwrap().expose_secret().to_string(),
    }
}

async fn token(
    app: &TestApp,
    basic: Option<(&str, &str)>,
    form: &[(&str, &str)],
) -> (u16, reqwest::header::HeaderMap, Value) {
    let mut req = reqwest::Client::new()
        .post(format!("{}/oauth2/token", app.base))
        .form(form);
    if let Some((id, secret)) = basic {
        req = req.basic_auth(id, Some(secret));
    }
    let res = req.send().await.unwrap();
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    (status, headers, res.json().await.unwrap_or(Value::Null))
}

async fn jwks(app: &TestApp) -> JwkSet {
    reqwest::get(format!("{}/oauth2/jwks", app.base))
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn verify(token: &str, set: &JwkSet, issuer: &str) -> Value {
    let header = decode_header(token).unwrap();
    assert_eq!(header.typ.as_deref(), Some("at+jwt"));
    assert_eq!(header.alg, Algorithm::ES256);
    let jwk = set
        .find(header.kid.as_deref().unwrap())
        .expect("the signing key is published");
    let mut v = Validation::new(Algorithm::ES256);
    v.set_audience(&[issuer]);
    v.set_issuer(&[issuer]);
    decode::<Value>(token, &DecodingKey::from_jwk(jwk).unwrap(), &v)
        .unwrap()
        .claims
}

async fn metadata_and_jwks(b: Backend) {
    let app = spawn_app(b).await;
    let meta: Value = reqwest::get(format!(
        "{}/.well-known/oauth-authorization-server",
        app.base
    ))
    .await
    .unwrap()
    .json()
    .await
    .unwrap();
    assert_eq!(meta["issuer"], app.base.as_str());
    assert_eq!(
        meta["token_endpoint_auth_methods_supported"],
        serde_json::json!([
            "client_secret_basic",
            "client_secret_post",
            "private_key_jwt",
            "none"
        ])
    );
    assert_eq!(meta["token_endpoint"], format!("{}/oauth2/token", app.base));
    assert_eq!(
        meta["grant_types_supported"],
        serde_json::json!([
            "authorization_code",
            "refresh_token",
            "client_credentials",
            "password",
            "urn:ietf:params:oauth:grant-type:jwt-bearer",
            "urn:ietf:params:oauth:grant-type:device_code",
            "urn:ietf:params:oauth:grant-type:token-exchange"
        ])
    );
    // Issue 13's additions, each at its endpoint.
    for (field, path) in [
        (
            "device_authorization_endpoint",
            "/oauth2/device_authorization",
        ),
        ("pushed_authorization_request_endpoint", "/oauth2/par"),
    ] {
        assert_eq!(meta[field], format!("{}{path}", app.base), "{field}");
    }
    assert_eq!(meta["require_pushed_authorization_requests"], false);
    assert_eq!(
        meta["introspection_signing_alg_values_supported"],
        serde_json::json!(["ES256"])
    );
    assert_eq!(
        meta["dpop_signing_alg_values_supported"],
        meta["token_endpoint_auth_signing_alg_values_supported"]
    );
    assert_eq!(
        meta["introspection_endpoint"],
        format!("{}/oauth2/introspect", app.base)
    );
    assert_eq!(
        meta["revocation_endpoint"],
        format!("{}/oauth2/revoke", app.base)
    );
    let res = reqwest::get(format!("{}/oauth2/jwks", app.base))
        .await
        .unwrap();
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    let set: Value = res.json().await.unwrap();
    let keys = set["keys"].as_array().unwrap();
    assert!(
        keys.iter()
            .any(|k| k["kty"] == "RSA" && k["alg"] == "RS256")
    );
    let key = keys.iter().find(|k| k["kty"] == "EC").unwrap();
    assert_eq!(
        (
            key["kty"].as_str(),
            key["crv"].as_str(),
            key["alg"].as_str()
        ),
        (Some("EC"), Some("P-256"), Some("ES256"))
    );
    assert!(key.get("d").is_none(), "no private part");
    let stored = app
        .count("SELECT COUNT(*) FROM signing_keys WHERE private_sealed LIKE '%BEGIN%'")
        .await;
    assert_eq!(stored, 0, "private keys are sealed");
}

async fn client_credentials_with_basic_and_post(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = own_app(&app, &org, "CI", "read:apps manage:apps").await;
    let set = jwks(&app).await;

    let (status, headers, body) = token(
        &app,
        Some((&c.id, &c.secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["token_type"], "Bearer");
    assert_eq!(body["expires_in"], 600);
    assert_eq!(body["scope"], "read:apps manage:apps");
    let claims = verify(body["access_token"].as_str().unwrap(), &set, &app.base);
    assert_eq!(claims["sub"], c.id.as_str());
    assert_eq!(claims["client_id"], c.id.as_str());
    assert_eq!(claims["org_id"], org.id.as_str());
    assert_eq!(claims["scope"], "read:apps manage:apps");
    assert_eq!(
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap(),
        600
    );
    assert!(claims["jti"].as_str().unwrap().len() >= 20);

    let (status, _, body) = token(
        &app,
        None,
        &[
            ("grant_type", "client_credentials"),
            ("client_id", &c.id),
            ("client_secret", &c.secret),
            ("scope", "read:apps"),
        ],
    )
    .await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "read:apps");
    assert_eq!(
        verify(body["access_token"].as_str().unwrap(), &set, &app.base)["scope"],
        "read:apps"
    );

    // JSON bodies are accepted too.
    let res = reqwest::Client::new()
        .post(format!("{}/oauth2/token", app.base))
        .basic_auth(&c.id, Some(&c.secret))
        .json(&serde_json::json!({ "grant_type": "client_credentials" }))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        app.count("SELECT COUNT(*) FROM client_secrets WHERE last_used_at IS NOT NULL")
            .await,
        1
    );
}

async fn token_endpoint_errors_follow_rfc6749(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = own_app(&app, &org, "CI", "read:apps").await;
    let cc = [("grant_type", "client_credentials")];
    let expect = |r: (u16, reqwest::header::HeaderMap, Value), status: u16, code: &str| {
        assert_eq!(
            (r.0, r.2["error"].as_str()),
            (status, Some(code)),
            "{}",
            r.2
        );
        assert!(r.2["error_description"].is_string());
        assert_eq!(r.1["cache-control"], "no-store");
        r.1
    };
    let h = expect(
        token(&app, Some((&c.id, "lks_wrong")), &cc).await,
        401,
        "invalid_client",
    );
    assert_eq!(h["www-authenticate"], "Basic realm=\"latchkey\"");
    expect(
        token(&app, Some(("no-such-client", "x")), &cc).await,
        401,
        "invalid_client",
    );
    expect(token(&app, None, &cc).await, 401, "invalid_client");
    expect(
        token(
            &app,
            None,
            &[("grant_type", "client_credentials"), ("client_id", &c.id)],
        )
        .await,
        401,
        "invalid_client",
    );
    expect(
        token(
            &app,
            Some((&c.id, &c.secret)),
            &[
                ("grant_type", "client_credentials"),
                ("client_secret", &c.secret),
            ],
        )
        .await,
        400,
        "invalid_request",
    );
    expect(
        token(&app, Some((&c.id, &c.secret)), &[]).await,
        400,
        "invalid_request",
    );
    expect(
        token(
            &app,
            Some((&c.id, &c.secret)),
            &[
                ("grant_type", "client_credentials"),
                ("grant_type", "client_credentials"),
            ],
        )
        .await,
        400,
        "invalid_request",
    );
    expect(
        token(
            &app,
            Some((&c.id, &c.secret)),
            &[("grant_type", "implicit")],
        )
        .await,
        400,
        "unsupported_grant_type",
    );
    expect(
        token(
            &app,
            Some((&c.id, &c.secret)),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "manage:apps"),
            ],
        )
        .await,
        400,
        "invalid_scope",
    );
    expect(
        token(
            &app,
            Some((&c.id, &c.secret)),
            &[
                ("grant_type", "client_credentials"),
                ("scope", "' OR 1=1 --"),
            ],
        )
        .await,
        400,
        "invalid_scope",
    );
    let huge = "x".repeat(10_000);
    expect(
        token(
            &app,
            Some((&c.id, &c.secret)),
            &[("grant_type", "client_credentials"), ("scope", &huge)],
        )
        .await,
        400,
        "invalid_request",
    );
    // A user app may not use client credentials.
    let input = AppInput {
        name: "Web".into(),
        kind: "on-behalf-of-user".into(),
        grant_types: vec!["authorization_code".into()],
        redirect_uris: vec!["https://web.example.com/cb".into()],
        ..Default::default()
    };
    let (web, s) = app.register_app(&org.id, &input, "").await;
    expect(
        token(
            &app,
            Some((&web.client_id, s.unwrap().expose_secret())),
            &cc,
        )
        .await,
        400,
        "unauthorized_client",
    );
    // Wrong content type, and a non-UTF-8 Basic header.
    let res = reqwest::Client::new()
        .post(format!("{}/oauth2/token", app.base))
        .body("grant_type=client_credentials")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let res = reqwest::Client::new()
        .post(format!("{}/oauth2/token", app.base))
        .header("authorization", "Basic //79")
        .form(&cc)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

async fn rotated_secrets_and_disabled_apps(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = own_app(&app, &org, "CI", "read:apps").await;
    let cc = [("grant_type", "client_credentials")];
    let (second, _) = services::apps::add_secret(
        &app.state.db,
        &latchkey::services::Principal::operator_in(&org.id),
        &c.id,
        "",
    )
    .await
    .unwrap();
    assert_eq!(
        token(&app, Some((&c.id, &c.secret)), &cc).await.0,
        200,
        "the old secret works during rotation"
    );
    assert_eq!(
        token(&app, Some((&c.id, second.expose_secret())), &cc)
            .await
            .0,
        200,
        "and so does the new one"
    );
    let old = services::apps::get(
        &app.state.db,
        &latchkey::services::Principal::operator_in(&org.id),
        &c.id,
    )
    .await
    .unwrap()
    .secrets[0]
        .id
        .clone();
    services::apps::delete_secret(
        &app.state.db,
        &latchkey::services::Principal::operator_in(&org.id),
        &c.id,
        &old,
    )
    .await
    .unwrap();
    assert_eq!(
        token(&app, Some((&c.id, &c.secret)), &cc).await.0,
        401,
        "a deleted secret stops at once"
    );
    assert_eq!(
        token(&app, Some((&c.id, second.expose_secret())), &cc)
            .await
            .0,
        200
    );
    app.set_enabled(&org.id, &c.id, false).await;
    let (status, _, body) = token(&app, Some((&c.id, second.expose_secret())), &cc).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (401, Some("invalid_client"))
    );
}

async fn key_rotation_publishes_before_signing(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = own_app(&app, &org, "CI", "read:apps").await;
    let before = jwks(&app).await;
    assert_eq!(before.keys.len(), 2, "one ES256 and one RS256 key");
    let es256 = |set: &JwkSet| -> Vec<String> {
        set.keys
            .iter()
            .filter(|k| {
                matches!(
                    k.algorithm,
                    jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_)
                )
            })
            .map(|k| k.common.key_id.clone().unwrap())
            .collect()
    };
    let old_kid = es256(&before)[0].clone();
    let (new_kids, signs_from) =
        services::keys::rotate(&app.state.db, &app.state.settings.master_key)
            .await
            .unwrap();
    assert_eq!(new_kids.len(), 2, "a new key of each algorithm");
    assert!(signs_from > services::now());
    app.state.reload_keys().await.unwrap();
    let after = jwks(&app).await;
    assert_eq!(after.keys.len(), 4, "the new keys are published at once");
    assert!(new_kids.iter().all(|k| after.find(k).is_some()) && after.find(&old_kid).is_some());
    let new_kid = es256(&after).into_iter().find(|k| *k != old_kid).unwrap();
    let (_, _, body) = token(
        &app,
        Some((&c.id, &c.secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    let header = decode_header(body["access_token"].as_str().unwrap()).unwrap();
    assert_eq!(
        header.kid.as_deref(),
        Some(old_kid.as_str()),
        "the old key signs until the new one activates"
    );
    let ring = app.state.key_ring();
    let es = Algorithm::ES256;
    assert_eq!(ring.signing_key(signs_from, es).unwrap().kid, new_kid);
    assert_eq!(ring.signing_key(signs_from - 1, es).unwrap().kid, old_kid);
}

async fn post_as(app: &TestApp, path: &str, c: &Client, form: &[(&str, &str)]) -> (u16, Value) {
    let res = reqwest::Client::new()
        .post(format!("{}{path}", app.base))
        .basic_auth(&c.id, Some(&c.secret))
        .form(form)
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    let text = res.text().await.unwrap();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

async fn active(app: &TestApp, rs: &Client, token: &str) -> bool {
    let (status, body) = post_as(app, "/oauth2/introspect", rs, &[("token", token)]).await;
    assert_eq!(status, 200, "{body}");
    body["active"].as_bool().unwrap()
}

async fn introspection_and_revocation(b: Backend) {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let other = app.org_with_admin("Other").await;
    let c = own_app(&app, &org, "CI", "read:apps manage:apps").await;
    let rs = own_app(&app, &org, "Resource server", "").await;
    let outsider = own_app(&app, &other, "Outsider", "").await;
    let get = |scope: &'static str| {
        let (id, secret) = (c.id.clone(), c.secret.clone());
        let app = &app;
        async move {
            let (_, _, body) = token(
                app,
                Some((&id, &secret)),
                &[("grant_type", "client_credentials"), ("scope", scope)],
            )
            .await;
            body["access_token"].as_str().unwrap().to_string()
        }
    };
    let t = get("read:apps").await;

    let (status, body) = post_as(
        &app,
        "/oauth2/introspect",
        &rs,
        &[("token", &t), ("token_type_hint", "access_token")],
    )
    .await;
    assert_eq!(status, 200);
    assert_eq!(body["active"], true);
    assert_eq!(body["client_id"], c.id.as_str());
    assert_eq!(body["scope"], "read:apps");
    assert_eq!(body["org_id"], org.id.as_str());
    assert_eq!(body["token_type"], "Bearer");
    assert!(
        !active(&app, &outsider, &t).await,
        "another organization learns nothing"
    );

    // The same answer as a signed JWT for a resource server that asks for one (RFC 9701):
    // our issuer, the asking client as audience, verified with the published keys.
    let res = reqwest::Client::new()
        .post(format!("{}/oauth2/introspect", app.base))
        .basic_auth(&rs.id, Some(&rs.secret))
        .header("accept", "application/token-introspection+jwt")
        .form(&[("token", &t)])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(
        res.headers()["content-type"],
        "application/token-introspection+jwt"
    );
    assert_eq!(res.headers()["cache-control"], "no-store");
    let jwt = res.text().await.unwrap();
    let header = decode_header(&jwt).unwrap();
    assert_eq!(header.typ.as_deref(), Some("token-introspection+jwt"));
    let set = jwks(&app).await;
    let mut v = Validation::new(Algorithm::ES256);
    v.set_audience(&[&rs.id]);
    v.set_issuer(&[&app.base]);
    v.set_required_spec_claims(&["iss", "aud"]);
    let signed = decode::<Value>(
        &jwt,
        &DecodingKey::from_jwk(set.find(header.kid.as_deref().unwrap()).unwrap()).unwrap(),
        &v,
    )
    .expect("a JWT signed with a published key, for this resource server")
    .claims;
    assert_eq!(signed["token_introspection"]["active"], true);
    assert_eq!(signed["token_introspection"]["client_id"], c.id.as_str());
    assert!(signed["iat"].is_i64());
    // Another organization's client gets a signed "inactive", nothing more.
    let res = reqwest::Client::new()
        .post(format!("{}/oauth2/introspect", app.base))
        .basic_auth(&outsider.id, Some(&outsider.secret))
        .header("accept", "application/token-introspection+jwt")
        .form(&[("token", &t)])
        .send()
        .await
        .unwrap();
    let inactive = claims(&res.text().await.unwrap());
    assert_eq!(
        inactive["token_introspection"],
        serde_json::json!({ "active": false })
    );

    // Forged and malformed tokens are inactive.
    let parts: Vec<&str> = t.split('.').collect();
    let mut claims: Value =
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
    claims["scope"] = "read:apps manage:apps manage:users".into();
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    assert!(
        !active(&app, &rs, &tampered).await,
        "a scope list edited by hand"
    );
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"at+jwt"}"#);
    assert!(
        !active(&app, &rs, &format!("{none_header}.{}.", parts[1])).await,
        "alg none"
    );
    assert!(!active(&app, &rs, "not-a-token").await);
    assert!(!active(&app, &rs, &"x".repeat(5000)).await);
    let (status, body) = post_as(&app, "/oauth2/introspect", &rs, &[]).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let wrong = Client {
        id: rs.id.clone(),
        secret: "lks_wrong".into(),
    };
    assert_eq!(
        post_as(&app, "/oauth2/introspect", &wrong, &[("token", &t)])
            .await
            .0,
        401
    );

    // Another client cannot revoke it; its own client can, and that is final.
    assert_eq!(
        post_as(&app, "/oauth2/revoke", &rs, &[("token", &t)])
            .await
            .0,
        200
    );
    assert!(active(&app, &rs, &t).await);
    assert_eq!(
        post_as(
            &app,
            "/oauth2/revoke",
            &c,
            &[("token", &t), ("token_type_hint", "access_token")]
        )
        .await
        .0,
        200
    );
    assert!(!active(&app, &rs, &t).await, "revoked at once");
    assert_eq!(
        post_as(&app, "/oauth2/revoke", &c, &[("token", &t)])
            .await
            .0,
        200,
        "twice is fine"
    );
    assert_eq!(
        post_as(&app, "/oauth2/revoke", &c, &[("token", "unknown")])
            .await
            .0,
        200,
        "unknown tokens answer 200"
    );
    assert_eq!(post_as(&app, "/oauth2/revoke", &c, &[]).await.0, 400);

    // Disabling the app makes its tokens inactive; deleting it too.
    let t2 = get("manage:apps").await;
    assert!(active(&app, &rs, &t2).await);
    app.set_enabled(&org.id, &c.id, false).await;
    assert!(
        !active(&app, &rs, &t2).await,
        "a disabled app's tokens are inactive"
    );
    app.set_enabled(&org.id, &c.id, true).await;
    assert!(active(&app, &rs, &t2).await);
    services::apps::delete(
        &app.state.db,
        &latchkey::services::Principal::operator_in(&org.id),
        &c.id,
        "CI",
    )
    .await
    .unwrap();
    assert!(
        !active(&app, &rs, &t2).await,
        "a deleted app's tokens are inactive"
    );
    assert!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'token.revoked'")
            .await
            >= 1,
        "revocations are audited"
    );
}

async fn user_app(app: &TestApp, org: &Org, name: &str, audience: &str) -> Client {
    let input = AppInput {
        name: name.into(),
        kind: "on-behalf-of-user".into(),
        grant_types: vec!["password".into(), "refresh_token".into()],
        scopes: vec!["openid email offline_access read:apps".into()],
        audience: audience.into(),
        ..Default::default()
    };
    let (a, s) = app.register_app(&org.id, &input, "").await;
    Client {
        id: a.client_id,
        secret: s.unwrap().expose_secret().to_string(),
    }
}

async fn password_and_refresh_grants(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let other = app.org_with_admin("Other").await;
    let member = app.add_user(&org, "member").await;
    let outsider = app.add_user(&other, "member").await;
    let mobile = user_app(&app, &org, "Mobile", "internal").await;
    let rs = own_app(&app, &org, "Resource server", "").await;
    let set = jwks(&app).await;
    let pw = |user: &str, password: &str, scope: &str| {
        let (user, password, scope) = (user.to_string(), password.to_string(), scope.to_string());
        let (id, secret) = (mobile.id.clone(), mobile.secret.clone());
        let app = &app;
        async move {
            token(
                app,
                Some((&id, &secret)),
                &[
                    ("grant_type", "password"),
                    ("username", &user),
                    ("password", &password),
                    ("scope", &scope),
                ],
            )
            .await
        }
    };

    let (status, headers, body) = pw(&member, PASSWORD, "email offline_access manage:apps").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(headers["cache-control"], "no-store");
    assert_eq!(body["scope"], "email offline_access", "requested ∩ allowed");
    let claims = verify(body["access_token"].as_str().unwrap(), &set, &app.base);
    assert_eq!(claims["org_id"], org.id.as_str());
    assert!(claims["gid"].is_string());
    assert_ne!(
        claims["sub"],
        member.as_str(),
        "sub is an opaque id, not the e-mail"
    );
    let refresh1 = body["refresh_token"].as_str().unwrap().to_string();
    assert!(refresh1.starts_with("lkr_"));
    assert_eq!(
        app.count(&format!(
            "SELECT COUNT(*) FROM refresh_tokens WHERE digest = '{refresh1}'"
        ))
        .await,
        0,
        "stored hashed"
    );

    let (status, _, body) = pw(&member, PASSWORD, "email").await;
    assert_eq!(status, 200);
    assert!(
        body.get("refresh_token").is_none(),
        "no offline_access, no refresh token"
    );
    let (status, _, body) = pw(&member, "wrong password!!", "email").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, body) = pw("nobody@example.com", "wrong password!!", "email").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, body) = pw(&outsider, PASSWORD, "email").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "an internal app is for its own organization"
    );
    let (status, _, body) = pw(&member, PASSWORD, "manage:users").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope"))
    );
    let (status, _, body) = token(
        &app,
        Some((&mobile.id, &mobile.secret)),
        &[("grant_type", "password"), ("username", &member)],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
    let (status, _, body) = token(
        &app,
        Some((&rs.id, &rs.secret)),
        &[
            ("grant_type", "password"),
            ("username", &member),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("unauthorized_client"))
    );

    // Refresh rotates; the scope may only narrow.
    let refresh = |rt: &str, scope: &str| {
        let (rt, scope) = (rt.to_string(), scope.to_string());
        let (id, secret) = (mobile.id.clone(), mobile.secret.clone());
        let app = &app;
        async move {
            token(
                app,
                Some((&id, &secret)),
                &[
                    ("grant_type", "refresh_token"),
                    ("refresh_token", &rt),
                    ("scope", &scope),
                ],
            )
            .await
        }
    };
    let (status, _, body) = refresh(&refresh1, "email openid").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_scope")),
        "no widening"
    );
    let (status, _, body) = refresh(&refresh1, "email").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "email");
    let refresh2 = body["refresh_token"].as_str().unwrap().to_string();
    let access2 = body["access_token"].as_str().unwrap().to_string();
    assert_ne!(refresh2, refresh1);
    let (status, _, body) = refresh(&refresh2, "").await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        body["scope"], "email offline_access",
        "the grant's scope is kept for later refreshes"
    );
    let refresh3 = body["refresh_token"].as_str().unwrap().to_string();
    let access3 = body["access_token"].as_str().unwrap().to_string();
    assert!(active(&app, &rs, &access3).await);

    // Reusing a rotated refresh token revokes the whole family.
    let (status, _, body) = refresh(&refresh1, "").await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let (status, _, _) = refresh(&refresh3, "").await;
    assert_eq!(status, 400, "the newest refresh token died with its grant");
    assert!(
        !active(&app, &rs, &access2).await && !active(&app, &rs, &access3).await,
        "and so did the access tokens"
    );

    // Revoking a refresh token ends its grant; a removed user's tokens are inactive.
    let (_, _, body) = pw(&member, PASSWORD, "").await;
    let (rt, at) = (
        body["refresh_token"].as_str().unwrap().to_string(),
        body["access_token"].as_str().unwrap().to_string(),
    );
    assert!(active(&app, &rs, &at).await);
    assert_eq!(
        post_as(
            &app,
            "/oauth2/revoke",
            &mobile,
            &[("token", &rt), ("token_type_hint", "refresh_token")]
        )
        .await
        .0,
        200
    );
    assert!(!active(&app, &rs, &at).await);
    assert_eq!(refresh(&rt, "").await.0, 400);
    let (_, _, body) = pw(&member, PASSWORD, "").await;
    let (rt, at) = (
        body["refresh_token"].as_str().unwrap().to_string(),
        body["access_token"].as_str().unwrap().to_string(),
    );
    let member_id = app.user_id(&org, &member).await;
    services::users::remove(
        &app.state.db,
        &latchkey::services::Principal::operator_in(&org.id),
        &member_id,
    )
    .await
    .unwrap();
    assert!(
        !active(&app, &rs, &at).await,
        "a removed user's token is inactive"
    );
    assert_eq!(refresh(&rt, "").await.0, 400);
    assert_eq!(refresh("lkr_unknown", "").await.0, 400);

    // An `everyone` app of another organization never gets a user's password: the
    // password grant serves the app's own organization only (RFC 9700 §2.4; the attack of
    // issue 8, tests/attacks.rs). Such users reach it through the browser flow.
    let portal = user_app(&app, &org, "Partner portal", "everyone").await;
    let (status, _, body) = token(
        &app,
        Some((&portal.id, &portal.secret)),
        &[
            ("grant_type", "password"),
            ("username", &outsider),
            ("password", PASSWORD),
        ],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
}

async fn jwt_bearer_grant(b: Backend) {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use jsonwebtoken::{EncodingKey, Header, encode};
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let other = app.org_with_admin("Other").await;
    let member = app.add_user(&org, "member").await;
    let outsider = app.add_user(&other, "member").await;
    let key = latchkey::crypto::signing::generate_es256().unwrap();
    let stranger = latchkey::crypto::signing::generate_es256().unwrap();
    let jwks = serde_json::json!({ "keys": [key.public_jwk] }).to_string();
    let input = AppInput {
        name: "Backend".into(),
        kind: "on-behalf-of-user".into(),
        grant_types: vec![
            "urn:ietf:params:oauth:grant-type:jwt-bearer".into(),
            "refresh_token".into(),
        ],
        scopes: vec!["email offline_access read:apps".into()],
        ..Default::default()
    };
    let (a, s) = app.register_app(&org.id, &input, &jwks).await;
    let c = Client {
        id: a.client_id,
        secret: s.unwrap().expose_secret().to_string(),
    };
    let now = services::now();
    let claims = |sub: &str, aud: &str, exp: i64, jti: &str| serde_json::json!({ "iss": c.id, "sub": sub, "aud": aud, "exp": exp, "iat": now, "jti": jti });
    let sign = |claims: &Value, pkcs8: &[u8]| {
        let mut h = Header::new(jsonwebtoken::Algorithm::ES256);
        h.kid = Some(key.kid.clone());
        encode(&h, claims, &EncodingKey::from_ec_der(pkcs8)).unwrap()
    };
    let grant = |assertion: String| {
        let (id, secret) = (c.id.clone(), c.secret.clone());
        let app = &app;
        async move {
            token(
                app,
                Some((&id, &secret)),
                &[
                    ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
                    ("assertion", &assertion),
                ],
            )
            .await
        }
    };
    let token_endpoint = format!("{}/oauth2/token", app.base);

    let good = sign(
        &claims(&member, &token_endpoint, now + 120, "one"),
        &key.pkcs8,
    );
    let (status, _, body) = grant(good.clone()).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["scope"], "email offline_access read:apps");
    assert!(body["refresh_token"].is_string());
    let (status, _, body) = grant(good).await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "a replayed jti"
    );
    assert!(
        body["error_description"]
            .as_str()
            .unwrap()
            .contains("already used")
    );
    let (status, _, _) = grant(sign(
        &claims(&member, &app.base, now + 120, "issuer-audience"),
        &key.pkcs8,
    ))
    .await;
    assert_eq!(status, 200, "the issuer is an accepted audience too");

    let refused = [
        (
            "expired",
            sign(
                &claims(&member, &token_endpoint, now - 120, "a"),
                &key.pkcs8,
            ),
        ),
        (
            "too long-lived",
            sign(
                &claims(&member, &token_endpoint, now + 3600, "b"),
                &key.pkcs8,
            ),
        ),
        (
            "wrong audience",
            sign(
                &claims(&member, "https://elsewhere.example.com", now + 60, "c"),
                &key.pkcs8,
            ),
        ),
        (
            "another key",
            sign(
                &claims(&member, &token_endpoint, now + 60, "d"),
                &stranger.pkcs8,
            ),
        ),
        (
            "unknown user",
            sign(
                &claims("ghost@example.com", &token_endpoint, now + 60, "e"),
                &key.pkcs8,
            ),
        ),
        (
            "user of another organization",
            sign(
                &claims(&outsider, &token_endpoint, now + 60, "f"),
                &key.pkcs8,
            ),
        ),
        ("garbage", "not.a.jwt".to_string()),
    ];
    for (why, assertion) in refused {
        let (status, _, body) = grant(assertion).await;
        assert_eq!(
            (status, body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{why}: {body}"
        );
    }
    // Future-dated iat.
    let mut future = claims(&member, &token_endpoint, now + 200, "g");
    future["iat"] = (now + 150).into();
    assert_eq!(grant(sign(&future, &key.pkcs8)).await.0, 400);
    // alg: none, and HS256 keyed with the public key.
    let body = URL_SAFE_NO_PAD.encode(claims(&member, &token_endpoint, now + 60, "h").to_string());
    let none = format!(
        "{}.{body}.",
        URL_SAFE_NO_PAD.encode(r#"{"alg":"none","typ":"JWT"}"#)
    );
    assert_eq!(grant(none).await.2["error"], "invalid_grant");
    let hs = encode(
        &Header::new(jsonwebtoken::Algorithm::HS256),
        &claims(&member, &token_endpoint, now + 60, "i"),
        &EncodingKey::from_secret(jwks.as_bytes()),
    )
    .unwrap();
    assert_eq!(grant(hs).await.2["error"], "invalid_grant");
    let (status, _, body) = token(
        &app,
        Some((&c.id, &c.secret)),
        &[("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer")],
    )
    .await;
    assert_eq!(
        (status, body["error"].as_str()),
        (400, Some("invalid_request"))
    );
}

async fn token_requests_are_audited(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let c = own_app(&app, &org, "CI", "read:apps").await;
    let (status, _, _) = token(
        &app,
        Some((&c.id, &c.secret)),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 200);
    let (status, _, _) = token(
        &app,
        Some((&c.id, &c.secret)),
        &[
            ("grant_type", "client_credentials"),
            ("scope", "manage:apps"),
        ],
    )
    .await;
    assert_eq!(status, 400);
    let (status, _, _) = token(
        &app,
        Some((&c.id, "wrong")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 401);
    let (status, _, _) = token(
        &app,
        Some(("no-such-client", "x")),
        &[("grant_type", "client_credentials")],
    )
    .await;
    assert_eq!(status, 401);
    let q = |action: &str, org: &str| {
        format!(
            "SELECT COUNT(*) FROM audit_events WHERE action = '{action}' AND actor_type <> 'user' AND {org}"
        )
    };
    let in_org = format!("org_id = '{}' AND object_id = '{}'", org.id, c.id);
    assert_eq!(app.count(&q("token.issued", &in_org)).await, 1);
    assert_eq!(
        app.count(&q("token.refused", &in_org)).await,
        2,
        "a wrong secret is recorded in the claimed app's organization"
    );
    assert_eq!(
        app.count(&q("token.refused", "org_id IS NULL")).await,
        1,
        "an unknown client's refusal is recorded too, in no organization"
    );
    use sqlx::Row;
    let detail: String =
        sqlx::query("SELECT detail FROM audit_events WHERE action = 'token.issued'")
            .fetch_one(&app.state.db.pool)
            .await
            .unwrap()
            .try_get(0)
            .unwrap();
    let detail: Value = serde_json::from_str(&detail).unwrap();
    assert_eq!(detail["grant_type"], "client_credentials");
    assert_eq!(detail["scope"], "read:apps");
    assert!(
        !detail.to_string().contains(&c.secret),
        "never a secret in the audit log"
    );
}
