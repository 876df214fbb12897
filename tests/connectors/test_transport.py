"""The connectors' HTTP transport (auditor.connectors.transport): a connection's socket is
looked up once, and a pooled connection the server has closed is still never reused; the
pool keeps httpcore's limits (connections, idle ones kept, keep-alive time) while asking
only the connection it hands out whether it expired."""

from __future__ import annotations

import asyncio
import json
import socket
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest
import trustme

from auditor.connectors import transport
from auditor.connectors.base import ConnectorError
from auditor.connectors.http import HttpClient
from auditor.connectors.transport import readable


class Handler(BaseHTTPRequestHandler):
    """Answers ``/keep`` on a kept-alive connection; ``/close`` then closes it silently (no
    ``Connection: close``: only the socket says so)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        if self.path.startswith("/slow"):
            time.sleep(0.2)
        body = b'{"port": %d}' % self.client_address[1]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = self.path == "/close"


class Server(ThreadingHTTPServer):
    """A threaded server that says when it has closed a connection."""

    daemon_threads = True

    def __init__(self, handler: type[BaseHTTPRequestHandler]) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.closed = threading.Event()

    def shutdown_request(self, request: Any) -> None:
        """Close the connection, then say so."""
        super().shutdown_request(request)
        self.closed.set()


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler]) -> Iterator[Server]:
    """``handler`` served on a free loopback port until the block ends."""
    httpd = Server(handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield httpd
    finally:
        httpd.shutdown()
        httpd.server_close()


@pytest.fixture
def server() -> Iterator[Server]:
    """A keep-alive server (:class:`Handler`) on loopback."""
    with serving(Handler) as httpd:
        yield httpd


def base(httpd: Server, scheme: str = "http") -> str:
    """The server's base URL."""
    return f"{scheme}://127.0.0.1:{httpd.server_address[1]}"


def test_a_socket_is_readable_once_data_or_the_peers_close_waits() -> None:
    mine, peer = socket.socketpair()
    with mine, peer:
        assert not readable(mine)
        peer.send(b"x")
        assert readable(mine)
        mine.recv(1)
        assert not readable(mine)
        peer.close()
        assert readable(mine), "the end of a closed peer is readable: not reused"
    assert readable(None)
    assert readable(mine), "a closed socket counts as gone"


async def test_a_connection_the_server_closed_is_not_reused(server: Server) -> None:
    http = HttpClient("demo", base(server), max_attempts=1)
    try:
        first = await http.get_json("/close")
        assert await asyncio.to_thread(server.closed.wait, 10), "the server closed it"
        second = await http.get_json("/keep")
        third = await http.get_json("/keep")
    finally:
        await http.aclose()
    assert second["port"] != first["port"], "a new connection after the server closed one"
    assert third["port"] == second["port"], "a kept-alive connection is reused"


