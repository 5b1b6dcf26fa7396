#!/usr/bin/env bash
# The gate over HTTP on loopback, with durable audit on SQLite: decisions per second and
# latency at 64 concurrent connections, against the same server's /healthz in the same run.
#
#   scripts/bench-gate-http.sh [SECONDS] [ROUNDS]     (default 8 s per run, 5 rounds)
#
# Each round measures /healthz and then the gate for SECONDS each, so both see the same
# machine at nearly the same time; the summary gives each round's figures and the medians.
# Installs wrk (Debian package) if missing; builds the release binary.
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-8}
rounds=${2:-5}
conns=64

if ! command -v wrk >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --quiet

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
db="sqlite://$work/accord.db?mode=rwc"
token=$(./target/release/accord token create --role gate_client --name bench --party camden --force --database "$db" 2>/dev/null)
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
rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
pct() { awk -v p="$2" '$1 == p {print $2}' "$1"; }
non2xx() { awk '/Non-2xx/ {print $4}' "$1"; }
median() { sort -g | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }

printf '%-6s %12s %12s %10s %10s %7s\n' round healthz/s decisions/s p50 p99 ratio
for r in $(seq "$rounds"); do
  run "$base/healthz" >"$work/health.$r"
  run -s "$work/check.lua" "$base/api/v1/flows/check" >"$work/check.$r"
  if [ -n "$(non2xx "$work/check.$r")" ]; then
    echo "round $r: the gate answered non-2xx:"; cat "$work/check.$r"; exit 1
  fi
  h=$(rps "$work/health.$r"); d=$(rps "$work/check.$r")
  ratio=$(awk -v a="$d" -v b="$h" 'BEGIN { printf "%.3f", a / b }')
  echo "$ratio" >>"$work/ratios"; echo "$h" >>"$work/healths"; echo "$d" >>"$work/decisions"
  printf '%-6s %12s %12s %10s %10s %7s\n' "$r" "$h" "$d" "$(pct "$work/check.$r" 50%)" \
    "$(pct "$work/check.$r" 99%)" "$ratio"
done

decisions=$(./target/release/accord audit verify --database "$db" | sed -n 's/.*verified: \([0-9]*\) records.*/\1/p')
echo
echo "summary ($conns connections, ${secs}s per run, $rounds rounds, $(nproc) cores shared by wrk and the server):"
echo "  median healthz:   $(median <"$work/healths") req/s"
echo "  median decisions: $(median <"$work/decisions") req/s"
echo "  median ratio decisions/healthz: $(median <"$work/ratios")"
echo "  audit log after the run: $decisions records, chain verified"
