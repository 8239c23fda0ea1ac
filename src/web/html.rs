//! The few pages the server writes without Leptos (protocol errors, refused input): one
//! frame, in the site's style, with its brand, favicon and a `<main>` landmark.

use axum::response::{Html, IntoResponse, Response};
use http::StatusCode;

/// Escapes text for HTML.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A complete page around `body` (already HTML), in the site's style.
pub fn page(status: StatusCode, title: &str, body: &str) -> Response {
    (status, Html(page_html(title, body))).into_response()
}

fn page_html(title: &str, body: &str) -> String {
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{} · Latchkey</title><link rel=\"icon\" href=\"/favicon.svg\" type=\"image/svg+xml\">\
         <link rel=\"stylesheet\" href=\"/pkg/latchkey.css\"></head>\
         <body><header class=\"topbar\"><a class=\"brand\" href=\"/\">Latchkey</a></header>\
         <main id=\"main\" class=\"content\"><div class=\"card narrow\">{body}</div></main></body></html>",
        escape(title)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn escapes() {
        assert_eq!(
            super::escape("<a href='x'>&\"</a>"),
            "&lt;a href=&#39;x&#39;&gt;&amp;&quot;&lt;/a&gt;"
        );
    }

    #[test]
    fn pages_carry_the_brand_and_favicon() {
        let html = super::page_html("T<", "<p>x</p>");
        assert!(html.contains("<title>T&lt; · Latchkey</title>"), "{html}");
        assert!(html.contains("href=\"/favicon.svg\""), "{html}");
        assert!(html.contains("class=\"brand\""), "{html}");
        assert!(
            html.contains(
                "<main id=\"main\" class=\"content\"><div class=\"card narrow\"><p>x</p>"
            ),
            "{html}"
        );
    }
}
