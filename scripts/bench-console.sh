#!/usr/bin/env bash
# The web console at a region's scale: 1,000 agreements (copies of the foodbank sample, each with
# its own id), and N holdings with N audit records made the real way, by N `POST /flows`
# through the gate (each records one holding about one subject and appends one `gate.send`
# record to the audit log). Then an IG officer signs in, as a person would, and the main
# pages are timed over loopback against /healthz in the same run.
#
#   scripts/bench-console.sh [N ...]        (default: 100000 1000000)
#
# Then N/10 access requests are made through the API and the officers' queue is timed.
#
# One subject in every thousand flows is the same person (`R-FREQUENT`), so a holdings search
# that finds many holdings is timed beside one that finds a single holding. Installs wrk
# (Debian package) if missing, to send the flows; needs python3 (standard library only).
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(100000 1000000)
agreements=1000

if ! command -v wrk >/dev/null 2>&1; then
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq wrk >/dev/null
fi
cargo build --release --quiet
bin=$PWD/target/release/accord

# Runs wrk with the script $2 against $3 until table $1 holds $4 rows (wrk itself would wait out
# its whole duration after its threads stop), then stops it.
run_until() {
  local table=$1 lua=$2 url=$3 want=$4
  wrk -t2 -c16 -d3600s -s "$lua" "$url" >"$work/wrk.out" 2>&1 &
  local load=$!
  while :; do
    sleep 1
    kill -0 "$load" 2>/dev/null || { echo "wrk stopped early:"; cat "$work/wrk.out"; exit 1; }
    have=$(python3 -c "import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute('SELECT count(*) FROM $table').fetchone()[0])" "$work/accord.db")
    [ "$have" -ge "$want" ] && break
  done
  kill "$load" 2>/dev/null; wait "$load" 2>/dev/null || true
}

for n in "${sizes[@]}"; do
  work=$(mktemp -d)
  trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
  mkdir -p "$work/agreements"
  python3 - "$agreements" "$work/agreements" <<'PY'
import sys, pathlib
n, out = int(sys.argv[1]), pathlib.Path(sys.argv[2])
text = pathlib.Path("agreements/camden-foodbank-referrals.yaml").read_text()
assert "id: camden-foodbank-referrals" in text
for i in range(n):
    (out / f"a{i:05}.yaml").write_text(
        text.replace("id: camden-foodbank-referrals", f"id: foodbank-{i:05}", 1))
PY
  db="sqlite://$work/accord.db?mode=rwc"
  "$bin" serve --listen 127.0.0.1:0 --database "$db" --agreements "$work/agreements" \
    --outbox "$work/outbox" >"$work/out" 2>"$work/log" &
  server=$!
  for _ in $(seq 6000); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.01; done
  base=$(sed -n 's/^accord listening on //p' "$work/out")
  gate=$("$bin" token create --role gate_client --name bench --party camden --database "$db" 2>/dev/null)
  link=$("$bin" user create --email officer@camden.example --name "Bench Officer" \
    --role ig_officer --public-url "$base" --database "$db" 2>/dev/null)

  # Flows until N holdings: agreements and subjects vary per request (each thread numbers its own).
  cat >"$work/flows.lua" <<LUA
local threads = {}
function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end
function init(args) sent = 0 end
function request()
  sent = sent + 1
  local k = id * 100000000 + sent
  local subject = (k % 1000 == 0) and "R-FREQUENT" or string.format("R-%07d", k)
  local body = string.format('{"agreement":"foodbank-%05d","from":"camden","to":"foodbank",'
    .. '"purpose":"food-parcels","fields":["full-name","address"],'
    .. '"records":[{"full-name":"A. Resident","address":"1 St Pancras Way"}],'
    .. '"subject_refs":["%s"]}', k % $agreements, subject)
  return wrk.format("POST", "/api/v1/flows",
    {["Content-Type"] = "application/json", ["Authorization"] = "Bearer $gate"}, body)
end
function response(status)
  if status ~= 200 then print("flow answered " .. status); os.exit(1) end
end
LUA
  t0=$(date +%s.%N)
  run_until holdings "$work/flows.lua" "$base" "$n"
  t1=$(date +%s.%N)
  echo "== $agreements agreements, $n flows, $((n / 10)) access requests"
  awk -v a="$t0" -v b="$t1" -v n="$n" 'BEGIN { printf "sent %d flows in %.0f s (%.0f/s)\n", n, b - a, n / (b - a) }'

  # N/10 access requests through the API (complete answers), then marked submitted in one
  # statement (the benchmark's shortcut: the queue shows submitted requests).
  python3 - "$work/request.json" <<'PY'
