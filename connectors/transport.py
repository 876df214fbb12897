"""The HTTP transport of every connector's client: httpx's own, on an httpcore pool that
assigns requests in one pass and asks only the connection it hands out whether the server
closed it, and whose connections look up their socket once.

httpcore's pool runs its assignment pass about five times a request (each request and
each answer closed), and each pass asks every idle connection whether its socket is
readable (a connection the server closed must not be reused) and counts the idle ones once
per connection. Each ask releases the interpreter lock for a ``poll``, and the event loop
then waits for the threads reading and writing pages to hand it back: on an unchanged
2,000-page Graph run, 36,000 asks held the loop 1.2 s (tests/bench/RESULTS.md, "Session
10").
Through anyio each ask also rebuilt the stream's table of socket attributes, a
``getpeername`` system call included (39% of the client's CPU on an unchanged 5,000-page
run: "Socket look-ups"); here the socket is looked up when the connection opens.
"""

from __future__ import annotations

import select
import socket
import ssl
import time
from collections.abc import Iterable
from typing import Any

import httpcore
import httpx


class _Stream(httpcore.AsyncNetworkStream):
    """A connection's stream, its socket looked up once; everything else is the stream's."""

    def __init__(self, stream: httpcore.AsyncNetworkStream) -> None:
        self._stream = stream
        self._socket: socket.socket | None = stream.get_extra_info("socket")

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Read from the stream."""
        return await self._stream.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Write to the stream."""
        await self._stream.write(buffer, timeout)

    async def aclose(self) -> None:
        """Close the stream."""
        await self._stream.aclose()

    async def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """The stream upgraded to TLS (its socket looked up again, once)."""
        return _Stream(await self._stream.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        """As the stream answers, but ``is_readable`` from the socket looked up at open."""
        if info == "is_readable":
            return readable(self._socket)
        return self._stream.get_extra_info(info)


def readable(sock: socket.socket | None) -> bool:
    """Whether reading ``sock`` would not wait: data, or the end a closed peer sends (a
    socket that is gone counts as readable, as httpcore counts it: not reused)."""
    fd = -1 if sock is None else sock.fileno()
    if fd < 0:
        return True
    if not hasattr(select, "poll"):  # Windows
        return bool(select.select([fd], [], [], 0)[0])
    poll = select.poll()
    poll.register(fd, select.POLLIN)
    return bool(poll.poll(0))


class _Backend(httpcore.AsyncNetworkBackend):
    """httpcore's own backend, its connections wrapped in :class:`_Stream`."""

    def __init__(self) -> None:
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        """Open a TCP connection."""
        stream = await self._inner.connect_tcp(host, port, timeout, local_address, socket_options)
        return _Stream(stream)

    async def connect_unix_socket(
        self, path: str, timeout: float | None = None, socket_options: Iterable[Any] | None = None
    ) -> httpcore.AsyncNetworkStream:
        """Open a Unix socket connection."""
        return _Stream(await self._inner.connect_unix_socket(path, timeout, socket_options))

    async def sleep(self, seconds: float) -> None:
        """Sleep as httpcore's backend does."""
        await self._inner.sleep(seconds)


SWEEP_S = 1.0
"""How often, at most, every idle connection is asked whether it expired (its keep-alive
time passed, or the server closed it); the one handed out is always asked."""


class _Pool(httpcore.AsyncConnectionPool):
    """httpcore's pool for HTTP/1.1 (this client never asks for HTTP/2), its assignment
    pass in one go over the connections: an idle connection goes to one queued request (a
    connection assigned to a request that has not started yet is not handed out again, nor
    closed as surplus), it is asked whether it expired when handed out, and all idle ones at
    most every :data:`SWEEP_S`; a connection made for a request stopped before it began is
    closed (httpcore's pool keeps it, and with it a place, for good); otherwise as httpcore
    assigns (the same limits, the connections in the same order, a new one opened while
    there is room, else an idle one to another host closed for it)."""

    _swept = 0.0

    def _assign_requests_to_connections(self) -> list[httpcore.AsyncConnectionInterface]:
        """Drop closed connections, close expired and surplus idle ones, then give queued
        requests a connection while one is free; the connections to close."""
        closing: list[httpcore.AsyncConnectionInterface] = []
        reserved = {id(r.connection) for r in self._requests if r.connection is not None}
        now = time.monotonic()
        sweep = now - self._swept >= SWEEP_S
        if sweep:
            self._swept = now
        kept: list[httpcore.AsyncConnectionInterface] = []
        idle: list[httpcore.AsyncConnectionInterface] = []
        for conn in self._connections:
            if conn.is_closed():
                continue
            free = id(conn) not in reserved  # then idle, or made for a request that
            if free and not conn.is_idle():  # stopped before it began: it would hold its
                closing.append(conn)  # place for good
                continue
            if free and sweep and conn.has_expired():
                closing.append(conn)
                continue
            kept.append(conn)
            if free:
                idle.append(conn)
        while len(idle) > self._max_keepalive_connections:
            surplus = idle.pop(0)
            kept.remove(surplus)
            closing.append(surplus)
        for request in [r for r in self._requests if r.is_queued()]:
            origin = request.request.url.origin
            conn = _take(idle, origin, kept, closing)
            if conn is None:
                if len(kept) >= self._max_connections:
                    if not idle:
                        break  # none free: the rest wait for a connection to come back
                    other = idle.pop(0)  # an idle one to another host makes room
                    kept.remove(other)
                    closing.append(other)
                conn = self.create_connection(origin)
                kept.append(conn)
            request.assign_to_connection(conn)
        self._connections = kept
        return closing


def _take(
    idle: list[httpcore.AsyncConnectionInterface],
    origin: httpcore.Origin,
    kept: list[httpcore.AsyncConnectionInterface],
    closing: list[httpcore.AsyncConnectionInterface],
) -> httpcore.AsyncConnectionInterface | None:
    """The first idle connection to ``origin`` that has not expired, taken out of
    ``idle``; the expired ones met on the way move from ``kept`` to ``closing``."""
    for conn in [c for c in idle if c.can_handle_request(origin)]:
        idle.remove(conn)
        if conn.has_expired():
            kept.remove(conn)
            closing.append(conn)
            continue
        return conn
    return None


def client(limits: httpx.Limits, **options: Any) -> httpx.AsyncClient:
    """An httpx client within ``limits`` (certificates verified, ``SSL_CERT_FILE`` and
    proxies from the environment as httpx reads them), its direct connections on
    :class:`_Backend` in a :class:`_Pool` (proxied ones keep httpx's own)."""
    context = httpx.create_ssl_context()
    made = httpx.AsyncClient(verify=context, limits=limits, **options)
    direct = made._transport  # not given one, httpx made it: its pool is the one replaced
    assert isinstance(direct, httpx.AsyncHTTPTransport)
    direct._pool = _Pool(
        ssl_context=context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_Backend(),
    )
    return made
