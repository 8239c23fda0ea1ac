//! The controls every list shares: a search box, sortable column headers and a pager, all
//! plain links and GET forms (each view has its own URL and works without JavaScript).

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::components::{count, url_encode};
use crate::domain::listing::ListQuery;

/// The list request of the current URL (`q`, `sort`, `page`).
pub fn use_list_query() -> impl Fn() -> ListQuery + Copy + Send + Sync + 'static {
    let query = use_query_map();
    move || {
        query.with(|m| ListQuery {
            q: m.get("q").unwrap_or_default(),
            sort: m.get("sort").unwrap_or_default(),
            page: m.get("page").unwrap_or_default(),
        })
    }
}

/// `base` with the list request as its query (empty parts left out).
pub fn list_href(base: &str, q: &str, sort: &str, page: i64) -> String {
    let mut parts = Vec::new();
    if !q.is_empty() {
        parts.push(format!("q={}", url_encode(q)));
    }
    if !sort.is_empty() {
        parts.push(format!("sort={}", url_encode(sort)));
    }
    if page > 1 {
        parts.push(format!("page={page}"));
    }
    if parts.is_empty() {
        base.to_string()
    } else {
        format!("{base}?{}", parts.join("&"))
    }
}

/// The search form of a list; the sort chosen is kept.
#[component]
pub fn ListSearch(
    /// The list's page.
    #[prop(into)]
    base: String,
    /// What can be searched, as the field's label says it.
    label: &'static str,
) -> impl IntoView {
    let list = use_list_query();
    move || {
        let q = list();
        view! {
            <form method="get" action=base.clone() class="search" role="search">
                <label class="visually-hidden" for="list-search">{label}</label>
                <input type="search" id="list-search" name="q" value=q.q.clone() placeholder=label maxlength="100"/>
                {(!q.sort.is_empty()).then(|| view! { <input type="hidden" name="sort" value=q.sort.clone()/> })}
                <button type="submit">"Search"</button>
                {(!q.q.is_empty()).then(|| view! { <a href=list_href(&base, "", &q.sort, 1)>"Show all"</a> })}
            </form>
        }
    }
}

/// A column header that sorts the list by `key` (again: the other way), marked with
/// `aria-sort` when it is the sort in force (`sort`, as the service applied it).
#[component]
pub fn SortHeader(
    #[prop(into)] base: String,
    label: &'static str,
    key: &'static str,
    /// The sort applied.
    #[prop(into)]
    sort: String,
) -> impl IntoView {
    let list = use_list_query();
    let (descending, current) = match sort.strip_prefix('-') {
        Some(c) => (true, c == key),
        None => (false, sort == key),
    };
    let next = if current && !descending {
        format!("-{key}")
    } else {
        key.to_string()
    };
    let href = list_href(&base, &list().q, &next, 1);
    let aria = current.then_some(if descending {
        "descending"
    } else {
        "ascending"
    });
    let arrow = match (current, descending) {
        (true, false) => " ↑",
        (true, true) => " ↓",
        _ => "",
    };
    view! {
        <th aria-sort=aria scope="col"><a href=href class="sort">{label}{arrow}</a></th>
    }
}

/// "12 apps · page 1 of 1", and links to the pages around.
#[component]
pub fn Pager(
    #[prop(into)] base: String,
    noun: &'static str,
    total: i64,
    page: i64,
    pages: i64,
    #[prop(into)] sort: String,
) -> impl IntoView {
    let list = use_list_query();
    let q = list().q;
    let link = move |n: i64| list_href(&base, &q, &sort, n);
    view! {
        <nav class="pager" aria-label="Pages">
            <span>{format!("{} · page {page} of {pages}", count(total, noun))}</span>
            {(page > 1).then(|| view! { <a href=link(page - 1) rel="prev">"← Previous"</a> })}
            {(page < pages).then(|| view! { <a href=link(page + 1) rel="next">"Next →"</a> })}
        </nav>
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::list_href;

    #[test]
    fn hrefs_keep_only_what_is_set() {
        assert_eq!(list_href("/admin", "", "", 1), "/admin");
        assert_eq!(
            list_href("/admin", "a b", "-used", 2),
            "/admin?q=a%20b&sort=-used&page=2"
        );
        assert_eq!(
            list_href("/admin/users", "", "name", 1),
            "/admin/users?sort=name"
        );
    }
}
