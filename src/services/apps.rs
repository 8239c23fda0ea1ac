//! Connected apps: create, edit, enable/disable, delete, and zero-downtime secret rotation.

use secrecy::SecretString;
use serde_json::json;

use super::audit::{self, Event};
use super::principal::{MANAGE_APPS, Principal, READ_APPS};
use super::{Actor, Error, Result, conflict_on, new_id, now};
use crate::crypto::{public_keys, random_token, secrets};
use crate::domain::app::AppInput;
use crate::domain::context::Place;
use crate::domain::ids::{ClientId, OrgId, UserId};
use crate::domain::listing::ListQuery;
use crate::domain::views::{AppDetail, AppPage, AppView, SecretView};
use crate::domain::{AppKind, AppSpec, FieldError, FieldErrors, RedirectUri};
use crate::store::{self, Db, apps::App, apps::SecretRow, cache::Change};

/// At most this many secrets at once: the current one and its replacement.
pub const MAX_SECRETS: usize = 2;

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
        public_keys: r.public_keys,
        created_at: r.created_at,
        updated_at: r.updated_at,
        id_token_alg: r.id_token_alg,
        last_used_at: None,
        business_group: r.group_id,
        environment: r.env_id,
    }
}

fn secret_view(s: SecretRow) -> SecretView {
    SecretView {
        id: s.id,
        hint: s.hint,
        created_at: s.created_at,
        expires_at: s.expires_at,
        last_used_at: s.last_used_at,
    }
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
        ..base
    }
}

async fn insert_secret(tx: &mut store::Tx, client_id: &str) -> Result<SecretString> {
    let new = secrets::generate();
    let row = SecretRow {
        id: new_id(),
        client_id: client_id.into(),
        digest: new.digest,
        hint: new.hint,
        created_at: now(),
        expires_at: None,
        last_used_at: None,
    };
    store::apps::insert_secret(&mut **tx, &row).await?;
    Ok(new.plaintext)
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
    insert_app(db, at.caller, at.org_id, None, input, public_keys_text).await
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
    };
    let row = row_from_spec(&spec, keys, base);
    let mut tx = db.begin().await?;
    store::orgs::get(&mut *tx, org_id)
        .await?
        .ok_or(Error::NotFound)?;
    super::apis::check_scopes(&mut *tx, org_id, &spec.scopes).await?;
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
                        "scopes": row.scopes.to_space_separated(),
                        "business_group": home.group, "environment": home.env }),
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
    let apps = store::apps::all(&db.pool, org_id)
        .await?
        .into_iter()
        .filter(|a| keep(a))
        .map(|a| AppView {
            last_used_at: used.get(a.client_id.as_str()).copied(),
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

#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn get(db: &Db, p: &Principal, client_id: &str) -> Result<AppDetail> {
    let org_id = p.act(READ_APPS)?.org_id;
    let app = get_row(&db.pool, org_id, client_id).await?;
    let secrets = store::apps::secrets(&db.pool, client_id).await?;
    Ok(AppDetail {
        app: view(app),
        secrets: secrets.into_iter().map(secret_view).collect(),
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
    let at = p.act(MANAGE_APPS)?;
    let (caller, org_id) = (at.caller, at.org_id);
    let mut tx = db.begin().await?;
    let before = get_row(&mut *tx, org_id, client_id).await?;
    let input = AppInput {
        kind: before.kind.as_str().to_string(),
        public_client: before.public_client,
        ..input.clone()
    };
    let (spec, keys) = validate(&input, public_keys_text)?;
    super::apis::check_scopes(&mut *tx, org_id, &spec.scopes).await?;
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
            "assignments_ended": assignments_ended,
        }),
    })
    .await?;
    db.commit(tx, &[Change::App(client_id.to_string())]).await?;
    Ok(view(row))
}

#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn set_enabled(db: &Db, p: &Principal, client_id: &str, enabled: bool) -> Result<()> {
    let at = p.act(MANAGE_APPS)?;
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
    let at = p.act(MANAGE_APPS)?;
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

/// Adds a secret (at most two at once) and returns its value, shown once.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn add_secret(db: &Db, p: &Principal, client_id: &str) -> Result<SecretString> {
    let at = p.act(MANAGE_APPS)?;
    let (caller, org_id) = (at.caller, at.org_id);
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
    let secret = insert_secret(&mut tx, client_id).await?;
    audit::record(
        &mut tx,
        caller,
        Event {
            org_id: Some(org_id),
            action: "app.secret_add",
            object: ("app", client_id),
            success: true,
            detail: json!({}),
        },
    )
    .await?;
    db.commit(tx, &[Change::App(client_id.to_string())]).await?;
    Ok(secret)
}

/// Deletes one secret; the last one stays (add its replacement first).
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn delete_secret(db: &Db, p: &Principal, client_id: &str, secret_id: &str) -> Result<()> {
    let at = p.act(MANAGE_APPS)?;
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
