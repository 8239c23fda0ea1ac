//! Single sign-on through an organization's own OpenID Connect provider. The provider is a
//! second Latchkey, served under `localhost` (so its cookies are not this one's, on
//! `127.0.0.1`); this Latchkey is its relying party through the `openidconnect` crate.
//! SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use latchkey::domain::AppInput;
use latchkey::domain::upstream::ProviderInput;
use latchkey::services::{self, Principal};
use secrecy::ExposeSecret;

on_both!(
    people_sign_in_through_their_organizations_provider,
    the_provider_cannot_take_over_other_accounts,
    forged_id_tokens_are_refused,
    a_jwt_bearer_assertion_names_the_user_at_the_provider,
);

/// The provider: another Latchkey with an organization, its people, and this server
/// registered as its app.
struct Upstream {
    app: TestApp,
    issuer: String,
    org: Org,
    client_id: String,
    secret: String,
}

async fn upstream(b: Backend, rp: &TestApp) -> Upstream {
    let app = spawn_app_with(b, |s| {
        s.issuer = s.issuer.replace("127.0.0.1", "localhost");
    })
    .await;
    let issuer = app.state.settings.issuer.clone();
    let org = app.org_with_admin("Corp directory").await;
    let input = AppInput {
        name: "Latchkey at Acme".into(),
        kind: "on-behalf-of-user".into(),
        grant_types: vec!["authorization_code".into()],
        redirect_uris: vec![format!("{}/login/sso/callback", rp.base)],
        scopes: vec!["openid email profile".into()],
        ..Default::default()
    };
    let (a, s) = app.register_app(&org.id, &input, "").await;
    Upstream {
        app,
        issuer,
        org,
        client_id: a.client_id,
        secret: s.unwrap().expose_secret().to_string(),
    }
}

impl Upstream {
    /// A person of the provider's directory, their address verified there.
    async fn person(&self, email: &str) {
        self.unverified_person(email).await;
        sqlx::query("UPDATE users SET email_verified_at = 1 WHERE email = $1")
            .bind(email)
            .execute(&self.app.state.db.pool)
            .await
            .unwrap();
    }

    /// A person whose address the provider never verified.
    async fn unverified_person(&self, email: &str) {
        services::users::create(
            &self.app.state.db,
            &Principal::operator_in(&self.org.id),
            email,
            "Ana Upstream",
            "member",
            PASSWORD.to_string().into(),
        )
        .await
        .unwrap();
    }

    fn provider(&self, provisioning: &str, required: bool) -> ProviderInput {
        ProviderInput {
            name: "Corp SSO".into(),
            issuer: self.issuer.clone(),
            client_id: self.client_id.clone(),
            client_secret: self.secret.clone(),
            domains: "corp.example".into(),
            provisioning: provisioning.into(),
            default_role: "member".into(),
            required,
        }
    }
}

/// Signs `email` in through the provider from `/login/sso`; the final redirect here.
async fn through_provider(app: &TestApp, up: &Upstream, b: &Browser, email: &str) -> String {
    let to_provider = b
        .plain_post(
            "sso_start",
            "/login/sso",
            &[("email", email), ("next", "/account/apps")],
        )
        .await;
    assert!(to_provider.starts_with(&up.issuer), "{to_provider}");
    let at_provider = Browser {
        http: b.http.clone(),
        base: up.issuer.clone(),
    };
    let back = at_provider.authorize(&to_provider, email, "allow").await;
    assert!(
        back.starts_with(&format!("{}/login/sso/callback?", app.base)),
        "{back}"
    );
    let (_, _, location) = b.get(back.trim_start_matches(&app.base)).await;
    location.unwrap()
}

/// Makes `email` a member of `org` here (an existing account joins with its own password).
async fn member(app: &TestApp, org: &Org, email: &str, role: &str) {
    services::users::create(
        &app.state.db,
        &Principal::operator_in(&org.id),
        email,
        "Someone",
        role,
        PASSWORD.to_string().into(),
    )
    .await
    .unwrap();
}

async fn signed_in_as(b: &Browser) -> Option<String> {
    let (_, ctx) = b.call("page_context", &[]).await;
    ctx["me"]["email"].as_str().map(str::to_string)
}

