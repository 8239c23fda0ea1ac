# The two commands of the README: `make run` and `make test`.
export PATH := $(HOME)/.cargo/bin:$(PATH)
export CARGO_TERM_COLOR ?= never
TARGET_DIR := $(or $(CARGO_TARGET_DIR),target)
BIN := $(abspath $(TARGET_DIR))/debug/latchkey
SITE := $(abspath target/site)

.PHONY: run test tools build release lint e2e screenshots

## Build everything and serve on SQLite at http://127.0.0.1:3000 with a bootstrap admin.
run: build
	LATCHKEY_SITE_ROOT=$(SITE) $(BIN) serve

## The whole suite: the browser tests, then unit and integration tests (SQLite and PostgreSQL).
## The browser tests run first, on the binary `cargo leptos build` made: `cargo test` relinks
## target/debug/latchkey with the dev-dependencies' features, and that build's pages do not
## hydrate against the wasm.
test: build lint
	scripts/test-services.sh
	$(MAKE) e2e
	cargo test --lib --bins --tests

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

tools:
	scripts/ensure-tools.sh

build: tools
	cargo leptos build

## The optimized build of the whole site (server, wasm through wasm-opt, minified JS, CSS):
## $(TARGET_DIR)/release/latchkey and target/site. Run it with LATCHKEY_SITE_ROOT=target/site.
release: tools
	scripts/ensure-tools.sh --release
	PATH="$(CURDIR)/scripts/wasm-opt/node_modules/.bin:$$PATH" cargo leptos build --release

e2e:
	cd end2end && LATCHKEY_BIN=$(BIN) LATCHKEY_SITE_ROOT=$(SITE) npx playwright test

## The main pages at desktop and phone size, as PNGs under end2end/screenshots/.
screenshots: build
	cd end2end && SCREENSHOTS=1 LATCHKEY_BIN=$(BIN) LATCHKEY_SITE_ROOT=$(SITE) npx playwright test screenshots.spec.ts
