#!/usr/bin/env bash
# Benchmark, Latchkey beside the reference peer node-oidc-provider on this machine, alternating
# three runs each (the machine is noisy): client_credentials token requests and introspection
# (wrk, 32 keep-alive connections), then the full authorization-code flow (authorize with a
# signed-in session + code exchange; benches/authcode.rs, Latchkey only). Prints one line per
# run and the medians. Needs: wrk (Debian), node/npm, a release build.
#   bash benches/token.sh                    # SQLite, 32 connections, 10 s per run
#   BENCH_DB=postgres bash benches/token.sh  # the same on PostgreSQL at 127.0.0.1:5432
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$HOME/.cargo/bin:$PATH"
CONNS=${CONNS:-32}
SECS=${SECS:-10}
RUNS=${RUNS:-3}
PEER_DIR=${PEER_DIR:-../shared/peers/node-oidc-provider}
command -v wrk >/dev/null || { DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }

# One build of the server and the load generator together: one feature set (the bench's
# dev-dependencies unify features), so the next `cargo bench` and the next sitting rebuild
# nothing. The bench profile is the release profile, in the same directory.
cargo build --profile bench --bin latchkey --bench authcode >/dev/null 2>&1
work=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$work"' EXIT

# Latchkey on SQLite (or PostgreSQL), one own-behalf app.
export LATCHKEY_DATA_DIR="$work/data" LATCHKEY_BIND=127.0.0.1:3998 LATCHKEY_ISSUER=http://127.0.0.1:3998
if [ "${BENCH_DB:-sqlite}" = postgres ]; then
  psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS lk_bench" -c "CREATE DATABASE lk_bench" >/dev/null
  export LATCHKEY_DATABASE_URL=postgres://postgres@127.0.0.1:5432/lk_bench
  export LATCHKEY_MASTER_KEY=$(head -c 32 /dev/urandom | base64 -w0)
