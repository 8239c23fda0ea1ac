use std::sync::Arc;

use axum::extract::FromRef;
use leptos::config::LeptosOptions;

use super::config::Settings;
use crate::store::Db;

/// What every request handler and server function can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    pub db: Db,
    pub settings: Arc<Settings>,
    pub leptos_options: LeptosOptions,
}

impl FromRef<AppState> for LeptosOptions {
    fn from_ref(state: &AppState) -> Self {
        state.leptos_options.clone()
    }
}

impl AppState {
    pub fn new(db: Db, settings: Settings) -> Self {
        let leptos_options = LeptosOptions::builder()
            .output_name("latchkey")
            .site_root(settings.site_root.as_str())
            .site_pkg_dir("pkg")
            .site_addr(settings.bind)
            .build();
        Self {
            db,
            settings: Arc::new(settings),
            leptos_options,
        }
    }
}
