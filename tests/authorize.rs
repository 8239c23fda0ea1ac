//! The authorization-code flow end to end over HTTP, with the `openidconnect` crate as the
//! relying party (discovery, PKCE, ID-token and at_hash checks against JWKS, userinfo,
//! refresh), and every way a request can go wrong. SQLite and PostgreSQL.

#![allow(clippy::unwrap_used, clippy::panic)]

mod common;

use common::*;
use latchkey::domain::AppInput;
use latchkey::services;
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreProviderMetadata, CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, RefreshToken, Scope, TokenResponse,
};
use secrecy::ExposeSecret;
use serde_json::Value;

on_both!(
    openid_connect_flow_with_a_certified_client_library,
    authorization_requests_that_go_wrong,
    code_exchanges_that_go_wrong,
    public_clients_and_end_session,
    authorizations_are_listed_and_withdrawn,
    last_used_is_the_last_token_not_the_consent,
    the_restricted_policy_blocks_until_an_admin_approves,
    pushed_authorization_requests,
);

async fn rp(app: &TestApp, org: &Org, name: &str, audience: &str, public: bool) -> Rp {
    rp_with_alg(app, org, name, audience, public, "").await
}

async fn rp_with_alg(
    app: &TestApp,
    org: &Org,
    name: &str,
    audience: &str,
    public: bool,
    id_token_alg: &str,
) -> Rp {
    let input = AppInput {
        name: name.into(),
        kind: "on-behalf-of-user".into(),
        grant_types: vec!["authorization_code".into(), "refresh_token".into()],
        redirect_uris: vec![format!("{CB}\nhttp://127.0.0.1:8765/cb")],
        post_logout_redirect_uris: vec![CB.into()],
        scopes: vec!["openid profile email offline_access read:apps".into()],
        audience: audience.into(),
        public_client: public,
        website_url: "https://rp.example.com".into(),
        id_token_alg: id_token_alg.into(),
        ..Default::default()
    };
    let (a, s) = app.register_app(&org.id, &input, "").await;
    Rp {
        id: a.client_id,
        secret: s.map(|s| s.expose_secret().to_string()),
    }
}

