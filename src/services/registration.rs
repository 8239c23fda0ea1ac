//! Dynamic client registration (RFC 7591) and management (RFC 7592).
//!
//! An organization's admin issues **initial access tokens**: each allows a number of
//! registrations (one, or a count) until it expires, into the organization or one of its
//! business groups, of apps with at most its scopes and grant types. An app registers
//! itself with one (`POST /oauth2/register`); its metadata is read into the portal's form
//! input, so it is checked by exactly the portal's rules, and the app is created as the
//! portal creates it, recorded as registered by that token. It gets a **registration
//! access token** (stored as a digest) to read, update (within the same limits) and delete
//! its own registration.

use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde_json::json;
use subtle::ConstantTimeEq;

use super::audit::{self, Event};
use super::principal::{MANAGE_APPS, Principal, READ_APPS};
use super::{Error, RequestMeta, Result, new_id, now};
use crate::crypto::{random_token, secrets};
use crate::domain::context::Place;
use crate::domain::registration::{
    ClientMetadata, InitialTokenInput, Limits, MetadataError, MetadataView, to_input,
};
use crate::domain::views::{InitialTokenView, InitialTokensView};
use crate::domain::{FieldError, FieldErrors, GrantType, ScopeSet, parse_name};
use crate::store::{self, Db, registration::InitialToken};

fn number(field: &'static str, raw: &str, max: i64) -> std::result::Result<i64, FieldError> {
    match raw.trim().parse::<i64>() {
        Ok(n) if (1..=max).contains(&n) => Ok(n),
        _ => Err(FieldError::new(
            field,
            format!("must be a whole number from 1 to {max}"),
        )),
    }
}

fn view_of(t: &InitialToken, groups: &[store::contexts::GroupRow], at: i64) -> InitialTokenView {
    InitialTokenView {
        id: t.id.clone(),
        name: t.name.clone(),
        business_group: t.group_id.as_ref().map(|g| {
            groups
                .iter()
                .find(|row| &row.id == g)
                .map_or_else(|| g.clone(), |row| row.name.clone())
        }),
        scopes: t.scopes.iter().map(|s| s.as_str().to_string()).collect(),
        grant_types: t.grant_types.clone(),
        uses_left: t.uses_left,
        expires_at: t.expires_at,
        created_at: t.created_at,
        revoked: t.revoked_at.is_some(),
        live: t.revoked_at.is_none() && t.expires_at > at && t.uses_left > 0,
    }
}

