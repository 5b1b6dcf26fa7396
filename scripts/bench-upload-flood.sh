#!/usr/bin/env bash
# Hostile uploads against the rest of the service (issue #27): an officer's token uploads YAML
# of 90,000 keys (900 KB, under the 1 MiB cap and the body limit), four at once, through the
# real API (`POST /api/v1/agreements`), while /healthz is asked, one request at a time 10 ms
# apart, on a kept-alive connection. Each file has two phases: bursts (four uploads started
# together every 0.5 s) and a flood (four uploaders, each uploading again as soon as answered). The same sampling without the flood, just
# before it in the same run, is the baseline: the figure to compare across machines is the
# ratio.
#
#   scripts/bench-upload-flood.sh [SECONDS] [BACKENDS]     (default 20 s per phase, "sqlite")
#
# BACKENDS is "sqlite", "postgres" or both: PostgreSQL is a fresh database on the private
# cluster on 127.0.0.1:54329 that scripts/test.sh starts (started the same way if none runs).
# Two files, each a phase: the issue's (90,000 keys in one mapping; refused at the key past the
# cap), and 90,000 keys in ten mappings of 9,000 (within the cap, so the whole file is read and
# each mapping searched for repeated keys). Prints, per phase, /healthz p50/p99/max with and
# without the flood, and how many uploads were answered, with what, and how long each took.
#
# ACCORD_BIN=path measures that binary instead of building this tree's release binary (to time
# an older build the same way). Needs python3 (standard library only).
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-20}
backends=${2:-sqlite}

log() { printf '== %s\n' "$*" >&2; }

# As scripts/kill-trials.sh: a private cluster on loopback, trusted local connections.
start_postgres() {
  if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
    log "installing PostgreSQL (Debian package)"
    local sudo=""; [ "$(id -u)" -eq 0 ] || sudo=sudo
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
  fi
  pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
  local data=${ACCORD_TEST_PG_DIR:-/tmp/accord-test-pg}
  pgport=${ACCORD_TEST_PG_PORT:-54329}
  local as_pg=()
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home /nonexistent postgres
    as_pg=(runuser -u postgres --)
  fi
  if ! "$pgbin/pg_isready" -q -h 127.0.0.1 -p "$pgport"; then
    log "starting PostgreSQL on 127.0.0.1:$pgport ($data)"
    rm -rf "$data" && mkdir -p "$data"
    [ "$(id -u)" -eq 0 ] && chown postgres "$data"
    "${as_pg[@]}" "$pgbin/initdb" -D "$data" -U accord --auth=trust >/dev/null
    "${as_pg[@]}" "$pgbin/pg_ctl" -D "$data" -l "$data/server.log" -w \
      -o "-p $pgport -k $data -c listen_addresses=127.0.0.1 -c max_connections=300" start >/dev/null
  fi
}
psql_at() { psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$pgport" -U accord -d "$1" -Atc "$2"; }

[[ " $backends " == *" postgres "* ]] && start_postgres
if [ -n "${ACCORD_BIN:-}" ]; then
  accord=$ACCORD_BIN
else
  cargo build --release --quiet
  accord=$PWD/target/release/accord
fi

work=$(mktemp -d)
server=""
pgdb=""
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null || true
  [ -n "$pgdb" ] && psql_at postgres "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

python3 - "$work" <<'PY'
import sys, pathlib
work = pathlib.Path(sys.argv[1])
# The issue's file: 90,000 keys in one mapping.
one = "accord: 1\n" + "".join(f"k{i:05}: x\n" for i in range(90_000))
# 90,000 keys in ten mappings of 9,000, each under an unknown top-level key.
ten = "accord: 1\n" + "".join(
    (f"m{i // 9000}:\n" if i % 9000 == 0 else "") + f" k{i:05}: x\n" for i in range(90_000))
for name, text in (("one-mapping", one), ("ten-mappings", ten)):
    assert len(text) < 1024 * 1024, (name, len(text))
    (work / f"{name}.yaml").write_text(text)
PY

for backend in $backends; do
  if [ "$backend" = sqlite ]; then
    db="sqlite://$work/accord.db?mode=rwc"
  else
    pgdb="accord_flood_$$"
    psql_at postgres "CREATE DATABASE $pgdb"
    db="postgres://accord@127.0.0.1:$pgport/$pgdb"
  fi
  token=$("$accord" token create --role ig_officer --name flood --database "$db" 2>"$work/token.log")
  "$accord" serve --listen 127.0.0.1:0 --database "$db" --agreements agreements \
    --outbox "$work/outbox" >"$work/out" 2>"$work/log" &
  server=$!
  for _ in $(seq 1200); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.05; done
  base=$(sed -n 's/^accord listening on //p' "$work/out")
  [ -n "$base" ] || { log "serve did not start:"; cat "$work/log" >&2; exit 2; }
  echo "$backend: $accord, $(nproc) cores shared by the server and the load, ${secs}s per phase," \
    "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"

  python3 -u - "$base" "$token" "$secs" "$work" <<'PY'
import http.client, multiprocessing, sys, time, urllib.parse

base, token, secs, work = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
url = urllib.parse.urlsplit(base)

def connect():
    return http.client.HTTPConnection(url.hostname, url.port, timeout=600)

def probe(seconds):
    """/healthz every 10 ms on one kept-alive connection: each answer's time in ms."""
    conn, times, end = connect(), [], time.monotonic() + seconds
    while time.monotonic() < end:
        t = time.perf_counter()
        conn.request("GET", "/healthz")
        r = conn.getresponse(); r.read()
        assert r.status == 200, r.status
        times.append((time.perf_counter() - t) * 1000)
        time.sleep(0.01)
    return times

def upload(body, until, out, tick=0.0):
    """Uploads `body` again and again until `until` (the last one may end after it); puts
    the list of (status, ms) of its answers on `out` once done. With `tick`, each upload
    starts on the next multiple of `tick` seconds of the clock, so uploaders started together
    upload at the same moments: bursts of four at once."""
    conn, answers = connect(), []
    headers = {"Content-Type": "application/yaml", "Authorization": "Bearer " + token}
    while time.time() < until:
        if tick:
            now = time.time()
            time.sleep(tick - now % tick)
        t = time.perf_counter()
        conn.request("POST", "/api/v1/agreements", body=body, headers=headers)
        r = conn.getresponse(); r.read()
        answers.append((r.status, (time.perf_counter() - t) * 1000))
        if r.getheader("connection", "").lower() == "close":
            conn.close(); conn = connect()
    out.put(answers)

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(len(xs) * p / 100))]

