//! Read models handed from the services to the pages, the CLI and (later) the REST API.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OrgView {
    pub id: String,
    pub name: String,
    pub created_at: i64,
    /// How many days audit records are kept.
    pub audit_retention_days: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberView {
    pub user_id: String,
    pub email: String,
    pub name: String,
    pub role: String,
    pub created_at: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppView {
    pub client_id: String,
    pub org_id: String,
    pub name: String,
    pub kind: String,
    pub grant_types: Vec<String>,
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    pub website_url: Option<String>,
    pub audience: String,
    pub scopes: Vec<String>,
    pub access_token_ttl: i64,
    pub refresh_token_ttl: i64,
    #[serde(default)]
    pub grant_ttl: i64,
    pub enabled: bool,
    pub owner_id: Option<String>,
    pub public_client: bool,
    pub public_keys: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub id_token_alg: String,
}

/// A client secret as shown after creation: never the value, only a hint.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecretView {
    pub id: String,
    pub hint: String,
    pub created_at: i64,
    pub expires_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppDetail {
    pub app: AppView,
    pub secrets: Vec<SecretView>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppPage {
    pub items: Vec<AppView>,
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
}

impl AppPage {
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page.max(1)).max(1)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditView {
    pub id: i64,
    pub at: i64,
    pub actor: String,
    pub action: String,
    pub object: String,
    pub outcome: String,
    pub ip: Option<String>,
    pub detail: String,
    pub app_id: Option<String>,
    pub user_id: Option<String>,
}

/// One page of the audit viewer, newest first; `next` is the cursor of the older page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditPage {
    pub items: Vec<AuditView>,
    pub next: Option<i64>,
}

/// Token requests of one app in one hour (the chart on the app's page).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HourCount {
    pub hour: i64,
    pub issued: i64,
    pub refused: i64,
}

/// A user's authorization of an app: who, which app, which scopes, since when, last use.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuthorizationView {
    pub user_id: String,
    pub user_email: String,
    pub client_id: String,
    pub app_name: String,
    pub scopes: Vec<String>,
    pub granted_at: i64,
    pub last_used_at: Option<i64>,
}

/// What the consent page shows.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsentView {
    pub app_name: String,
    pub org_name: String,
    pub website_url: Option<String>,
    /// Each requested scope and its plain-words description.
    pub scopes: Vec<(String, String)>,
}

/// An organization's external-app policy and the apps it approved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PolicyView {
    pub policy: String,
    pub approved: Vec<ApprovalView>,
}

/// An external app an organization approved, with the scopes it may use there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalView {
    pub client_id: String,
    pub app_name: String,
    pub app_org_name: String,
    pub scopes: Vec<String>,
    /// Who approved it (None: approved when the policy was switched to restricted).
    pub approved_by: Option<String>,
    pub approved_at: i64,
}

/// What the approval form shows of an external app.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalCandidate {
    pub client_id: String,
    pub app_name: String,
    pub app_org_name: String,
    pub website_url: Option<String>,
    /// Every scope the app may ask for, with its plain words.
    pub scopes: Vec<(String, String)>,
    /// The scopes approved now, if it is approved.
    pub approved: Option<Vec<String>>,
}

/// A custom API (resource server) of an organization.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiView {
    pub id: String,
    pub name: String,
    /// The audience of the tokens meant for it (RFC 8707 `resource`).
    pub identifier: String,
    /// Each scope it defines, with its plain words.
    pub scopes: Vec<(String, String)>,
    pub created_at: i64,
}
