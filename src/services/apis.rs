//! Custom APIs (resource servers): registered by an organization's admins with an
//! identifier (the tokens' audience) and the scopes they define. Apps of the organization
//! may be allowed those scopes; a token asked for with `resource=` (RFC 8707), or carrying
//! an API's scopes, names that API in its `aud`.

use serde_json::json;

use super::audit::{self, Event};
use super::principal::{MANAGE_APPS, Principal, READ_APPS};
use super::{Error, Result, new_id, now};
use crate::domain::api::{ApiInput, scopes_text};
use crate::domain::oauth::OAuthError;
use crate::domain::views::ApiView;
use crate::domain::{FieldError, ScopeSet};
use crate::store::{self, Db, apis::ApiRow};

fn view(r: ApiRow) -> ApiView {
    ApiView {
        scopes: r
            .scope_list()
            .map(|(n, w)| (n.to_string(), w.to_string()))
            .collect(),
        id: r.id,
        name: r.name,
        identifier: r.identifier,
        created_at: r.created_at,
    }
}

#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn list(db: &Db, p: &Principal) -> Result<Vec<ApiView>> {
    let org_id = p.act(READ_APPS)?.org_id;
    Ok(store::apis::list(&db.pool, org_id)
        .await?
        .into_iter()
        .map(view)
        .collect())
}

/// One page of the organization's APIs, searched and sorted (the portal's list).
pub async fn page(
    db: &Db,
    p: &Principal,
    q: &crate::domain::listing::ListQuery,
) -> Result<crate::domain::listing::Listed<ApiView>> {
    Ok(crate::domain::listing::apply(list(db, p).await?, q))
}

