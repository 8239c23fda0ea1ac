//! Every path the server answers on, in one place: the protocol endpoints, the pages the
//! services send browsers to, and the REST API's prefix. Compiled for both targets, so the
//! pages link with the same constants the router mounts.

/// OpenID Connect discovery (RFC 8414 / OIDC Discovery §4).
pub const DISCOVERY_PATH: &str = "/.well-known/openid-configuration";
pub const AUTHORIZE_PATH: &str = "/oauth2/authorize";
/// Where the sign-in page sends the browser back to, with the pending request's id.
pub const RESUME_PATH: &str = "/oauth2/authorize/resume";
pub const TOKEN_PATH: &str = "/oauth2/token";
pub const USERINFO_PATH: &str = "/oauth2/userinfo";
pub const JWKS_PATH: &str = "/oauth2/jwks";
pub const INTROSPECT_PATH: &str = "/oauth2/introspect";
pub const REVOKE_PATH: &str = "/oauth2/revoke";
pub const LOGOUT_PATH: &str = "/oauth2/logout";
/// The device authorization endpoint (RFC 8628 §3.1).
pub const DEVICE_AUTHORIZATION_PATH: &str = "/oauth2/device_authorization";
/// The dynamic client registration endpoint (RFC 7591); a registration is managed at
/// `{REGISTRATION_PATH}/{client_id}` (RFC 7592).
pub const REGISTRATION_PATH: &str = "/oauth2/register";
/// The pushed authorization request endpoint (RFC 9126).
pub const PAR_PATH: &str = "/oauth2/par";
/// Decisions in a context: may this token use a scope in this business group or
/// environment (AuthZEN's evaluation API shape).
pub const EVALUATION_PATH: &str = "/access/v1/evaluation";

/// The sign-in page (`next` = where to go afterwards).
pub const LOGIN_PATH: &str = "/login";
/// The consent page (`request` = the pending authorization request).
pub const CONSENT_PATH: &str = "/consent";
/// The page where a user types a device's code (RFC 8628 `verification_uri`).
pub const DEVICE_PATH: &str = "/device";
/// The portal page where an admin approves external apps (`client_id` = the one to approve).
pub const EXTERNAL_APPS_PATH: &str = "/admin/external-apps";
/// The audit export of the portal (the signed-in admin's or auditor's session).
pub const AUDIT_EXPORT_PATH: &str = "/admin/audit/export";

/// The REST API.
pub const API_PREFIX: &str = "/api/v1";

/// What a password-reset request always answers, whether or not the address has an account.
pub const RESET_SENT: &str = "If an account uses this address, a link to choose a new password is on its way. It works once, for 30 minutes.";
