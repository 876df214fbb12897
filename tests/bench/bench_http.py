"""The HTTP client's CPU a request: the connectors' ``HttpClient`` and a plain
``httpx.AsyncClient``, each sending N ``POST``s of a 20-read Graph ``$batch`` body at 16
requests in flight to a loopback server (another process, raw asyncio) that answers each
at once with a fixed JSON body.

    python tests/bench/bench_http.py [--requests 2000] [--members 25]

``--members``: people in each of the answer's 20 listings (25: about 48 kB; 0: an empty
listing). Prints, for each client, the CPU time of this process a request and the wall
time. Nothing leaves 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import socket
import subprocess
import sys
import time
from typing import Any

import httpx

from auditor.connectors.http import HttpClient

SERVER = """
import asyncio, sys
body = sys.stdin.buffer.read()
head = b"HTTP/1.1 200 OK\\r\\nContent-Type: application/json\\r\\nContent-Length: %d\\r\\n\\r\\n"
answer = head % len(body) + body

async def handle(reader, writer):
    try:
        while await reader.readline():
            length = 0
            while (line := await reader.readline()) not in (b"\\r\\n", b""):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await reader.readexactly(length)
            writer.write(answer)
            await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    writer.close()

async def main():
    server = await asyncio.start_server(handle, "127.0.0.1", int(sys.argv[1]))
    print("ready", flush=True)
    async with server:
        await server.serve_forever()

asyncio.run(main())
"""
BATCH = {
    "requests": [
        {"id": str(i), "method": "GET", "url": f"/groups/g{i}/members?$top=999"} for i in range(20)
    ]
}


def answer(members: int) -> bytes:
    """A ``$batch`` answer: 20 listings of ``members`` people each."""
    people = [
        {"id": f"u{k}", "displayName": f"Person {k}", "mail": f"p{k}@district.org"}
        for k in range(members)
    ]
    responses = [{"id": str(i), "status": 200, "body": {"value": people}} for i in range(20)]
    return json.dumps({"responses": responses}).encode()


def free_port() -> int:
    """A free loopback port."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def measure(name: str, url: str, requests: int) -> None:
    """Print the CPU a request and the wall time of ``requests`` POSTs with client ``name``."""
    if name == "HttpClient":
        client = HttpClient("bench", url, max_concurrency=16)

        async def send() -> Any:
            return (await client.request("POST", "$batch", json=BATCH)).json()

        close = client.aclose
    else:
        plain = httpx.AsyncClient(limits=httpx.Limits(max_connections=16))
        slots = asyncio.Semaphore(16)

        async def send() -> Any:
            async with slots:
                return (await plain.post(f"{url}/$batch", json=BATCH)).json()

        close = plain.aclose
    await send()  # connected, and the code warm
    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(send() for _ in range(requests)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    await close()
    print(f"{name:18} {cpu / requests * 1000:6.3f} ms of CPU a request, wall {wall:5.2f} s")


def main() -> None:
    """Start the server, measure both clients, stop the server."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=2000, help="POSTs per client (2000)")
    parser.add_argument("--members", type=int, default=25, help="people a listing (25)")
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-c", SERVER, str(port)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
    )
    assert server.stdin is not None and server.stdout is not None
    body = answer(args.members)
    server.stdin.write(body)
    server.stdin.close()
    server.stdout.readline()  # ready
    try:
        print(f"{args.requests} POSTs, answers of {len(body):,} bytes, 16 in flight")
        for name in ("HttpClient", "httpx.AsyncClient"):
            asyncio.run(measure(name, f"http://127.0.0.1:{port}/v1.0", args.requests))
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
