"""Defects 6 and 7 of the hardening issue, against a real server on 127.0.0.1: a response
is read up to ``max_response_mb`` (decompressed a piece at a time, so a gzip bomb never
fills memory), a request ends at ``request_deadline_s`` however slowly its bytes come,
and a page at ``page_deadline_s``, as that page's error."""

from __future__ import annotations

import asyncio
import gzip
import json
import textwrap
import threading
import time
import tracemalloc
import zlib
from collections.abc import Iterator
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from typer.testing import CliRunner

from auditor.cli import app
from auditor.connectors.base import ConnectorError, ConnectorSettings
from auditor.connectors.cloud import CloudConnectorSettings
from auditor.connectors.groupme import GroupMeConnector, GroupMeSettings
from auditor.connectors.http import HttpClient

DRIP_EVERY_S = 1.0
"""The slow server sends one byte a second, as in the issue."""
DRIP_BYTES = 30
"""...of a body this long, so an unbounded request would take half a minute."""
BOMB_MB = 200
GOOD = {"value": [1, 2, 3], "note": "é"}


@cache
def gzip_bomb() -> bytes:
    """``BOMB_MB`` MB of zeros, gzipped (about 200 kB)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    return b"".join(packer.compress(zeros) for _ in range(BOMB_MB)) + packer.flush()


class Handler(BaseHTTPRequestHandler):
    """Answers by path: ``/bomb``, ``/big`` (3 MB, not compressed), ``/gzip`` and
    ``/deflate`` (small JSON), ``/brotli`` (an encoding never asked for), ``/not-gzip``
    (plain bytes said to be gzip), anything under
    ``/drip`` (a byte a second). Each connection closes after its answer (HTTP/1.0)."""

    def log_message(self, format: str, *args: object) -> None:
        """Quiet: the test output is not the place for access logs."""

    def do_GET(self) -> None:
        """One answer, chosen by the path."""
        body = json.dumps(GOOD).encode()
        try:
            if self.path.startswith("/drip"):
                self.drip()
            elif self.path == "/bomb":
                self.answer(gzip_bomb(), "gzip")
            elif self.path == "/big":
                self.answer(b" " * (3 << 20) + body, None)
            elif self.path == "/gzip":
                self.answer(gzip.compress(body), "gzip")
            elif self.path == "/deflate":
                self.answer(zlib.compress(body), "deflate")
            elif self.path == "/not-gzip":
                self.answer(b"plain", "gzip")
            elif self.path == "/brotli":
                self.answer(b"\x1b\x00\x00", "br")
            else:
                self.send_error(404)
        except (BrokenPipeError, ConnectionResetError):
            return  # the client gave up, as it should

    def answer(self, body: bytes, encoding: str | None) -> None:
        """``body`` as JSON, in pieces of 64 kB, with ``encoding`` if any."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        if encoding:
            self.send_header("Content-Encoding", encoding)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for start in range(0, len(body), 1 << 16):
            self.wfile.write(body[start : start + (1 << 16)])

    def drip(self) -> None:
        """A JSON body of ``DRIP_BYTES`` spaces, one every ``DRIP_EVERY_S`` seconds."""
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(DRIP_BYTES + 2))
        self.end_headers()
        for _ in range(DRIP_BYTES):
            self.wfile.write(b" ")
            self.wfile.flush()
            time.sleep(DRIP_EVERY_S)
        self.wfile.write(b"{}")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    """The base URL of a threaded server on a free loopback port."""
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    httpd.daemon_threads = True
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{httpd.server_address[1]}"
    finally:
        httpd.shutdown()
        httpd.server_close()


def client(base: str, **options: object) -> HttpClient:
    """A client of the loopback server that tries each request once."""
    return HttpClient("demo", base, max_attempts=1, **options)  # type: ignore[arg-type]


async def test_a_gzip_bomb_stops_at_the_cap_with_little_memory(server: str) -> None:
    http = client(server, max_response_mb=1)
    tracemalloc.start()
    try:
        async with asyncio.timeout(30):
            with pytest.raises(ConnectorError) as caught:
                await http.get_json("bomb")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        await http.aclose()
    message = str(caught.value)
    assert message.startswith("demo: GET http://127.0.0.1:")
    assert "/bomb: the response is larger than 1 MB (max_response_mb)" in message
    assert peak < 16 << 20, f"peak memory {peak / 2**20:.0f} MB while reading a 1 MB cap"


