#!/usr/bin/env bash
# The gate under hostile sizes, over HTTP on loopback with durable audit on SQLite:
#  1. time per /flows/check at 10 and at 10,000 requested fields (the cap), against /healthz
#     in the same run (a ratio, since the machine is noisy), so the growth with size is seen;
#  2. four concurrent 100,000-field questions (10x past the cap) fired while /healthz is
#     polled: the worst /healthz latency while they run, and what they were answered.
#
#   scripts/bench-gate-flood.sh [REPEATS]     (default 30 requests per size)
#
# Builds the release binary; needs only python3's standard library.
set -euo pipefail
cd "$(dirname "$0")/.."
repeats=${1:-30}
cargo build --release --quiet

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
db="sqlite://$work/accord.db?mode=rwc"
token=$(./target/release/accord token create --role gate_client --name bench --party camden --force --database "$db" 2>/dev/null)
./target/release/accord serve --listen 127.0.0.1:0 --database "$db" --agreements agreements \
  --outbox "$work/outbox" >"$work/out" 2>"$work/log" &
server=$!
for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/^accord listening on //p' "$work/out")

python3 - "$base" "$token" "$repeats" <<'PY'
import json, statistics, sys, threading, time, urllib.request, urllib.error

base, token, repeats = sys.argv[1], sys.argv[2], int(sys.argv[3])

def question(n):
    fields = ["full-name", "address"] + [f"field-{i:06}" for i in range(max(0, n - 2))]
    return json.dumps({"agreement": "camden-foodbank-referrals", "from": "camden", "to": "foodbank",
                       "purpose": "food-parcels", "fields": fields[:n]}).encode()

def post(body):
    req = urllib.request.Request(base + "/api/v1/flows/check", data=body, method="POST",
                                 headers={"Content-Type": "application/json",
                                          "Authorization": "Bearer " + token})
    t = time.perf_counter()
    try:
        with urllib.request.urlopen(req, timeout=120) as r:
            r.read(); status = r.status
    except urllib.error.HTTPError as e:
        e.read(); status = e.code
    return time.perf_counter() - t, status

def healthz():
    t = time.perf_counter()
    with urllib.request.urlopen(base + "/healthz", timeout=120) as r:
        r.read()
    return time.perf_counter() - t

def median_ms(xs):
    return statistics.median(xs) * 1000

health = [healthz() for _ in range(repeats)]
rows = []
for n in (10, 10_000):
    body = question(n)
    times, statuses = zip(*(post(body) for _ in range(repeats)))
    rows.append((n, median_ms(times), max(times) * 1000, set(statuses), len(body)))
h = median_ms(health)
print(f"/healthz median: {h:.2f} ms over {repeats} requests")
print(f"{'fields':>8} {'body bytes':>11} {'median ms':>10} {'max ms':>8} {'x healthz':>10} statuses")
for n, med, mx, st, size in rows:
    print(f"{n:>8} {size:>11} {med:>10.2f} {mx:>8.2f} {med / h:>10.1f} {sorted(st)}")
per_field = (rows[1][1] - rows[0][1]) / (10_000 - 10) * 1000
print(f"growth: {per_field:.2f} us per extra field (linear fit between the two sizes)")

flood = question(100_000)
answers, probes, done = [], [], threading.Event()
def attacker():
    answers.append(post(flood))
threads = [threading.Thread(target=attacker) for _ in range(4)]
def prober():
    while not done.is_set():
        probes.append(healthz())
p = threading.Thread(target=prober); p.start()
start = time.perf_counter()
for t in threads: t.start()
for t in threads: t.join()
elapsed = time.perf_counter() - start
time.sleep(0.05); done.set(); p.join()
print(f"4 concurrent 100,000-field questions ({len(flood)} bytes each): answered "
      f"{sorted(s for _, s in answers)} in {elapsed * 1000:.1f} ms (slowest "
      f"{max(t for t, _ in answers) * 1000:.1f} ms); /healthz during them: "
      f"{len(probes)} probes, worst {max(probes) * 1000:.2f} ms, median {median_ms(probes):.2f} ms")
PY
