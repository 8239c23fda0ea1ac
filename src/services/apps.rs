//! Connected apps: create, edit, enable/disable, delete, and zero-downtime secret rotation.

use secrecy::SecretString;
use serde_json::json;

use super::audit::{self, Event};
use super::principal::{InOrg, MANAGE_APPS, MANAGE_ORG, Permission, Principal, READ_APPS};
use super::{Actor, Error, Result, conflict_on, new_id, now};
use crate::crypto::{public_keys, random_token, secrets};
use crate::domain::app::AppInput;
use crate::domain::context::Place;
use crate::domain::ids::{ClientId, OrgId, UserId};
use crate::domain::listing::ListQuery;
use crate::domain::secret_expiry::{self, Expiry};
use crate::domain::views::{AppDetail, AppOwner, AppPage, AppUsage, AppView, SecretView};
use crate::domain::{AppKind, AppSpec, FieldError, FieldErrors, RedirectUri};
use crate::store::{self, Db, apps::App, apps::SecretRow, cache::Change};

/// At most this many secrets at once: the current one and its replacement.
pub const MAX_SECRETS: usize = 2;
/// Apps of one organization.
pub const MAX_APPS: i64 = 1000;

/// The app's grant types as the audit records them, space-separated.
fn grant_text(app: &App) -> String {
    app.grant_types
        .iter()
        .map(|g| g.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

fn uri_texts(list: &[RedirectUri]) -> Vec<String> {
    list.iter().map(|u| u.as_str().to_string()).collect()
}

pub(crate) fn view(r: App) -> AppView {
    AppView {
        grant_types: r
            .grant_types
            .iter()
            .map(|g| g.as_str().to_string())
            .collect(),
        redirect_uris: uri_texts(&r.redirect_uris),
        post_logout_redirect_uris: uri_texts(&r.post_logout_redirect_uris),
        grant_ttl: r.grant_ttl,
        scopes: r.scopes.iter().map(|s| s.as_str().to_string()).collect(),
        client_id: r.client_id.into_inner(),
        org_id: r.org_id.into_inner(),
        name: r.name,
        kind: r.kind.as_str().to_string(),
        website_url: r.website_url,
        audience: r.audience.as_str().to_string(),
        access_token_ttl: r.access_token_ttl,
        refresh_token_ttl: r.refresh_token_ttl,
        enabled: r.enabled,
        owner_id: r.owner_id.map(|u| u.into_inner()),
        public_client: r.public_client,
        skip_consent: r.skip_consent,
        require_par: r.require_par,
        require_dpop: r.require_dpop,
        exchange_audiences: r.exchange_audiences,
        backchannel_logout_uri: r.backchannel_logout_uri,
        registered_dynamically: r.registered_by.is_some(),
        public_keys: r.public_keys,
        created_at: r.created_at,
        updated_at: r.updated_at,
        id_token_alg: r.id_token_alg,
        last_used_at: None,
        business_group: r.group_id,
        environment: r.env_id,
        secret_expires_soon: false,
    }
}

/// A secret as shown, with where its expiry stands at `t`.
fn secret_view(s: SecretRow, t: i64) -> SecretView {
    let state = secret_expiry::state(s.expires_at, t);
    SecretView {
        id: s.id,
        hint: s.hint,
        created_at: s.created_at,
        expires_at: s.expires_at,
        last_used_at: s.last_used_at,
        expires_soon: state == Expiry::Soon,
        expired: state == Expiry::Expired,
    }
}

/// An expiry as the audit records it: RFC 3339 (UTC), or null for none.
fn expiry_text(expires_at: Option<i64>) -> serde_json::Value {
    expires_at.map_or(serde_json::Value::Null, |e| {
        crate::domain::when::iso8601(e).into()
    })
}

/// Validates the settings and the optional public keys together, so every problem shows at once.
fn validate(input: &AppInput, public_keys_text: &str) -> Result<(AppSpec, Option<String>)> {
    let keys = public_keys_text.trim();
    let mut key_error = None;
    if !keys.is_empty()
        && let Err(m) = public_keys::validate(keys)
    {
        key_error = Some(FieldError::new("public_keys", m));
    }
    let spec = AppSpec::validate(input, !keys.is_empty());
    match (spec, key_error) {
        (Ok(spec), None) => Ok((spec, (!keys.is_empty()).then(|| keys.to_string()))),
        (Ok(_), Some(e)) => Err(FieldErrors::from(e).into()),
        (Err(mut errors), key_error) => {
            if let Some(e) = key_error {
                errors.0.retain(|f| f.field != "public_keys");
                errors.0.push(e);
            }
            Err(errors.into())
        }
    }
}

fn row_from_spec(spec: &AppSpec, keys: Option<String>, base: App) -> App {
    App {
        name: spec.name.clone(),
        kind: spec.kind,
        grant_types: spec.grant_types.clone(),
        redirect_uris: spec.redirect_uris.clone(),
        post_logout_redirect_uris: spec.post_logout_redirect_uris.clone(),
        grant_ttl: spec.lifetimes.grant_secs,
        website_url: spec.website_url.clone(),
        audience: spec.audience,
        scopes: spec.scopes.clone(),
        access_token_ttl: spec.lifetimes.access_secs,
        refresh_token_ttl: spec.lifetimes.refresh_secs,
        public_client: spec.public_client,
        public_keys: keys,
        id_token_alg: spec.id_token_alg.into(),
        skip_consent: spec.skip_consent,
        require_par: spec.require_par,
        require_dpop: spec.require_dpop,
        exchange_audiences: spec.exchange_audiences.clone(),
        backchannel_logout_uri: spec.backchannel_logout_uri.clone(),
        ..base
    }
}

async fn insert_secret(tx: &mut store::Tx, client_id: &str) -> Result<SecretString> {
    Ok(insert_secret_until(tx, client_id, None).await?.0)
}

/// Adds a secret that stops working at `expires_at` (None: never).
async fn insert_secret_until(
    tx: &mut store::Tx,
    client_id: &str,
    expires_at: Option<i64>,
) -> Result<(SecretString, SecretRow)> {
    let new = secrets::generate();
    let row = SecretRow {
        id: new_id(),
        client_id: client_id.into(),
        digest: new.digest,
        hint: new.hint,
        created_at: now(),
        expires_at,
        last_used_at: None,
    };
    store::apps::insert_secret(&mut **tx, &row).await?;
    Ok((new.plaintext, row))
}

/// Creates an app in `org_id`; returns it with its first secret (none for public clients).
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn create(
    db: &Db,
    p: &Principal,
    input: &AppInput,
    public_keys_text: &str,
) -> Result<(AppView, Option<SecretString>)> {
    let at = p.act(MANAGE_APPS)?;
    may_skip_consent(p, input.skip_consent, false)?;
    insert_app(db, at.caller, at.org_id, None, input, public_keys_text).await
}

/// Letting an app skip consent decides for every user of the organization, so only who
/// holds `manage:org` in the organization as a whole may turn it on (a business group's
/// admins may keep it or turn it off).
fn may_skip_consent(p: &Principal, wanted: bool, before: bool) -> Result<()> {
    if wanted && !before {
        p.act(MANAGE_ORG)?;
    }
    Ok(())
}

/// Creates an app that lives in a business group or one of its environments: `manage:apps`
/// must hold there. An own-behalf app's scopes are assigned there to begin with, so whoever
/// makes it must hold each of its platform permissions everywhere that reaches (nobody
/// hands out more than they have).
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn create_at(
    db: &Db,
    p: &Principal,
    place: &Place,
    input: &AppInput,
    public_keys_text: &str,
) -> Result<(AppView, Option<SecretString>)> {
    let reach = p.reach(db).await?;
    let at = reach.act(p, MANAGE_APPS, place.clone())?;
    may_skip_consent(p, input.skip_consent, false)?;
    if matches!(AppKind::parse(&input.kind), Ok(AppKind::OwnBehalf)) {
        let scopes = crate::domain::ScopeSet::parse(input.scopes.iter().map(String::as_str))?;
        for scope in scopes.iter() {
            reach.grant(scope.as_str(), place)?;
        }
    }
    insert_app(
        db,
        at.caller,
        at.org_id,
        Some(place),
        input,
        public_keys_text,
    )
    .await
}

async fn insert_app(
    db: &Db,
    caller: &super::Caller,
    org_id: &str,
    place: Option<&Place>,
    input: &AppInput,
    public_keys_text: &str,
) -> Result<(AppView, Option<SecretString>)> {
    let (spec, keys) = validate(input, public_keys_text)?;
    let t = now();
    let owner_id = match &caller.actor {
        Actor::User { id, .. } => Some(UserId::new(id.clone())),
        _ => None,
    };
    let base = App {
        client_id: ClientId::new(random_token(16)),
        org_id: OrgId::new(org_id),
        enabled: true,
        owner_id,
        created_at: t,
        updated_at: t,
        name: String::new(),
        kind: spec.kind,
        grant_types: Vec::new(),
        redirect_uris: Vec::new(),
        website_url: None,
        audience: spec.audience,
        scopes: spec.scopes.clone(),
        access_token_ttl: 0,
        refresh_token_ttl: 0,
        post_logout_redirect_uris: Vec::new(),
        grant_ttl: 0,
        public_client: false,
        public_keys: None,
        id_token_alg: String::new(),
        group_id: place
            .filter(|pl| pl.group != org_id)
            .map(|pl| pl.group.clone()),
        env_id: place.and_then(|pl| pl.env.clone()),
        skip_consent: false,
        require_par: false,
        require_dpop: false,
        exchange_audiences: Vec::new(),
        backchannel_logout_uri: None,
        registered_by: None,
    };
    let row = row_from_spec(&spec, keys, base);
    let mut tx = db.begin().await?;
    store::orgs::get(&mut *tx, org_id)
        .await?
        .ok_or(Error::NotFound)?;
    if store::apps::count(&mut *tx, org_id).await? >= MAX_APPS {
        return Err(Error::Forbidden(format!(
            "an organization has at most {MAX_APPS} apps; delete one first"
        )));
    }
    super::apis::check_scopes(&mut *tx, org_id, &spec.scopes).await?;
    super::apis::check_audiences(&mut *tx, org_id, &spec.exchange_audiences).await?;
    store::apps::insert(&mut *tx, &row)
        .await
        .map_err(conflict_on(
            "name",
            "is already used by another app of this organization",
        ))?;
    super::contexts::assign_new_scopes(&mut tx, &row, None).await?;
    let secret = if spec.public_client {
        None
    } else {
        Some(insert_secret(&mut tx, &row.client_id).await?)
    };
    let home = row.place();
    audit::record(&mut tx, caller, Event {
        org_id: Some(org_id),
        action: "app.create",
        object: ("app", &row.client_id),
        success: true,
        detail: json!({ "name": row.name, "kind": row.kind.as_str(), "grant_types": grant_text(&row),
                        "scopes": row.scopes.to_space_separated(), "skip_consent": row.skip_consent,
                        "require_par": row.require_par, "require_dpop": row.require_dpop, "business_group": home.group, "environment": home.env }),
    })
    .await?;
    db.commit(tx, &[Change::App(row.client_id.to_string())])
        .await?;
    Ok((view(row), secret))
}

/// One page of the apps of the organization (the query searches, sorts and pages).
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn list(db: &Db, p: &Principal, q: &ListQuery) -> Result<AppPage> {
    let org_id = p.act(READ_APPS)?.org_id;
    listed(db, org_id, q, |_| true).await
}

/// The apps that live at `place` (a group: in it and in its environments); needs
/// `read:apps` there.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn list_at(db: &Db, p: &Principal, place: &Place, q: &ListQuery) -> Result<AppPage> {
    let reach = p.reach(db).await?;
    let org_id = reach.act(p, READ_APPS, place.clone())?.org_id;
    listed(db, org_id, q, |a| {
        let home = a.place();
        home.group == place.group && (place.env.is_none() || home.env == place.env)
    })
    .await
}

async fn listed(
    db: &Db,
    org_id: &str,
    q: &ListQuery,
    keep: impl Fn(&App) -> bool,
) -> Result<AppPage> {
    let used = store::apps::last_used(&db.pool, org_id).await?;
    let expiring =
        store::apps::with_secret_expiring(&db.pool, org_id, now() + secret_expiry::WARNING_SECS)
            .await?;
    let apps = store::apps::all(&db.pool, org_id)
        .await?
        .into_iter()
        .filter(|a| keep(a))
        .map(|a| AppView {
            last_used_at: used.get(a.client_id.as_str()).copied(),
            secret_expires_soon: expiring.contains(a.client_id.as_str()),
            ..view(a)
        })
        .collect();
    Ok(crate::domain::listing::apply(apps, q))
}

async fn get_row<'c>(e: impl sqlx::AnyExecutor<'c>, org_id: &str, client_id: &str) -> Result<App> {
    store::apps::get(e, org_id, client_id)
        .await?
        .ok_or(Error::NotFound)
}