fn http() -> openidconnect::reqwest::Client {
    openidconnect::reqwest::ClientBuilder::new()
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

async fn openid_connect_flow_with_a_certified_client_library(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let user = app.add_user(&org, "member").await;
    let c = rp(&app, &org, "Dashboard", "internal", false).await;
    let http = http();

    let meta =
        CoreProviderMetadata::discover_async(IssuerUrl::new(app.base.clone()).unwrap(), &http)
            .await
            .expect("discovery");
    let client = CoreClient::from_provider_metadata(
        meta,
        ClientId::new(c.id.clone()),
        c.secret.clone().map(ClientSecret::new),
    )
    .set_redirect_uri(RedirectUrl::new(CB.into()).unwrap());

    let browser = app.client();
    let run = |prompt: Option<&'static str>| {
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let mut req = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("offline_access".into()))
            .set_pkce_challenge(challenge);
        if let Some(p) = prompt {
            req = req.add_extra_param("prompt", p);
        }
        let (url, state, nonce) = req.url();
        (url.to_string(), state, nonce, verifier)
    };

    // Sign in, consent, get a code with state and iss (RFC 9207).
    let (url, state, nonce, verifier) = run(None);
    let back = browser.authorize(&url, &user, "allow").await;
    assert!(back.starts_with(CB), "{back}");
    let q = query_of(&back);
    assert_eq!(q["state"], *state.secret());
    assert_eq!(q["iss"], app.base);
    let code = q["code"].clone();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code.clone()))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http)
        .await
        .expect("code exchange");
    let id_token = tokens.id_token().expect("an ID token");
    assert_eq!(
        id_token.signing_alg().unwrap(),
        &openidconnect::core::CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
        "RS256 unless the app chose ES256"
    );
    let verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&verifier, &nonce)
        .expect("a valid ID token");
    assert_eq!(claims.email().map(|e| e.as_str()), Some(user.as_str()));
    assert!(claims.auth_time().is_some());
    assert_ne!(
        claims.subject().as_str(),
        user,
        "sub is an opaque id, not the e-mail"
    );
    let at_hash = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(claims.access_token_hash(), Some(&at_hash));
    let scopes: Vec<String> = tokens
        .scopes()
        .unwrap()
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert!(scopes.contains(&"openid".to_string()) && !scopes.contains(&"read:apps".to_string()));

    // Userinfo, with the token's claims.
    let info: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().clone(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http)
        .await
        .expect("userinfo");
    assert_eq!(info.email().map(|e| e.as_str()), Some(user.as_str()));
    assert_eq!(
        info.name().and_then(|n| n.get(None)).map(|n| n.as_str()),
        Some("Someone")
    );

    // Refresh rotates; the old refresh token is then refused.
    let first_refresh = tokens
        .refresh_token()
        .expect("offline_access gives a refresh token")
        .clone();
    let refreshed = client
        .exchange_refresh_token(&first_refresh)
        .unwrap()
        .request_async(&http)
        .await
        .expect("refresh");
    assert_ne!(
        refreshed.refresh_token().unwrap().secret(),
        first_refresh.secret()
    );
    assert!(refreshed.id_token().is_some());
    let reused = client
        .exchange_refresh_token(&RefreshToken::new(first_refresh.secret().clone()))
        .unwrap()
        .request_async(&http)
        .await;
    assert!(reused.is_err(), "a rotated refresh token is refused");

    // The consent is remembered: the next request goes straight back with a code ...
    let (url, _, _, _) = run(None);
    let (_, _, loc) = browser.get(url.trim_start_matches(&app.base)).await;
    assert!(loc.as_deref().unwrap().starts_with(CB), "{loc:?}");
    assert!(query_of(loc.as_deref().unwrap()).contains_key("code"));
    // ... unless the app asks again ...
    let (url, _, _, _) = run(Some("consent"));
    let (_, _, loc) = browser.get(url.trim_start_matches(&app.base)).await;
    assert!(loc.unwrap().starts_with("/consent?request="));
    // ... or asks for a fresh sign-in.
    let (url, _, _, _) = run(Some("login"));
    let (_, _, loc) = browser.get(url.trim_start_matches(&app.base)).await;
    let loc = loc.unwrap();
    assert!(
        loc.starts_with("/login?next=") && loc.contains("reauth=1"),
        "{loc}"
    );

    // prompt=none without a session: login_required, back at the client.
    let (url, state, _, _) = run(Some("none"));
    let (_, _, loc) = app.client().get(url.trim_start_matches(&app.base)).await;
    let q = query_of(&loc.unwrap());
    assert_eq!(q["error"], "login_required");
    assert_eq!(q["state"], *state.secret());

    // Denied: access_denied.
    let other_user = app.add_user(&org, "member").await;
    let (url, _, _, _) = run(None);
    let back = app.client().authorize(&url, &other_user, "deny").await;
    assert_eq!(query_of(&back)["error"], "access_denied");
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'consent.granted'")
            .await,
        1
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'consent.denied'")
            .await,
        1
    );
}

