#!/usr/bin/env bash
# The public transparency register at two sizes: N published agreements in force (copies of the
# foodbank sample, each with its own id and title), imported by `serve` from a folder, with
# some gate traffic so the counts have rows, and one agreement of other organisations (for the
# organisation filter's and the search's rare case). Each answer of the register is fetched 60 times
# over loopback and timed against /healthz in the same run (a ratio, since these machines are
# noisy). The goal: each answer costs the same at either size.
#
#   scripts/bench-transparency.sh [N ...]        (default: 10 10000)
#
# Needs python3 (standard library only).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(10 10000)
cargo build --release --quiet
bin=$PWD/target/release/accord

for n in "${sizes[@]}"; do
  work=$(mktemp -d)
  trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
  mkdir -p "$work/agreements"
  python3 - "$n" "$work/agreements" <<'PY'
import sys, pathlib
n, out = int(sys.argv[1]), pathlib.Path(sys.argv[2])
text = pathlib.Path("agreements/camden-foodbank-referrals.yaml").read_text()
for i in range(n):
    (out / f"a{i:05}.yaml").write_text(
        text.replace("id: camden-foodbank-referrals", f"id: foodbank-{i:05}", 1)
            .replace("title: Emergency food support referrals", f"title: Food support referrals {i:05}", 1))
# One agreement of other organisations (leeds among them), after every copy in title order.
(out / "hospital-discharge.yaml").write_text(
    pathlib.Path("agreements/hospital-discharge.yaml").read_text()
        .replace("title: Leeds discharge", "title: Zz Leeds discharge", 1))
PY
  db="sqlite://$work/accord.db?mode=rwc"
  started=$(date +%s)
  "$bin" serve --listen 127.0.0.1:0 --database "$db" --agreements "$work/agreements" \
    --outbox "$work/outbox" >"$work/out" 2>"$work/log" &
  server=$!
  for _ in $(seq 60000); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.01; done
  base=$(sed -n 's/^accord listening on //p' "$work/out")
  echo "N = $n: imported and listening after $(( $(date +%s) - started )) s"
  gate=$("$bin" token create --role gate_client --name bench --party camden --database "$db" 2>/dev/null)
  python3 - "$base" "$gate" "$n" <<'PY'
import sys, time, json, urllib.request
base, gate, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
last = f"foodbank-{n - 1:05}"
# Traffic for the counts: 200 decisions spread over the agreements, and 50 on the last one.
for k in range(250):
    agreement = last if k >= 200 else f"foodbank-{(k * 7919) % n:05}"
    body = json.dumps({"agreement": agreement, "from": "camden", "to": "foodbank",
                       "purpose": "food-parcels", "fields": ["full-name"]}).encode()
    req = urllib.request.Request(base + "/api/v1/flows/check", data=body, method="POST",
        headers={"authorization": "Bearer " + gate, "content-type": "application/json"})
    urllib.request.urlopen(req).read()

def get(path):
    t = time.perf_counter()
    with urllib.request.urlopen(base + path) as r:
        body = r.read()
    return (time.perf_counter() - t) * 1000, body

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]

# The first list after start works out the organisations it offers from every published
# agreement (then keeps them until the registry or the date changes): timed once, cold.
cold = get("/transparency")[0]
print(f"{'/transparency, first after start (cold)':<44} {cold:7.2f} ms")

base_p95 = None
def bench(label, path, reps=60):
    global base_p95
    for _ in range(5):
        get(path)
    ts = [get(path)[0] for _ in range(reps)]
    if base_p95 is None:
        base_p95 = pct(ts, 95)
    print(f"{label:<44} p50 {pct(ts, 50):7.2f} ms   p95 {pct(ts, 95):7.2f} ms"
          f"   p95/healthz {pct(ts, 95) / base_p95:6.1f}")

bench("/healthz (baseline)", "/healthz")
bench("/transparency (first page, 20)", "/transparency")
bench("/transparency, a page after the middle", f"/transparency?after=Food+support+referrals+{n // 2:05}&after_id=foodbank-{n // 2:05}")
bench("/transparency?organisation=camden (all N)", "/transparency?organisation=camden")
bench("/transparency?organisation=leeds (1, last)", "/transparency?organisation=leeds")
bench("/transparency?q=food (all N)", "/transparency?q=food")
bench("/transparency?q=leeds (1, last)", "/transparency?q=leeds")
bench("/transparency?q=nowhere (none)", "/transparency?q=nowhere")
bench("/transparency/ID (the last agreement)", f"/transparency/{last}")
bench("/transparency/ID/counts.csv", f"/transparency/{last}/counts.csv")
bench("/transparency.csv (first 500)", "/transparency.csv", reps=20)
bench("/transparency/feed.atom (newest 50)", "/transparency/feed.atom", reps=20)
bench("/transparency/feed.atom?q=food (all N)", "/transparency/feed.atom?q=food", reps=20)
bench("/transparency/feed.atom?q=leeds (1, last)", "/transparency/feed.atom?q=leeds", reps=20)
PY
  kill "$server"; wait "$server" 2>/dev/null || true
  rm -rf "$work"
done
