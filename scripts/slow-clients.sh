#!/usr/bin/env bash
# Slow clients against the release server on loopback (SQLite, the samples): COUNT connections,
# half sending a request head a byte every 5 s (a "slow loris"), half a whole head and then
# the body a byte every 5 s, while /healthz is probed twice a second on fresh connections.
# Every 5 s it prints how many of each are still open and how /healthz fared; then when the
# server closed them and what it answered. Runs for the body timeout + 5 s, at most 75 s.
#
#   scripts/slow-clients.sh [COUNT] [HEADER_SECS] [BODY_SECS]
#
# COUNT defaults to 200 (at most 1000); the server gets --header-timeout-secs HEADER_SECS
# (default 10) and --body-timeout-secs BODY_SECS (default 60), the other settings their
# defaults. Builds the release binary; needs only python3's standard library.
set -euo pipefail
cd "$(dirname "$0")/.."
count=${1:-200}
header=${2:-10}
body=${3:-60}
if ((count < 2 || count > 1000)); then
  echo "COUNT must be 2 to 1000" >&2
  exit 2
fi
cargo build --release --quiet

work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
db="sqlite://$work/accord.db?mode=rwc"
./target/release/accord serve --listen 127.0.0.1:0 --database "$db" --agreements agreements \
  --outbox "$work/outbox" --header-timeout-secs "$header" --body-timeout-secs "$body" \
  >"$work/out" 2>"$work/log" &
server=$!
for _ in $(seq 100); do grep -q listening "$work/out" 2>/dev/null && break; sleep 0.1; done
base=$(sed -n 's/^accord listening on //p' "$work/out")

python3 - "$base" "$count" "$header" "$body" <<'PY'
import asyncio, statistics, sys, time
from urllib.parse import urlsplit

base, count, header, body = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
url = urlsplit(base)
host, port = url.hostname, url.port
assert host == "127.0.0.1", "loopback only"
duration = min(body + 5, 75)
EVERY = 5.0
start = time.monotonic()


class Client:
    def __init__(self, kind):
        self.kind = kind
        self.closed_at = None  # seconds from the start
        self.answer = b""

    @property
    def open(self):
        return self.closed_at is None


async def slow(client):
    reader, writer = await asyncio.open_connection(host, port)
    if client.kind == "head":
        first = f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\n".encode()
        trickle = b"X-Slow: " + b"a" * 10_000
    else:
        first = (f"POST /api/v1/flows/check HTTP/1.1\r\nHost: {host}:{port}\r\n"
                 "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n").encode()
        trickle = b" " * 100_000
    writer.write(first)

    async def write():
        try:
            for i in range(len(trickle)):
                await asyncio.sleep(EVERY)
                writer.write(trickle[i:i + 1])
                await writer.drain()
        except (ConnectionError, OSError):
            pass

    async def read():
        while True:
            data = await reader.read(4096)
            if not data:
                return
            client.answer += data

    writing = asyncio.ensure_future(write())
    try:
        await read()
    except (ConnectionError, OSError):
        pass
    client.closed_at = time.monotonic() - start
    writing.cancel()
    writer.close()


probes = []  # (seconds from the start, status, milliseconds)


async def probe():
    while time.monotonic() - start < duration:
        t = time.monotonic()
        status = 0
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), 5)
            writer.write(f"GET /healthz HTTP/1.1\r\nHost: {host}:{port}\r\n"
                         "Connection: close\r\n\r\n".encode())
            line = await asyncio.wait_for(reader.readline(), 5)
            status = int(line.split()[1])
            writer.close()
        except (asyncio.TimeoutError, ConnectionError, OSError, IndexError, ValueError):
            pass
        probes.append((t - start, status, (time.monotonic() - t) * 1000))
        await asyncio.sleep(max(0.0, 0.5 - (time.monotonic() - t)))


async def main():
    clients = [Client("head" if i % 2 == 0 else "body") for i in range(count)]
    heads = [c for c in clients if c.kind == "head"]
    bodies = [c for c in clients if c.kind == "body"]
    tasks = [asyncio.ensure_future(slow(c)) for c in clients]
    prober = asyncio.ensure_future(probe())
    print(f"{count} slow clients ({len(heads)} sending a head, {len(bodies)} a body, a byte "
          f"every {EVERY:.0f} s); server: header timeout {header} s, body timeout {body} s")
    print(f"{'t (s)':>6} {'heads open':>11} {'bodies open':>12} {'/healthz 200':>13} "
          f"{'/healthz max ms':>16}")
    tick = EVERY
    while tick <= duration:
        await asyncio.sleep(max(0.0, start + tick - time.monotonic()))
        recent = [p for p in probes if tick - EVERY <= p[0] < tick]
        ok = sum(1 for p in recent if p[1] == 200)
        worst = max((p[2] for p in recent), default=0.0)
        print(f"{tick:>6.0f} {sum(c.open for c in heads):>11} {sum(c.open for c in bodies):>12} "
              f"{ok:>6} of {len(recent):<4} {worst:>16.1f}", flush=True)
        tick += EVERY
    for group, name in ((heads, "heads"), (bodies, "bodies")):
        closed = [c.closed_at for c in group if not c.open]
        answers = {}
        for c in group:
            if not c.open:
                status = c.answer.split(b" ", 2)[1].decode() if c.answer else "none"
                answers[status] = answers.get(status, 0) + 1
        span = f"{min(closed):.1f}-{max(closed):.1f} s" if closed else "-"
        print(f"{name}: {len(closed)} of {len(group)} closed by the server, after {span}; "
              f"answers: {answers}")
    codes = [p[1] for p in probes]
    ms = [p[2] for p in probes]
    print(f"/healthz: {len(probes)} probes, {codes.count(200)} answered 200; "
          f"median {statistics.median(ms):.1f} ms, max {max(ms):.1f} ms")
    prober.cancel()
    for t in tasks:
        t.cancel()


asyncio.run(main())
PY