async fn authorization_requests_that_go_wrong(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let other = app.org_with_admin("Other").await;
    let outsider = app.add_user(&other, "member").await;
    let user = app.add_user(&org, "member").await;
    let c = rp(&app, &org, "Dashboard", "internal", false).await;
    let browser = app.signed_in(&user).await;
    let base = good(&c.id);

    // No redirect to anything not registered: an error page instead.
    for pairs in [
        with(&base, "client_id", Some("no-such-client")),
        with(&base, "client_id", None),
        with(&base, "redirect_uri", Some("https://rp.example.com/cb2")),
        with(&base, "redirect_uri", Some("https://rp.example.com/c")),
        with(&base, "redirect_uri", Some("https://evil.example.com/cb")),
        with(&base, "redirect_uri", None), // two are registered
    ] {
        let (status, body, loc) = browser.get(&authorize_url(&pairs)).await;
        assert_eq!(status, 400, "{pairs:?}");
        assert!(loc.is_none(), "{pairs:?}");
        assert!(body.contains("cannot continue"), "{body}");
    }
    // A repeated parameter: an error page too.
    let dup = format!("{}&state=again", authorize_url(&base));
    let (status, body, loc) = browser.get(&dup).await;
    assert_eq!((status.as_u16(), loc), (400, None));
    assert!(body.contains("repeated"));

    // Everything else goes back to the client with error, state and iss.
    for (pairs, error) in [
        (with(&base, "code_challenge", None), "invalid_request"),
        (
            with(&base, "code_challenge_method", Some("plain")),
            "invalid_request",
        ),
        (
            with(&base, "response_type", Some("token")),
            "unsupported_response_type",
        ),
        (with(&base, "scope", Some("manage:apps")), "invalid_scope"),
        (
            with(&base, "scope", Some("openid <script>alert(1)</script>")),
            "invalid_scope",
        ),
        (with(&base, "prompt", Some("none login")), "invalid_request"),
        (
            with(&base, "request", Some("eyJhbGciOiJub25lIn0.e30.")),
            "request_not_supported",
        ),
    ] {
        let (status, _, loc) = browser.get(&authorize_url(&pairs)).await;
        assert_eq!(status, 303, "{pairs:?}");
        let loc = loc.unwrap();
        assert!(loc.starts_with(CB), "{loc}");
        let q = query_of(&loc);
        assert_eq!(q["error"], error, "{pairs:?}");
        assert_eq!(q["state"], "st'\"<>;--");
        assert_eq!(q["iss"], app.base);
    }

    // An internal app is refused to a user of another organization.
    let (_, _, loc) = app
        .signed_in(&outsider)
        .await
        .get(&authorize_url(&base))
        .await;
    assert_eq!(query_of(&loc.unwrap())["error"], "access_denied");

    // A disabled app: unauthorized_client.
    app.set_enabled(&org.id, &c.id, false).await;
    let (_, _, loc) = browser.get(&authorize_url(&base)).await;
    assert_eq!(query_of(&loc.unwrap())["error"], "unauthorized_client");
    app.set_enabled(&org.id, &c.id, true).await;

    // An own-behalf app has no redirect URI: an error page.
    let (own, _) = services::apps::create(
        &app.state.db,
        &latchkey::services::Principal::operator_in(&org.id),
        &AppInput {
            name: "CI".into(),
            kind: "own-behalf".into(),
            grant_types: vec!["client_credentials".into()],
            scopes: vec!["read:apps".into()],
            ..Default::default()
        },
        "",
    )
    .await
    .unwrap();
    let (status, _, loc) = browser
        .get(&authorize_url(&with(
            &base,
            "client_id",
            Some(&own.client_id),
        )))
        .await;
    assert_eq!((status.as_u16(), loc), (400, None));

    // An unknown or spent pending request: a page, not a redirect.
    let (status, _, loc) = browser.get("/oauth2/authorize/resume?id=nope").await;
    assert_eq!((status.as_u16(), loc), (400, None));
    let (status, _) = browser.call("get_consent", &[("request", "nope")]).await;
    assert_eq!(status, 409);
}

async fn introspect(app: &TestApp, c: &Rp, token: &str) -> bool {
    let res = reqwest::Client::new()
        .post(format!("{}/oauth2/introspect", app.base))
        .basic_auth(&c.id, c.secret.as_deref())
        .form(&[("token", token)])
        .send()
        .await
        .unwrap();
    let v: Value = res.json().await.unwrap();
    v["active"] == true
}

