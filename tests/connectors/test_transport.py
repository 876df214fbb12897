"""The connectors' HTTP transport (auditor.connectors.transport): a connection's socket is
looked up once, and a pooled connection the server has closed is still never reused."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpcore
import pytest

from auditor.connectors.http import HttpClient
from auditor.connectors.transport import readable


class Handler(BaseHTTPRequestHandler):
    """Answers ``/keep`` on a kept-alive connection; ``/close`` then closes it silently (no
    ``Connection: close``: only the socket says so)."""

    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: object) -> None:
        """Quiet."""

    def do_GET(self) -> None:
        body = b'{"port": %d}' % self.client_address[1]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        self.close_connection = self.path == "/close"


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The base URL of a threaded keep-alive server on a free loopback port."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


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


async def test_a_connection_the_server_closed_is_not_reused(server: str) -> None:
    http = HttpClient("demo", server, max_attempts=1)
    try:
        first = await http.get_json("/close")
        await asyncio.sleep(0.2)  # the server's close reaches the pooled connection
        second = await http.get_json("/keep")
        third = await http.get_json("/keep")
    finally:
        await http.aclose()
    assert second["port"] != first["port"], "a new connection after the server closed one"
    assert third["port"] == second["port"], "a kept-alive connection is reused"


async def test_a_connections_socket_is_looked_up_once_however_many_requests(
    server: str, monkeypatch: pytest.MonkeyPatch
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
    http = HttpClient("demo", server, max_attempts=1, max_concurrency=4)
    try:
        answers = [await http.get_json("/keep") for _ in range(20)]
    finally:
        await http.aclose()
    assert len({a["port"] for a in answers}) == 1
    assert asked.count("socket") == 1, "looked up when the connection opened"
    assert "is_readable" not in asked, "each request asks the socket, not the stream"
