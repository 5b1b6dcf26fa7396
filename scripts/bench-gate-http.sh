#!/usr/bin/env bash
# The gate over HTTP on loopback, with durable audit on SQLite: decisions per second and
# latency at 64 concurrent connections, against the same server's /healthz in the same run.
#
#   scripts/bench-gate-http.sh [SECONDS]     (default 15 per run)
#
# Installs wrk (Debian package) if missing; builds the release binary; prints a summary.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-15}
conns=64

if ! command -v wrk >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --quiet

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
db="sqlite://$work/accord.db?mode=rwc"
token=$(./target/release/accord token create --role gate_client --name bench --party camden --database "$db" 2>/dev/null)
./target/release/accord serve --listen 127.0.0.1:0 --database "$db" --agreements agreements \
  >"$work/out" 2>"$work/log" &
server=$!
for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/^accord listening on //p' "$work/out")

cat >"$work/check.lua" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
wrk.body = '{"agreement":"camden-foodbank-referrals","from":"camden","to":"foodbank","purpose":"food-parcels","fields":["full-name","address","dietary-needs"]}'
LUA

run() { wrk -t2 -c"$conns" -d"${secs}s" --latency "$@"; }
echo "== /healthz"; run "$base/healthz" | tee "$work/health"
echo "== /api/v1/flows/check"; run -s "$work/check.lua" "$base/api/v1/flows/check" | tee "$work/check"

rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$1"; }
decisions=$(./target/release/accord audit verify --database "$db" | sed -n 's/.*verified: \([0-9]*\) records.*/\1/p')
echo
echo "summary ($conns connections, ${secs}s each, $(nproc) cores shared by wrk and the server):"
echo "  healthz:   $(rps "$work/health") req/s, p50 $(pct "$work/health" 50%), p99 $(pct "$work/health" 99%)"
echo "  decisions: $(rps "$work/check") req/s, p50 $(pct "$work/check" 50%), p99 $(pct "$work/check" 99%)"
awk -v a="$(rps "$work/check")" -v b="$(rps "$work/health")" 'BEGIN { printf "  ratio decisions/healthz: %.2f\n", a / b }'
echo "  audit log after the run: $decisions records, chain verified"