fi
export LATCHKEY_ADMIN_PASSWORD="bench admin password"
# The rate limits stay on (their check is part of what is measured), set above the load.
export LATCHKEY_RATE_TOKEN_PER_CLIENT=100000000 LATCHKEY_RATE_TOKEN_PER_IP=100000000 LATCHKEY_RATE_AUTHORIZE_PER_IP=100000000 LATCHKEY_RATE_SIGNIN_PER_IP=100000000
bin=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')/release/latchkey
org=$("$bin" org create --name Bench | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')
app=$("$bin" app create --org "$org" --name bench --kind own-behalf --grant-types client_credentials --scopes "read:apps")
id=$(echo "$app" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
secret=$(echo "$app" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
# A user and a web app for the authorization-code flow.
LATCHKEY_USER_PASSWORD="bench user password" "$bin" user create --org "$org" --email bench@example.com --name Bench --role member >/dev/null
web=$("$bin" app create --org "$org" --name web --kind on-behalf-of-user --grant-types authorization_code --redirect-uri http://127.0.0.1:8765/cb --scopes "openid email")
web_id=$(echo "$web" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_id"])')
web_secret=$(echo "$web" | python3 -c 'import json,sys; print(json.load(sys.stdin)["client_secret"])')
RUST_LOG=warn "$bin" serve 2>"$work/latchkey.log" &
server_pid=$!
# The peer.
cp -r "$PEER_DIR" "$work/peer"
(cd "$work/peer" && npm ci --no-audit --no-fund >/dev/null 2>&1)
(cd "$work/peer" && PORT=3999 CC_FORMAT=jwt JWT_ALG=ES256 node server.mjs >"$work/peer.log" 2>&1) &
for url in http://127.0.0.1:3998/readyz http://127.0.0.1:3999/.well-known/openid-configuration; do
  for _ in $(seq 1 60); do curl -sf "$url" >/dev/null && break; sleep 0.5; done
done

lk_auth=$(printf %s "$id:$secret" | base64 -w0)
peer_auth=$(printf %s 'bench:bench-secret-0123456789abcdef0123456789abcdef' | base64 -w0)
# Both must answer 200 with a token before measuring.
curl -sf -H "Authorization: Basic $lk_auth" -d grant_type=client_credentials http://127.0.0.1:3998/oauth2/token | grep -q access_token
curl -sf -H "Authorization: Basic $peer_auth" -d 'grant_type=client_credentials&scope=read' http://127.0.0.1:3999/token | grep -q access_token
# Tokens to introspect: our JWT; the peer's opaque token (it introspects only opaque ones).
lk_token=$(curl -sf -H "Authorization: Basic $lk_auth" -d grant_type=client_credentials http://127.0.0.1:3998/oauth2/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
peer_token=$(curl -sf -H "Authorization: Basic $peer_auth" -d 'grant_type=client_credentials&scope=read&resource=urn:bench:opaque' http://127.0.0.1:3999/token | python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])')
curl -sf -H "Authorization: Basic $lk_auth" -d "token=$lk_token" http://127.0.0.1:3998/oauth2/introspect | grep -q '"active":true'
curl -sf -H "Authorization: Basic $lk_auth" -d "token=$lk_token&business_group=$org" http://127.0.0.1:3998/oauth2/introspect | grep -q '"scope":"read:apps"'
curl -sf -H "Authorization: Basic $peer_auth" -d "token=$peer_token" http://127.0.0.1:3999/token/introspection | grep -q '"active":true'

run() { # name auth body url
  CC_AUTH=$2 CC_BODY=$3 wrk -t1 -c"$CONNS" -d"${SECS}s" -s "$PEER_DIR/cc.lua" "$4" | grep '^rps=' | sed "s/^/$1 /"
}
rss() { awk -v k="$1" '$1 == k":" { printf "%.1f MiB", $2 / 1024 }' "/proc/$server_pid/status"; }
echo "latchkey idle RSS: $(rss VmRSS)"
results="$work/results"
for i in $(seq 1 "$RUNS"); do
  run latchkey "$lk_auth" 'grant_type=client_credentials' http://127.0.0.1:3998/oauth2/token | tee -a "$results"
  run node-oidc-provider "$peer_auth" 'grant_type=client_credentials&scope=read' http://127.0.0.1:3999/token | tee -a "$results"
done
for i in $(seq 1 "$RUNS"); do
  run latchkey-introspect "$lk_auth" "token=$lk_token" http://127.0.0.1:3998/oauth2/introspect | tee -a "$results"
  # The same, asked in a context (the organization's root business group).
  run latchkey-introspect-context "$lk_auth" "token=$lk_token&business_group=$org" http://127.0.0.1:3998/oauth2/introspect | tee -a "$results"
  run node-oidc-provider-introspect "$peer_auth" "token=$peer_token" http://127.0.0.1:3999/token/introspection | tee -a "$results"
done
for i in $(seq 1 "$RUNS"); do
  ISSUER=http://127.0.0.1:3998 CLIENT_ID=$web_id CLIENT_SECRET=$web_secret USER_EMAIL=bench@example.com \
    USER_PASSWORD="bench user password" CONNS=$CONNS SECS=$SECS cargo bench -q --bench authcode 2>/dev/null |
    grep '^rps=' | sed 's/^/latchkey-authcode /' | tee -a "$results"
done
echo "latchkey RSS after the runs: $(rss VmRSS), peak: $(rss VmHWM)"
echo "medians over $RUNS runs, $CONNS connections, ${SECS}s each, ${BENCH_DB:-sqlite} (ES256 JWT access tokens, client_secret_basic):"
for name in latchkey node-oidc-provider latchkey-introspect latchkey-introspect-context node-oidc-provider-introspect latchkey-authcode; do
  grep "^$name " "$results" | python3 -c '
import sys, statistics, re
rows = [dict(re.findall(r"(\w+)=([\d.]+)", line)) for line in sys.stdin]
med = {k: statistics.median(float(r[k]) for r in rows) for k in ("rps", "p50_ms", "p99_ms")}
bad = sum(int(float(r["non2xx"])) for r in rows)
print("  %-30s rps=%.0f p50_ms=%.2f p99_ms=%.2f non2xx=%d" % (sys.argv[1], med["rps"], med["p50_ms"], med["p99_ms"], bad))' "$name"
done
