#!/usr/bin/env bash
# The registry at a region's scale: N agreements (copies of the foodbank sample, each with its
# own id) in a fresh agreements folder, served from SQLite by the release binary.
#
#   scripts/bench-registry-scale.sh [N ...]        (default: 1000 10000)
#
# For each N it reports: the cold import (serve start to listening) beside `accord check` of the
# same folder in the same run, a restart with nothing
# changed, p50/p95 of list pages (first, middle and last page by number, a page by key, each
# status filter, a party filter, /holdings, /audit), one suspension and one reinstatement
# (each a registry change that updates the gate's index), and register.csv. /healthz is
# timed in the same run as the baseline. Needs python3 (standard library only).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(1000 10000)
cargo build --release --quiet
bin=./target/release/accord

for n in "${sizes[@]}"; do
  work=$(mktemp -d)
  mkdir -p "$work/agreements"
  python3 - "$n" "$work/agreements" <<'PY'
import sys, pathlib
n, out = int(sys.argv[1]), pathlib.Path(sys.argv[2])
text = pathlib.Path("agreements/camden-foodbank-referrals.yaml").read_text()
assert "id: camden-foodbank-referrals" in text
for i in range(n):
    (out / f"a{i:05}.yaml").write_text(
        text.replace("id: camden-foodbank-referrals", f"id: foodbank-{i:05}", 1))
PY
  db="sqlite://$work/accord.db?mode=rwc"
  start_serve() {
    local t0=$(date +%s.%N)
    RUST_LOG=info,sqlx=warn,sea_orm=warn,poem=warn,accord::registry::gate_index=debug \
      "$bin" serve --listen 127.0.0.1:0 --database "$db" --agreements "$work/agreements" \
      --outbox "$work/outbox" >"$work/out" 2>"$work/log" &
    echo $! >"$work/pid"
    for _ in $(seq 3000); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.01; done
    local t1=$(date +%s.%N)
    awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
  }
  stop_serve() {
    local pid; pid=$(cat "$work/pid")
    kill "$pid" 2>/dev/null || true
    while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done
  }
  # The server runs in the command substitution's subshell's child; its pid is in $work/pid.
  # Baseline in the same run: checking the same folder (read and parse every file, no database).
  c0=$(date +%s.%N); "$bin" check "$work/agreements" >/dev/null; c1=$(date +%s.%N)
  check=$(awk -v a="$c0" -v b="$c1" 'BEGIN { printf "%.2f", b - a }')
  cold=$(start_serve)
  stop_serve; : >"$work/out"
  warm=$(start_serve)
  trap 'stop_serve; rm -rf "$work"' EXIT
  base=$(sed -n 's/^accord listening on //p' "$work/out")
  officer=$("$bin" token create --role ig_officer --name bench --database "$db" 2>/dev/null)
  echo "== N = $n agreements"
  echo "cold import (serve start to listening): ${cold} s; restart, nothing changed: ${warm} s"
  echo "baseline, accord check of the same folder: ${check} s (import / check: $(awk -v a="$cold" -v b="$check" 'BEGIN { printf "%.1f", a / b }'))"
  python3 - "$base" "$officer" "$n" "$work/log" <<'PY'
import json, re, statistics, sys, time, urllib.request

base, token, n, server_log = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
H = {"Authorization": "Bearer " + token}

def call(path, method="GET", body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={**H, "Content-Type": "application/json"})
    t = time.perf_counter()
    with urllib.request.urlopen(req, timeout=60) as r:
        payload = r.read()
    return time.perf_counter() - t, payload

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] * 1000

def bench(label, path, reps=40):
    call(path)
    ts = [call(path)[0] for _ in range(reps)]
    print(f"{label:<44} p50 {pct(ts, 50):7.2f} ms   p95 {pct(ts, 95):7.2f} ms")
    return ts

bench("/healthz (baseline)", "/healthz")
last = (n + 49) // 50
bench("agreements page 1", "/api/v1/agreements?per_page=50")
bench(f"agreements page {last // 2} (by number)", f"/api/v1/agreements?per_page=50&page={last // 2}")
bench(f"agreements page {last} (by number, last)", f"/api/v1/agreements?per_page=50&page={last}")
mid = json.loads(call(f"/api/v1/agreements?per_page=50&page={last // 2}")[1])["next_after"]
bench("agreements page by key (after=mid)", f"/api/v1/agreements?per_page=50&after={mid}")
for s in ["active", "draft", "suspended", "expired", "terminated"]:
    bench(f"agreements ?status={s}", f"/api/v1/agreements?status={s}&per_page=50")
bench("agreements ?party=foodbank&status=active", "/api/v1/agreements?party=foodbank&status=active")
bench("holdings page 1", "/api/v1/holdings?per_page=50")
bench("audit, 50 records", "/api/v1/audit?limit=50")
target = "foodbank-%05d" % (n // 2)
ch = []
for i in range(10):
    t, _ = call(f"/api/v1/agreements/{target}/suspend", "POST", {"reason": f"bench {i}"})
    ch.append(t)
    t, _ = call(f"/api/v1/agreements/{target}/reinstate", "POST", {"reason": f"bench {i}"})
    ch.append(t)
print(f"{'suspend/reinstate (a registry change)':<44} p50 {pct(ch, 50):7.2f} ms   p95 {pct(ch, 95):7.2f} ms")
# The server's own timing of each index update (debug log), from reading the change to the swap.
updates = [int(m) / 1e6 for m in re.findall(r"gate index updated micros=(\d+)", open(server_log).read())][-20:]
if updates:
    print(f"{'  of which the gate index update':<44} p50 {pct(updates, 50):7.2f} ms   p95 {pct(updates, 95):7.2f} ms")
t, body = call("/api/v1/register.csv")
print(f"{'register.csv':<44} {t * 1000:7.1f} ms, {len(body)} bytes, {body.count(chr(10).encode()) - 1} rows")
PY
  stop_serve
  rm -rf "$work"; trap - EXIT
done
