#!/usr/bin/env bash
# The whole test suite, from a fresh machine: installs what the tests need (a real headless
# Chromium for the DPIA print test), then runs every test target once.
#
#   scripts/test.sh            # everything
#   scripts/test.sh --test dpia   # extra arguments go to `cargo test`
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

need_chromium() {
  if ! command -v chromium >/dev/null 2>&1 && ! command -v chromium-browser >/dev/null 2>&1; then
    log "installing headless Chromium (Debian package)"
    apt_install chromium
  fi
}

need_chromium

log "cargo test"
cargo test --all-targets "$@"
