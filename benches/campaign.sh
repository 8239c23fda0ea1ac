#!/usr/bin/env bash
# Hostile-input campaign against a fresh Latchkey server: starts the release binary on a new
# SQLite data dir (or a new PostgreSQL database), creates an organization, an own-behalf app,
# an on-behalf-of-user app, a member and an admin through the CLI, runs benches/campaign.py
# (100,000 mutated requests over every endpoint family by default), then checks that the
# server is still alive, that its log holds no panic, and that it stops cleanly on SIGTERM.
# Exits non-zero on any 5xx or broken answer, a dead server, a panic or an unclean exit.
#
#   bash benches/campaign.sh                      # SQLite, 100,000 requests, seed 1
#   BENCH_DB=postgres bash benches/campaign.sh    # PostgreSQL at 127.0.0.1:5432 (lk_campaign, dropped after)
#   REQUESTS=20000 SEED=7 bash benches/campaign.sh --concurrency 8   # extra flags go to campaign.py
#
# Builds nothing: it runs $BIN (default: $CARGO_TARGET_DIR/release/latchkey, or
# target/release/latchkey from the repository root); build it first with
# `cargo build --release --bin latchkey`. On failure the work directory (server log,
# failures.jsonl with every failing request in full) is kept and its path printed.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
REQUESTS=${REQUESTS:-100000}
SEED=${SEED:-1}
target=${CARGO_TARGET_DIR:-target}
case "$target" in /*) ;; *) target="$root/$target" ;; esac
BIN=${BIN:-$target/release/latchkey}
if [ ! -x "$BIN" ]; then
  echo "campaign.sh: no executable at $BIN (build it: cargo build --release --bin latchkey, or set BIN)" >&2
  exit 2
fi
PORT=${PORT:-$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')}
DB=${BENCH_DB:-sqlite}
PG="psql -h 127.0.0.1 -U postgres -d postgres -q"

work=$(mktemp -d)
server_pid=""
keep=0
cleanup() {
  # Only the server this script started; then the database it created.
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$DB" = postgres ]; then
    $PG -c "DROP DATABASE IF EXISTS lk_campaign" >/dev/null 2>&1 ||
      $PG -c "DROP DATABASE IF EXISTS lk_campaign WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [ "$keep" = 1 ]; then
    echo "campaign.sh: kept $work (server.log, server.out, failures.jsonl)" >&2
  else
    rm -rf "$work"
  fi
}
trap cleanup EXIT

# A fresh database: never whatever LATCHKEY_DATABASE_URL the caller's shell points at.
unset LATCHKEY_DATABASE_URL LATCHKEY_MASTER_KEY LATCHKEY_MASTER_KEY_FILE
export LATCHKEY_DATA_DIR="$work/data" LATCHKEY_BIND="127.0.0.1:$PORT" LATCHKEY_ISSUER="http://127.0.0.1:$PORT"
if [ "$DB" = postgres ]; then
  $PG -c "DROP DATABASE IF EXISTS lk_campaign" -c "CREATE DATABASE lk_campaign" >/dev/null
  export LATCHKEY_DATABASE_URL=postgres://postgres@127.0.0.1:5432/lk_campaign
  LATCHKEY_MASTER_KEY=$(head -c 32 /dev/urandom | base64 -w0)
  export LATCHKEY_MASTER_KEY
fi
if [ -z "${LATCHKEY_SITE_ROOT:-}" ] && [ -d "$target/site" ]; then
  export LATCHKEY_SITE_ROOT="$target/site"
fi
export LATCHKEY_ADMIN_PASSWORD="campaign bootstrap admin password"
export LATCHKEY_SHUTDOWN_DRAIN_SECS=1
# High limits, so the campaign reaches the code instead of the limiter (the limiter's checks
# still run on every request).
export LATCHKEY_RATE_TOKEN_PER_CLIENT=100000000 LATCHKEY_RATE_TOKEN_PER_IP=100000000 \
  LATCHKEY_RATE_AUTHORIZE_PER_IP=100000000 LATCHKEY_RATE_SIGNIN_PER_IP=100000000

field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# The organization, its apps and users. The own-behalf app holds every platform scope, so
# its token reaches every REST operation; the campaign aims destructive calls only at apps,
# users and APIs it creates itself.
org=$("$BIN" org create --name Campaign | field id)
cc=$("$BIN" app create --org "$org" --name campaign-cc --kind own-behalf --grant-types client_credentials \
  --scopes "read:org manage:org read:users manage:users read:apps manage:apps read:audit")
cc_id=$(echo "$cc" | field client_id)
cc_secret=$(echo "$cc" | field client_secret)
web=$("$BIN" app create --org "$org" --name campaign-web --kind on-behalf-of-user \
  --grant-types authorization_code,password,refresh_token --redirect-uri http://127.0.0.1:8765/cb \
  --post-logout-redirect-uri http://127.0.0.1:8765/bye --scopes "openid email offline_access read:apps")
web_id=$(echo "$web" | field client_id)
web_secret=$(echo "$web" | field client_secret)
member_email=campaign@example.com member_password="campaign member password"
admin_email=campaign-admin@example.com admin_password="campaign admin password"
LATCHKEY_USER_PASSWORD="$member_password" "$BIN" user create --org "$org" --email "$member_email" \
  --name "Campaign member" --role member >/dev/null
LATCHKEY_USER_PASSWORD="$admin_password" "$BIN" user create --org "$org" --email "$admin_email" \
  --name "Campaign admin" --role admin >/dev/null

# The server: logs (stdout) and panics (stderr, the default panic hook) kept apart.
RUST_LOG=${RUST_LOG:-warn} "$BIN" serve >"$work/server.out" 2>"$work/server.log" &
server_pid=$!
ready=0
for _ in $(seq 1 120); do
  if ! kill -0 "$server_pid" 2>/dev/null; then break; fi
  if python3 -c 'import sys, urllib.request; urllib.request.urlopen(sys.argv[1], timeout=2)' \
    "http://127.0.0.1:$PORT/readyz" 2>/dev/null; then
    ready=1
    break
  fi
  sleep 0.5
done
if [ "$ready" != 1 ]; then
  echo "campaign.sh: the server did not become ready on port $PORT" >&2
  tail -n 20 "$work/server.log" "$work/server.out" >&2 || true
  keep=1
  exit 1
fi
echo "campaign.sh: $("$BIN" --version 2>/dev/null || echo latchkey) on $DB, port $PORT, $REQUESTS requests, seed $SEED"

failed=0
set +e
python3 benches/campaign.py --base "http://127.0.0.1:$PORT" --requests "$REQUESTS" --seed "$SEED" \
  --client-id "$cc_id" --client-secret "$cc_secret" \
  --user-client-id "$web_id" --user-client-secret "$web_secret" \
  --email "$member_email" --password "$member_password" \
  --admin-email "$admin_email" --admin-password "$admin_password" \
  --failures "$work/failures.jsonl" "$@"
campaign_rc=$?
set -e
[ "$campaign_rc" = 0 ] || failed=1

if kill -0 "$server_pid" 2>/dev/null; then
  echo "server alive: yes"
else
  echo "server alive: no (it exited during the campaign)"
  failed=1
fi
panics=$(cat "$work/server.log" "$work/server.out" | grep -c panicked || true)
echo "server panics: $panics"
if [ "$panics" -gt 0 ]; then
  grep -h -m 20 panicked "$work/server.log" "$work/server.out" || true
  failed=1
fi
errors=$(cat "$work/server.log" "$work/server.out" | grep -ci '"level":"error"\|\bERROR\b' || true)
echo "server error log lines: $errors"

# Stop it as an orchestrator would, and see how it ends.
if kill -0 "$server_pid" 2>/dev/null; then
  kill -TERM "$server_pid"
  for _ in $(seq 1 90); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.5
  done
  if kill -0 "$server_pid" 2>/dev/null; then
    echo "server did not stop within 45 s of SIGTERM; killing it"
    kill -KILL "$server_pid" 2>/dev/null || true
    failed=1
  fi
fi
set +e
wait "$server_pid"
server_rc=$?
set -e
server_pid=""
echo "server exit code: $server_rc"
[ "$server_rc" = 0 ] || failed=1

if [ "$failed" != 0 ]; then
  keep=1
  echo "campaign.sh: FAILED"
  exit 1
fi
echo "campaign.sh: passed"
