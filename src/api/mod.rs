//! The REST API `/api/v1`: the portal's services, protected by our own bearer tokens. Each
//! operation needs one named scope, checked against the token's *effective* scopes at the
//! moment of the call (see `domain::role::effective_scopes`): a lowered role or a narrowed
//! app takes effect on the very next call. Every call is audited. The route table `OPS`
//! is also the source of the OpenAPI document at `/api/v1/openapi.json`.

use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, delete, get, patch, post, put};
use http::{HeaderMap, StatusCode};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::domain::api::ApiInput;
use crate::domain::app::AppInput;
use crate::domain::audit::AuditQuery;
use crate::domain::context::Place;
use crate::domain::listing::ListQuery;
use crate::domain::role::PLATFORM;
use crate::services::audit::Event;
use crate::services::audit::ExportFormat;
use crate::services::tokens::BearerError;
use crate::services::{self, Principal, RequestMeta};
use crate::web::AppState;
use crate::web::bearer::{bearer_error, presented};
use crate::web::export::{ExportQuery, export_response};
use crate::web::meta::client_meta;

/// One operation of the API: its route, the scope it needs and what it does.
pub struct Op {
    pub method: &'static str,
    pub path: &'static str,
    pub scope: Option<&'static str>,
    pub summary: &'static str,
}

const ME: Op = Op {
    method: "get",
    path: "/me",
    scope: None,
    summary: "Who the token acts for, and its effective scopes",
};
const ORG: Op = Op {
    method: "get",
    path: "/org",
    scope: Some("read:org"),
    summary: "The organization",
};
const USERS: Op = Op {
    method: "get",
    path: "/users",
    scope: Some("read:users"),
    summary: "The organization's users",
};
const APPS: Op = Op {
    method: "get",
    path: "/apps",
    scope: Some("read:apps"),
    summary: "The connected apps (query: q, sort — name, kind, status, created or used, `-` first for descending — and page)",
};
const CREATE_APP: Op = Op {
    method: "post",
    path: "/apps",
    scope: Some("manage:apps"),
    summary: "Create a connected app; the answer holds its secret, once",
};
const APP: Op = Op {
    method: "get",
    path: "/apps/{client_id}",
    scope: Some("read:apps"),
    summary: "One connected app",
};
const DELETE_APP: Op = Op {
    method: "delete",
    path: "/apps/{client_id}",
    scope: Some("manage:apps"),
    summary: "Delete a connected app",
};
const ENABLE_APP: Op = Op {
    method: "post",
    path: "/apps/{client_id}/enable",
    scope: Some("manage:apps"),
    summary: "Enable an app",
};
const TRANSFER_APP: Op = Op {
    method: "put",
    path: "/apps/{client_id}/owner",
    scope: Some("manage:apps"),
    summary: "Make another member of the organization the app's owner (body: owner_id)",
};
const DISABLE_APP: Op = Op {
    method: "post",
    path: "/apps/{client_id}/disable",
    scope: Some("manage:apps"),
    summary: "Disable an app: no new tokens, its tokens inactive at once",
};
const ROTATE_SECRET: Op = Op {
    method: "post",
    path: "/apps/{client_id}/secrets",
    scope: Some("manage:apps"),
    summary: "Add a client secret (at most two; body, optional: expires_at — Unix seconds, RFC 3339 or a date, in the future); the answer holds it, once",
};
const SET_SECRET_EXPIRY: Op = Op {
    method: "patch",
    path: "/apps/{client_id}/secrets/{secret_id}",
    scope: Some("manage:apps"),
    summary: "Set or clear when a client secret stops working (body: expires_at — Unix seconds, RFC 3339 or a date, in the future — or null); an expired secret stays expired",
};
const AUTHORIZATIONS: Op = Op {
    method: "get",
    path: "/apps/{client_id}/authorizations",
    scope: Some("read:apps"),
    summary: "Who authorized the app",
};
const REVOKE_ALL: Op = Op {
    method: "delete",
    path: "/apps/{client_id}/authorizations",
    scope: Some("manage:apps"),
    summary: "Revoke the app from every user",
};
const UPDATE_ORG: Op = Op {
    method: "patch",
    path: "/org",
    scope: Some("manage:org"),
    summary: "Change the organization: name, audit_retention_days, app_policy (unrestricted or restricted), connected_apps_enabled (false: no app gets a token in it and every token in it is inactive; nothing is deleted); each optional",
};
const CREATE_USER: Op = Op {
    method: "post",
    path: "/users",
    scope: Some("manage:users"),
    summary: "Create a user in the organization: email, name, role, password",
};
const UPDATE_USER: Op = Op {
    method: "patch",
    path: "/users/{user_id}",
    scope: Some("manage:users"),
    summary: "Change a user's role (its effect on the user's tokens is immediate)",
};
const REMOVE_USER: Op = Op {
    method: "delete",
    path: "/users/{user_id}",
    scope: Some("manage:users"),
    summary: "Remove a user from the organization; their grants end at once",
};
const UPDATE_APP: Op = Op {
    method: "put",
    path: "/apps/{client_id}",
    scope: Some("manage:apps"),
    summary: "Replace a connected app's settings (kind and client type are fixed)",
};
const LIST_APIS: Op = Op {
    method: "get",
    path: "/apis",
    scope: Some("read:apps"),
    summary: "The organization's own APIs (resource servers)",
};
const CREATE_API: Op = Op {
    method: "post",
    path: "/apis",
    scope: Some("manage:apps"),
    summary: "Register an API: name, identifier (the tokens' audience), scopes (one per line)",
};
const DELETE_API: Op = Op {
    method: "delete",
    path: "/apis/{api_id}",
    scope: Some("manage:apps"),
    summary: "Delete an API no app is allowed any scope of",
};
const INITIAL_TOKENS: Op = Op {
    method: "get",
    path: "/initial-access-tokens",
    scope: Some("read:apps"),
    summary: "The initial access tokens apps register themselves with (RFC 7591), never their values",
};
const ISSUE_INITIAL_TOKEN: Op = Op {
    method: "post",
    path: "/initial-access-tokens",
    scope: Some("manage:apps"),
    summary: "Issue an initial access token: name, uses, days, scopes, grant_types, business_group; its value is answered once",
};
const REVOKE_INITIAL_TOKEN: Op = Op {
    method: "delete",
    path: "/initial-access-tokens/{token_id}",
    scope: Some("manage:apps"),
    summary: "Revoke an initial access token (apps it registered stay)",
};
const SCOPES: Op = Op {
    method: "get",
    path: "/scopes",
    scope: None,
    summary: "The scope catalogue: every scope an app of the organization may be allowed (the platform's and the organization's APIs'), with its display name, description, product and the app kinds that may hold it (query: q, sort — product or name, `-` first for descending — and page); any token of the organization may read it",
};
const EXTERNAL_APPS: Op = Op {
    method: "get",
    path: "/external-apps",
    scope: Some("read:org"),
    summary: "The external-app policy and the approved apps of other organizations",
};
const APPROVE_APP: Op = Op {
    method: "put",
    path: "/external-apps/{client_id}",
    scope: Some("manage:org"),
    summary: "Approve an external app with the chosen scopes (body: scopes)",
};
const REMOVE_APPROVAL: Op = Op {
    method: "delete",
    path: "/external-apps/{client_id}",
    scope: Some("manage:org"),
    summary: "Withdraw an approval; the grants it allowed end at once",
};
const AUDIT: Op = Op {
    method: "get",
    path: "/audit",
    scope: Some("read:audit"),
    summary: "Audit events, newest first (query: range — hour, day, today, yesterday or week — or from and to, app, user, action, outcome, business_group, environment, before, limit; read:audit in the organization, or in the business group or environment named); `next` is the cursor of the older page",
};
const AUDIT_EXPORT: Op = Op {
    method: "get",
    path: "/audit/export",
    scope: Some("read:audit"),
    summary: "The filtered audit events as CSV (format=csv) or NDJSON (format=ndjson), newest first, at most 100,000",
};

