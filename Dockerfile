# Latchkey as a container: the release build of the server and its site (pages, wasm, CSS).
#   docker build -t latchkey .
#   docker run -p 3000:3000 -v latchkey-data:/var/lib/latchkey \
#     -e LATCHKEY_ISSUER=https://id.example.com latchkey
# Several instances: give each the same LATCHKEY_DATABASE_URL (PostgreSQL) and
# LATCHKEY_MASTER_KEY (or LATCHKEY_MASTER_KEY_FILE from a secret), behind one load balancer.

FROM rust:1-bookworm AS build
WORKDIR /src
# wasm-opt is binaryen 132 from npm (Debian's 108 breaks wasm-bindgen's output); cargo-leptos
# and wasm-bindgen come from crates.io.
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock build.rs ./
COPY scripts scripts
RUN scripts/ensure-tools.sh --release
COPY . .
RUN PATH="/src/scripts/wasm-opt/node_modules/.bin:$PATH" cargo leptos build --release \
    && strip target/release/latchkey

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/latchkey --create-home latchkey
COPY --from=build /src/target/release/latchkey /usr/local/bin/latchkey
COPY --from=build /src/target/site /usr/share/latchkey/site
ENV LATCHKEY_SITE_ROOT=/usr/share/latchkey/site \
    LATCHKEY_DATA_DIR=/var/lib/latchkey \
    LATCHKEY_BIND=0.0.0.0:3000 \
    LATCHKEY_LOG_FORMAT=json
USER latchkey
VOLUME /var/lib/latchkey
EXPOSE 3000
# Readiness turns false on SIGTERM (drain), so the orchestrator stops sending first.
HEALTHCHECK --interval=10s --timeout=3s CMD curl -sf http://127.0.0.1:3000/readyz || exit 1
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/latchkey"]
CMD ["serve"]