/// Proof that `p` holds `permission` where the app `client_id` of its organization lives:
/// the organization's admins manage every app, a business group's admins the apps of
/// their group and below, nobody the apps of a place where they hold nothing.
pub(crate) async fn at_app<'p>(
    db: &Db,
    p: &'p Principal,
    permission: Permission,
    client_id: &str,
) -> Result<InOrg<'p>> {
    let Some(org_id) = p.org_id() else {
        return p.act(permission);
    };
    let Some(app) = db
        .app(client_id)
        .await?
        .filter(|a| a.org_id.as_str() == org_id)
    else {
        // Say what is missing first to whoever may act nowhere.
        p.reach(db).await?;
        return Err(Error::NotFound);
    };
    let reach = p.reach(db).await?;
    Ok(reach.act(p, permission, app.place())?.in_org())
}

#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn get(db: &Db, p: &Principal, client_id: &str) -> Result<AppDetail> {
    let org_id = at_app(db, p, READ_APPS, client_id).await?.org_id;
    let app = get_row(&db.pool, org_id, client_id).await?;
    let secrets = store::apps::secrets(&db.pool, client_id).await?;
    let t = now();
    let usage = usage(db, org_id, client_id, t).await?;
    let owner = owner_of(db, org_id, &app).await?;
    let app = view(app);
    Ok(AppDetail {
        app: AppView {
            secret_expires_soon: secrets
                .iter()
                .any(|s| secret_expiry::state(s.expires_at, t) != Expiry::Valid),
            ..app
        },
        secrets: secrets.into_iter().map(|s| secret_view(s, t)).collect(),
        usage,
        owner,
    })
}