async fn people_sign_in_through_their_organizations_provider(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let up = upstream(b, &app).await;
    let admin = Principal::operator_in(&org.id);
    let db = &app.state.db;
    let key = &app.state.settings.master_key;

    // A wrong issuer (the provider's discovery says another) is refused when set up.
    let wrong = ProviderInput {
        issuer: up.app.base.clone(),
        ..up.provider("jit", false)
    };
    let e = services::upstream::set(db, key, &app.base, &admin, &wrong)
        .await
        .unwrap_err();
    assert!(matches!(e, services::Error::Invalid(_)), "{e:?}");
    let view = services::upstream::set(db, key, &app.base, &admin, &up.provider("jit", false))
        .await
        .unwrap();
    assert_eq!(
        view.redirect_uri,
        format!("{}/login/sso/callback", app.base)
    );

    // Just-in-time: the provider's person gets an account here, a member.
    up.person("ana@corp.example").await;
    let browser = app.client();
    let landed = through_provider(&app, &up, &browser, "ana@corp.example").await;
    assert_eq!(landed, "/account/apps");
    assert_eq!(
        signed_in_as(&browser).await.as_deref(),
        Some("ana@corp.example")
    );
    let ana = app.user_id(&org, "ana@corp.example").await;
    let member = db.member(&org.id, &ana).await.unwrap().unwrap();
    assert_eq!(member.role.as_str(), "member");
    // The account has no password: only the provider signs it in.
    let (s, _) = app.client().login("ana@corp.example", PASSWORD).await;
    assert_eq!(s, 401);

    // A second sign-in finds the same account by the provider's subject.
    let again = app.client();
    through_provider(&app, &up, &again, "ana@corp.example").await;
    assert_eq!(
        signed_in_as(&again).await.as_deref(),
        Some("ana@corp.example")
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE email = 'ana@corp.example'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM external_identities").await,
        1
    );

    // A callback whose state is not this session's, or replayed, is refused.
    let stranger = app.client();
    let (_, _, loc) = stranger
        .get("/login/sso/callback?code=x&state=forged")
        .await;
    assert_eq!(loc.as_deref(), Some("/login/sso?error=expired"));
    let b3 = app.client();
    let to_provider = b3
        .plain_post("sso_start", "/login/sso", &[("email", "ana@corp.example")])
        .await;
    let at_provider = Browser {
        http: b3.http.clone(),
        base: up.issuer.clone(),
    };
    let back = at_provider
        .authorize(&to_provider, "ana@corp.example", "allow")
        .await;
    let path = back.trim_start_matches(&app.base).to_string();
    let (_, _, first) = b3.get(&path).await;
    assert_eq!(first.as_deref(), Some("/"));
    let (_, _, replay) = b3.get(&path).await;
    assert_eq!(replay.as_deref(), Some("/login/sso?error=expired"));

    // The ID token says how the user signed in: `fed`.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'login' AND detail LIKE '%Corp SSO%' AND outcome = 'success'")
            .await,
        3
    );

    // Required: the sign-in page sends an address of the domain to the provider, no
    // password checked.
    services::upstream::set(db, key, &app.base, &admin, &up.provider("jit", true))
        .await
        .unwrap();
    let failures =
        "SELECT COUNT(*) FROM audit_events WHERE action = 'login' AND outcome = 'failure'";
    let before = app.count(failures).await;
    let (s, body) = app
        .client()
        .act(
            "login",
            &[("email", "ana@corp.example"), ("password", "whatever")],
        )
        .await;
    assert!(s.is_redirection() || s.is_success(), "{s} {body}");
    assert_eq!(app.count(failures).await, before, "no password was checked");
    // An address of no provider's domain is told so.
    let (s, _) = app
        .client()
        .act("sso_start", &[("email", "someone@elsewhere.example")])
        .await;
    assert_eq!(s, 409);

    // Another organization may not claim the domain.
    let other = app.org_with_admin("Other").await;
    let e = services::upstream::set(
        db,
        key,
        &app.base,
        &Principal::operator_in(&other.id),
        &up.provider("jit", false),
    )
    .await
    .unwrap_err();
    assert!(matches!(e, services::Error::Conflict(_)), "{e:?}");
    // Nor read or remove this one.
    assert!(
        services::upstream::get(db, &Principal::operator_in(&other.id), &app.base)
            .await
            .unwrap()
            .is_none()
    );
    assert!(matches!(
        services::upstream::remove(db, &Principal::operator_in(&other.id)).await,
        Err(services::Error::NotFound)
    ));
}

