#!/usr/bin/env bash
# Installs the build tools when missing, from the crate registry only (no prebuilt downloads).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v cargo >/dev/null; then
  echo "cargo is required (rustup: https://rustup.rs)" >&2
  exit 1
fi
rustup target list --installed | grep -qx wasm32-unknown-unknown || rustup target add wasm32-unknown-unknown

# cargo-leptos 0.3.0 is the newest that builds on rustc 1.95; no_downloads keeps it from
# fetching sass, tailwind or wasm-opt (we use plain CSS and debug wasm).
if ! cargo leptos --version 2>/dev/null | grep -qx "cargo-leptos 0.3.0"; then
  echo "installing cargo-leptos 0.3.0 (about 16 minutes on 2 cores)…"
  cargo install cargo-leptos --version 0.3.0 --locked --features no_downloads
fi

# wasm-bindgen CLI must match the wasm-bindgen crate in Cargo.lock exactly.
wbg=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if ! wasm-bindgen --version 2>/dev/null | grep -qx "wasm-bindgen $wbg"; then
  echo "installing wasm-bindgen-cli $wbg (about 3 minutes)…"
  # Not --locked: its lock file names a crate version the registry lacks.
  cargo install wasm-bindgen-cli --version "$wbg"
fi

# The release build runs wasm-opt on the wasm: binaryen 132 from npm (scripts/wasm-opt).
# Debian's binaryen 108 breaks wasm-bindgen's output (it exports the function table as the
# externref table), and cargo-leptos would otherwise download one, which no_downloads forbids.
# The Makefile's `release` target puts it first on PATH.
if [ "${1:-}" = "--release" ] && [ ! -x scripts/wasm-opt/node_modules/.bin/wasm-opt ]; then
  echo "installing wasm-opt (binaryen 132 from npm)…"
  (cd scripts/wasm-opt && npm ci --no-audit --no-fund)
fi
