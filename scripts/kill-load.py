#!/usr/bin/env python3
"""Load for scripts/kill-trials.sh: concurrent `POST /api/v1/flows/check` on keep-alive
connections, writing the decision_id of every acknowledged decision (HTTP 200 with a body that
names it) to a file, one per line, as each answer arrives.

    kill-load.py URL TOKEN OUT [--connections N] [--seconds S]

Runs until S seconds have passed or the server is gone (a connection refused on reconnecting),
then prints one line: `sent=… acknowledged=… other_status=… broken=…`. Standard library only.
"""

import argparse
import asyncio
import json
import time
from urllib.parse import urlsplit

BODY = json.dumps(
    {
        "agreement": "camden-foodbank-referrals",
        "from": "camden",
        "to": "foodbank",
        "purpose": "food-parcels",
        "fields": ["full-name", "address", "dietary-needs"],
    }
).encode()


class Stats:
    def __init__(self):
        self.sent = 0
        self.acknowledged = 0
        self.other_status = 0
        self.broken = 0


async def read_response(reader):
    """One HTTP/1.1 response: (status, body). Content-Length or chunked."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            headers[k.strip().lower()] = v.strip()
    if headers.get("transfer-encoding", "").lower() == "chunked":
        body = b""
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                await reader.readuntil(b"\r\n")
                break
            body += await reader.readexactly(size)
            await reader.readexactly(2)
    else:
        body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, body


async def worker(host, port, request, deadline, stats, out):
    writer = None
    while time.monotonic() < deadline:
        if writer is None:
            try:
                reader, writer = await asyncio.open_connection(host, port)
            except OSError:
                return  # the server is gone
        try:
            writer.write(request)
            stats.sent += 1
            status, body = await asyncio.wait_for(read_response(reader), 10)
        except (OSError, asyncio.IncompleteReadError, asyncio.TimeoutError, ValueError):
            stats.broken += 1
            writer.close()
            writer = None
            continue
        if status == 200:
            decision_id = json.loads(body)["decision_id"]
            out.write(decision_id + "\n")
            out.flush()
            stats.acknowledged += 1
        else:
            stats.other_status += 1
    if writer is not None:
        writer.close()


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("url")
    p.add_argument("token")
    p.add_argument("out")
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--seconds", type=float, default=10)
    a = p.parse_args()
    u = urlsplit(a.url)
    request = (
        f"POST /api/v1/flows/check HTTP/1.1\r\nHost: {u.netloc}\r\n"
        f"Authorization: Bearer {a.token}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(BODY)}\r\n\r\n"
    ).encode() + BODY
    stats = Stats()
    deadline = time.monotonic() + a.seconds
    with open(a.out, "w") as out:
        await asyncio.gather(
            *(
                worker(u.hostname, u.port, request, deadline, stats, out)
                for _ in range(a.connections)
            )
        )
    print(
        f"sent={stats.sent} acknowledged={stats.acknowledged} "
        f"other_status={stats.other_status} broken={stats.broken}"
    )


if __name__ == "__main__":
    asyncio.run(main())