const GROUPS: Op = Op {
    method: "get",
    path: "/groups",
    scope: Some("read:org"),
    summary: "The business groups the token may read (the organization itself first), each with its environments",
};
const CREATE_GROUP: Op = Op {
    method: "post",
    path: "/groups",
    scope: Some("manage:org"),
    summary: "Create a business group (name, parent_id: the organization when left out) with a Production and a Sandbox environment; manage:org at the parent",
};
const GROUP: Op = Op {
    method: "get",
    path: "/groups/{group}",
    scope: Some("read:org"),
    summary: "One business group and its environments",
};
const UPDATE_GROUP: Op = Op {
    method: "patch",
    path: "/groups/{group}",
    scope: Some("manage:org"),
    summary: "Rename a business group or move it (name, parent_id); moving needs manage:org at the old and the new parent, and never goes below the group itself",
};
const DELETE_GROUP: Op = Op {
    method: "delete",
    path: "/groups/{group}",
    scope: Some("manage:org"),
    summary: "Delete an empty business group (no group or app below it); the assignments and roles given in it end",
};
const CREATE_ENV: Op = Op {
    method: "post",
    path: "/groups/{group}/environments",
    scope: Some("manage:org"),
    summary: "Add an environment to a business group (name, type: production, sandbox or design)",
};
const DELETE_ENV: Op = Op {
    method: "delete",
    path: "/groups/{group}/environments/{env}",
    scope: Some("manage:org"),
    summary: "Delete an environment no app lives in; the assignments and roles given in it end",
};
const GROUP_APPS: Op = Op {
    method: "get",
    path: "/groups/{group}/apps",
    scope: Some("read:apps"),
    summary: "The apps that live in a business group or its environments; read:apps in the group",
};
const CREATE_GROUP_APP: Op = Op {
    method: "post",
    path: "/groups/{group}/apps",
    scope: Some("manage:apps"),
    summary: "Create an app that lives in a business group; manage:apps in the group",
};
const ENV_APPS: Op = Op {
    method: "get",
    path: "/groups/{group}/environments/{env}/apps",
    scope: Some("read:apps"),
    summary: "The apps that live in an environment; read:apps there",
};
const CREATE_ENV_APP: Op = Op {
    method: "post",
    path: "/groups/{group}/environments/{env}/apps",
    scope: Some("manage:apps"),
    summary: "Create an app that lives in an environment; manage:apps there (an own-behalf app's scopes are assigned there)",
};
const SET_GROUP_ROLE: Op = Op {
    method: "put",
    path: "/groups/{group}/roles/{user_id}",
    scope: Some("manage:users"),
    summary: "Give a member a role in a business group or one of its environments (role, environment), overriding what they inherit; manage:users there",
};
const REMOVE_GROUP_ROLE: Op = Op {
    method: "delete",
    path: "/groups/{group}/roles/{user_id}",
    scope: Some("manage:users"),
    summary: "Take back a member's role in a business group (query: environment); they hold what they inherit again",
};
const ASSIGNMENTS: Op = Op {
    method: "get",
    path: "/apps/{client_id}/assignments",
    scope: Some("read:apps"),
    summary: "Where an own-behalf app holds each of its scopes: assignments of a scope to a business group or an environment",
};
const SET_ASSIGNMENTS: Op = Op {
    method: "put",
    path: "/apps/{client_id}/assignments",
    scope: Some("manage:apps"),
    summary: "Replace an own-behalf app's assignments (body: a list of scope, business_group, environment); manage:apps where the app lives and at each place",
};

