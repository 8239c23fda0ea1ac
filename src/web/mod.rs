//! What every handler shares, below the wiring and above the services: the application
//! state, the checked settings, request metadata, the portal session with CSRF and the
//! signed-in principal, security headers and export framing. It imports nothing above it
//! (`server`, `oauth`, `api`, the pages); the handlers translate HTTP to a service call and
//! back through it.

pub mod bearer;
pub mod export;
pub mod guard;
pub mod headers;
pub mod html;
pub mod meta;
pub mod session;
pub mod settings;
pub mod state;

pub use settings::Settings;
pub use state::AppState;