import json, sys
answers = {
    "org_name": "Hope Foodbank", "org_address": "1 High Street", "org_sector": "vcs",
    "iso27001": "no", "requester_name": "Ann Lee", "requester_role": "Manager",
    "requester_email": "ann@hope.example", "dpo_name": "Dan Poe", "dpo_email": "dpo@hope.example",
    "target": "agreement:foodbank-00001", "purpose": "Parcels", "benefits": "Fed",
    "necessity": "Needed", "data": ["full-name", "address"], "subjects": ["residents"],
    "volume": "200 a month", "frequency": "on_demand", "article6": "public_task",
    "legal_power": "Care Act 2014 s.1", "keep_for": "P6M", "then": "delete",
    "deletion_method": "manual", "onward": "no", "processors": "no", "rights": "Our DPO",
    "rights_email": "rights@hope.example", "start": "2030-01-01", "end": "2031-01-01",
}
json.dump({"email": "ann@hope.example", "answers": answers}, open(sys.argv[1], "w"))
PY
  cat >"$work/requests.lua" <<LUA
local f = io.open("$work/request.json"); local body = f:read("*a"); f:close()
wrk.method = "POST"
wrk.body = body
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $gate"
function response(status)
  if status ~= 201 then print("access request answered " .. status); os.exit(1) end
end
LUA
  t0=$(date +%s.%N)
  run_until access_requests "$work/requests.lua" "$base/api/v1/access-requests" "$((n / 10))"
  t1=$(date +%s.%N)
  awk -v a="$t0" -v b="$t1" -v n="$((n / 10))" 'BEGIN { printf "made %d access requests in %.0f s (%.0f/s)\n", n, b - a, n / (b - a) }'
  mid=$(python3 - "$work/accord.db" "$((n / 20))" <<'PY'
import sqlite3, sys, uuid
db = sqlite3.connect(sys.argv[1])
db.execute("UPDATE access_requests SET status = 'submitted', submitted_at = created_at")
db.commit()
(mid,) = db.execute("SELECT id FROM access_requests ORDER BY id LIMIT 1 OFFSET ?", (int(sys.argv[2]),)).fetchone()
print(uuid.UUID(bytes=mid) if isinstance(mid, bytes) else mid)
PY
)

  python3 - "$base" "$link" "$n" "$mid" <<'PY'
import http.cookiejar, re, sys, time, urllib.parse, urllib.request

base, link, n, mid = sys.argv[1], sys.argv[2].strip(), int(sys.argv[3]), sys.argv[4]
jar = http.cookiejar.CookieJar()
web = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))

def get(path):
    t = time.perf_counter()
    with web.open(base + path if path.startswith("/") else path, timeout=60) as r:
        body = r.read().decode()
    return time.perf_counter() - t, body

def post(path, fields):
    data = urllib.parse.urlencode(fields).encode()
    with web.open(base + path if path.startswith("/") else path, data=data, timeout=60) as r:
        return r.read().decode()

def csrf(page):
    return re.search(r'name="csrf" value="([^"]+)"', page).group(1)

password = "correct horse battery staple"
_, page = get(link)
post(link, {"csrf": csrf(page), "password": password, "confirm": password})
_, page = get("/sign-in")
home = post("/sign-in", {"csrf": csrf(page), "email": "officer@camden.example", "password": password})
assert "Your work" in home, home[:400]

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))] * 1000

base_p95 = None
def bench(label, path, expect, reps=40):
    _, body = get(path)
    assert expect in body, f"{path}: {expect!r} not in the page"
    ts = [get(path)[0] for _ in range(reps)]
    global base_p95
    if base_p95 is None:
        base_p95 = pct(ts, 95)
    print(f"{label:<46} p50 {pct(ts, 50):7.2f} ms   p95 {pct(ts, 95):7.2f} ms"
          f"   p95/healthz {pct(ts, 95) / base_p95:6.1f}")

bench("/healthz (baseline)", "/healthz", "ok")
bench("home (my work: counts)", "/", "Your work")
bench("an agreement's page", "/agreements/foodbank-00500", "foodbank-00500")
bench("agreements list, page 1", "/agreements", "agreements match")
bench("agreements list, page 10", "/agreements?page=10", "agreements match")
bench("audit log, first page", "/audit", "Audit log")
bench(f"audit log, a page after record {n // 2}", f"/audit?after={n // 2}", "Audit log")
bench("holdings search, one holding", "/holdings?subject=R-0000007", "R-0000007")
bench("holdings search, R-FREQUENT, page 1", "/holdings?subject=R-FREQUENT", "R-FREQUENT")
bench("holdings search, R-FREQUENT, page 10", "/holdings?subject=R-FREQUENT&page=10", "R-FREQUENT")
_, queue = get("/access-requests")
first = re.search(r'href="/access-requests/([0-9a-f-]{36})"', queue).group(1)
bench(f"access requests ({n // 10}), queue page 1", "/access-requests", "requests match")
bench("access requests, ?status=submitted", "/access-requests?status=submitted", "requests match")
bench("access requests, the middle page by key", f"/access-requests?after={mid}", "requests match")
bench("access requests, one request", f"/access-requests/{first}", "Hope Foodbank")
PY
  kill "$server"; wait "$server" 2>/dev/null || true
  rm -rf "$work"; trap - EXIT
done
