//! Signing in through an organization's own OpenID Connect provider, with the `openidconnect`
//! crate as the relying party: discovery, the authorization-code flow with PKCE, `state`
//! and `nonce`, and the ID token verified (issuer, audience, signature from the provider's
//! JWKS, expiry, nonce). Who the provider's user is here:
//!
//! 1. the account already linked to their subject at this provider, if it is still a member
//!    of the organization;
//! 2. else, only for an address in a domain the organization's admin declared (and no other
//!    organization claims), the member with that address, linked from now on;
//! 3. else, with just-in-time provisioning, a new account, a member with the default role.
//!
//! An address that has an account but is not a member of the organization is refused: a
//! provider never takes over an account another organization holds.

use serde_json::json;

use super::audit::{self, Event};
use super::principal::{MANAGE_ORG, Principal, READ_ORG};
use super::{Actor, Caller, Error, RequestMeta, Result, new_id, now};
use crate::crypto::master_key::MasterKey;
use crate::domain::mfa::Method;
use crate::domain::upstream::{
    ProviderInput, ProviderView, Provisioning, domain_of, is_development, is_internal,
};
use crate::domain::{FieldError, Role};
use crate::store::upstream::ProviderRow;
use crate::store::{self, Db, cache::Change, users::UserRow};

/// Where providers send users back, under the issuer.
pub const CALLBACK_PATH: &str = "/login/sso/callback";

fn failed(context: &'static str) -> impl FnOnce(String) -> Error {
    move |m| Error::Failed {
        context,
        source: m.into(),
    }
}

fn http() -> Result<openidconnect::reqwest::Client> {
    openidconnect::reqwest::ClientBuilder::new()
        // Discovery and token requests are never redirected (no SSRF through a redirect).
        .redirect(openidconnect::reqwest::redirect::Policy::none())
        .timeout(std::time::Duration::from_secs(10))
        .build()
        .map_err(|e| failed("an HTTP client for the identity provider")(e.to_string()))
}

fn view(p: &ProviderRow, issuer: &str) -> ProviderView {
    ProviderView {
        id: p.id.clone(),
        name: p.name.clone(),
        issuer: p.issuer.clone(),
        client_id: p.client_id.clone(),
        domains: p.domains.clone(),
        provisioning: p.provisioning.as_str().into(),
        default_role: p.default_role.as_str().into(),
        required: p.required,
        redirect_uri: format!("{}{CALLBACK_PATH}", issuer.trim_end_matches('/')),
    }
}

/// The organization's provider (`read:org`).
pub async fn get(db: &Db, p: &Principal, issuer: &str) -> Result<Option<ProviderView>> {
    let org_id = p.act(READ_ORG)?.org_id;
    Ok(store::upstream::of_org(&db.pool, org_id)
        .await?
        .map(|row| view(&row, issuer)))
}

type Client = openidconnect::core::CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// The relying party for `issuer` (discovery), with this server's callback.
async fn client(
    http: &openidconnect::reqwest::Client,
    issuer: &str,
    client_id: &str,
    secret: &str,
    callback: &str,
) -> std::result::Result<Client, String> {
    use openidconnect::core::{CoreClient, CoreProviderMetadata};
    use openidconnect::{ClientId, ClientSecret, IssuerUrl, RedirectUrl};
    let issuer_url = IssuerUrl::new(issuer.to_string()).map_err(|e| e.to_string())?;
    let metadata = CoreProviderMetadata::discover_async(issuer_url, http)
        .await
        .map_err(|e| format!("discovery at {issuer} failed: {e}"))?;
    Ok(CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(client_id.to_string()),
        Some(ClientSecret::new(secret.to_string())),
    )
    .set_redirect_uri(RedirectUrl::new(callback.to_string()).map_err(|e| e.to_string())?))
}