async fn the_provider_cannot_take_over_other_accounts(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let up = upstream(b, &app).await;
    let db = &app.state.db;
    let key = &app.state.settings.master_key;
    services::upstream::set(
        db,
        key,
        &app.base,
        &Principal::operator_in(&org.id),
        &up.provider("link", false),
    )
    .await
    .unwrap();

    // An address with an account in another organization (not this one's member) is never
    // signed in by this organization's provider.
    let elsewhere = app.org_with_admin("Elsewhere").await;
    member(&app, &elsewhere, "bo@corp.example", "admin").await;
    up.person("bo@corp.example").await;
    let b1 = app.client();
    let landed = through_provider(&app, &up, &b1, "bo@corp.example").await;
    assert_eq!(landed, "/login/sso?error=refused");
    assert_eq!(signed_in_as(&b1).await, None);

    // An account of this organization that also belongs to another one is not this
    // provider's to sign in (this organization's admins could add any address).
    member(&app, &elsewhere, "di@corp.example", "member").await;
    member(&app, &org, "di@corp.example", "member").await;
    up.person("di@corp.example").await;
    assert_eq!(
        through_provider(&app, &up, &app.client(), "di@corp.example").await,
        "/login/sso?error=refused"
    );
    // An address the provider has not verified is not taken as proof of anything.
    up.unverified_person("ed@corp.example").await;
    member(&app, &org, "ed@corp.example", "member").await;
    assert_eq!(
        through_provider(&app, &up, &app.client(), "ed@corp.example").await,
        "/login/sso?error=refused"
    );

    // Link only: someone unknown here is refused; an existing member is linked.
    up.person("cy@corp.example").await;
    let b2 = app.client();
    assert_eq!(
        through_provider(&app, &up, &b2, "cy@corp.example").await,
        "/login/sso?error=refused"
    );
    member(&app, &org, "cy@corp.example", "member").await;
    let b3 = app.client();
    assert_eq!(
        through_provider(&app, &up, &b3, "cy@corp.example").await,
        "/account/apps"
    );
    assert_eq!(signed_in_as(&b3).await.as_deref(), Some("cy@corp.example"));

    // The organization requires a second factor: the provider's sign-in (no `mfa` in its
    // amr) goes on to set one up here.
    services::mfa::set_policy(db, &Principal::operator_in(&org.id), "everyone")
        .await
        .unwrap();
    let b4 = app.client();
    let landed = through_provider(&app, &up, &b4, "cy@corp.example").await;
    assert!(landed.starts_with("/login/enrol?"), "{landed}");
    assert_eq!(signed_in_as(&b4).await, None);

    // Refusals are audited.
    assert!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'login' AND outcome = 'failure' AND object_type = 'identity_provider'")
            .await
            >= 4
    );
}

/// What the fake provider's token endpoint answers.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Forgery {
    Good,
    WrongIssuer,
    WrongAudience,
    WrongNonce,
    OtherKey,
    Expired,
    NoIdToken,
}

#[derive(Clone)]
struct Fake {
    issuer: String,
    key: std::sync::Arc<latchkey::crypto::signing::GeneratedKey>,
    other: std::sync::Arc<latchkey::crypto::signing::GeneratedKey>,
    /// (the forgery, the nonce of the request under way, the address it signs in)
    now: std::sync::Arc<std::sync::Mutex<(Forgery, String, String)>>,
}