pub const OPS: &[&Op] = &[
    &ME,
    &ORG,
    &UPDATE_ORG,
    &USERS,
    &CREATE_USER,
    &UPDATE_USER,
    &REMOVE_USER,
    &APPS,
    &CREATE_APP,
    &APP,
    &UPDATE_APP,
    &DELETE_APP,
    &ENABLE_APP,
    &DISABLE_APP,
    &TRANSFER_APP,
    &ROTATE_SECRET,
    &SET_SECRET_EXPIRY,
    &AUTHORIZATIONS,
    &REVOKE_ALL,
    &LIST_APIS,
    &CREATE_API,
    &DELETE_API,
    &INITIAL_TOKENS,
    &ISSUE_INITIAL_TOKEN,
    &REVOKE_INITIAL_TOKEN,
    &SCOPES,
    &EXTERNAL_APPS,
    &APPROVE_APP,
    &REMOVE_APPROVAL,
    &AUDIT,
    &AUDIT_EXPORT,
    &GROUPS,
    &CREATE_GROUP,
    &GROUP,
    &UPDATE_GROUP,
    &DELETE_GROUP,
    &CREATE_ENV,
    &DELETE_ENV,
    &GROUP_APPS,
    &CREATE_GROUP_APP,
    &ENV_APPS,
    &CREATE_ENV_APP,
    &SET_GROUP_ROLE,
    &REMOVE_GROUP_ROLE,
    &ASSIGNMENTS,
    &SET_ASSIGNMENTS,
];

pub use crate::domain::paths::API_PREFIX as PREFIX;

pub fn routes() -> Router<AppState> {
    let r = |p: &str| format!("{PREFIX}{p}");
    Router::new()
        .route(&r("/openapi.json"), get(openapi))
        .route(&r(ME.path), get(me))
        .route(&r(ORG.path), get(org).patch(update_org))
        .route(&r(USERS.path), get(users).post(create_user))
        .route(&r(UPDATE_USER.path), patch(update_user).delete(remove_user))
        .route(&r(APPS.path), get(apps).post(create_app))
        .route(&r(APP.path), get(app).put(update_app).delete(delete_app))
        .route(&r(LIST_APIS.path), get(list_apis).post(create_api))
        .route(&r(DELETE_API.path), delete(delete_api))
        .route(
            &r(INITIAL_TOKENS.path),
            get(initial_tokens).post(issue_initial_token),
        )
        .route(&r(REVOKE_INITIAL_TOKEN.path), delete(revoke_initial_token))
        .route(&r(SCOPES.path), get(scopes))
        .route(&r(EXTERNAL_APPS.path), get(external_apps))
        .route(
            &r(APPROVE_APP.path),
            put(approve_app).delete(remove_approval),
        )
        .route(&r(ENABLE_APP.path), post(enable_app))
        .route(&r(DISABLE_APP.path), post(disable_app))
        .route(&r(TRANSFER_APP.path), put(transfer_app))
        .route(&r(ROTATE_SECRET.path), post(rotate_secret))
        .route(&r(SET_SECRET_EXPIRY.path), patch(set_secret_expiry))
        .route(
            &r(AUTHORIZATIONS.path),
            get(authorizations).delete(revoke_all),
        )
        .route(&r(AUDIT.path), get(audit))
        .route(&r(AUDIT_EXPORT.path), get(audit_export))
        .route(&r(GROUPS.path), get(groups).post(create_group))
        .route(
            &r(GROUP.path),
            get(group).patch(update_group).delete(delete_group),
        )
        .route(&r(CREATE_ENV.path), post(create_env))
        .route(&r(DELETE_ENV.path), delete(delete_env))
        .route(&r(GROUP_APPS.path), get(group_apps).post(create_group_app))
        .route(&r(ENV_APPS.path), get(env_apps).post(create_env_app))
        .route(
            &r(SET_GROUP_ROLE.path),
            put(set_group_role).delete(remove_group_role),
        )
        .route(&r(ASSIGNMENTS.path), get(assignments).put(set_assignments))
        .route(PREFIX, any(unknown))
        .route(&r("/{*rest}"), any(unknown))
}

/// Any other path under the API: a JSON 404, never the portal's page.
async fn unknown() -> Response {
    let mut res = (
        StatusCode::NOT_FOUND,
        Json(json!({ "error": "not_found", "message": "no such API operation" })),
    )
        .into_response();
    res.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    res
}

/// A call's headers and where it came from (client IP behind a trusted proxy, user agent),
/// for the audit record.
pub struct Req {
    headers: HeaderMap,
    meta: RequestMeta,
    /// The method and path as the client sent them (a DPoP proof names them).
    method: http::Method,
    path: String,
}

