//! Pieces shared by the pages: the page frame with its access check, the CSRF field,
//! error messages, and time formatting.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::Redirect;
use leptos_router::hooks::use_location;

use super::error::AppError;
use super::login::Logout;
use super::session::{OrgName, PageCtx, page_context};

/// Who may see a page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Anyone,
    SignedIn,
    Admin,
    /// Admins and auditors (the audit log).
    Audit,
}

/// Sets the HTTP status of the page being rendered on the server.
pub fn set_status(code: u16) {
    #[cfg(feature = "ssr")]
    if let (Some(res), Ok(status)) = (
        use_context::<leptos_axum::ResponseOptions>(),
        http::StatusCode::from_u16(code),
    ) {
        res.set_status(status);
    }
    #[cfg(not(feature = "ssr"))]
    let _ = code;
}

/// The frame of every page: loads the page context, sends visitors who are not signed in
/// to the login page, shows members a "not allowed" page on admin pages.
#[component]
pub fn Page(
    #[prop(into)] title: String,
    need: Need,
    /// A page of the authorization flow (sign-in, consent): the header shows the brand and
    /// who is signed in, not the portal's navigation, so nothing leads away from the app.
    #[prop(optional)]
    flow: bool,
    children: ChildrenFn,
) -> impl IntoView {
    let ctx = Resource::new(|| (), |_| page_context());
    let children = StoredValue::new(children);
    let here = use_location();
    view! {
        <Title text=format!("{title} · Latchkey")/>
        <Suspense fallback=|| view! { <p class="loading">"Loading…"</p> }>
            // Awaited inside `Suspend`, never read with `get`: a resource read reactively by
            // nested `Suspense`s can leave the server render waiting forever (Leptos 0.8,
            // leptos-rs/leptos#4578, #4851). Pages create their resources outside this frame
            // and await them inside their own `Suspend`, so nothing here creates one.
            {move || Suspend::new(async move { match ctx.await {
                Err(e) => view! { <Main><ErrorPage error=e/></Main> }.into_any(),
                Ok(c) => match (&c.me, need) {
                    (None, Need::SignedIn | Need::Admin | Need::Audit) => {
                        let search = here.search.get_untracked();
                        let next = if search.is_empty() { here.pathname.get_untracked() } else { format!("{}?{search}", here.pathname.get_untracked()) };
                        let path = format!("/login?next={}", url_encode(&next));
                        view! { <Redirect path/> }.into_any()
                    }
                    (Some(me), Need::Admin) | (Some(me), Need::Audit)
                        if !(me.is_admin || (need == Need::Audit && me.can_audit)) =>
                    {
                        set_status(403);
                        let me = me.clone();
                        provide_context(c.clone());
                        view! {
                            <Nav flow/>
                            <Main>
                                <h1>"Not allowed"</h1>
                                <p class="notice">
                                    "You are signed in as " {me.email} ", a member of " {me.org_name}
                                    ". Only the organization's admins can open the admin portal (auditors: the audit log)."
                                </p>
                            </Main>
                        }.into_any()
                    }
                    _ => {
                        if let Some(me) = &c.me {
                            provide_context(OrgName(RwSignal::new(me.org_name.clone())));
                        }
                        provide_context(c.clone());
                        view! { <Nav flow/> <Main>{children.with_value(|c| c())}</Main> }.into_any()
                    }
                },
            }})}
        </Suspense>
    }
}

/// The page's one `<main>` landmark, which the skip link (the first thing a keyboard
/// reaches) jumps to.
#[component]
fn Main(children: Children) -> impl IntoView {
    view! {
        <main id="main" class="content" tabindex="-1">{children()}</main>
    }
}

