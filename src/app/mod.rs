//! The Leptos UI, compiled for the server (SSR) and the browser (hydration): the shell,
//! the routes, the login page and the admin portal. Every form is an `<ActionForm>`, so it
//! works before and without hydration.

pub mod admin;
pub mod authorizations;
pub mod chart;
pub mod components;
pub mod consent;
pub mod device;
pub mod error;
pub mod list;
pub mod login;
pub mod mfa;
pub mod passkeys;
pub mod recovery;
#[cfg(feature = "ssr")]
pub mod server;
pub mod session;
pub mod sso;

use leptos::prelude::*;
use leptos_meta::{MetaTags, provide_meta_context};
use leptos_router::components::{Route, Router, Routes};
use leptos_router::{SsrMode, path};

use components::NotFound;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    // The policy names this response's nonce, which Leptos puts on every script it writes.
    #[cfg(feature = "ssr")]
    if let (Some(nonce), Some(res)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) && let Ok(policy) =
        http::HeaderValue::from_str(&crate::web::headers::page_policy(&nonce.to_string()))
    {
        res.insert_header(http::header::CONTENT_SECURITY_POLICY, policy);
    }
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <link rel="stylesheet" id="leptos" href="/pkg/latchkey.css"/>
                <HydrationScripts options/>
                // Passkeys: the WebAuthn ceremonies around navigator.credentials.
                <script src="/passkey.js" defer nonce=leptos::nonce::use_nonce()></script>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Async: each page is sent complete, so it reads well without JavaScript.
    let ssr = SsrMode::Async;
    view! {
        <Router>
            <Routes fallback=NotFound>
                <Route path=path!("/") view=login::HomePage ssr=ssr.clone()/>
                <Route path=path!("/login") view=login::LoginPage ssr=ssr.clone()/>
                <Route path=path!("/login/verify") view=mfa::SecondFactorPage ssr=ssr.clone()/>
                <Route path=path!("/login/enrol") view=mfa::EnrolAtSignInPage ssr=ssr.clone()/>
                <Route path=path!("/login/forgot") view=recovery::ForgotPage ssr=ssr.clone()/>
                <Route path=path!("/login/sso") view=sso::SsoPage ssr=ssr.clone()/>
                <Route path=path!("/login/reset") view=recovery::ResetPage ssr=ssr.clone()/>
                <Route path=path!("/account/security") view=mfa::SecurityPage ssr=ssr.clone()/>
                <Route path=path!("/account/recovery-codes") view=mfa::RecoveryCodesPage ssr=ssr.clone()/>
                <Route path=path!("/account/verify") view=recovery::VerifyPage ssr=ssr.clone()/>
                <Route path=path!("/consent") view=consent::ConsentPage ssr=ssr.clone()/>
                <Route path=path!("/device") view=device::DevicePage ssr=ssr.clone()/>
                <Route path=path!("/admin") view=admin::apps::AppsPage ssr=ssr.clone()/>
                <Route path=path!("/admin/apps/new") view=admin::apps::NewAppPage ssr=ssr.clone()/>
                <Route path=path!("/admin/apps/:id") view=admin::app_detail::AppDetailPage ssr=ssr.clone()/>
                <Route path=path!("/admin/apps/:id/credentials") view=admin::app_detail::AppDetailPage ssr=ssr.clone()/>
                <Route path=path!("/admin/apps/:id/authorizations") view=admin::app_detail::AppDetailPage ssr=ssr.clone()/>
                <Route path=path!("/admin/apps/:id/activity") view=admin::app_detail::AppDetailPage ssr=ssr.clone()/>
                <Route path=path!("/account/apps") view=authorizations::MyAppsPage ssr=ssr.clone()/>
                <Route path=path!("/admin/users") view=admin::users::UsersPage ssr=ssr.clone()/>
                <Route path=path!("/admin/org") view=admin::org::OrgPage ssr=ssr.clone()/>
                <Route path=path!("/admin/apis") view=admin::apis::ApisPage ssr=ssr.clone()/>
                <Route path=path!("/admin/registration") view=admin::registration::RegistrationPage ssr=ssr.clone()/>
                <Route path=path!("/admin/scopes") view=admin::scopes::ScopesPage ssr=ssr.clone()/>
                <Route path=path!("/admin/groups") view=admin::groups::GroupsPage ssr=ssr.clone()/>
                <Route path=path!("/admin/groups/:id") view=admin::groups::GroupPage ssr=ssr.clone()/>
                <Route path=path!("/admin/apps/:id/contexts") view=admin::app_detail::AppDetailPage ssr=ssr.clone()/>
                <Route path=path!("/admin/external-apps") view=admin::external_apps::ExternalAppsPage ssr=ssr.clone()/>
                <Route path=path!("/admin/overview") view=admin::overview::OverviewPage ssr=ssr.clone()/>
                <Route path=path!("/admin/audit") view=admin::audit::AuditPage ssr=ssr/>
            </Routes>
        </Router>
    }
}