/// The app's owner, while they are a member of its organization.
async fn owner_of(db: &Db, org_id: &str, app: &App) -> Result<Option<AppOwner>> {
    let Some(owner_id) = &app.owner_id else {
        return Ok(None);
    };
    Ok(store::users::member(&db.pool, org_id, owner_id.as_str())
        .await?
        .map(|m| AppOwner {
            user_id: owner_id.as_str().to_string(),
            name: m.name,
            email: m.email,
        }))
}

/// Who is to own an app: a user id (the REST API) or an e-mail address (the portal).
#[derive(Debug, Clone, Copy)]
pub enum NewOwner<'a> {
    Id(&'a str),
    Email(&'a str),
}

/// Makes another member of the organization the app's owner; needs `manage:apps` where the
/// app lives.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn transfer_owner(
    db: &Db,
    p: &Principal,
    client_id: &str,
    new_owner: NewOwner<'_>,
) -> Result<AppOwner> {
    let at = at_app(db, p, MANAGE_APPS, client_id).await?;
    let (caller, org_id) = (at.caller, at.org_id);
    let mut tx = db.begin().await?;
    let app = get_row(&mut *tx, org_id, client_id).await?;
    let (field, user_id) = match new_owner {
        NewOwner::Id(id) => ("owner_id", Some(id.to_string())),
        NewOwner::Email(email) => (
            "owner_email",
            store::users::find_by_email(&mut *tx, &email.trim().to_lowercase())
                .await?
                .map(|u| u.id),
        ),
    };
    let member = match &user_id {
        Some(id) => store::users::member(&mut *tx, org_id, id).await?,
        None => None,
    };
    let (Some(new_owner), Some(member)) = (user_id, member) else {
        return Err(FieldError::new(field, "must be a member of this organization").into());
    };
    let new_owner = new_owner.as_str();
    store::apps::set_owner(&mut *tx, org_id, client_id, new_owner, now()).await?;
    audit::record(&mut tx, caller, Event {
        org_id: Some(org_id),
        action: "app.owner_transfer",
        object: ("app", client_id),
        success: true,
        detail: json!({ "from": app.owner_id.as_ref().map(|u| u.as_str()), "to": new_owner, "to_email": member.email }),
    })
    .await?;
    db.commit(tx, &[Change::App(client_id.to_string())]).await?;
    Ok(AppOwner {
        user_id: new_owner.to_string(),
        name: member.name,
        email: member.email,
    })
}

