//! Pieces shared by the pages: the page frame with its access check, the CSRF field,
//! error messages, and time formatting.

use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::components::{A, Redirect};
use leptos_router::hooks::use_location;

use super::error::AppError;
use super::login::Logout;
use super::session::{PageCtx, page_context};

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
pub fn Page(#[prop(into)] title: String, need: Need, children: ChildrenFn) -> impl IntoView {
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
                Err(e) => view! { <ErrorPage error=e/> }.into_any(),
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
                            <Nav/>
                            <section class="content">
                                <h1>"Not allowed"</h1>
                                <p class="notice">
                                    "You are signed in as " {me.email} ", a member of " {me.org_name}
                                    ". Only the organization's admins can open the admin portal (auditors: the audit log)."
                                </p>
                            </section>
                        }.into_any()
                    }
                    _ => {
                        provide_context(c.clone());
                        view! { <Nav/> <section class="content">{children.with_value(|c| c())}</section> }.into_any()
                    }
                },
            }})}
        </Suspense>
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
fn Nav() -> impl IntoView {
    let ctx = use_context::<PageCtx>();
    let me = ctx.and_then(|c| c.me);
    view! {
        <header class="topbar">
            <a class="brand" href="/">"Latchkey"</a>
            {me.map(|me| {
                view! {
                    <nav>
                        {me.is_admin.then(|| view! {
                            <A href="/admin">"Apps"</A>
                            <A href="/admin/users">"Users"</A>
                            <A href="/admin/apis">"APIs"</A>
                            <A href="/admin/org">"Organization"</A>
                            <A href="/admin/external-apps">"External apps"</A>
                        })}
                        {me.can_audit.then(|| view! { <A href="/admin/audit">"Audit log"</A> })}
                        <A href="/account/apps">"My apps"</A>
                    </nav>
                    <div class="who">
                        <span class="org">{me.org_name}</span>
                        <span class="email">{me.email}</span>
                        <Logout/>
                    </div>
                }
            })}
        </header>
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
        <section class="content">
            <h1>{title}</h1>
            <p class="notice">{error.summary()}</p>
            {(!fields.is_empty()).then(|| view! {
                <ul class="errors" role="alert">{fields.into_iter().map(|f| view! { <li>{f}</li> }).collect_view()}</ul>
            })}
            <p><a href="/">"Back to the start page"</a></p>
        </section>
    }
}

#[component]
pub fn NotFound() -> impl IntoView {
    set_status(404);
    view! {
        <Title text="Not found · Latchkey"/>
        <section class="content">
            <h1>"Not found"</h1>
            <p>"There is no page at this address."</p>
            <p><a href="/">"Back to the start page"</a></p>
        </section>
    }
}

/// A Unix time as `YYYY-MM-DD HH:MM UTC`.
pub fn format_time(secs: i64) -> String {
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Civil-from-days (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60
    )
}

/// A duration in seconds in words (15 minutes, 90 days).
pub fn format_duration(secs: i64) -> String {
    let (n, unit) = if secs % 86_400 == 0 {
        (secs / 86_400, "day")
    } else if secs % 3600 == 0 {
        (secs / 3600, "hour")
    } else if secs % 60 == 0 {
        (secs / 60, "minute")
    } else {
        (secs, "second")
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

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
        assert_eq!(
            url_encode("/admin/apps/x?q=a b"),
            "/admin/apps/x%3Fq%3Da%20b"
        );
    }
}