def row(label, xs):
    return (f"  {label:<22} {len(xs):>6} probes   p50 {pct(xs, 50):8.2f} ms   "
            f"p99 {pct(xs, 99):8.2f} ms   max {max(xs):8.2f} ms")

phases = [(name, tick) for name in ("one-mapping", "ten-mappings") for tick in (0.0, 0.5)]
for name, tick in phases:
    body = open(f"{work}/{name}.yaml", "rb").read()
    quiet = probe(secs)
    fork = multiprocessing.get_context("fork")
    out, until = fork.Queue(), time.time() + secs
    uploaders = [fork.Process(target=upload, args=(body, until, out, tick)) for _ in range(4)]
    started = time.perf_counter()
    for u in uploaders: u.start()
    loud = probe(secs)
    # Read before joining: a process that put on a queue ends only once its data is read.
    answers = [a for _ in uploaders for a in out.get()]
    for u in uploaders: u.join()
    drained = time.perf_counter() - started
    statuses = sorted({s for s, _ in answers})
    took = [t for _, t in answers]
    how = f"four at once every {tick} s" if tick else "4 uploaders back to back"
    print(f"{name}: {len(body):,} bytes, {how} for {secs:.0f} s (last answer after {drained:.1f} s)")
    print(row("/healthz, no flood", quiet))
    print(row("/healthz, under flood", loud))
    print(f"  ratio under flood / no flood: p50 {pct(loud, 50) / pct(quiet, 50):.1f}, "
          f"p99 {pct(loud, 99) / pct(quiet, 99):.1f}, max {max(loud) / max(quiet):.1f}")
    print(f"  uploads: {len(answers)} answered {statuses}, each p50 {pct(took, 50):.1f} ms, "
          f"max {max(took):.1f} ms")
PY
  kill "$server"; wait "$server" 2>/dev/null || true
  server=""
  if [ "$backend" = postgres ]; then
    psql_at postgres "DROP DATABASE IF EXISTS $pgdb WITH (FORCE)"
    pgdb=""
  fi
done
