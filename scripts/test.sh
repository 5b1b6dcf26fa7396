#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need (PostgreSQL, a real
# headless Chromium with chromium-driver, axe-core, Schemathesis, aiosmtpd, node's
# oidc-provider), starts a private PostgreSQL on loopback, then runs the unit tests and the
# integration tests once (those run against SQLite and against that PostgreSQL). The
# integration tests are two binaries, each file of tests/everyday/ and tests/external/ a module
# of one.
#
#   scripts/test.sh                                 # every test
#   scripts/test.sh --test everyday handover::      # arguments go to `cargo test` instead
#   scripts/test.sh --test external -- sso::postgres::
set -euo pipefail
cd "$(dirname "$0")/.."

log() { printf '\n== %s\n' "$*" >&2; }

apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if [ -z "${APT_UPDATED:-}" ]; then
    $sudo apt-get update -qq
    APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# A real headless Chromium and its WebDriver server, for tests/external/web_browser.rs.
need_chromium() {
  if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    log "installing headless Chromium (Debian package)"
    apt_install chromium
  fi
  if ! command -v chromedriver >/dev/null 2>&1; then
    log "installing chromium-driver (WebDriver for Chromium)"
    apt_install chromium-driver
  fi
}

# An npm package under target/DIR (its own folder, so one install never prunes another),
# unless FILE is already there: npm_tool DIR PACKAGE FILE WHAT
npm_tool() {
  local dir=target/$1
  if [ ! -f "$dir/node_modules/$3" ]; then
    command -v npm >/dev/null 2>&1 || apt_install nodejs npm
    log "installing $2 ($4)"
    mkdir -p "$dir"
    (cd "$dir" && npm install --silent --no-audit --no-fund "$2" >/dev/null)
  fi
}

# axe-core, which tests/external/web_browser.rs runs inside Chromium on every page it reaches.
need_axe() {
  npm_tool browser-tools axe-core@4.14 axe-core/axe.min.js "accessibility checks in the browser"
  export ACCORD_AXE_JS="$PWD/target/browser-tools/node_modules/axe-core/axe.min.js"
}

# A real OpenID provider for tests/external/sso.rs: node's oidc-provider.
need_oidc_provider() {
  npm_tool oidc-tools oidc-provider@9 oidc-provider/lib/index.js "the single sign-on test's identity provider"
  export ACCORD_OIDC_PROVIDER_JS="$PWD/target/oidc-tools/node_modules/oidc-provider/lib/index.js"
}

# A real SMTP server for tests/external/mail.rs: Python's aiosmtpd, which each test starts and
# stops on a loopback port of its own (to simulate an outage). pip first; where the system
# Python refuses pip installs (PEP 668), the Debian package.
need_smtp_server() {
  command -v python3 >/dev/null 2>&1 || apt_install python3
  if ! python3 -c 'import aiosmtpd' >/dev/null 2>&1; then
    log "installing aiosmtpd (the test SMTP server)"
    python3 -m pip install --quiet aiosmtpd >/dev/null 2>&1 \
      || python3 -m pip install --quiet --user aiosmtpd >/dev/null 2>&1 \
      || apt_install python3-aiosmtpd
    python3 -c 'import aiosmtpd' 2>/dev/null \
      || { log "aiosmtpd is not importable by $(command -v python3)"; exit 1; }
  fi
}

# Schemathesis, which tests/external/openapi_contract.rs runs against the real server to check
# that the OpenAPI document describes the API exactly (v4: `schemathesis run URL --checks all`).
need_schemathesis() {
  command -v python3 >/dev/null 2>&1 || apt_install python3
  if ! command -v schemathesis >/dev/null 2>&1; then
    log "installing Schemathesis (the OpenAPI contract test)"
    python3 -m pip install --quiet 'schemathesis>=4,<5' >/dev/null 2>&1 \
      || python3 -m pip install --quiet --user 'schemathesis>=4,<5' >/dev/null 2>&1 \
      || python3 -m pip install --quiet --break-system-packages 'schemathesis>=4,<5' >/dev/null 2>&1 \
      || true
    # A --user install puts the command in ~/.local/bin.
    export PATH="$HOME/.local/bin:$PATH"
    command -v schemathesis >/dev/null 2>&1 \
      || { log "schemathesis is not on PATH after installing it with $(command -v python3)"; exit 1; }
  fi
}