async def test_a_connections_socket_is_looked_up_once_however_many_requests(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []
    inner = httpcore.AnyIOBackend

    async def counting(self: Any, *args: Any, **kwargs: Any) -> Any:
        stream = await real_connect(self, *args, **kwargs)
        ask = stream.get_extra_info

        def counted(info: str) -> Any:
            asked.append(info)
            return ask(info)

        stream.get_extra_info = counted
        return stream

    real_connect = inner.connect_tcp
    monkeypatch.setattr(inner, "connect_tcp", counting)
    http = HttpClient("demo", base(server), max_attempts=1, max_concurrency=4)
    try:
        answers = [await http.get_json("/keep") for _ in range(20)]
    finally:
        await http.aclose()
    assert len({a["port"] for a in answers}) == 1
    assert asked.count("socket") == 1, "looked up when the connection opened"
    assert "is_readable" not in asked, "each request asks the socket, not the stream"


class Proxy(BaseHTTPRequestHandler):
    """A forward proxy that answers every request itself, saying what it was asked for."""

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        body = json.dumps({"via": "proxy", "asked": self.path}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


async def test_proxies_from_the_environment_are_used(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with serving(Proxy) as proxy:
        monkeypatch.setenv("HTTP_PROXY", base(proxy))
        http = HttpClient("demo", base(server), max_attempts=1)
        try:
            answer = await http.get_json("/keep")
        finally:
            await http.aclose()
    assert answer == {"via": "proxy", "asked": f"{base(server)}/keep"}


async def test_tls_connections_are_verified_and_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    authority = trustme.CA()
    with serving(Handler) as httpd:
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        authority.issue_cert("127.0.0.1").configure_cert(context)
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        url = base(httpd, "https")
        untrusted = HttpClient("demo", url, max_attempts=1)
        try:
            with pytest.raises(ConnectorError):
                await untrusted.get_json("/keep")
        finally:
            await untrusted.aclose()
        authority.cert_pem.write_to_path(str(tmp_path / "ca.pem"))
        monkeypatch.setenv("SSL_CERT_FILE", str(tmp_path / "ca.pem"))
        http = HttpClient("demo", url, max_attempts=1)
        try:
            answers = [await http.get_json("/keep") for _ in range(3)]
        finally:
            await http.aclose()
    assert len({a["port"] for a in answers}) == 1, "one TLS connection, reused"


def pooled(limits: httpx.Limits) -> tuple[httpx.AsyncClient, httpcore.AsyncConnectionPool]:
    """A transport client within ``limits``, and its pool of direct connections."""
    made = transport.client(limits)
    pool = made._transport._pool  # type: ignore[attr-defined]
    return made, pool


async def test_concurrent_requests_share_the_pools_connections(server: Server) -> None:
    made, pool = pooled(httpx.Limits(max_connections=4, max_keepalive_connections=4))
    async with made:
        answers = await asyncio.gather(*(made.get(f"{base(server)}/keep") for _ in range(60)))
        assert len(pool.connections) <= 4
    assert {a.status_code for a in answers} == {200}
    assert len({a.json()["port"] for a in answers}) <= 4, "never more connections than allowed"


async def test_only_the_connection_handed_out_is_asked_whether_the_server_closed_it(
    server: Server, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[object] = []
    real = transport.readable
    monkeypatch.setattr(transport, "readable", lambda sock: asked.append(sock) or real(sock))
    monkeypatch.setattr(transport, "SWEEP_S", 3600.0)  # one sweep, however slow the machine
    made, pool = pooled(httpx.Limits(max_connections=4, max_keepalive_connections=4))
    async with made:
        await asyncio.gather(*(made.get(f"{base(server)}/slow") for _ in range(4)))
        assert len(pool.connections) == 4
        asked.clear()
        for _ in range(40):
            assert (await made.get(f"{base(server)}/keep")).status_code == 200
    # httpcore's own pool asks each idle connection on each of its passes (320 asks here)
    assert len(asked) <= 40 + 4, "one ask a request, and the idle ones on a sweep"


async def test_idle_connections_beyond_the_keep_alive_limit_are_closed(server: Server) -> None:
    made, pool = pooled(httpx.Limits(max_connections=6, max_keepalive_connections=2))
    async with made:
        slow = await asyncio.gather(*(made.get(f"{base(server)}/slow") for _ in range(6)))
        assert len({a.json()["port"] for a in slow}) == 6, "six at once: six connections"
        again = await made.get(f"{base(server)}/keep")
        assert [c.is_idle() for c in pool.connections].count(True) <= 2
    assert again.json()["port"] in {a.json()["port"] for a in slow}, "an idle one is reused"


async def test_a_connection_past_its_keep_alive_time_is_not_reused(server: Server) -> None:
    made, _ = pooled(httpx.Limits(max_connections=2, keepalive_expiry=0.05))
    async with made:
        first = (await made.get(f"{base(server)}/keep")).json()
        second = (await made.get(f"{base(server)}/keep")).json()
        await asyncio.sleep(0.2)
        third = (await made.get(f"{base(server)}/keep")).json()
    assert second["port"] == first["port"], "reused within its keep-alive time"
    assert third["port"] != first["port"], "a new connection once that time passed"


async def test_a_full_pool_waits_for_a_connection_to_come_back(server: Server) -> None:
    made, pool = pooled(httpx.Limits(max_connections=2))
    async with made:
        answers = await asyncio.gather(*(made.get(f"{base(server)}/slow") for _ in range(5)))
        assert len(pool.connections) <= 2
    assert [a.status_code for a in answers] == [200] * 5
    assert len({a.json()["port"] for a in answers}) == 2


class Unused(httpcore.AsyncConnectionInterface):
    """A connection that answers every request at once (its state as httpcore's has it)."""

    def __init__(self, origin: httpcore.Origin) -> None:
        self.origin, self.state = origin, "NEW"

    async def handle_async_request(self, request: httpcore.Request) -> httpcore.Response:
        self.state = "ACTIVE"
        conn = self

        class Body:
            async def __aiter__(self) -> Any:
                yield b""

            async def aclose(self) -> None:
                conn.state = "IDLE"

        return httpcore.Response(200, content=Body())

    def can_handle_request(self, origin: httpcore.Origin) -> bool:
        return origin == self.origin

    async def aclose(self) -> None:
        self.state = "CLOSED"

    def is_available(self) -> bool:
        return self.state == "IDLE"

    def has_expired(self) -> bool:
        return False

    def is_idle(self) -> bool:
        return self.state == "IDLE"

    def is_closed(self) -> bool:
        return self.state == "CLOSED"

    def info(self) -> str:
        return self.state


async def test_a_connection_made_for_a_request_stopped_before_it_began_is_not_kept() -> None:
    class Pool(transport._Pool):
        def create_connection(self, origin: httpcore.Origin) -> Unused:
            return Unused(origin)

    pool = Pool(max_connections=1)
    first = await pool.handle_async_request(httpcore.Request("GET", "http://x.test/"))
    stopped = asyncio.create_task(
        pool.handle_async_request(httpcore.Request("GET", "http://y.test/"))
    )
    await asyncio.sleep(0)  # queued: the pool is full
    await first.aclose()  # x's idle connection closed, one made for y, the request woken...
    stopped.cancel()  # ...and stopped before it ran (a page deadline, a run stopped)
    with pytest.raises(asyncio.CancelledError):
        await stopped
    later = pool.handle_async_request(httpcore.Request("GET", "http://y.test/"))
    answer = await asyncio.wait_for(later, timeout=5)  # httpcore's own pool waits for good
    await answer.aclose()
    assert len(pool.connections) == 1