/// Percent-encodes a local path for a query parameter.
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[component]
fn Nav(flow: bool) -> impl IntoView {
    let ctx = use_context::<PageCtx>();
    let me = ctx.and_then(|c| c.me);
    if flow {
        return view! {
            <a class="skip" href="#main">"Skip to content"</a>
            <header class="topbar flow">
                <span class="brand">"Latchkey"</span>
            </header>
        }
        .into_any();
    }
    let org_name = use_context::<OrgName>();
    view! {
        <a class="skip" href="#main">"Skip to content"</a>
        <header class="topbar">
            <a class="brand" href="/">"Latchkey"</a>
            {me.map(|me| {
                view! {
                    // Narrow screens fold the navigation behind this toggle (no JavaScript).
                    <input type="checkbox" id="menu-toggle" class="menu-toggle" aria-label="Menu"/>
                    <label for="menu-toggle" class="menu-button" aria-hidden="true">"Menu"</label>
                    <nav aria-label="Main">
                        {me.is_admin.then(|| view! {
                            <NavLink href="/admin/overview" label="Overview"/>
                            <NavLink href="/admin" label="Apps"/>
                            <NavLink href="/admin/users" label="Users"/>
                            <NavLink href="/admin/apis" label="APIs"/>
                            <NavLink href="/admin/org" label="Organization"/>
                            <NavLink href="/admin/external-apps" label="External apps"/>
                        })}
                        {me.manages_groups.then(|| view! { <NavLink href="/admin/groups" label="Business groups"/> })}
                        <NavLink href="/admin/scopes" label="Scopes"/>
                        {me.can_audit.then(|| view! { <NavLink href="/admin/audit" label="Audit log"/> })}
                        <NavLink href="/account/apps" label="My apps"/>
                        <NavLink href="/account/security" label="Security"/>
                    </nav>
                    {(!me.places.is_empty()).then(|| view! { <PlaceSwitch places=me.places.clone()/> })}
                    <div class="who">
                        <span class="org">{
                            let fixed = me.org_name.clone();
                            move || org_name.map_or_else(|| fixed.clone(), |n| n.0.get())
                        }</span>
                        <span class="email">{me.email}</span>
                        <Logout/>
                    </div>
                }
            })}
        </header>
    }
    .into_any()
}

/// The business-group switcher of the header: a GET form to the apps of the place chosen,
/// so it works without JavaScript; the place in force stays chosen.
#[component]
fn PlaceSwitch(places: Vec<(String, String)>) -> impl IntoView {
    let query = leptos_router::hooks::use_query_map();
    let here = use_location();
    let chosen = move || {
        (here.pathname.get_untracked() == "/admin")
            .then(|| query.with_untracked(|m| m.get("place")))
            .flatten()
            .unwrap_or_default()
    };
    let chosen = chosen();
    let options = places
        .into_iter()
        .map(|(value, label)| {
            let selected = value == chosen;
            view! { <option value=value selected=selected>{label}</option> }
        })
        .collect_view();
    view! {
        <form method="get" action="/admin" class="place-switch" role="search" aria-label="Switch business group">
            <label for="place-switch" class="visually-hidden">"Business group"</label>
            <select name="place" id="place-switch">
                <option value="" selected=chosen.is_empty()>"Whole organization"</option>
                {options}
            </select>
            <button type="submit">"Go"</button>
        </form>
    }
}

/// The navigation's sections, and which one a path belongs to: exactly one is marked
/// current (`/admin/apps/…` belongs to Apps, not also to everything under `/admin`).
const SECTIONS: &[&str] = &[
    "/admin/overview",
    "/admin/users",
    "/admin/apis",
    "/admin/scopes",
    "/admin/groups",
    "/admin/org",
    "/admin/external-apps",
    "/admin/audit",
    "/account/apps",
    "/account/security",
    "/admin",
];

pub fn section_of(path: &str) -> Option<&'static str> {
    SECTIONS
        .iter()
        .find(|s| path == **s || path.starts_with(&format!("{s}/")))
        .copied()
}

#[component]
fn NavLink(href: &'static str, label: &'static str) -> impl IntoView {
    let here = use_location();
    let current = move || (section_of(&here.pathname.get()) == Some(href)).then_some("page");
    view! { <a href=href aria-current=current>{label}</a> }
}

/// Where a nested page sits: links to the pages above it, then this page's name
/// (`aria-current`).
#[component]
pub fn Breadcrumbs(
    /// The pages above, as (name, link).
    above: Vec<(String, String)>,
    #[prop(into)] here: String,
) -> impl IntoView {
    view! {
        <nav class="breadcrumbs" aria-label="Breadcrumb">
            <ol>
                {above.into_iter().map(|(name, href)| view! { <li><a href=href>{name}</a></li> }).collect_view()}
                <li aria-current="page">{here}</li>
            </ol>
        </nav>
    }
}