impl axum::extract::FromRequestParts<AppState> for Req {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut http::request::Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        let peer = parts
            .extensions
            .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
            .map(|c| c.0);
        // Under a nested router the URI lost its prefix; the original has it.
        let path = parts
            .extensions
            .get::<axum::extract::OriginalUri>()
            .map_or_else(|| parts.uri.path(), |u| u.0.path())
            .to_string();
        Ok(Req {
            meta: client_meta(&parts.headers, peer, state.settings.trusted_proxies),
            headers: parts.headers.clone(),
            method: parts.method.clone(),
            path,
        })
    }
}

/// The principal of a call: its bearer token, resolved once (see `services::principal`).
async fn authenticate(state: &AppState, req: &Req) -> Result<Principal, BearerError> {
    let presented =
        presented(&req.headers, req.method.as_str(), &req.path).ok_or(BearerError::InvalidToken)?;
    let ring = state.key_ring();
    let ctx = state.issuer(&ring);
    services::principal::of_bearer(&ctx, &presented, req.meta.clone()).await
}

fn service_error(e: services::Error) -> Response {
    let (status, body) = match e {
        services::Error::NotFound => (StatusCode::NOT_FOUND, json!({ "error": "not_found" })),
        services::Error::Invalid(errors) => (
            StatusCode::UNPROCESSABLE_ENTITY,
            json!({ "error": "invalid", "fields": errors.0.iter().map(|f| json!({ "field": f.field, "message": f.message })).collect::<Vec<_>>() }),
        ),
        services::Error::Conflict(f) => (
            StatusCode::CONFLICT,
            json!({ "error": "conflict", "fields": [{ "field": f.field, "message": f.message }] }),
        ),
        services::Error::Forbidden(m) => (
            StatusCode::FORBIDDEN,
            json!({ "error": "forbidden", "message": m }),
        ),
        services::Error::MissingPermission(scope) => {
            return bearer_error(BearerError::InsufficientScope, Some(scope));
        }
        services::Error::Unauthenticated => return bearer_error(BearerError::InvalidToken, None),
        e => {
            tracing::error!(error = %e, "api");
            (
                StatusCode::INTERNAL_SERVER_ERROR,
                json!({ "error": "server_error" }),
            )
        }
    };
    (status, Json(body)).into_response()
}

/// What an operation answers: JSON, or a document of its own type (exports).
trait Reply {
    fn reply(self) -> Response;
}

impl<T: Serialize> Reply for T {
    fn reply(self) -> Response {
        Json(self).into_response()
    }
}

/// An export, as a file to download.
struct Raw(ExportFormat, Vec<u8>);

impl Reply for Raw {
    fn reply(self) -> Response {
        export_response(self.0, self.1)
    }
}

/// A JSON request body, read after the token is checked: a malformed one is a 422 with a
/// JSON error naming what is wrong, like any other invalid input.
fn parse_body<T: serde::de::DeserializeOwned>(body: &[u8]) -> services::Result<T> {
    serde_json::from_slice(body).map_err(|e| {
        let message: String = format!("is not valid JSON for this operation: {e}")
            .chars()
            .take(300)
            .collect();
        services::Error::Invalid(crate::domain::FieldError::new("body", message).into())
    })
}

/// Runs one operation: resolve the principal, run the service (which decides what the
/// principal may do), audit the call.
async fn call<T: Reply>(
    state: &AppState,
    req: &Req,
    op: &Op,
    run: impl AsyncFnOnce(&Principal) -> services::Result<T>,
) -> Response {
    call_at(state, req, op, None, run).await
}

/// Whether an operation acts in business groups: its scope holds in a group or an
/// environment, not necessarily in the organization as a whole (one app's operations hold
/// where the app lives: its group's admins manage it; a group's auditors read its records).
fn in_context(op: &Op) -> bool {
    op.path.starts_with("/groups") || op.path.starts_with("/apps/") || op.path.starts_with("/audit")
}

/// The route table's scope, checked before the body is read, so a caller without it
/// learns nothing from validation errors; the service checks again, as it always does.
/// An operation in business groups needs it in the place its path names (a group: in it
/// or one of its environments), or anywhere in the organization when the path names none;
/// a place of another organization is not found.
async fn refusal(
    state: &AppState,
    who: &Principal,
    op: &Op,
    place: Option<&Place>,
) -> Option<Response> {
    let scope = op.scope?;
    if !in_context(op) {
        return (!who.may(scope))
            .then(|| bearer_error(BearerError::InsufficientScope, Some(scope)));
    }
    let reach = match who.reach(&state.db).await {
        Ok(reach) => reach,
        Err(e) => return Some(service_error(e)),
    };
    let places = reach.tree.places();
    let held = match place {
        _ if !places.iter().any(|at| reach.may_at(scope, at)) => false,
        Some(pl) if !reach.tree.has(pl) => return Some(service_error(services::Error::NotFound)),
        Some(pl) if pl.env.is_some() => reach.may_at(scope, pl),
        Some(pl) => places
            .iter()
            .filter(|at| at.group == pl.group)
            .any(|at| reach.may_at(scope, at)),
        None => true,
    };
    (!held).then(|| bearer_error(BearerError::InsufficientScope, Some(scope)))
}