async def test_a_plain_body_over_the_cap_is_refused(server: str) -> None:
    http = client(server, max_response_mb=1)
    try:
        with pytest.raises(ConnectorError, match=r"/big: the response is larger than 1 MB"):
            await http.get_json("big")
    finally:
        await http.aclose()


@pytest.mark.parametrize("path", ["gzip", "deflate", "big"])
async def test_compressed_and_plain_bodies_under_the_cap_read_whole(server: str, path: str) -> None:
    http = client(server, max_response_mb=5)
    try:
        assert await http.get_json(path) == GOOD
    finally:
        await http.aclose()


async def test_an_encoding_never_asked_for_is_refused(server: str) -> None:
    http = client(server)
    try:
        with pytest.raises(ConnectorError, match=r"/brotli: .*content encoding 'br', not asked"):
            await http.get_json("brotli")
        sent = http._client.headers["Accept-Encoding"]
    finally:
        await http.aclose()
    assert sent == "gzip, deflate"


async def test_a_body_that_is_not_what_its_encoding_says_is_a_page_error(server: str) -> None:
    http = client(server)
    try:
        with pytest.raises(ConnectorError) as caught:
            await http.get_json("not-gzip")
    finally:
        await http.aclose()
    assert (
        str(caught.value)
        == f"demo: GET {server}/not-gzip: the response body is not valid gzip data"
    )


async def test_a_dripping_server_is_cut_off_at_the_request_deadline(server: str) -> None:
    http = client(server, timeout_s=5.0, request_deadline_s=2.0)
    started = time.monotonic()
    try:
        async with asyncio.timeout(10):
            with pytest.raises(ConnectorError) as caught:
                await http.get_json("drip/slow")
    finally:
        await http.aclose()
    took = time.monotonic() - started
    assert 1.5 < took < 5, f"stopped after {took:.1f} s, not at the 2 s deadline"
    assert str(caught.value) == (
        f"demo: GET {server}/drip/slow: no complete answer within 2 s (request_deadline_s); stopped"
    )


def test_the_deadlines_and_the_cap_are_settings_with_nightly_defaults() -> None:
    assert ConnectorSettings().page_deadline_s == 900
    cloud = CloudConnectorSettings(base_url="https://api.example.org")
    assert (cloud.request_deadline_s, cloud.max_response_mb) == (120, 50)
    with pytest.raises(ValueError, match="greater than 0"):
        CloudConnectorSettings(base_url="https://api.example.org", max_response_mb=0)


async def test_a_connector_passes_its_cap_to_its_client(
    server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GM_TOKEN", "t0ken-value")
    settings = GroupMeSettings(
        token_env="GM_TOKEN", base_url=server, max_response_mb=0.5, max_attempts=1
    )
    async with GroupMeConnector("gm", settings) as conn:
        with pytest.raises(ConnectorError, match=r"^groupme: GET .*larger than 0\.5 MB"):
            await conn.http.get_json("bomb")


def test_a_page_past_its_deadline_is_that_pages_error(
    server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GM_TOKEN", "t0ken-value")
    config = tmp_path / "config.toml"
    config.write_text(
        textwrap.dedent(
            f"""
            [district]
            name = "Test District"
            web_domains = ["district.org"]
            staff_email_domains = ["district.org"]
            student_email_domains = ["students.district.org"]

            [database]
            url = "sqlite:///{tmp_path / "auditor.db"}"

            [[connectors]]
            name = "gm"
            type = "groupme"
            token_env = "GM_TOKEN"
            base_url = "{server}/drip"
            page_deadline_s = 1.5
            request_deadline_s = 3

            [[pages]]
            id = "club"
            connector = "gm"
            external_id = "1234"
            name = "Chess Club"
            owner = "owner@district.org"
            supervisor = "boss@district.org"
            approved_by = "boss@district.org"
            approved_on = 2026-08-01
            """
        )
    )
    started = time.monotonic()
    result = CliRunner().invoke(
        app, ["run", "--config", str(config), "--output", str(tmp_path / "out")]
    )
    took = time.monotonic() - started
    assert result.exit_code == 3, result.output
    assert took < 15, f"the page ran {took:.0f} s past its 1.5 s deadline"
    page = json.loads((tmp_path / "out" / "findings.json").read_text())["pages"][0]
    assert page["status"] == "error"
    assert page["error"] == (
        "groupme connector 'gm': groupme: the page was not fetched within 1.5 s "
        "(page_deadline_s); stopped"
    )