# A private PostgreSQL cluster for the tests, on loopback only, trusted local connections.
start_postgres() {
  if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
    log "installing PostgreSQL (Debian package)"
    apt_install postgresql
  fi
  local bin data port
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  data=${ACCORD_TEST_PG_DIR:-/tmp/accord-test-pg}
  port=${ACCORD_TEST_PG_PORT:-54329}
  local as_pg=()
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home /nonexistent postgres
    as_pg=(runuser -u postgres --)
  fi
  if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$port"; then
    log "starting PostgreSQL on 127.0.0.1:$port ($data)"
    rm -rf "$data" && mkdir -p "$data"
    [ "$(id -u)" -eq 0 ] && chown postgres "$data"
    "${as_pg[@]}" "$bin/initdb" -D "$data" -U accord --auth=trust >/dev/null
    "${as_pg[@]}" "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w \
      -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
  else
    # A cluster left running by an earlier run still holds the databases its tests cloned
    # (accord_test_*, and each process's accord_template_*): drop them, or they fill the disk
    # run after run. Nothing else on this private cluster is named so.
    local stale
    stale=$("$bin/psql" -X -q -h 127.0.0.1 -p "$port" -U accord -d postgres -Atc \
      "SELECT datname FROM pg_database WHERE datname LIKE 'accord\_test\_%' OR datname LIKE 'accord\_template\_%'")
    if [ -n "$stale" ]; then
      log "dropping $(printf '%s\n' "$stale" | wc -l) test databases of earlier runs"
      printf '%s\n' "$stale" | xargs -P 4 -I{} "$bin/psql" -X -q -h 127.0.0.1 -p "$port" \
        -U accord -d postgres -c 'DROP DATABASE IF EXISTS "{}" WITH (FORCE)' >/dev/null
    fi
  fi
  export ACCORD_TEST_PG_URL="postgres://accord@127.0.0.1:$port/postgres"
  # pg_dump and pg_restore of the same version, for tests/external/backup.rs.
  export ACCORD_TEST_PG_BIN="$bin"
}

need_chromium
need_axe
need_oidc_provider
need_smtp_server
need_schemathesis
start_postgres

# A clean machine builds everything once: incremental compilation would only add its caches to
# the disk. Set CARGO_INCREMENTAL=1 to keep them between runs of your own.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

# With arguments, exactly what they select (`--test external`).
if [ "$#" -gt 0 ]; then
  log "cargo test $*"
  exec cargo test "$@"
fi

# Every crate's unit tests (the service, its pure core, the migrations), then the two
# integration binaries at once. Not the benches: they are measurements, built by `cargo bench`
# (docs/benchmarks.md) and checked by clippy. The two binaries each spend much of their time
# waiting (on a browser, an OpenID provider, Schemathesis, a database's fsync), so on two cores
# together they take little more than the longer alone; each line of theirs is prefixed with
# its binary's name, and each ends with its own summary.
log "cargo test --workspace --lib --bins --tests --no-run"
cargo test --workspace --lib --bins --tests --no-run
log "cargo test --workspace --lib --bins"
cargo test --workspace --lib --bins
log "cargo test --test everyday, and at the same time cargo test --test external"
run_prefixed() { # binary, then arguments for its tests
  local binary=$1
  shift
  cargo test --test "$binary" -- "$@" 2>&1 | sed -u "s/^/[$binary] /"
}
# `everyday` with two test threads a core: about a seventh of its cases' time is waiting (on a
# database that is not there, a connection's deadline), not computing.
run_prefixed everyday --test-threads "$(($(nproc) * 2))" &
everyday=$!
run_prefixed external &
external=$!
failed=()
wait "$everyday" || failed+=(everyday)
wait "$external" || failed+=(external)
if [ "${#failed[@]}" -gt 0 ]; then
  log "failed: ${failed[*]} (rerun one: scripts/test.sh --test ${failed[0]})"
  exit 1
fi
log "every test passed"
