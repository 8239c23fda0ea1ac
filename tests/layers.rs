//! The architecture of the README, checked against the imports: each layer names only the
//! layers below it (no module imports one that imports it), and nothing above `services`
//! reads the store (the `Db` handle reaches the web layer through `services::Db`).

use std::path::Path;

/// Each layer and the layers it may name (`crate::<layer>`).
const ALLOWED: &[(&str, &[&str])] = &[
    ("domain", &[]),
    ("crypto", &[]),
    ("store", &["domain"]),
    ("services", &["domain", "store", "crypto"]),
    ("web", &["services", "domain", "crypto"]),
    ("app", &["web", "services", "domain"]),
    ("oauth", &["web", "services", "domain", "crypto"]),
    ("api", &["web", "services", "domain"]),
];

const LAYERS: &[&str] = &[
    "domain", "crypto", "store", "services", "web", "app", "oauth", "api", "server", "cli",
];

fn sources(dir: &Path, out: &mut Vec<(String, String)>) {
    for entry in std::fs::read_dir(dir).expect("src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("read");
            out.push((path.display().to_string(), text));
        }
    }
}

#[test]
fn each_layer_imports_only_the_layers_below_it() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut broken = Vec::new();
    for (layer, allowed) in ALLOWED {
        let mut files = Vec::new();
        sources(&root.join(layer), &mut files);
        assert!(!files.is_empty(), "src/{layer} exists");
        for (path, text) in files {
            for other in LAYERS.iter().filter(|l| *l != layer) {
                let needle = format!("crate::{other}::");
                for (at, _) in text.match_indices(&needle) {
                    let rest = &text[at + "crate::".len()..];
                    let ok = allowed
                        .iter()
                        .any(|a| rest.starts_with(&format!("{a}::")) || rest.starts_with(a));
                    let named = allowed.iter().any(|a| a.split("::").next() == Some(other));
                    if !(ok && named) {
                        let line = text[..at].lines().count();
                        broken.push(format!("{path}:{line}: {layer} names crate::{other}"));
                    }
                }
            }
        }
    }
    assert!(
        broken.is_empty(),
        "imports against the layers:\n{}",
        broken.join("\n")
    );
}
