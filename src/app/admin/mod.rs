//! The admin portal: connected apps, users, the organization and its audit log.

pub mod apis;
pub mod app_contexts;
pub mod app_detail;
pub mod app_form;
pub mod app_owner;
pub mod apps;
pub mod audit;
pub mod external_apps;
pub mod groups;
pub mod org;
pub mod overview;
pub mod registration;
pub mod scopes;
pub mod users;