/// Who authorized the app (distinct users, and the organizations they act in: an app open
/// to everyone counts other organizations' users too) and the tokens it was issued in the
/// last 24 hours and 7 days (its `token.issued` records, kept in the app's organization).
async fn usage(db: &Db, org_id: &str, client_id: &str, t: i64) -> Result<AppUsage> {
    let (users, organizations) = store::grants::usage(&db.pool, client_id).await?;
    let (tokens_24h, tokens_7d) =
        store::audit::tokens_issued(&db.pool, org_id, client_id, t - 86_400, t - 7 * 86_400)
            .await?;
    Ok(AppUsage {
        users,
        organizations,
        tokens_24h,
        tokens_7d,
    })
}

/// Replaces an app's settings. The kind and the public-client flag are fixed at creation.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn update(
    db: &Db,
    p: &Principal,
    client_id: &str,
    input: &AppInput,
    public_keys_text: &str,
) -> Result<AppView> {
    let at = at_app(db, p, MANAGE_APPS, client_id).await?;
    let (caller, org_id) = (at.caller, at.org_id);
    let mut tx = db.begin().await?;
    let before = get_row(&mut *tx, org_id, client_id).await?;
    let input = AppInput {
        kind: before.kind.as_str().to_string(),
        public_client: before.public_client,
        ..input.clone()
    };
    let (spec, keys) = validate(&input, public_keys_text)?;
    may_skip_consent(p, spec.skip_consent, before.skip_consent)?;
    super::apis::check_scopes(&mut *tx, org_id, &spec.scopes).await?;
    super::apis::check_audiences(&mut *tx, org_id, &spec.exchange_audiences).await?;
    let row = row_from_spec(
        &spec,
        keys,
        App {
            updated_at: now(),
            ..before.clone()
        },
    );
    store::apps::update(&mut *tx, &row)
        .await
        .map_err(conflict_on(
            "name",
            "is already used by another app of this organization",
        ))?;
    let assignments_ended =
        super::contexts::assign_new_scopes(&mut tx, &row, Some(&before.scopes)).await?;
    let home = row.place();
    audit::record(&mut tx, caller, Event {
        org_id: Some(org_id),
        action: "app.update",
        object: ("app", client_id),
        success: true,
        detail: json!({
            "name": row.name, "grant_types": grant_text(&row), "redirect_uris": uri_texts(&row.redirect_uris),
            "scopes": row.scopes.to_space_separated(), "access_token_ttl": row.access_token_ttl,
            "refresh_token_ttl": row.refresh_token_ttl, "grant_ttl": row.grant_ttl,
            "post_logout_redirect_uris": uri_texts(&row.post_logout_redirect_uris),
            "public_keys_changed": row.public_keys != before.public_keys,
            "assignments_ended": assignments_ended, "skip_consent": row.skip_consent,
            "require_par": row.require_par, "require_dpop": row.require_dpop,
            "business_group": home.group, "environment": home.env,
        }),
    })
    .await?;
    db.commit(tx, &[Change::App(client_id.to_string())]).await?;
    Ok(view(row))
}