/// Issues an initial access token (`manage:apps` where its apps will live); its value is
/// returned once.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn issue_initial_token(
    db: &Db,
    p: &Principal,
    input: &InitialTokenInput,
) -> Result<(InitialTokenView, SecretString)> {
    let org_id = p.act(READ_APPS)?.org_id.to_string();
    let group = input.business_group.trim();
    let place = if group.is_empty() {
        Place::group(&org_id)
    } else {
        Place::group(group)
    };
    let reach = p.reach(db).await?;
    let at = reach.act(p, MANAGE_APPS, place.clone())?;
    let mut errors = FieldErrors::default();
    let name = errors.check(parse_name("name", &input.name));
    let uses = errors.check(number("uses", &input.uses, 1000));
    let days = errors.check(number("days", &input.days, 365));
    let scopes = errors.check(ScopeSet::parse(input.scopes.iter().map(String::as_str)));
    let mut grants: Vec<String> = Vec::new();
    for raw in input.grant_types.iter().flat_map(|g| g.split_whitespace()) {
        if let Some(g) = errors.check(GrantType::parse(raw))
            && !grants.iter().any(|x| x == g.as_str())
        {
            grants.push(g.as_str().to_string());
        }
    }
    if grants.is_empty() {
        errors.push("grant_types", "choose at least one grant type");
    }
    if scopes.as_ref().is_some_and(ScopeSet::is_empty) {
        errors.push("scopes", "choose at least one scope");
    }
    let (Some(name), Some(uses), Some(days), Some(scopes)) = (name, uses, days, scopes) else {
        return Err(errors.into());
    };
    if !errors.is_empty() {
        return Err(errors.into());
    }
    super::apis::check_scopes(&db.pool, &org_id, &scopes).await?;
    let value = format!("lki_{}", random_token(32));
    let t = now();
    let token = InitialToken {
        id: new_id(),
        org_id: org_id.clone(),
        group_id: (place.group != org_id).then(|| place.group.clone()),
        name,
        digest: secrets::digest(&value),
        scopes,
        grant_types: grants,
        uses_left: uses,
        expires_at: t + days * 86_400,
        created_by: p.user_id().map(str::to_string),
        created_at: t,
        revoked_at: None,
    };
    let mut tx = db.begin().await?;
    store::registration::insert(&mut *tx, &token).await?;
    audit::record(
        &mut tx,
        at.caller,
        Event {
            org_id: Some(&org_id),
            action: "registration.token_issued",
            object: ("initial_access_token", &token.id),
            success: true,
            detail: json!({ "name": token.name, "uses": uses, "expires_at": token.expires_at,
                            "scopes": token.scopes.to_space_separated(), "grant_types": token.grant_types,
                            "business_group": token.group_id }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok((view_of(&token, &reach.groups, t), SecretString::from(value)))
}

/// The organization's initial access tokens (`read:apps`), and its business groups (where
/// a new token's apps may go).
pub async fn list_initial_tokens(db: &Db, p: &Principal) -> Result<InitialTokensView> {
    let org_id = p.act(READ_APPS)?.org_id;
    let reach = p.reach(db).await?;
    let t = now();
    Ok(InitialTokensView {
        tokens: store::registration::of_org(&db.pool, org_id)
            .await?
            .iter()
            .map(|tok| view_of(tok, &reach.groups, t))
            .collect(),
        groups: reach
            .groups
            .iter()
            .map(|g| (g.id.clone(), g.name.clone()))
            .collect(),
        new_value: None,
    })
}

/// Revokes an initial access token (`manage:apps` where its apps go): apps it registered
/// stay.
pub async fn revoke_initial_token(db: &Db, p: &Principal, id: &str) -> Result<()> {
    let org_id = p.act(READ_APPS)?.org_id.to_string();
    let token = store::registration::get(&db.pool, id)
        .await?
        .filter(|t| t.org_id == org_id)
        .ok_or(Error::NotFound)?;
    let place = Place::group(token.group_id.as_deref().unwrap_or(&org_id));
    let reach = p.reach(db).await?;
    let at = reach.act(p, MANAGE_APPS, place)?;
    let mut tx = db.begin().await?;
    if !store::registration::revoke(&mut *tx, &org_id, id, now()).await? {
        return Err(Error::NotFound);
    }
    audit::record(
        &mut tx,
        at.caller,
        Event {
            org_id: Some(&org_id),
            action: "registration.token_revoked",
            object: ("initial_access_token", id),
            success: true,
            detail: json!({ "name": token.name }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Why a registration request was refused.
#[derive(Debug)]
pub enum RegistrationError {
    /// No token, an unknown, spent, expired or revoked one (401 `invalid_token`).
    InvalidToken,
    /// RFC 7591 §3.2.2 (400).
    Metadata(MetadataError),
    Internal(Error),
}

impl From<Error> for RegistrationError {
    fn from(e: Error) -> Self {
        match e {
            Error::Invalid(f) => RegistrationError::Metadata(MetadataError::of_fields(&f)),
            Error::Conflict(f) => RegistrationError::Metadata(MetadataError::of_fields(&f.into())),
            Error::Forbidden(m) => RegistrationError::Metadata(MetadataError {
                error: "invalid_client_metadata",
                description: m,
            }),
            Error::NotFound | Error::Unauthenticated | Error::MissingPermission(_) => {
                RegistrationError::InvalidToken
            }
            e => RegistrationError::Internal(e),
        }
    }
}

impl From<sqlx::Error> for RegistrationError {
    fn from(e: sqlx::Error) -> Self {
        RegistrationError::Internal(e.into())
    }
}

type RegResult<T> = std::result::Result<T, RegistrationError>;

/// A registration's answer (RFC 7591 §3.2.1): the metadata, the credentials, and how to
/// manage it.
#[derive(Debug, Serialize)]
pub struct Registered {
    #[serde(flatten)]
    pub metadata: MetadataView,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    pub client_id_issued_at: i64,
    /// 0: the secret does not expire (RFC 7591 §3.2.1); only with a secret.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_secret_expires_at: Option<i64>,
    pub registration_access_token: String,
    pub registration_client_uri: String,
}

/// A live initial access token by its value.
async fn initial_token(db: &Db, bearer: Option<&str>) -> RegResult<InitialToken> {
    let value = bearer
        .filter(|v| v.len() <= 200)
        .ok_or(RegistrationError::InvalidToken)?;
    let t = now();
    store::registration::by_digest(&db.pool, &secrets::digest(value))
        .await?
        .filter(|tok| tok.revoked_at.is_none() && tok.expires_at > t && tok.uses_left > 0)
        .ok_or(RegistrationError::InvalidToken)
}

/// The metadata read into the portal's input within the token's limits, and checked by
/// the portal's rules before anything is spent.
fn checked_input(
    meta: &ClientMetadata,
    token: &InitialToken,
) -> RegResult<(crate::domain::AppInput, String)> {
    let limits = Limits {
        grant_types: &token.grant_types,
        scopes: &token.scopes,
    };
    let (input, keys) = to_input(meta, &limits).map_err(RegistrationError::Metadata)?;
    crate::domain::AppSpec::validate(&input, !keys.trim().is_empty())
        .map_err(|f| RegistrationError::Metadata(MetadataError::of_fields(&f)))?;
    Ok((input, keys))
}

/// `POST /oauth2/register`: an app registers itself with an initial access token.
pub async fn register(
    db: &Db,
    issuer: &str,
    bearer: Option<&str>,
    meta: &ClientMetadata,
    request: RequestMeta,
) -> RegResult<Registered> {
    let token = initial_token(db, bearer).await?;
    let (input, keys) = checked_input(meta, &token)?;
    if !store::registration::spend(&db.pool, &token.id, now()).await? {
        return Err(RegistrationError::InvalidToken);
    }
    let p = Principal::registration(&token.org_id, &token.id, request);
    let created = match &token.group_id {
        Some(group) => super::apps::create_at(db, &p, &Place::group(group), &input, &keys).await,
        None => super::apps::create(db, &p, &input, &keys).await,
    };
    let (app, secret) = match created {
        Ok(c) => c,
        Err(e) => {
            store::registration::give_back(&db.pool, &token.id).await?;
            return Err(e.into());
        }
    };
    let access = format!("lkg_{}", random_token(32));
    store::registration::set_app_registration(
        &db.pool,
        &app.client_id,
        &token.id,
        &secrets::digest(&access),
    )
    .await?;
    db.changed(&[store::cache::Change::App(app.client_id.clone())])
        .await?;
    audit::record_alone(
        db,
        p.caller(),
        Event {
            org_id: Some(&token.org_id),
            action: "app.registered",
            object: ("app", &app.client_id),
            success: true,
            detail: json!({ "initial_access_token": token.id, "token_name": token.name,
                            "uses_left": token.uses_left - 1 }),
        },
    )
    .await?;
    Ok(Registered {
        client_id_issued_at: app.created_at,
        client_secret_expires_at: secret.as_ref().map(|_| 0),
        client_secret: secret.map(|s| s.expose_secret().to_string()),
        registration_client_uri: format!(
            "{issuer}{}/{}",
            crate::domain::paths::REGISTRATION_PATH,
            app.client_id
        ),
        registration_access_token: access,
        metadata: MetadataView::of(&app),
    })
}

/// The registration of `client_id`, if `bearer` is its registration access token: the
/// principal that manages it and the initial token it came by.
async fn registration_of(
    db: &Db,
    client_id: &str,
    bearer: Option<&str>,
    request: RequestMeta,
) -> RegResult<(Principal, InitialToken)> {
    let value = bearer.ok_or(RegistrationError::InvalidToken)?;
    if client_id.len() > 200 {
        return Err(RegistrationError::InvalidToken);
    }
    let Some((org_id, iat_id, digest)) =
        store::registration::app_registration(&db.pool, client_id).await?
    else {
        return Err(RegistrationError::InvalidToken);
    };
    if !bool::from(secrets::digest(value).as_bytes().ct_eq(digest.as_bytes())) {
        return Err(RegistrationError::InvalidToken);
    }
    // The limits stay those of the token it came by, even spent or expired.
    let token = store::registration::get(&db.pool, &iat_id)
        .await?
        .ok_or(RegistrationError::InvalidToken)?;
    Ok((Principal::registration(&org_id, &iat_id, request), token))
}

/// `GET /oauth2/register/{client_id}` (RFC 7592 §2.1).
pub async fn read(
    db: &Db,
    client_id: &str,
    bearer: Option<&str>,
    request: RequestMeta,
) -> RegResult<MetadataView> {
    let (p, _) = registration_of(db, client_id, bearer, request).await?;
    let detail = super::apps::get(db, &p, client_id).await?;
    Ok(MetadataView::of(&detail.app))
}

/// `PUT /oauth2/register/{client_id}` (RFC 7592 §2.2): the metadata replaces the app's
/// settings, within the limits of the token it registered with.
pub async fn update(
    db: &Db,
    client_id: &str,
    bearer: Option<&str>,
    meta: &ClientMetadata,
    request: RequestMeta,
) -> RegResult<MetadataView> {
    let (p, token) = registration_of(db, client_id, bearer, request).await?;
    if meta.client_id.as_deref() != Some(client_id) {
        return Err(RegistrationError::Metadata(MetadataError {
            error: "invalid_client_metadata",
            description: "the body's client_id must be the registration's".into(),
        }));
    }
    let (input, keys) = checked_input(meta, &token)?;
    let app = super::apps::update(db, &p, client_id, &input, &keys).await?;
    Ok(MetadataView::of(&app))
}

/// `DELETE /oauth2/register/{client_id}` (RFC 7592 §2.3): the app is deleted.
pub async fn delete(
    db: &Db,
    client_id: &str,
    bearer: Option<&str>,
    request: RequestMeta,
) -> RegResult<()> {
    let (p, _) = registration_of(db, client_id, bearer, request).await?;
    let detail = super::apps::get(db, &p, client_id).await?;
    super::apps::delete(db, &p, client_id, &detail.app.name).await?;
    Ok(())
}
