"""The HTTP transport of every connector's client: httpx's own, on an httpcore pool whose
connections look up their socket once.

Before each request httpcore asks every idle pooled connection whether its socket is
readable (a connection the server closed must not be reused). Through anyio each ask
rebuilds the stream's table of socket attributes, a ``getpeername`` system call included:
on an unchanged Graph run of 5,000 pages that was 39% of the client's CPU
(tests/bench/RESULTS.md, "Socket look-ups"). Here the socket is looked up when the
connection opens, and each ask is one ``poll``.
"""

from __future__ import annotations

import select
import socket
import ssl
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


def client(limits: httpx.Limits, **options: Any) -> httpx.AsyncClient:
    """An httpx client within ``limits`` (certificates verified, ``SSL_CERT_FILE`` and
    proxies from the environment as httpx reads them), its direct connections' pool on
    :class:`_Backend` (proxied ones keep httpx's own)."""
    context = httpx.create_ssl_context()
    made = httpx.AsyncClient(verify=context, limits=limits, **options)
    direct = made._transport  # not given one, httpx made it: its pool is the one replaced
    assert isinstance(direct, httpx.AsyncHTTPTransport)
    direct._pool = httpcore.AsyncConnectionPool(
        ssl_context=context,
        max_connections=limits.max_connections,
        max_keepalive_connections=limits.max_keepalive_connections,
        keepalive_expiry=limits.keepalive_expiry,
        network_backend=_Backend(),
    )
    return made