#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn set_enabled(db: &Db, p: &Principal, client_id: &str, enabled: bool) -> Result<()> {
    let at = at_app(db, p, MANAGE_APPS, client_id).await?;
    let (caller, org_id) = (at.caller, at.org_id);
    let mut tx = db.begin().await?;
    if !store::apps::set_enabled(&mut *tx, org_id, client_id, enabled, now()).await? {
        return Err(Error::NotFound);
    }
    audit::record(
        &mut tx,
        caller,
        Event {
            org_id: Some(org_id),
            action: if enabled { "app.enable" } else { "app.disable" },
            object: ("app", client_id),
            success: true,
            detail: json!({}),
        },
    )
    .await?;
    db.commit(tx, &[Change::App(client_id.to_string())]).await?;
    Ok(())
}

/// Deletes an app; `confirm_name` must repeat its name.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn delete(db: &Db, p: &Principal, client_id: &str, confirm_name: &str) -> Result<()> {
    let at = at_app(db, p, MANAGE_APPS, client_id).await?;
    let (caller, org_id) = (at.caller, at.org_id);
    let mut tx = db.begin().await?;
    let app = get_row(&mut *tx, org_id, client_id).await?;
    if confirm_name.trim() != app.name {
        return Err(FieldError::new("confirm_name", "must repeat the app's name exactly").into());
    }
    store::apps::delete(&mut *tx, org_id, client_id).await?;
    audit::record(
        &mut tx,
        caller,
        Event {
            org_id: Some(org_id),
            action: "app.delete",
            object: ("app", client_id),
            success: true,
            detail: json!({ "name": app.name }),
        },
    )
    .await?;
    db.commit(tx, &[Change::App(client_id.to_string()), Change::Grants])
        .await?;
    Ok(())
}