/// A provider that answers discovery, its JWKS and its token endpoint with ID tokens made
/// as the test says: right, or wrong in one way each.
async fn fake_provider() -> Fake {
    use axum::routing::{get, post};
    use axum::{Json, Router, extract::State};
    use latchkey::crypto::signing;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let issuer = format!("http://{}", listener.local_addr().unwrap());
    let fake = Fake {
        issuer: issuer.clone(),
        key: std::sync::Arc::new(signing::generate_rs256().unwrap()),
        other: std::sync::Arc::new(signing::generate_rs256().unwrap()),
        now: std::sync::Arc::new(std::sync::Mutex::new((
            Forgery::Good,
            String::new(),
            String::new(),
        ))),
    };
    let discovery = |State(f): State<Fake>| async move {
        Json(serde_json::json!({
            "issuer": f.issuer,
            "authorization_endpoint": format!("{}/authorize", f.issuer),
            "token_endpoint": format!("{}/token", f.issuer),
            "jwks_uri": format!("{}/jwks", f.issuer),
            "response_types_supported": ["code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
        }))
    };
    let jwks = |State(f): State<Fake>| async move {
        Json(serde_json::json!({ "keys": [f.key.public_jwk] }))
    };
    let token = |State(f): State<Fake>| async move {
        let (forgery, nonce, email) = f.now.lock().unwrap().clone();
        let t = latchkey::services::now();
        let mut claims = serde_json::json!({
            "iss": f.issuer, "sub": format!("fake-{email}"), "aud": "latchkey-rp",
            "iat": t, "exp": t + 300, "nonce": nonce, "email": email, "email_verified": true,
        });
        match forgery {
            Forgery::WrongIssuer => claims["iss"] = "https://evil.example".into(),
            Forgery::WrongAudience => claims["aud"] = "another-client".into(),
            Forgery::WrongNonce => claims["nonce"] = "not-the-nonce".into(),
            Forgery::Expired => {
                claims["iat"] = (t - 7200).into();
                claims["exp"] = (t - 3600).into();
            }
            _ => {}
        }
        let signer = if forgery == Forgery::OtherKey {
            &f.other
        } else {
            &f.key
        };
        let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
        // The other key claims to be the published one.
        header.kid = Some(f.key.kid.clone());
        let id_token = jsonwebtoken::encode(
            &header,
            &claims,
            &signing::encoding_key(signing::RS256, &signer.pkcs8),
        )
        .unwrap();
        let mut answer =
            serde_json::json!({ "access_token": "at", "token_type": "Bearer", "expires_in": 300 });
        if forgery != Forgery::NoIdToken {
            answer["id_token"] = id_token.into();
        }
        Json(answer)
    };
    let router = Router::new()
        .route("/.well-known/openid-configuration", get(discovery))
        .route("/jwks", get(jwks))
        .route("/token", post(token))
        .with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    fake
}

async fn forged_id_tokens_are_refused(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let fake = fake_provider().await;
    let input = ProviderInput {
        name: "Fake SSO".into(),
        issuer: fake.issuer.clone(),
        client_id: "latchkey-rp".into(),
        client_secret: "rp-secret".into(),
        domains: "corp.example".into(),
        provisioning: "jit".into(),
        default_role: "member".into(),
        required: false,
    };
    services::upstream::set(
        &app.state.db,
        &app.state.settings.master_key,
        &app.base,
        &Principal::operator_in(&org.id),
        &input,
    )
    .await
    .unwrap();
    for (i, forgery) in [
        Forgery::WrongIssuer,
        Forgery::WrongAudience,
        Forgery::WrongNonce,
        Forgery::OtherKey,
        Forgery::Expired,
        Forgery::NoIdToken,
        Forgery::Good,
    ]
    .into_iter()
    .enumerate()
    {
        let email = format!("p{i}@corp.example");
        let browser = app.client();
        let to_provider = browser
            .plain_post("sso_start", "/login/sso", &[("email", &email)])
            .await;
        assert!(
            to_provider.starts_with(&format!("{}/authorize?", fake.issuer)),
            "{to_provider}"
        );
        let q = query_of(&to_provider);
        assert_eq!(q["code_challenge_method"], "S256");
        *fake.now.lock().unwrap() = (forgery, q["nonce"].clone(), email.clone());
        let (_, _, landed) = browser
            .get(&format!("/login/sso/callback?code=c&state={}", q["state"]))
            .await;
        let landed = landed.unwrap();
        if forgery == Forgery::Good {
            assert_eq!(landed, "/", "{forgery:?}");
            assert_eq!(
                signed_in_as(&browser).await.as_deref(),
                Some(email.as_str())
            );
        } else {
            assert_eq!(landed, "/login/sso?error=provider", "{forgery:?}");
            assert_eq!(signed_in_as(&browser).await, None, "{forgery:?}");
        }
    }
    // Only the good one made an account; each refusal is in the audit log.
    assert_eq!(
        app.count("SELECT COUNT(*) FROM users WHERE email LIKE '%@corp.example'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'login' AND outcome = 'failure' AND object_type = 'identity_provider'").await,
        6
    );
}

async fn a_jwt_bearer_assertion_names_the_user_at_the_provider(b: Backend) {
    use jsonwebtoken::{EncodingKey, Header, encode};
    const JWT_BEARER: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let up = upstream(b, &app).await;
    let db = &app.state.db;
    let provider = services::upstream::set(
        db,
        &app.state.settings.master_key,
        &app.base,
        &Principal::operator_in(&org.id),
        &up.provider("jit", false),
    )
    .await
    .unwrap();
    // Ana signs in once through the provider (her account and link are made).
    up.person("ana@corp.example").await;
    through_provider(&app, &up, &app.client(), "ana@corp.example").await;
    // A member with the same domain who never used the provider, and one of another domain.
    let key = latchkey::crypto::signing::generate_es256().unwrap();
    let jwks = serde_json::json!({ "keys": [key.public_jwk] }).to_string();
    let input = AppInput {
        name: "Integration".into(),
        kind: "on-behalf-of-user".into(),
        grant_types: vec![JWT_BEARER.into()],
        scopes: vec!["openid email".into()],
        ..Default::default()
    };
    let (rp, secret) = app.register_app(&org.id, &input, &jwks).await;
    let secret = secret.unwrap().expose_secret().to_string();
    let grant = |sub: String| {
        let (base, id, secret, key) =
            (app.base.clone(), rp.client_id.clone(), secret.clone(), &key);
        async move {
            let now = services::now();
            let claims = serde_json::json!({ "iss": id, "sub": sub, "aud": format!("{base}/oauth2/token"),
                "exp": now + 120, "iat": now, "jti": latchkey::crypto::random_token(12) });
            let mut h = Header::new(jsonwebtoken::Algorithm::ES256);
            h.kid = Some(key.kid.clone());
            let assertion = encode(&h, &claims, &EncodingKey::from_ec_der(&key.pkcs8)).unwrap();
            post_as_client(
                &base,
                "/oauth2/token",
                &id,
                &secret,
                &[
                    ("grant_type", JWT_BEARER),
                    ("assertion", &assertion),
                    ("scope", "openid email"),
                ],
            )
            .await
        }
    };
    // By her subject at the provider (what the provider's tokens call her)...
    let ana = app.user_id(&org, "ana@corp.example").await;
    let subject: String =
        sqlx::query_scalar("SELECT subject FROM external_identities WHERE user_id = $1")
            .bind(&ana)
            .fetch_one(&db.pool)
            .await
            .unwrap();
    let (s, body) = grant(format!("1|{}|{subject}", provider.id)).await;
    assert_eq!(s, 200, "{body}");
    // ... or by her address in the provider's domains.
    let (s, body) = grant(format!("1|{}|ana@corp.example", provider.id)).await;
    assert_eq!(s, 200, "{body}");
    // A plain address still works as before.
    let (s, _) = grant("ana@corp.example".into()).await;
    assert_eq!(s, 200);
    // An address outside the provider's domains is nobody there.
    let (s, body) = grant(format!("1|{}|{}", provider.id, org.admin_email)).await;
    assert_eq!(
        (s, body["error"].as_str()),
        (400, Some("invalid_grant")),
        "{body}"
    );
    let (s, _) = grant(format!("1|no-such-provider|{subject}")).await;
    assert_eq!(s, 400);
    let (s, _) = grant(format!("2|{}|{subject}", provider.id)).await;
    assert_eq!(s, 400);
}
