//! The portal's lists (apps, users, APIs, authorizations): one way to search, sort and
//! page them, from the URL's `q`, `sort` (`name`, or `-name` for descending) and `page`.

use serde::{Deserialize, Serialize};

/// Rows on one page of a list.
pub const PER_PAGE: i64 = 20;
/// Longest search text kept.
const MAX_SEARCH: usize = 100;

/// A list request as the URL sends it; every field optional.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ListQuery {
    /// Text the row must contain (case-insensitive).
    pub q: String,
    /// A column key, `-` first for descending.
    pub sort: String,
    /// From 1.
    pub page: String,
}

/// What a sort key compares.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    /// Missing values (never used, never signed in) sort before every time.
    Time(Option<i64>),
    Text(String),
}

impl Key {
    pub fn text(s: &str) -> Self {
        Key::Text(s.to_lowercase())
    }
}

/// One page of a list, with where it sits in the whole.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Listed<T> {
    pub items: Vec<T>,
    /// Rows matching the search.
    pub total: i64,
    pub page: i64,
    pub per_page: i64,
    /// The sort applied (a column key, `-` first when descending).
    #[serde(default)]
    pub sort: String,
}

impl<T> Listed<T> {
    pub fn pages(&self) -> i64 {
        ((self.total + self.per_page - 1) / self.per_page.max(1)).max(1)
    }
}

/// How a kind of row is listed: the text a search looks in, the sort keys it has, and
/// the one used when the URL names none.
pub trait Listable {
    /// The column keys, first the default.
    const SORTS: &'static [&'static str];
    fn haystack(&self) -> String;
    fn key(&self, sort: &str) -> Key;
}

/// The rows matching `q`, sorted and cut to the page asked (clamped to the pages there are).
pub fn apply<T: Listable>(mut rows: Vec<T>, q: &ListQuery) -> Listed<T> {
    let needle: String = q.q.trim().to_lowercase().chars().take(MAX_SEARCH).collect();
    if !needle.is_empty() {
        rows.retain(|r| r.haystack().to_lowercase().contains(&needle));
    }
    let (descending, column) = match q.sort.strip_prefix('-') {
        Some(c) => (true, c),
        None => (false, q.sort.as_str()),
    };
    let (column, descending) = if T::SORTS.contains(&column) {
        (column, descending)
    } else {
        (T::SORTS[0], false)
    };
    // Stable: rows with equal keys keep the order the store gave them.
    rows.sort_by_cached_key(|r| r.key(column));
    if descending {
        rows.reverse();
    }
    let total = rows.len() as i64;
    let pages = ((total + PER_PAGE - 1) / PER_PAGE).max(1);
    let page = q.page.trim().parse::<i64>().unwrap_or(1).clamp(1, pages);
    let items = rows
        .into_iter()
        .skip(((page - 1) * PER_PAGE) as usize)
        .take(PER_PAGE as usize)
        .collect();
    Listed {
        items,
        total,
        page,
        per_page: PER_PAGE,
        sort: format!("{}{column}", if descending { "-" } else { "" }),
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[derive(Debug, Clone, PartialEq)]
    struct Row(&'static str, Option<i64>);

    impl Listable for Row {
        const SORTS: &'static [&'static str] = &["name", "used"];
        fn haystack(&self) -> String {
            self.0.to_string()
        }
        fn key(&self, sort: &str) -> Key {
            match sort {
                "used" => Key::Time(self.1),
                _ => Key::text(self.0),
            }
        }
    }

    fn q(q: &str, sort: &str, page: &str) -> ListQuery {
        ListQuery {
            q: q.into(),
            sort: sort.into(),
            page: page.into(),
        }
    }

    fn names(l: &Listed<Row>) -> Vec<&'static str> {
        l.items.iter().map(|r| r.0).collect()
    }

    #[test]
    fn search_sort_and_page() {
        let rows = vec![
            Row("beta", Some(5)),
            Row("Alpha", None),
            Row("gamma", Some(9)),
        ];
        assert_eq!(
            names(&apply(rows.clone(), &q("", "", ""))),
            ["Alpha", "beta", "gamma"]
        );
        assert_eq!(
            names(&apply(rows.clone(), &q("", "-name", ""))),
            ["gamma", "beta", "Alpha"]
        );
        // Never used sorts first ascending, last descending.
        assert_eq!(
            names(&apply(rows.clone(), &q("", "used", ""))),
            ["Alpha", "beta", "gamma"]
        );
        assert_eq!(
            names(&apply(rows.clone(), &q("", "-used", ""))),
            ["gamma", "beta", "Alpha"]
        );
        assert_eq!(
            names(&apply(rows.clone(), &q("A", "", ""))),
            ["Alpha", "beta", "gamma"]
        );
        assert_eq!(names(&apply(rows.clone(), &q("ALP", "", ""))), ["Alpha"]);
        // An unknown column falls back to the default, and says so.
        let l = apply(rows.clone(), &q("", "password", ""));
        assert_eq!(l.sort, "name");
        let many: Vec<Row> = (0..45).map(|_| Row("x", None)).collect();
        let l = apply(many.clone(), &q("", "", "3"));
        assert_eq!((l.items.len(), l.total, l.page, l.pages()), (5, 45, 3, 3));
        // Out-of-range and garbage pages are clamped.
        assert_eq!(apply(many.clone(), &q("", "", "99")).page, 3);
        assert_eq!(apply(many.clone(), &q("", "", "-4")).page, 1);
        assert_eq!(apply(many, &q("", "", "zz")).page, 1);
        let empty = apply(Vec::<Row>::new(), &q("", "", "2"));
        assert_eq!((empty.total, empty.page, empty.pages()), (0, 1, 1));
    }
}