/// Adds a secret (at most two at once) that stops working at `expires_at` (as typed, see
/// `domain::secret_expiry::parse`; empty: never) and returns its value, shown once, with
/// its view.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn add_secret(
    db: &Db,
    p: &Principal,
    client_id: &str,
    expires_at: &str,
) -> Result<(SecretString, SecretView)> {
    let at = at_app(db, p, MANAGE_APPS, client_id).await?;
    let (caller, org_id) = (at.caller, at.org_id);
    let t = now();
    let expires_at = secret_expiry::parse("expires_at", expires_at, t)?;
    let mut tx = db.begin().await?;
    let app = get_row(&mut *tx, org_id, client_id).await?;
    if app.public_client {
        return Err(Error::Forbidden("a public client has no secret".into()));
    }
    if store::apps::secrets(&mut *tx, client_id).await?.len() >= MAX_SECRETS {
        return Err(Error::Forbidden(
            "an app has at most two secrets; delete the old one first".into(),
        ));
    }
    let (secret, row) = insert_secret_until(&mut tx, client_id, expires_at).await?;
    audit::record(
        &mut tx,
        caller,
        Event {
            org_id: Some(org_id),
            action: "app.secret_add",
            object: ("app", client_id),
            success: true,
            detail: json!({ "secret_id": row.id, "hint": row.hint, "expires_at": expiry_text(expires_at) }),
        },
    )
    .await?;
    db.commit(tx, &[Change::App(client_id.to_string())]).await?;
    Ok((secret, secret_view(row, t)))
}