/// `call`, for an operation whose path names a business group or environment.
async fn call_at<T: Reply>(
    state: &AppState,
    req: &Req,
    op: &Op,
    place: Option<Place>,
    run: impl AsyncFnOnce(&Principal) -> services::Result<T>,
) -> Response {
    let who = match authenticate(state, req).await {
        Ok(who) => who,
        Err(e) => return bearer_error(e, None),
    };
    let mut res = match refusal(state, &who, op, place.as_ref()).await {
        Some(refused) => refused,
        None => match run(&who).await {
            Ok(v) => v.reply(),
            Err(e) => service_error(e),
        },
    };
    let client_id = who.client_id().unwrap_or_default();
    let event = Event {
        org_id: who.org_id(),
        action: "api.call",
        object: ("app", client_id),
        success: res.status().is_success(),
        detail: json!({
            "method": op.method.to_uppercase(),
            "route": format!("{PREFIX}{}", op.path),
            "status": res.status().as_u16(),
            "user_id": who.user_id(),
        }),
    };
    if state.audit.record(who.caller(), event).await.is_err() {
        res = StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    res.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    res
}

async fn me(State(s): State<AppState>, h: Req) -> Response {
    call(&s, &h, &ME, async |c| {
        Ok(json!({
            "org_id": c.org_id(),
            "user_id": c.user_id(),
            "client_id": c.client_id(),
            "scopes": c.permissions(),
            "contexts": services::contexts::contexts(&s.db, c).await?,
        }))
    })
    .await
}

async fn org(State(s): State<AppState>, h: Req) -> Response {
    call(&s, &h, &ORG, async |c| services::orgs::get(&s.db, c).await).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgChange {
    name: Option<String>,
    audit_retention_days: Option<i64>,
    app_policy: Option<String>,
    connected_apps_enabled: Option<bool>,
}

async fn update_org(State(s): State<AppState>, h: Req, body: Bytes) -> Response {
    call(&s, &h, &UPDATE_ORG, async |c| {
        let b: OrgChange = parse_body(&body)?;
        // Every field is checked before anything changes: a bad one changes nothing.
        let mut errors = crate::domain::FieldErrors::default();
        if let Some(name) = &b.name {
            errors.check(crate::domain::parse_name("name", name));
        }
        if let Some(days) = b.audit_retention_days {
            errors.check(crate::domain::audit::parse_retention(&days.to_string()));
        }
        if let Some(policy) = &b.app_policy {
            errors.check(crate::domain::policy::AppPolicy::parse(policy));
        }
        if !errors.is_empty() {
            return Err(errors.into());
        }
        if let Some(name) = &b.name {
            services::orgs::rename(&s.db, c, name).await?;
        }
        if let Some(days) = b.audit_retention_days {
            services::orgs::set_retention(&s.db, c, &days.to_string()).await?;
        }
        if let Some(policy) = &b.app_policy {
            services::policy::set(&s.db, c, policy).await?;
        }
        if let Some(on) = b.connected_apps_enabled {
            services::orgs::set_apps_enabled(&s.db, c, on).await?;
        }
        let org = services::orgs::get(&s.db, c).await?;
        let policy = services::policy::get(&s.db, c).await?;
        Ok(json!({ "org": org, "app_policy": policy.policy }))
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewUser {
    email: String,
    name: String,
    #[serde(default = "member")]
    role: String,
    password: String,
}

fn member() -> String {
    "member".into()
}

async fn create_user(State(s): State<AppState>, h: Req, body: Bytes) -> Response {
    call(&s, &h, &CREATE_USER, async |c| {
        let b: NewUser = parse_body(&body)?;
        services::users::create(
            &s.db,
            c,
            &b.email,
            &b.name,
            &b.role,
            b.password.clone().into(),
        )
        .await
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RoleChange {
    role: String,
}

async fn update_user(
    State(s): State<AppState>,
    h: Req,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    call(&s, &h, &UPDATE_USER, async |c| {
        let b: RoleChange = parse_body(&body)?;
        services::users::change_role(&s.db, c, &id, &b.role).await
    })
    .await
}

async fn remove_user(State(s): State<AppState>, h: Req, Path(id): Path<String>) -> Response {
    call(&s, &h, &REMOVE_USER, async |c| {
        services::users::remove(&s.db, c, &id).await?;
        Ok(json!({ "removed": id }))
    })
    .await
}

async fn update_app(
    State(s): State<AppState>,
    h: Req,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    call(&s, &h, &UPDATE_APP, async |c| {
        let input: AppInput = parse_body(&body)?;
        services::apps::update(&s.db, c, &id, &input, "").await
    })
    .await
}

async fn list_apis(State(s): State<AppState>, h: Req) -> Response {
    call(&s, &h, &LIST_APIS, async |c| {
        services::apis::list(&s.db, c).await
    })
    .await
}

async fn scopes(State(s): State<AppState>, h: Req, Query(q): Query<ListQuery>) -> Response {
    call(&s, &h, &SCOPES, async |c| {
        services::scopes::catalogue(&s.db, c, &q).await
    })
    .await
}

async fn create_api(State(s): State<AppState>, h: Req, body: Bytes) -> Response {
    call(&s, &h, &CREATE_API, async |c| {
        let input: ApiInput = parse_body(&body)?;
        services::apis::create(&s.db, c, &s.settings.issuer, &input).await
    })
    .await
}

async fn delete_api(State(s): State<AppState>, h: Req, Path(id): Path<String>) -> Response {
    call(&s, &h, &DELETE_API, async |c| {
        services::apis::delete(&s.db, c, &id).await?;
        Ok(json!({ "deleted": id }))
    })
    .await
}

async fn initial_tokens(State(s): State<AppState>, h: Req) -> Response {
    call(&s, &h, &INITIAL_TOKENS, async |c| {
        Ok(services::registration::list_initial_tokens(&s.db, c)
            .await?
            .tokens)
    })
    .await
}

async fn issue_initial_token(State(s): State<AppState>, h: Req, body: Bytes) -> Response {
    call(&s, &h, &ISSUE_INITIAL_TOKEN, async |c| {
        use secrecy::ExposeSecret;
        let input: crate::domain::registration::InitialTokenInput = parse_body(&body)?;
        let (token, value) = services::registration::issue_initial_token(&s.db, c, &input).await?;
        Ok(json!({ "token": token, "value": value.expose_secret() }))
    })
    .await
}

async fn revoke_initial_token(
    State(s): State<AppState>,
    h: Req,
    Path(id): Path<String>,
) -> Response {
    call(&s, &h, &REVOKE_INITIAL_TOKEN, async |c| {
        services::registration::revoke_initial_token(&s.db, c, &id).await?;
        Ok(json!({ "revoked": id }))
    })
    .await
}

async fn external_apps(State(s): State<AppState>, h: Req) -> Response {
    call(&s, &h, &EXTERNAL_APPS, async |c| {
        services::policy::get(&s.db, c).await
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Approval {
    scopes: Vec<String>,
}

async fn approve_app(
    State(s): State<AppState>,
    h: Req,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    call(&s, &h, &APPROVE_APP, async |c| {
        let b: Approval = parse_body(&body)?;
        services::policy::approve(&s.db, c, &id, &b.scopes).await?;
        Ok(json!({ "client_id": id, "scopes": b.scopes }))
    })
    .await
}

async fn remove_approval(State(s): State<AppState>, h: Req, Path(id): Path<String>) -> Response {
    call(&s, &h, &REMOVE_APPROVAL, async |c| {
        let ended = services::policy::remove(&s.db, c, &id).await?;
        Ok(json!({ "client_id": id, "grants_ended": ended }))
    })
    .await
}

async fn users(State(s): State<AppState>, h: Req) -> Response {
    call(&s, &h, &USERS, async |c| {
        services::users::list(&s.db, c).await
    })
    .await
}

async fn apps(State(s): State<AppState>, h: Req, Query(q): Query<ListQuery>) -> Response {
    call(&s, &h, &APPS, async |c| {
        services::apps::list(&s.db, c, &q).await
    })
    .await
}

async fn create_app(State(s): State<AppState>, h: Req, body: Bytes) -> Response {
    call(&s, &h, &CREATE_APP, async |c| {
        let input: AppInput = parse_body(&body)?;
        use secrecy::ExposeSecret;
        let public_keys = String::new();
        let (app, secret) =
            services::apps::create(&s.db, c, &input, &public_keys).await?;
        Ok(json!({ "client_id": app.client_id, "client_secret": secret.map(|x| x.expose_secret().to_string()), "app": app }))
    })
    .await
}

/// Creates an app at `place` and answers it with its secret, once.
async fn create_app_at(s: &AppState, h: &Req, op: &Op, place: Place, body: &[u8]) -> Response {
    call_at(s, h, op, Some(place.clone()), async |c| {
        let input: AppInput = parse_body(body)?;
        use secrecy::ExposeSecret;
        let (app, secret) = services::apps::create_at(&s.db, c, &place, &input, "").await?;
        Ok(json!({ "client_id": app.client_id, "client_secret": secret.map(|x| x.expose_secret().to_string()), "app": app }))
    })
    .await
}

async fn groups(State(s): State<AppState>, h: Req) -> Response {
    call(&s, &h, &GROUPS, async |c| {
        services::contexts::list(&s.db, c).await
    })
    .await
}

async fn create_group(State(s): State<AppState>, h: Req, body: Bytes) -> Response {
    call(&s, &h, &CREATE_GROUP, async |c| {
        let input: services::contexts::GroupInput = parse_body(&body)?;
        services::contexts::create(&s.db, c, &input).await
    })
    .await
}

async fn group(State(s): State<AppState>, h: Req, Path(g): Path<String>) -> Response {
    call_at(&s, &h, &GROUP, Some(Place::group(&g)), async |c| {
        services::contexts::get(&s.db, c, &g).await
    })
    .await
}

async fn update_group(
    State(s): State<AppState>,
    h: Req,
    Path(g): Path<String>,
    body: Bytes,
) -> Response {
    call_at(&s, &h, &UPDATE_GROUP, Some(Place::group(&g)), async |c| {
        let input: services::contexts::GroupInput = parse_body(&body)?;
        services::contexts::update(&s.db, c, &g, &input).await
    })
    .await
}

async fn delete_group(State(s): State<AppState>, h: Req, Path(g): Path<String>) -> Response {
    call_at(&s, &h, &DELETE_GROUP, Some(Place::group(&g)), async |c| {
        services::contexts::delete(&s.db, c, &g).await?;
        Ok(json!({ "deleted": g }))
    })
    .await
}

async fn create_env(
    State(s): State<AppState>,
    h: Req,
    Path(g): Path<String>,
    body: Bytes,
) -> Response {
    call_at(&s, &h, &CREATE_ENV, Some(Place::group(&g)), async |c| {
        let input: services::contexts::EnvInput = parse_body(&body)?;
        services::contexts::create_env(&s.db, c, &g, &input).await
    })
    .await
}

async fn delete_env(
    State(s): State<AppState>,
    h: Req,
    Path((g, e)): Path<(String, String)>,
) -> Response {
    call_at(&s, &h, &DELETE_ENV, Some(Place::env(&g, &e)), async |c| {
        services::contexts::delete_env(&s.db, c, &g, &e).await?;
        Ok(json!({ "deleted": e }))
    })
    .await
}

async fn group_apps(
    State(s): State<AppState>,
    h: Req,
    Path(g): Path<String>,
    Query(q): Query<ListQuery>,
) -> Response {
    call_at(&s, &h, &GROUP_APPS, Some(Place::group(&g)), async |c| {
        services::apps::list_at(&s.db, c, &Place::group(&g), &q).await
    })
    .await
}

async fn create_group_app(
    State(s): State<AppState>,
    h: Req,
    Path(g): Path<String>,
    body: Bytes,
) -> Response {
    create_app_at(&s, &h, &CREATE_GROUP_APP, Place::group(&g), &body).await
}

async fn env_apps(
    State(s): State<AppState>,
    h: Req,
    Path((g, e)): Path<(String, String)>,
    Query(q): Query<ListQuery>,
) -> Response {
    call_at(&s, &h, &ENV_APPS, Some(Place::env(&g, &e)), async |c| {
        services::apps::list_at(&s.db, c, &Place::env(&g, &e), &q).await
    })
    .await
}

async fn create_env_app(
    State(s): State<AppState>,
    h: Req,
    Path((g, e)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    create_app_at(&s, &h, &CREATE_ENV_APP, Place::env(&g, &e), &body).await
}

async fn set_group_role(
    State(s): State<AppState>,
    h: Req,
    Path((g, user)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    call_at(&s, &h, &SET_GROUP_ROLE, Some(Place::group(&g)), async |c| {
        let input: services::contexts::RoleInput = parse_body(&body)?;
        services::contexts::set_role(&s.db, c, &g, &user, &input).await?;
        Ok(json!({ "user_id": user, "business_group": g, "environment": input.environment, "role": input.role }))
    })
    .await
}

#[derive(Deserialize)]
struct EnvQuery {
    environment: Option<String>,
}

async fn remove_group_role(
    State(s): State<AppState>,
    h: Req,
    Path((g, user)): Path<(String, String)>,
    Query(q): Query<EnvQuery>,
) -> Response {
    let place = Place {
        group: g.clone(),
        env: q.environment.clone(),
    };
    call_at(&s, &h, &REMOVE_GROUP_ROLE, Some(place), async |c| {
        services::contexts::remove_role(&s.db, c, &g, &user, q.environment.as_deref()).await?;
        Ok(json!({ "removed": user }))
    })
    .await
}

async fn assignments(State(s): State<AppState>, h: Req, Path(id): Path<String>) -> Response {
    call(&s, &h, &ASSIGNMENTS, async |c| {
        services::contexts::assignments(&s.db, c, &id).await
    })
    .await
}

async fn set_assignments(
    State(s): State<AppState>,
    h: Req,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    call(&s, &h, &SET_ASSIGNMENTS, async |c| {
        // The app first (another organization's is not found), then the body.
        services::contexts::assignments(&s.db, c, &id).await?;
        let wanted: Vec<services::contexts::Assignment> = parse_body(&body)?;
        services::contexts::set_assignments(&s.db, c, &id, &wanted).await
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewOwner {
    owner_id: String,
}

async fn transfer_app(
    State(s): State<AppState>,
    h: Req,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    call(&s, &h, &TRANSFER_APP, async |c| {
        // The app first (another organization's is not found), then the body.
        services::apps::get(&s.db, c, &id).await?;
        let b: NewOwner = parse_body(&body)?;
        services::apps::transfer_owner(&s.db, c, &id, services::apps::NewOwner::Id(&b.owner_id))
            .await
    })
    .await
}

async fn app(State(s): State<AppState>, h: Req, Path(id): Path<String>) -> Response {
    call(&s, &h, &APP, async |c| {
        services::apps::get(&s.db, c, &id).await
    })
    .await
}

async fn delete_app(State(s): State<AppState>, h: Req, Path(id): Path<String>) -> Response {
    call(&s, &h, &DELETE_APP, async |c| {
        let name = services::apps::get(&s.db, c, &id).await?.app.name;
        services::apps::delete(&s.db, c, &id, &name).await?;
        Ok(json!({ "deleted": id }))
    })
    .await
}

async fn set_enabled(s: &AppState, h: &Req, op: &Op, id: &str, enabled: bool) -> Response {
    call(s, h, op, async |c| {
        services::apps::set_enabled(&s.db, c, id, enabled).await?;
        Ok(json!({ "client_id": id, "enabled": enabled }))
    })
    .await
}

async fn enable_app(State(s): State<AppState>, h: Req, Path(id): Path<String>) -> Response {
    set_enabled(&s, &h, &ENABLE_APP, &id, true).await
}

async fn disable_app(State(s): State<AppState>, h: Req, Path(id): Path<String>) -> Response {
    set_enabled(&s, &h, &DISABLE_APP, &id, false).await
}

/// A secret's expiry in a request body: Unix seconds, a time or date as text, or null.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct SecretExpiry {
    expires_at: Value,
}

impl SecretExpiry {
    /// The expiry as the service reads it (empty: none).
    fn text(&self) -> services::Result<String> {
        match &self.expires_at {
            Value::Null => Ok(String::new()),
            Value::Number(n) if n.is_i64() => Ok(n.to_string()),
            Value::String(t) if !t.trim().is_empty() => Ok(t.clone()),
            _ => Err(crate::domain::FieldError::new(
                "expires_at",
                "must be Unix seconds, an RFC 3339 time or a date (YYYY-MM-DD), or null",
            )
            .into()),
        }
    }
}

async fn rotate_secret(
    State(s): State<AppState>,
    h: Req,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    call(&s, &h, &ROTATE_SECRET, async |c| {
        use secrecy::ExposeSecret;
        // No body (or an empty one): a secret that never expires.
        let expires_at = if body.iter().all(u8::is_ascii_whitespace) {
            String::new()
        } else {
            parse_body::<SecretExpiry>(&body)?.text()?
        };
        let (secret, view) = services::apps::add_secret(&s.db, c, &id, &expires_at).await?;
        Ok(json!({ "client_id": id, "client_secret": secret.expose_secret(), "secret": view }))
    })
    .await
}

async fn set_secret_expiry(
    State(s): State<AppState>,
    h: Req,
    Path((id, secret_id)): Path<(String, String)>,
    body: Bytes,
) -> Response {
    call(&s, &h, &SET_SECRET_EXPIRY, async |c| {
        // The app first (another organization's is not found), then the body.
        services::apps::at_app(&s.db, c, services::principal::MANAGE_APPS, &id).await?;
        let expires_at = parse_body::<SecretExpiry>(&body)?.text()?;
        services::apps::set_secret_expiry(&s.db, c, &id, &secret_id, &expires_at).await
    })
    .await
}

async fn authorizations(State(s): State<AppState>, h: Req, Path(id): Path<String>) -> Response {
    call(&s, &h, &AUTHORIZATIONS, async |c| {
        services::authorizations::of_app(&s.db, c, &id).await
    })
    .await
}

async fn revoke_all(State(s): State<AppState>, h: Req, Path(id): Path<String>) -> Response {
    call(&s, &h, &REVOKE_ALL, async |c| {
        let ended = services::authorizations::revoke_for_app(&s.db, c, &id, None).await?;
        Ok(json!({ "grants_ended": ended }))
    })
    .await
}

async fn audit(State(s): State<AppState>, h: Req, Query(q): Query<AuditQuery>) -> Response {
    call(&s, &h, &AUDIT, async |c| {
        let f = q.parse(services::now())?;
        services::audit::search(&s.db, c, &f).await
    })
    .await
}

async fn audit_export(State(s): State<AppState>, h: Req, Query(q): Query<ExportQuery>) -> Response {
    call(&s, &h, &AUDIT_EXPORT, async |c| {
        let format = ExportFormat::parse(&q.format)?;
        let rows = services::audit::export(&s.db, c, &q.filter.parse(services::now())?).await?;
        Ok(Raw(format, format.encode(&rows)?))
    })
    .await
}

/// The OpenAPI 3 document, made from `OPS`.
fn openapi_document(issuer: &str) -> Value {
    let mut paths = serde_json::Map::new();
    for op in OPS {
        let params: Vec<Value> = ["client_id", "secret_id", "user_id", "api_id", "group", "env"]
            .iter()
            .filter(|p| op.path.contains(&format!("{{{p}}}")))
            .map(|p| json!({ "name": p, "in": "path", "required": true, "schema": { "type": "string" } }))
            .collect();
        let security = json!([{ "bearer": op.scope.map(|s| vec![s]).unwrap_or_default() }]);
        let entry = paths
            .entry(op.path.to_string())
            .or_insert_with(|| json!({}));
        entry[op.method] = json!({
            "summary": op.summary,
            "parameters": params,
            "security": security,
            "x-required-scope": op.scope,
            "responses": {
                "200": { "description": "OK" },
                "401": { "description": "The token is missing, invalid, expired or revoked" },
                "403": { "description": "insufficient_scope: the token's effective scopes lack the required one" },
                "404": { "description": "Not found in the token's organization" },
            },
        });
    }
    json!({
        "openapi": "3.0.3",
        "info": { "title": "Latchkey API", "version": "1" },
        "servers": [{ "url": format!("{issuer}{PREFIX}") }],
        "components": { "securitySchemes": { "bearer": {
            "type": "oauth2",
            "flows": {
                "clientCredentials": { "tokenUrl": format!("{issuer}/oauth2/token"), "scopes": PLATFORM.iter().map(|s| (s.to_string(), json!(s))).collect::<serde_json::Map<_, _>>() },
                "authorizationCode": { "authorizationUrl": format!("{issuer}/oauth2/authorize"), "tokenUrl": format!("{issuer}/oauth2/token"), "scopes": PLATFORM.iter().map(|s| (s.to_string(), json!(s))).collect::<serde_json::Map<_, _>>() },
            },
        } } },
        "paths": paths,
    })
}

async fn openapi(State(s): State<AppState>) -> Response {
    Json(openapi_document(&s.settings.issuer)).into_response()
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    #[test]
    fn every_operation_is_documented_with_its_scope() {
        let doc = super::openapi_document("https://id.example");
        for op in super::OPS {
            let entry = &doc["paths"][op.path][op.method];
            assert_eq!(entry["summary"], op.summary);
            assert_eq!(entry["x-required-scope"].as_str(), op.scope);
        }
    }
}