/// Sets up (or changes) the organization's provider (`manage:org`). Its discovery document
/// must answer for its issuer; its domains must be no other organization's.
pub async fn set(
    db: &Db,
    key: &MasterKey,
    issuer: &str,
    p: &Principal,
    input: &ProviderInput,
) -> Result<ProviderView> {
    let at = p.act(MANAGE_ORG)?;
    let before = store::upstream::of_org(&db.pool, at.org_id).await?;
    let spec = input.parse(before.is_some())?;
    if is_internal(&spec.issuer) && !is_development(issuer) {
        return Err(Error::Invalid(
            FieldError::new(
                "issuer",
                "must be a public address, not this server's own network",
            )
            .into(),
        ));
    }
    let taken = store::upstream::domains_elsewhere(&db.pool, at.org_id).await?;
    if let Some(d) = spec.domains.iter().find(|d| taken.contains(d)) {
        return Err(Error::Conflict(FieldError::new(
            "domains",
            format!("{d} is already another organization's"),
        )));
    }
    let secret = match (&spec.client_secret, &before) {
        (Some(s), _) => s.clone(),
        (None, Some(b)) => key
            .open(&b.sealed_secret)
            .and_then(|s| String::from_utf8(s).ok())
            .ok_or_else(|| Error::Internal("the provider's secret does not open".into()))?,
        (None, None) => {
            return Err(Error::Invalid(
                FieldError::new("client_secret", "is required").into(),
            ));
        }
    };
    let callback = format!("{}{CALLBACK_PATH}", issuer.trim_end_matches('/'));
    if let Err(m) = client(&http()?, &spec.issuer, &spec.client_id, &secret, &callback).await {
        return Err(Error::Invalid(FieldError::new("issuer", m).into()));
    }
    let row = ProviderRow {
        id: before.as_ref().map_or_else(new_id, |b| b.id.clone()),
        org_id: at.org_id.to_string(),
        name: spec.name,
        issuer: spec.issuer,
        client_id: spec.client_id,
        sealed_secret: key.seal(secret.as_bytes()),
        domains: spec.domains,
        provisioning: spec.provisioning,
        default_role: spec.default_role,
        required: spec.required,
        created_at: before.as_ref().map_or_else(now, |b| b.created_at),
    };
    let mut tx = db.begin().await?;
    store::upstream::put(&mut *tx, &row).await?;
    audit::record(
        &mut tx,
        at.caller,
        Event {
            org_id: Some(at.org_id),
            action: "org.identity_provider",
            object: ("org", at.org_id),
            success: true,
            detail: json!({
                "name": row.name, "issuer": row.issuer, "domains": row.domains,
                "provisioning": row.provisioning.as_str(), "default_role": row.default_role.as_str(),
                "required": row.required,
            }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(view(&row, issuer))
}

/// Removes the organization's provider (`manage:org`): its members sign in with passwords
/// (an account made by it has none until the user resets one).
pub async fn remove(db: &Db, p: &Principal) -> Result<()> {
    let at = p.act(MANAGE_ORG)?;
    let mut tx = db.begin().await?;
    if !store::upstream::delete(&mut *tx, at.org_id).await? {
        return Err(Error::NotFound);
    }
    audit::record(
        &mut tx,
        at.caller,
        Event {
            org_id: Some(at.org_id),
            action: "org.identity_provider_removed",
            object: ("org", at.org_id),
            success: true,
            detail: json!({}),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// The provider that signs in `email` (by its domain), if one does.
pub async fn for_email(db: &Db, email: &str) -> Result<Option<ProviderRow>> {
    let Some(domain) = domain_of(email) else {
        return Ok(None);
    };
    Ok(store::upstream::of_domain(&db.pool, &domain).await?)
}

/// Whether `email` must sign in through its organization's provider: the provider requires
/// it for its domains and the address is a member of the provider's organization (a domain
/// claimed by one organization never holds another's people). The provider's name.
pub async fn required_for(db: &Db, email: &str) -> Result<Option<String>> {
    let Some(provider) = for_email(db, email).await?.filter(|p| p.required) else {
        return Ok(None);
    };
    let Some(user) = store::users::find_by_email(&db.pool, &email.trim().to_lowercase()).await?
    else {
        return Ok(None);
    };
    Ok(db
        .member(&provider.org_id, &user.id)
        .await?
        .map(|_| provider.name))
}

/// The user `username` names at `provider_id` (the JWT bearer grant's
/// `1|<provider>|<username>`): the account linked to that subject there, or the member of the
/// provider's organization with that address when it is in the provider's domains.
pub async fn user_at(db: &Db, provider_id: &str, username: &str) -> Result<Option<String>> {
    let Some(provider) = store::upstream::get(&db.pool, provider_id).await? else {
        return Ok(None);
    };
    if let Some(user_id) = store::upstream::identity(&db.pool, &provider.id, username).await? {
        return Ok(Some(user_id));
    }
    let Ok(email) = crate::domain::Email::parse(username) else {
        return Ok(None);
    };
    if !domain_of(email.as_str()).is_some_and(|d| provider.domains.contains(&d)) {
        return Ok(None);
    }
    let Some(user) = store::users::find_by_email(&db.pool, email.as_str()).await? else {
        return Ok(None);
    };
    Ok(db
        .member(&provider.org_id, &user.id)
        .await?
        .map(|_| user.id))
}

/// A sign-in sent to the provider, waiting for the user to come back (kept in the session).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
pub struct Outgoing {
    pub provider_id: String,
    pub state: String,
    pub nonce: String,
    pub pkce_verifier: String,
    pub expires_at: i64,
}

/// How long a sign-in at the provider may take.
pub const OUTGOING_TTL: i64 = 10 * 60;

/// Starts a sign-in at `provider`: the URL to send the browser to, and what the session
/// keeps until it comes back.
pub async fn begin(
    key: &MasterKey,
    issuer: &str,
    provider: &ProviderRow,
    login_hint: Option<&str>,
) -> Result<(String, Outgoing)> {
    use openidconnect::core::CoreAuthenticationFlow;
    use openidconnect::{CsrfToken, Nonce, PkceCodeChallenge, Scope};
    let secret = key
        .open(&provider.sealed_secret)
        .and_then(|s| String::from_utf8(s).ok())
        .ok_or_else(|| Error::Internal("the provider's secret does not open".into()))?;
    let callback = format!("{}{CALLBACK_PATH}", issuer.trim_end_matches('/'));
    let c = client(
        &http()?,
        &provider.issuer,
        &provider.client_id,
        &secret,
        &callback,
    )
    .await
    .map_err(failed("the identity provider's discovery"))?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let mut req = c
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge);
    if let Some(hint) = login_hint.filter(|h| h.len() <= 254) {
        req = req.add_extra_param("login_hint", hint.to_string());
    }
    let (url, state, nonce) = req.url();
    Ok((
        url.to_string(),
        Outgoing {
            provider_id: provider.id.clone(),
            state: state.secret().clone(),
            nonce: nonce.secret().clone(),
            pkce_verifier: verifier.secret().clone(),
            expires_at: now() + OUTGOING_TTL,
        },
    ))
}

/// Who came back from the provider, signed in here.
#[derive(Debug, Clone)]
pub struct Arrived {
    pub user_id: String,
    pub email: String,
    pub org_id: String,
    pub session_epoch: i64,
    /// `Fed`, or `FedMfa` when the provider's token said it used a second factor.
    pub method: Method,
}

/// Why a sign-in through the provider was refused, in words for the person.
fn refused(m: &str) -> Error {
    Error::Forbidden(m.to_string())
}

/// Finishes a sign-in: exchanges the code (with the PKCE verifier), verifies the ID token
/// and its nonce, and finds or makes the user (see the module's rules). Audited.
pub async fn finish(
    db: &Db,
    key: &MasterKey,
    issuer: &str,
    meta: &RequestMeta,
    out: &Outgoing,
    code: &str,
) -> Result<Arrived> {
    use openidconnect::{AuthorizationCode, Nonce, PkceCodeVerifier, TokenResponse};
    let provider = store::upstream::get(&db.pool, &out.provider_id)
        .await?
        .ok_or_else(|| refused("The organization's identity provider is no longer set up."))?;
    let anonymous = Caller {
        actor: Actor::Anonymous,
        meta: meta.clone(),
    };
    let fail = |reason: String| Event {
        org_id: Some(&provider.org_id),
        action: "login",
        object: ("identity_provider", &provider.id),
        success: false,
        detail: json!({ "provider": provider.name, "reason": reason }),
    };
    let secret = key
        .open(&provider.sealed_secret)
        .and_then(|s| String::from_utf8(s).ok())
        .ok_or_else(|| Error::Internal("the provider's secret does not open".into()))?;
    let callback = format!("{}{CALLBACK_PATH}", issuer.trim_end_matches('/'));
    let http = http()?;
    let verified = async {
        let c = client(
            &http,
            &provider.issuer,
            &provider.client_id,
            &secret,
            &callback,
        )
        .await?;
        let tokens = c
            .exchange_code(AuthorizationCode::new(code.to_string()))
            .map_err(|e| e.to_string())?
            .set_pkce_verifier(PkceCodeVerifier::new(out.pkce_verifier.clone()))
            .request_async(&http)
            .await
            .map_err(|e| format!("code exchange: {e}"))?;
        let id_token = tokens
            .id_token()
            .ok_or_else(|| "the provider sent no ID token".to_string())?;
        let claims = id_token
            .claims(&c.id_token_verifier(), &Nonce::new(out.nonce.clone()))
            .map_err(|e| format!("ID token: {e}"))?;
        Ok::<_, String>((
            claims.subject().as_str().to_string(),
            claims.email().map(|e| e.as_str().to_lowercase()),
            claims.email_verified().unwrap_or(false),
            claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.as_str().to_string()),
            claims
                .auth_method_refs()
                .is_some_and(|a| a.iter().any(|m| m.as_str() == "mfa")),
        ))
    }
    .await;
    let (subject, email, email_verified, name, upstream_mfa) = match verified {
        Ok(v) => v,
        Err(reason) => {
            tracing::warn!(provider = %provider.issuer, %reason, "upstream sign-in refused");
            audit::record_alone(db, &anonymous, fail(reason)).await?;
            return Err(refused(
                "The identity provider's answer could not be verified. Try again.",
            ));
        }
    };
    let t = now();
    let mut tx = db.begin().await?;
    let linked = store::upstream::identity(&mut *tx, &provider.id, &subject).await?;
    let mut created = false;
    let user: UserRow = match linked {
        Some(user_id) => store::users::get(&mut *tx, &user_id)
            .await?
            .ok_or_else(|| refused("This account no longer exists."))?,
        None => {
            let Some(email) = email.clone() else {
                drop(tx);
                audit::record_alone(db, &anonymous, fail("no e-mail claim".into())).await?;
                return Err(refused(
                    "The identity provider did not say your e-mail address.",
                ));
            };
            let in_domains = domain_of(&email).is_some_and(|d| provider.domains.contains(&d));
            if !in_domains {
                drop(tx);
                audit::record_alone(
                    db,
                    &anonymous,
                    fail(format!("address outside the domains: {email}")),
                )
                .await?;
                return Err(refused(
                    "Your address is not in a domain this organization signs in with.",
                ));
            }
            if !email_verified {
                drop(tx);
                audit::record_alone(
                    db,
                    &anonymous,
                    fail("address not verified by the provider".into()),
                )
                .await?;
                return Err(refused(
                    "The identity provider has not verified your e-mail address.",
                ));
            }
            match store::users::find_by_email(&mut *tx, &email).await? {
                Some(u) => {
                    // Only an account of this organization alone: one that belongs to
                    // another organization too is proven with its own sign-in, never by
                    // this organization's provider (whose admins may add any address).
                    let memberships = store::users::memberships_of(&mut *tx, &u.id).await?;
                    if memberships.len() != 1 || memberships[0].0 != provider.org_id {
                        drop(tx);
                        audit::record_alone(
                            db,
                            &anonymous,
                            fail("an account outside the organization".into()),
                        )
                        .await?;
                        return Err(refused(
                            "An account with this address exists outside this organization; the provider cannot sign in to it.",
                        ));
                    }
                    u
                }
                None if provider.provisioning == Provisioning::Jit => {
                    let u = UserRow {
                        id: new_id(),
                        email: email.clone(),
                        name: name
                            .clone()
                            .and_then(|n| crate::domain::parse_name("name", &n).ok())
                            .unwrap_or_else(|| email.clone()),
                        password_hash: super::users::NO_PASSWORD.into(),
                        created_at: t,
                        email_verified_at: None,
                        session_epoch: 0,
                    };
                    store::users::insert(&mut *tx, &u).await?;
                    let role: Role = provider.default_role;
                    store::users::insert_membership(
                        &mut *tx,
                        &provider.org_id,
                        &u.id,
                        role.as_str(),
                        t,
                    )
                    .await?;
                    created = true;
                    u
                }
                None => {
                    drop(tx);
                    audit::record_alone(db, &anonymous, fail("not a member (link only)".into()))
                        .await?;
                    return Err(refused(
                        "You are not a member of this organization yet. Ask an admin to add you.",
                    ));
                }
            }
        }
    };
    if store::users::member(&mut *tx, &provider.org_id, &user.id)
        .await?
        .is_none()
    {
        drop(tx);
        audit::record_alone(db, &anonymous, fail("no longer a member".into())).await?;
        return Err(refused("You are no longer a member of this organization."));
    }
    store::upstream::link(&mut *tx, &provider.id, &subject, &user.id, t).await?;
    if email_verified && email.as_deref() == Some(user.email.as_str()) {
        store::users::verify_email(&mut *tx, &user.id, &user.email, t).await?;
    }
    let caller = Caller {
        actor: Actor::User {
            id: user.id.clone(),
            email: user.email.clone(),
        },
        meta: meta.clone(),
    };
    if created {
        audit::record(
            &mut tx,
            &caller,
            Event {
                org_id: Some(&provider.org_id),
                action: "user.create",
                object: ("user", &user.id),
                success: true,
                detail: json!({ "email": user.email, "role": provider.default_role.as_str(), "provisioned_by": provider.name }),
            },
        )
        .await?;
    }
    audit::record(
        &mut tx,
        &caller,
        Event {
            org_id: Some(&provider.org_id),
            action: "login",
            object: ("user", &user.id),
            success: true,
            detail: json!({ "provider": provider.name, "subject": subject, "upstream_mfa": upstream_mfa }),
        },
    )
    .await?;
    store::users::signed_in(&mut *tx, &user.id, t).await?;
    db.commit(tx, &[Change::User(user.id.clone())]).await?;
    Ok(Arrived {
        user_id: user.id,
        email: user.email,
        org_id: provider.org_id,
        session_epoch: user.session_epoch,
        method: if upstream_mfa {
            Method::FedMfa
        } else {
            Method::Fed
        },
    })
}