/// Sets when one of the app's secrets stops working (as typed, see
/// `domain::secret_expiry::parse`; empty: never). A time already past is refused, and so
/// is a change to a secret that has expired: it stays dead (add a new one).
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn set_secret_expiry(
    db: &Db,
    p: &Principal,
    client_id: &str,
    secret_id: &str,
    expires_at: &str,
) -> Result<SecretView> {
    let at = at_app(db, p, MANAGE_APPS, client_id).await?;
    let (caller, org_id) = (at.caller, at.org_id);
    let t = now();
    let mut tx = db.begin().await?;
    let app = get_row(&mut *tx, org_id, client_id).await?;
    let Some(before) = store::apps::secrets(&mut *tx, app.client_id.as_str())
        .await?
        .into_iter()
        .find(|s| s.id == secret_id)
    else {
        return Err(Error::NotFound);
    };
    if !secret_expiry::usable(before.expires_at, t) {
        return Err(Error::Forbidden(
            "this secret has expired and stays so; add a new secret instead".into(),
        ));
    }
    let expires_at = secret_expiry::parse("expires_at", expires_at, t)?;
    store::apps::set_secret_expiry(&mut *tx, client_id, secret_id, expires_at).await?;
    audit::record(
        &mut tx,
        caller,
        Event {
            org_id: Some(org_id),
            action: "app.secret_expiry",
            object: ("app", client_id),
            success: true,
            detail: json!({ "secret_id": secret_id, "hint": before.hint,
                            "expires_at": expiry_text(expires_at),
                            "previous_expires_at": expiry_text(before.expires_at) }),
        },
    )
    .await?;
    db.commit(tx, &[Change::App(client_id.to_string())]).await?;
    Ok(secret_view(
        SecretRow {
            expires_at,
            ..before
        },
        t,
    ))
}

/// Deletes one secret; the last one stays (add its replacement first).
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn delete_secret(db: &Db, p: &Principal, client_id: &str, secret_id: &str) -> Result<()> {
    let at = at_app(db, p, MANAGE_APPS, client_id).await?;
    let (caller, org_id) = (at.caller, at.org_id);
    let mut tx = db.begin().await?;
    get_row(&mut *tx, org_id, client_id).await?;
    let all = store::apps::secrets(&mut *tx, client_id).await?;
    let Some(secret) = all.iter().find(|s| s.id == secret_id) else {
        return Err(Error::NotFound);
    };
    if all.len() <= 1 {
        return Err(Error::Forbidden(
            "this is the app's only secret; add a new one before deleting it".into(),
        ));
    }
    store::apps::delete_secret(&mut *tx, client_id, secret_id).await?;
    audit::record(
        &mut tx,
        caller,
        Event {
            org_id: Some(org_id),
            action: "app.secret_delete",
            object: ("app", client_id),
            success: true,
            detail: json!({ "secret_id": secret_id, "hint": secret.hint }),
        },
    )
    .await?;
    db.commit(tx, &[Change::App(client_id.to_string())]).await?;
    Ok(())
}

/// The app page's Quick start (`domain::quick_start`), with a fresh PKCE pair for the
/// authorization example of an app acting for users.
pub fn quick_start(
    issuer: &str,
    app: &crate::domain::views::AppView,
    secret: Option<&str>,
) -> crate::domain::quick_start::QuickStart {
    let (verifier, challenge) = crate::crypto::pkce::pair();
    crate::domain::quick_start::quick_start(issuer, app, secret, (&verifier, &challenge))
}