/// Registers an API. Its identifier must be new everywhere and not our own issuer; its
/// scopes must not be defined by another API of the organization.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn create(db: &Db, p: &Principal, issuer: &str, input: &ApiInput) -> Result<ApiView> {
    let at = p.act(MANAGE_APPS)?;
    let (caller, org_id) = (at.caller, at.org_id);
    let spec = input.parse()?;
    if spec.identifier.trim_end_matches('/') == issuer.trim_end_matches('/') {
        return Err(FieldError::new("identifier", "must not be this server's own address").into());
    }
    let mut tx = db.begin().await?;
    store::orgs::get(&mut *tx, org_id)
        .await?
        .ok_or(Error::NotFound)?;
    for other in store::apis::list(&mut *tx, org_id).await? {
        if let Some((taken, _)) = spec
            .scopes
            .iter()
            .find(|(s, _)| other.scope_names().any(|o| o == s))
        {
            return Err(FieldError::new(
                "scopes",
                format!("{taken} is already defined by the API {}", other.name),
            )
            .into());
        }
    }
    let row = ApiRow {
        id: new_id(),
        org_id: org_id.to_string(),
        name: spec.name,
        identifier: spec.identifier,
        scopes: scopes_text(&spec.scopes),
        created_at: now(),
    };
    store::apis::insert(&mut *tx, &row).await.map_err(|e| {
        if store::is_unique_violation(&e) {
            Error::Conflict(FieldError::new(
                "identifier",
                "or name is already used by another API",
            ))
        } else {
            e.into()
        }
    })?;
    audit::record(
        &mut tx,
        caller,
        Event {
            org_id: Some(org_id),
            action: "api.create",
            object: ("api", &row.id),
            success: true,
            detail: json!({ "name": row.name, "identifier": row.identifier, "scopes": row.scope_names().collect::<Vec<_>>() }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(view(row))
}

/// Deletes an API no app is allowed any scope of.
#[tracing::instrument(skip_all, fields(principal = ?p.caller().actor, org = p.org_id()))]
pub async fn delete(db: &Db, p: &Principal, id: &str) -> Result<()> {
    let at = p.act(MANAGE_APPS)?;
    let (caller, org_id) = (at.caller, at.org_id);
    let mut tx = db.begin().await?;
    let api = store::apis::get(&mut *tx, org_id, id)
        .await?
        .ok_or(Error::NotFound)?;
    let scopes: Vec<&str> = api.scope_names().collect();
    let users = store::apis::apps_using(&mut *tx, org_id, &scopes).await?;
    if !users.is_empty() {
        return Err(Error::Conflict(FieldError::new(
            "api",
            format!(
                "is used by the apps {}: remove its scopes from them first",
                users.join(", ")
            ),
        )));
    }
    store::apis::delete(&mut *tx, org_id, id).await?;
    audit::record(
        &mut tx,
        caller,
        Event {
            org_id: Some(org_id),
            action: "api.delete",
            object: ("api", id),
            success: true,
            detail: json!({ "name": api.name, "identifier": api.identifier }),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(())
}

/// Every API scope among `scopes` must be defined by an API of the organization.
pub async fn check_scopes<'c>(
    e: impl sqlx::AnyExecutor<'c>,
    org_id: &str,
    scopes: &ScopeSet,
) -> Result<()> {
    if !scopes.iter().any(|s| s.is_custom()) {
        return Ok(());
    }
    let apis = store::apis::list(e, org_id).await?;
    if let Some(unknown) = scopes.iter().filter(|s| s.is_custom()).find(|s| {
        !apis
            .iter()
            .any(|a| a.scope_names().any(|n| n == s.as_str()))
    }) {
        return Err(FieldError::new(
            "scopes",
            format!(
                "{} is not defined by any API of this organization",
                unknown.as_str()
            ),
        )
        .into());
    }
    Ok(())
}

/// Every API an app may exchange tokens for (RFC 8693) must be one of the organization's.
pub async fn check_audiences<'c>(
    e: impl sqlx::AnyExecutor<'c>,
    org_id: &str,
    audiences: &[String],
) -> Result<()> {
    if audiences.is_empty() {
        return Ok(());
    }
    let apis = store::apis::list(e, org_id).await?;
    if let Some(unknown) = audiences
        .iter()
        .find(|a| !apis.iter().any(|api| &api.identifier == *a))
    {
        let shown: String = unknown.chars().take(100).collect();
        return Err(FieldError::new(
            "exchange_audiences",
            format!("{shown} is not the identifier of an API of this organization"),
        )
        .into());
    }
    Ok(())
}

/// The plain words of each of `scopes`: the catalogue's, or the API's that defines it.
pub async fn describe(db: &Db, org_id: &str, scopes: &ScopeSet) -> Result<Vec<(String, String)>> {
    let apis = if scopes.iter().any(|s| s.is_custom()) {
        store::apis::list(&db.pool, org_id).await?
    } else {
        Vec::new()
    };
    Ok(scopes
        .iter()
        .map(|s| {
            let words = if s.is_custom() {
                apis.iter()
                    .find_map(|a| {
                        a.words_of(s.as_str()).map(|w| {
                            if w.is_empty() {
                                format!("{} ({})", s.as_str(), a.name)
                            } else {
                                format!("{w} ({})", a.name)
                            }
                        })
                    })
                    .unwrap_or_else(|| s.as_str().to_string())
            } else {
                s.description().to_string()
            };
            (s.as_str().to_string(), words)
        })
        .collect())
}

fn internal(e: impl std::fmt::Display) -> OAuthError {
    tracing::error!(error = %e, "token audience");
    OAuthError::ServerError
}

/// The audience of a token of `org_id`'s app with `scopes`, and the scopes it keeps.
///
/// With `resource` (RFC 8707), the token is for that API alone: it keeps the API's scopes
/// (and the sign-in ones, which name no API), and at least one of the API's must be among
/// them. Without it, the token names every API whose scopes it carries, and this server
/// when it carries anything else (platform or sign-in scopes, or no scope at all).
pub async fn audience(
    db: &Db,
    issuer: &str,
    org_id: &str,
    resource: Option<&str>,
    scopes: ScopeSet,
) -> std::result::Result<(Vec<String>, ScopeSet), OAuthError> {
    if let Some(resource) = resource {
        if resource.len() > 200 {
            return Err(OAuthError::InvalidTarget("unknown resource".into()));
        }
        let api = store::apis::by_identifier(&db.pool, org_id, resource)
            .await
            .map_err(internal)?
            .ok_or_else(|| {
                OAuthError::InvalidTarget("the resource is not an API this client may use".into())
            })?;
        let kept =
            scopes.filter(|s| s.is_user_only() || api.scope_names().any(|n| n == s.as_str()));
        if !kept.iter().any(|s| s.is_custom()) {
            return Err(OAuthError::InvalidScope(format!(
                "none of the scopes is defined by the resource {}",
                api.identifier
            )));
        }
        return Ok((vec![api.identifier], kept));
    }
    if !scopes.iter().any(|s| s.is_custom()) {
        return Ok((vec![issuer.to_string()], scopes));
    }
    let apis = store::apis::list(&db.pool, org_id)
        .await
        .map_err(internal)?;
    let mut aud: Vec<String> = Vec::new();
    if scopes.iter().any(|s| !s.is_custom()) {
        aud.push(issuer.to_string());
    }
    for api in &apis {
        if scopes
            .iter()
            .any(|s| api.scope_names().any(|n| n == s.as_str()))
        {
            aud.push(api.identifier.clone());
        }
    }
    Ok((aud, scopes))
}
