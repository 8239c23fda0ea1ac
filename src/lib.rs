//! Latchkey: an OAuth 2.0 and OpenID Connect authorization server for connected apps.
//!
//! Layers (data flows one way): `server` wires the process together on top; the Leptos
//! pages (`app`), the protocol endpoints (`oauth`) and the REST API (`api`) translate HTTP
//! through `web` (state, sessions, the principal) into calls of `services`, which alone
//! combine `domain` rules, `store` (SQL) and `crypto`, and decide what each principal may do.

#![recursion_limit = "256"]

pub mod app;
pub mod domain;

#[cfg(feature = "ssr")]
pub mod api;
#[cfg(feature = "ssr")]
pub mod cli;
#[cfg(feature = "ssr")]
pub mod crypto;
#[cfg(feature = "ssr")]
pub mod oauth;
#[cfg(feature = "ssr")]
pub mod server;
#[cfg(feature = "ssr")]
pub mod services;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod web;

#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_body(app::App);
    // A marker for the browser tests: the page is now interactive.
    if let Some(body) = leptos::prelude::document().body() {
        let _ = body.set_attribute("data-hydrated", "");
    }
}