/// The hidden CSRF field every state-changing form carries.
#[component]
pub fn Csrf() -> impl IntoView {
    let token = use_context::<PageCtx>().map(|c| c.csrf).unwrap_or_default();
    view! { <input type="hidden" name="csrf" value=token/> }
}

/// The message above a form when its last submission failed.
#[component]
pub fn FormError(error: Signal<Option<AppError>>) -> impl IntoView {
    move || {
        error
            .get()
            .map(|e| view! { <p class="error" role="alert">{e.summary()}</p> })
    }
}

/// What the last action did, once it succeeded, in a live region screen readers announce
/// (`role="status"`).
#[component]
pub fn Done(done: Signal<bool>, text: &'static str) -> impl IntoView {
    view! {
        <div role="status" class="status-region">
            {move || done.get().then(|| view! { <p class="status saved">{text}</p> })}
        </div>
    }
}

/// The submit button of a destructive action, asking first: a press opens a panel that
/// names what will end, with the button that does it (a `<details>`, so it works without
/// JavaScript and a slip of the finger changes nothing).
#[component]
pub fn Confirm(
    /// The action, as the button says it ("Delete", "Revoke").
    label: &'static str,
    /// What will end, in words.
    #[prop(into)]
    what: String,
    #[prop(optional)] small: bool,
) -> impl IntoView {
    let class = if small {
        "button danger small"
    } else {
        "button danger"
    };
    view! {
        <details class="confirm">
            <summary class=class>{label} "…"</summary>
            <div class="confirm-panel">
                <p>{what}</p>
                <button type="submit" class="danger small">{format!("Yes, {}", label.to_lowercase())}</button>
            </div>
        </details>
    }
}

/// Copies `text` to the clipboard (once the page is hydrated; without JavaScript the
/// button is hidden and the text can be selected).
#[component]
pub fn CopyButton(
    #[prop(into)] text: String,
    /// What is copied, for screen readers ("the client id").
    #[prop(into)]
    what: String,
) -> impl IntoView {
    let copied = RwSignal::new(false);
    let copy = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let _promise = window().navigator().clipboard().write_text(&text);
            copied.set(true);
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &text;
    };
    view! {
        <button type="button" class="copy small" on:click=copy>
            {move || if copied.get() { "Copied" } else { "Copy" }}
            <span class="visually-hidden">" " {what}</span>
        </button>
    }
}

/// Empties a create form once its action succeeded, ready for the next one (in the
/// browser; without JavaScript the page comes back empty anyway).
pub fn clear_on_success(done: Signal<bool>, form: NodeRef<leptos::html::Form>) {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if done.get()
            && let Some(f) = form.get_untracked()
        {
            f.reset();
        }
    });
    #[cfg(not(feature = "hydrate"))]
    let _ = (done, form);
}

/// `aria-invalid` for a field: "true" while the last answer named it.
pub fn invalid(
    error: Signal<Option<AppError>>,
    field: &'static str,
) -> impl Fn() -> Option<&'static str> + Send + Sync + Copy + 'static {
    move || error.get().and_then(|e| e.field(field)).map(|_| "true")
}

/// The message under one field.
#[component]
pub fn FieldError(error: Signal<Option<AppError>>, field: &'static str) -> impl IntoView {
    move || {
        error
            .get()
            .and_then(|e| e.field(field))
            .map(|m| view! { <span class="field-error">{field_label(field)} " " {m}</span> })
    }
}

fn field_label(field: &str) -> String {
    let named = match field {
        "redirect_uris" => Some("Redirect URI"),
        "post_logout_redirect_uris" => Some("Post-logout redirect URI"),
        "website_url" => Some("Website"),
        "access_token_ttl" => Some("Access token lifetime"),
        "refresh_token_ttl" => Some("Refresh token lifetime"),
        "grant_ttl" => Some("Sign-in lifetime"),
        "id_token_alg" => Some("ID-token algorithm"),
        "public_keys" => Some("Public keys"),
        "confirm_name" => Some("The name"),
        "retention_days" => Some("Retention"),
        "app_policy" => Some("Policy"),
        _ => None,
    };
    if let Some(n) = named {
        return n.to_string();
    }
    let s = field.replace('_', " ");
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().collect::<String>() + c.as_str())
        .unwrap_or_default()
}

