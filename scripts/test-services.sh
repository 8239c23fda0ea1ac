#!/usr/bin/env bash
# Starts what the test suite needs when it is not there: PostgreSQL at 127.0.0.1:5432,
# Debian's chromium, and Playwright from npm (never `playwright install`).
set -euo pipefail
cd "$(dirname "$0")/.."

if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  echo "starting PostgreSQL…"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start
  for _ in $(seq 1 30); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 1; done
fi
# Databases left by earlier test runs.
psql -h 127.0.0.1 -U postgres -d postgres -Atc "SELECT datname FROM pg_database WHERE datname LIKE 'lk_t_%'" |
  while read -r db; do psql -h 127.0.0.1 -U postgres -d postgres -qc "DROP DATABASE IF EXISTS \"$db\"" >/dev/null; done
rm -rf "${TMPDIR:-/tmp}/latchkey-tests"

if [ ! -x /usr/bin/chromium ]; then
  echo "installing Debian's chromium…"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq chromium >/dev/null
fi

if [ ! -x end2end/node_modules/.bin/playwright ] || [ ! -d end2end/node_modules/@axe-core/playwright ]; then
  (cd end2end && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund)
fi