async fn code_exchanges_that_go_wrong(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let user = app.add_user(&org, "member").await;
    let c = rp(&app, &org, "Dashboard", "internal", false).await;
    let other = rp(&app, &org, "Other", "internal", false).await;
    let browser = app.signed_in(&user).await;

    // Missing parameters: invalid_request, and the code is not spent.
    let code = code_for(&app, &browser, &c.id, &user).await;
    let (s, e) = exchange(&app, &c, &[("code", &code), ("redirect_uri", CB)]).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_request")));
    // A wrong verifier, a redirect URI one character off, another client: invalid_grant.
    let (s, e) = exchange(
        &app,
        &c,
        &[
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", &"x".repeat(43)),
        ],
    )
    .await;
    assert_eq!(
        (s, e["error"].as_str()),
        (400, Some("invalid_grant")),
        "{e}"
    );
    let code = code_for(&app, &browser, &c.id, &user).await;
    let (_, e) = exchange(
        &app,
        &c,
        &[
            ("code", &code),
            ("redirect_uri", "https://rp.example.com/cB"),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(e["error"], "invalid_grant");
    let code = code_for(&app, &browser, &c.id, &user).await;
    let (_, e) = exchange(
        &app,
        &other,
        &[
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(e["error"], "invalid_grant");
    let (_, e) = exchange(
        &app,
        &c,
        &[
            ("code", "lkc_made-up"),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(e["error"], "invalid_grant");

    // A good exchange, then the same code again: refused, and the first tokens die.
    let code = code_for(&app, &browser, &c.id, &user).await;
    let (s, t) = redeem(&app, &c, &code).await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["token_type"], "Bearer");
    assert!(t["id_token"].is_string());
    let access = t["access_token"].as_str().unwrap().to_string();
    assert!(introspect(&app, &c, &access).await);
    let (s, e) = redeem(&app, &c, &code).await;
    assert_eq!((s, e["error"].as_str()), (400, Some("invalid_grant")));
    assert!(
        !introspect(&app, &c, &access).await,
        "a replayed code revokes its tokens"
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'grant.revoked_on_reuse' AND outcome = 'failure'").await,
        1,
        "the replay is audited"
    );

    // Userinfo refuses the revoked token, a missing one, and one without openid.
    let res = reqwest::Client::new()
        .get(format!("{}/oauth2/userinfo", app.base))
        .bearer_auth(&access)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    assert!(
        res.headers()["www-authenticate"]
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    let res = reqwest::get(format!("{}/oauth2/userinfo", app.base))
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

async fn public_clients_and_end_session(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let user = app.add_user(&org, "member").await;
    let spa = rp_with_alg(&app, &org, "Single-page app", "internal", true, "ES256").await;
    let browser = app.signed_in(&user).await;

    let code = code_for(&app, &browser, &spa.id, &user).await;
    let (s, t) = exchange(
        &app,
        &spa,
        &[
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    let id_token = t["id_token"].as_str().unwrap().to_string();
    let header = jsonwebtoken::decode_header(&id_token).unwrap();
    assert_eq!(
        header.alg,
        jsonwebtoken::Algorithm::ES256,
        "the app chose ES256"
    );

    // Logout with an unregistered URI: a page, no redirect, the session stays.
    let q = |uri: &str| {
        url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs([
                ("id_token_hint", id_token.as_str()),
                ("post_logout_redirect_uri", uri),
                ("state", "bye"),
            ])
            .finish()
    };
    let (status, _, loc) = browser
        .get(&format!(
            "/oauth2/logout?{}",
            q("https://evil.example.com/")
        ))
        .await;
    assert_eq!((status.as_u16(), loc), (400, None));
    // Without a hint the user is asked first.
    let (status, body, loc) = browser.get("/oauth2/logout").await;
    assert_eq!((status.as_u16(), loc), (200, None));
    assert!(body.contains("Sign out of Latchkey?"));
    assert_eq!(
        browser.call("page_context", &[]).await.1["me"]["email"],
        user.as_str()
    );
    // With the hint and a registered URI: signed out, back at the client with state.
    let (status, _, loc) = browser.get(&format!("/oauth2/logout?{}", q(CB))).await;
    assert_eq!(status, 303);
    assert_eq!(loc.unwrap(), format!("{CB}?state=bye"));
    assert!(browser.call("page_context", &[]).await.1["me"].is_null());
}

async fn tokens_for(app: &TestApp, c: &Rp, user: &str) -> (String, String) {
    let browser = app.signed_in(user).await;
    let pairs = with(&good(&c.id), "scope", Some("openid email offline_access"));
    let back = browser
        .authorize(
            &format!("{}{}", app.base, authorize_url(&pairs)),
            user,
            "allow",
        )
        .await;
    let code = query_of(&back)["code"].clone();
    let (s, t) = redeem(app, c, &code).await;
    assert_eq!(s, 200, "{t}");
    (
        t["access_token"].as_str().unwrap().to_string(),
        t["refresh_token"].as_str().unwrap().to_string(),
    )
}

async fn refresh(app: &TestApp, c: &Rp, token: &str) -> u16 {
    let res = reqwest::Client::new()
        .post(format!("{}/oauth2/token", app.base))
        .basic_auth(&c.id, c.secret.as_deref())
        .form(&[("grant_type", "refresh_token"), ("refresh_token", token)])
        .send()
        .await
        .unwrap();
    res.status().as_u16()
}

async fn authorizations_are_listed_and_withdrawn(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let other = app.org_with_admin("Other").await;
    let alice = app.add_user(&org, "member").await;
    let bob = app.add_user(&org, "member").await;
    let c = rp(&app, &org, "Dashboard", "internal", false).await;
    let (a_access, a_refresh) = tokens_for(&app, &c, &alice).await;
    let (b_access, b_refresh) = tokens_for(&app, &c, &bob).await;

    // The admin sees both; an admin of another organization sees nothing of it.
    let admin = app.signed_in(&org.admin_email).await;
    let (s, list) = admin
        .call("app_authorizations", &[("client_id", &c.id)])
        .await;
    assert_eq!(s, 200, "{list}");
    let emails: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["user_email"].as_str().unwrap())
        .collect();
    assert!(
        emails.contains(&alice.as_str()) && emails.contains(&bob.as_str()),
        "{list}"
    );
    assert!(
        list["items"][0]["scopes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s == "offline_access")
    );
    let outsider = app.signed_in(&other.admin_email).await;
    let (s, _) = outsider
        .call("app_authorizations", &[("client_id", &c.id)])
        .await;
    assert_eq!(s, 404);
    let (s, _) = outsider
        .act("revoke_app_authorization", &[("client_id", &c.id)])
        .await;
    assert_eq!(s, 404);
    assert!(
        introspect(&app, &c, &b_access).await,
        "another organization revoked nothing"
    );

    // Alice withdraws it herself: her refresh token and access token die at once.
    let alice_b = app.signed_in(&alice).await;
    let (s, mine) = alice_b.call("my_authorizations", &[]).await;
    assert_eq!(s, 200);
    assert_eq!(mine[0]["app_name"], "Dashboard");
    let (s, _) = alice_b
        .act("revoke_my_authorization", &[("client_id", &c.id)])
        .await;
    assert_eq!(s, 200);
    assert_eq!(refresh(&app, &c, &a_refresh).await, 400);
    assert!(!introspect(&app, &c, &a_access).await);
    assert_eq!(
        alice_b.call("my_authorizations", &[]).await.1,
        serde_json::json!([])
    );
    // The consent is forgotten: the next request asks again.
    let (_, _, loc) = alice_b.get(&authorize_url(&good(&c.id))).await;
    assert!(loc.unwrap().starts_with("/consent?"));
    // Bob is untouched until the admin revokes everyone.
    assert!(introspect(&app, &c, &b_access).await);
    let (s, _) = admin
        .act("revoke_app_authorization", &[("client_id", &c.id)])
        .await;
    assert_eq!(s, 200);
    assert_eq!(refresh(&app, &c, &b_refresh).await, 400);
    assert!(!introspect(&app, &c, &b_access).await);
    assert_eq!(
        admin
            .call("app_authorizations", &[("client_id", &c.id)])
            .await
            .1["items"],
        serde_json::json!([])
    );
    assert_eq!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action IN ('consent.withdrawn', 'authorization.revoked')").await,
        2
    );
}

async fn the_restricted_policy_blocks_until_an_admin_approves(b: Backend) {
    let app = spawn_app(b).await;
    let vendor = app.org_with_admin("Vendor").await;
    let customer = app.org_with_admin("Customer").await;
    let alice = app.add_user(&customer, "member").await;
    let bob = app.add_user(&customer, "member").await;
    let known = rp(&app, &vendor, "Known", "everyone", false).await;
    let newcomer = rp(&app, &vendor, "Newcomer", "everyone", false).await;
    let own = rp(&app, &customer, "Own app", "internal", false).await;
    let admin = app.signed_in(&customer.admin_email).await;

    // Unrestricted: alice authorizes an external app.
    let (alice_access, alice_refresh) = tokens_for(&app, &known, &alice).await;

    // Restricted: the apps already authorized are approved with the scopes granted.
    assert_eq!(
        admin.act("set_app_policy", &[("policy", "closed")]).await.0,
        422
    );
    let (s, _) = admin
        .act("set_app_policy", &[("policy", "restricted")])
        .await;
    assert_eq!(s, 200);
    let (_, page) = admin.call("get_external_apps", &[]).await;
    assert_eq!(page["policy"]["policy"], "restricted");
    let approved = page["policy"]["approved"].as_array().unwrap();
    assert_eq!(approved.len(), 1, "{page}");
    assert_eq!(approved[0]["client_id"], known.id.as_str());
    assert_eq!(
        approved[0]["scopes"],
        serde_json::json!(["openid", "email", "offline_access"])
    );
    assert_eq!(
        refresh(&app, &known, &alice_refresh).await,
        200,
        "alice keeps access"
    );
    assert!(introspect(&app, &known, &alice_access).await);

    // A new external app is blocked: a page with the admin's approval link, never a code.
    let browser = app.signed_in(&bob).await;
    let (s, html, location) = browser.get(&authorize_url(&good(&newcomer.id))).await;
    assert_eq!(s, 403, "{html}");
    assert!(location.is_none());
    assert!(
        html.contains("You can't authorize this app") && html.contains("Newcomer"),
        "{html}"
    );
    assert!(
        html.contains(&format!(
            "{}/admin/external-apps?client_id={}",
            app.base, newcomer.id
        )),
        "{html}"
    );
    // prompt=none gets access_denied at the client instead.
    let none = with(&good(&newcomer.id), "prompt", Some("none"));
    let back = browser.get(&authorize_url(&none)).await.2.unwrap();
    assert_eq!(query_of(&back)["error"], "access_denied");
    // The app's own organization is never restricted by another's policy; own apps stay open.
    let vendor_user = app.add_user(&vendor, "member").await;
    let code = code_for(
        &app,
        &app.signed_in(&vendor_user).await,
        &newcomer.id,
        &vendor_user,
    )
    .await;
    assert!(code.starts_with("lkc_"));
    let code = code_for(&app, &app.signed_in(&bob).await, &own.id, &bob).await;
    assert!(code.starts_with("lkc_"));

    // The approval form: the app's scopes; bad choices refused; own apps not approvable.
    let (s, form) = admin
        .call("get_external_apps", &[("client_id", &newcomer.id)])
        .await;
    assert_eq!(s, 200);
    assert_eq!(form["candidate"]["app_name"], "Newcomer");
    assert_eq!(form["candidate"]["approved"], Value::Null);
    let (s, form) = admin
        .call("get_external_apps", &[("client_id", &own.id)])
        .await;
    assert_eq!((s.as_u16(), &form["unknown"]), (200, &Value::Bool(true)));
    for bad in [vec![], vec![("scopes[]", "manage:org")]] {
        let mut f = vec![("client_id", newcomer.id.as_str())];
        f.extend(bad);
        assert_eq!(admin.act("approve_app", &f).await.0, 422);
    }
    assert_eq!(
        admin
            .act(
                "approve_app",
                &[("client_id", &own.id), ("scopes[]", "openid")]
            )
            .await
            .0,
        404
    );
    // A member may not approve.
    assert_eq!(
        browser
            .act(
                "approve_app",
                &[("client_id", &newcomer.id), ("scopes[]", "openid")]
            )
            .await
            .0,
        403
    );

    // Approved with openid and offline_access only: bob gets those, never email.
    let (s, body) = admin
        .act(
            "approve_app",
            &[
                ("client_id", &newcomer.id),
                ("scopes[]", "openid"),
                ("scopes[]", "offline_access"),
            ],
        )
        .await;
    assert_eq!(s, 200, "{body}");
    let pairs = with(
        &good(&newcomer.id),
        "scope",
        Some("openid email offline_access"),
    );
    let back = app
        .signed_in(&bob)
        .await
        .authorize(
            &format!("{}{}", app.base, authorize_url(&pairs)),
            &bob,
            "allow",
        )
        .await;
    let code = query_of(&back)["code"].clone();
    let (s, t) = exchange(
        &app,
        &newcomer,
        &[
            ("code", &code),
            ("redirect_uri", CB),
            ("code_verifier", VERIFIER),
        ],
    )
    .await;
    assert_eq!(s, 200, "{t}");
    assert_eq!(t["scope"], "openid offline_access");
    let bob_refresh = t["refresh_token"].as_str().unwrap().to_string();
    // Only email asked: nothing approved is left.
    let email_only = with(&good(&newcomer.id), "scope", Some("email"));
    let back = browser.get(&authorize_url(&email_only)).await.2.unwrap();
    assert_eq!(query_of(&back)["error"], "access_denied");

    // Removing an approval blocks the app again and ends the grants at once.
    assert_eq!(
        admin
            .act("remove_approval", &[("client_id", &known.id)])
            .await
            .0,
        200
    );
    assert_eq!(refresh(&app, &known, &alice_refresh).await, 400);
    assert!(!introspect(&app, &known, &alice_access).await);
    let (s, _, _) = app
        .signed_in(&alice)
        .await
        .get(&authorize_url(&good(&known.id)))
        .await;
    assert_eq!(s, 403);
    assert_eq!(
        admin
            .act("remove_approval", &[("client_id", &known.id)])
            .await
            .0,
        404
    );
    // Narrowing an approval ends the grants beyond it.
    admin
        .act(
            "approve_app",
            &[("client_id", &newcomer.id), ("scopes[]", "openid")],
        )
        .await;
    assert_eq!(refresh(&app, &newcomer, &bob_refresh).await, 400);

    // Every step is in the customer's audit log.
    let actions: Vec<String> = services::audit::search(
        &app.state.db,
        &latchkey::services::Principal::operator_in(&customer.id),
        &latchkey::domain::audit::AuditQuery::default()
            .parse(0)
            .unwrap(),
    )
    .await
    .unwrap()
    .items
    .into_iter()
    .map(|e| e.action)
    .collect();
    for a in ["org.app_policy", "app.approved", "app.approval_removed"] {
        assert!(actions.iter().any(|x| x == a), "{a}: {actions:?}");
    }
    // Back to unrestricted: any app open to everyone again.
    assert_eq!(
        admin
            .act("set_app_policy", &[("policy", "unrestricted")])
            .await
            .0,
        200
    );
    let (s, _, location) = app
        .signed_in(&alice)
        .await
        .get(&authorize_url(&good(&known.id)))
        .await;
    assert!(s.is_redirection() && location.unwrap().starts_with("/consent"));
}

/// "Last used" on an authorization is when the app last got tokens under it: nothing at
/// consent (the code is not redeemed yet), then the code exchange, then each refresh.
async fn last_used_is_the_last_token_not_the_consent(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let alice = app.add_user(&org, "member").await;
    let c = rp(&app, &org, "Dashboard", "internal", false).await;
    let browser = app.signed_in(&alice).await;
    let code = code_for(&app, &browser, &c.id, &alice).await;
    let (_, mine) = browser.call("my_authorizations", &[]).await;
    assert_eq!(mine[0]["app_name"], "Dashboard", "{mine}");
    assert!(
        mine[0]["last_used_at"].is_null(),
        "unused at consent: {mine}"
    );
    let (s, tokens) = redeem(&app, &c, &code).await;
    assert_eq!(s, 200, "{tokens}");
    let (_, mine) = browser.call("my_authorizations", &[]).await;
    let used = mine[0]["last_used_at"]
        .as_i64()
        .expect("used at the exchange");
    let admin = app.signed_in(&org.admin_email).await;
    let (_, list) = admin
        .call("app_authorizations", &[("client_id", &c.id)])
        .await;
    assert_eq!(list["items"][0]["last_used_at"], used, "{list}");
}

/// Pushes `form` to the PAR endpoint as client `c`: (status, body).
async fn push(app: &TestApp, c: &Rp, form: &[(&str, &str)]) -> (u16, Value) {
    post_as_client(
        &app.base,
        "/oauth2/par",
        &c.id,
        c.secret.as_deref().unwrap_or(""),
        form,
    )
    .await
}

async fn pushed_authorization_requests(b: Backend) {
    let app = spawn_app(b).await;
    let org = app.org_with_admin("Acme").await;
    let user = app.add_user(&org, "member").await;
    let c = rp(&app, &org, "Dashboard", "internal", false).await;
    let other = rp(&app, &org, "Other", "internal", false).await;
    let browser = app.signed_in(&user).await;
    let (_, doc) = {
        let res = reqwest::get(format!("{}/.well-known/openid-configuration", app.base))
            .await
            .unwrap();
        (res.status(), res.json::<Value>().await.unwrap())
    };
    assert_eq!(
        doc["pushed_authorization_request_endpoint"],
        format!("{}/oauth2/par", app.base)
    );
    assert_eq!(doc["require_pushed_authorization_requests"], false);

    // Pushed, then the browser carries only client_id and request_uri.
    let base = good(&c.id);
    let (s, pushed) = push(&app, &c, &base).await;
    assert_eq!(s, 201, "{pushed}");
    assert_eq!(pushed["expires_in"], 60);
    let request_uri = pushed["request_uri"].as_str().unwrap().to_string();
    assert!(request_uri.starts_with("urn:ietf:params:oauth:request_uri:"));
    // Whatever else the URL says is ignored: the pushed parameters alone count.
    let url = authorize_url(&[
        ("client_id", &c.id),
        ("request_uri", &request_uri),
        ("redirect_uri", "https://evil.example/cb"),
        ("scope", "openid admin:org"),
    ]);
    let back = browser
        .authorize(&format!("{}{url}", app.base), &user, "allow")
        .await;
    assert!(back.starts_with(CB), "{back}");
    let q = query_of(&back);
    assert_eq!(q["state"], "st'\"<>;--");
    let (s, tokens) = redeem(&app, &c, &q["code"]).await;
    assert_eq!(s, 200, "{tokens}");
    assert_eq!(
        tokens["scope"], "openid email",
        "the pushed scopes, not the URL's"
    );

    // Spent once.
    let (status, body, loc) = browser.get(&url).await;
    assert_eq!((status.as_u16(), loc), (400, None), "{body}");
    assert!(body.contains("request_uri"));

    // Another client's request_uri is refused and not spent: its own client still uses it.
    let (_, pushed) = push(&app, &c, &base).await;
    let request_uri = pushed["request_uri"].as_str().unwrap().to_string();
    let (status, _, loc) = browser
        .get(&authorize_url(&[
            ("client_id", &other.id),
            ("request_uri", &request_uri),
        ]))
        .await;
    assert_eq!((status.as_u16(), loc), (400, None));
    let (_, _, loc) = browser
        .get(&authorize_url(&[
            ("client_id", &c.id),
            ("request_uri", &request_uri),
        ]))
        .await;
    assert!(loc.unwrap().starts_with(CB));

    // Expired after a minute; a request_uri we did not issue.
    let (_, pushed) = push(&app, &c, &base).await;
    let request_uri = pushed["request_uri"].as_str().unwrap().to_string();
    sqlx::query("UPDATE pushed_requests SET expires_at = expires_at - 61")
        .execute(&app.state.db.pool)
        .await
        .unwrap();
    for uri in [request_uri.as_str(), "https://evil.example/request.jwt"] {
        let (status, _, loc) = browser
            .get(&authorize_url(&[
                ("client_id", &c.id),
                ("request_uri", uri),
            ]))
            .await;
        assert_eq!((status.as_u16(), loc), (400, None), "{uri}");
    }

    // Bad pushes: checked as the authorization endpoint checks, answered in JSON.
    let wrong = Rp {
        id: c.id.clone(),
        secret: Some("wrong".into()),
    };
    let (s, e) = push(&app, &wrong, &base).await;
    assert_eq!((s, e["error"].as_str()), (401, Some("invalid_client")));
    for (key, value, error) in [
        (
            "redirect_uri",
            Some("https://evil.example/cb"),
            "invalid_request",
        ),
        ("code_challenge", None, "invalid_request"),
        (
            "request_uri",
            Some("urn:ietf:params:oauth:request_uri:x"),
            "invalid_request",
        ),
        ("client_id", Some(other.id.as_str()), "invalid_request"),
        ("response_type", Some("token"), "unsupported_response_type"),
        ("scope", Some("admin:org"), "invalid_scope"),
        ("request", Some("eyJ.e30."), "request_not_supported"),
    ] {
        let (s, e) = push(&app, &c, &with(&base, key, value)).await;
        assert_eq!((s, e["error"].as_str()), (400, Some(error)), "{key}: {e}");
    }

    // An app that requires PAR: a plain request is refused (to its redirect URI, now known
    // good); a pushed one works.
    let input = AppInput {
        require_par: true,
        ..for_users("Strict", "openid email")
    };
    let (strict, secret) = app.register_app(&org.id, &input, "").await;
    assert!(strict.require_par);
    let strict = Rp {
        id: strict.client_id,
        secret: secret.map(|s| s.expose_secret().to_string()),
    };
    let (_, _, loc) = browser.get(&authorize_url(&good(&strict.id))).await;
    let q = query_of(&loc.unwrap());
    assert_eq!(q["error"], "invalid_request");
    assert!(q["error_description"].contains("PAR"));
    let (_, pushed) = push(&app, &strict, &good(&strict.id)).await;
    let request_uri = pushed["request_uri"].as_str().unwrap().to_string();
    let url = authorize_url(&[("client_id", &strict.id), ("request_uri", &request_uri)]);
    let back = browser
        .authorize(&format!("{}{url}", app.base), &user, "allow")
        .await;
    assert!(back.starts_with(CB), "{back}");
    assert!(
        app.count("SELECT COUNT(*) FROM audit_events WHERE action = 'authorization.pushed'")
            .await
            >= 4
    );
}