/// A whole-page error (not found, not allowed, ...).
#[component]
pub fn ErrorPage(error: AppError) -> impl IntoView {
    let (code, title) = match &error {
        AppError::NotFound => (404, "Not found"),
        AppError::NotAllowed | AppError::Csrf => (403, "Not allowed"),
        AppError::Unauthenticated => (401, "Please sign in"),
        AppError::BadCredentials => (401, "Wrong e-mail or password"),
        AppError::Invalid(_) | AppError::Request(_) => (400, "Check the request"),
        AppError::Refused(_) => (409, "Refused"),
        AppError::Throttled(_) => (429, "Too many attempts"),
        AppError::Internal => (500, "Something went wrong"),
    };
    set_status(code);
    // Field errors of a page's own query (an audit filter, say) have no form field to sit
    // next to: each is listed.
    let fields = match &error {
        AppError::Invalid(errors) => errors.0.iter().map(ToString::to_string).collect(),
        _ => Vec::new(),
    };
    view! {
        <div class="error-page">
            <h1>{title}</h1>
            <p class="notice">{error.summary()}</p>
            {(!fields.is_empty()).then(|| view! {
                <ul class="errors" role="alert">{fields.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
            })}
            <p><a href="/">"Back to the start page"</a></p>
        </div>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    set_status(404);
    view! {
        <Title text="Not found · Latchkey"/>
        <a class="skip" href="#main">"Skip to content"</a>
        <Main>
            <h1>"Not found"</h1>
            <p>"There is no page at this address."</p>
            <p><a href="/">"Back to the start page"</a></p>
        </Main>
    }
}

/// A Unix time as `YYYY-MM-DD HH:MM UTC`.
pub fn format_time(secs: i64) -> String {
    crate::domain::when::utc_minutes(secs)
}

/// A moment shown in the reader's own time zone once the page runs in the browser (UTC
/// before that, and without JavaScript), with the UTC time on hover and in `datetime`.
#[component]
pub fn LocalTime(at: i64) -> impl IntoView {
    let utc = format_time(at);
    let text = RwSignal::new(utc.clone());
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        let options = js_sys::Object::new();
        let set = |k: &str, v: &str| {
            let _ = js_sys::Reflect::set(&options, &k.into(), &v.into());
        };
        set("dateStyle", "medium");
        set("timeStyle", "short");
        let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(at as f64 * 1000.0));
        text.set(String::from(date.to_locale_string("default", &options)));
    });
    view! {
        <time datetime=crate::domain::when::iso8601(at) title=utc>{move || text.get()}</time>
    }
}

/// When something was last used, or "never".
pub fn last_used(at: Option<i64>) -> String {
    at.map(format_time).unwrap_or_else(|| "never".into())
}

/// A number of things in words: "1 app", "3 apps".
pub fn count(n: impl Into<i64>, thing: &str) -> String {
    let n = n.into();
    format!("{n} {thing}{}", if n == 1 { "" } else { "s" })
}

/// A duration in seconds in words (15 minutes, 90 days).
pub use crate::domain::duration::format as format_duration;

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(format_time(0), "1970-01-01 00:00 UTC");
        assert_eq!(format_time(1_795_000_000), "2026-11-18 11:06 UTC");
        assert_eq!(format_duration(900), "15 minutes");
        assert_eq!(format_duration(90 * 86_400), "90 days");
        assert_eq!(format_duration(3600), "1 hour");
        assert_eq!(count(1, "app"), "1 app");
        assert_eq!(count(0, "app"), "0 apps");
        assert_eq!(count(12, "app"), "12 apps");
        assert_eq!(section_of("/admin"), Some("/admin"));
        assert_eq!(section_of("/admin/apps/abc"), Some("/admin"));
        assert_eq!(section_of("/admin/users"), Some("/admin/users"));
        assert_eq!(section_of("/admin/audit"), Some("/admin/audit"));
        assert_eq!(section_of("/admin/auditx"), Some("/admin"));
        assert_eq!(section_of("/account/apps"), Some("/account/apps"));
        assert_eq!(section_of("/"), None);
        assert_eq!(
            url_encode("/admin/apps/x?q=a b"),
            "/admin/apps/x%3Fq%3Da%20b"
        );
    }
}
