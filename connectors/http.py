"""The shared async HTTP client every cloud connector uses (httpx + tenacity + aiolimiter).

It makes connectors polite and complete without each writing its own loop: timeouts,
jittered exponential retries on network errors and 5xx, waiting out 429 (and the
platforms' other rate-limit answers) as long as ``Retry-After`` or the platform's own
headers ask, a request rate limit and concurrency cap per connector, OAuth2 token
caching with exactly one refresh on 401, pagination helpers that refuse to follow a
link to another host, and errors that name the platform and the URL path but never a
query string, header or token.

Every answer is bounded: its body is streamed and decompressed a piece at a time, and
more than ``max_response_mb`` (after decompression) ends the request with an error, so a
small gzip body that inflates to gigabytes never fills memory; and each attempt, from
sending to the last byte of the answer, must finish within ``request_deadline_s``, so a
server that sends a byte now and then (each within ``timeout_s``) cannot hold it for long.

Platforms that differ are described through hooks rather than subclasses: fixed
``headers``, a ``request_auth`` (an :class:`httpx.Auth` that signs each request),
``error_detail`` (the platform's words for an error answer), ``rate_limit_wait`` (the
platform's own reading of a rate-limit answer) and :meth:`HttpClient.pause` (a limit
that holds every request).
"""

from __future__ import annotations

import asyncio
import email.utils
import ipaddress
import logging
import re
import time
import zlib
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from aiolimiter import AsyncLimiter
from tenacity import (
    AsyncRetrying,
    RetryCallState,
    retry_if_exception_type,
    stop_after_attempt,
    wait_random_exponential,
)

from auditor import json_text
from auditor.connectors import transport
from auditor.connectors.adaptive import AdaptiveSlots
from auditor.connectors.base import ConnectorError
from auditor.logs import register_secret

log = logging.getLogger(__name__)

sleep: Callable[[float], Any] = asyncio.sleep
"""The pause used between attempts; tests replace it to run fast and record the waits."""

MAX_PAGES = 10_000
TOKEN_EARLY_S = 60.0
RATE_LIMIT_STATUSES = frozenset({429, 420})
RATE_LIMIT_REASONS = re.compile(
    r"rateLimitExceeded|userRateLimitExceeded|quotaExceeded|Rate Limit Exceeded", re.I
)
RESET_AFTER_HEADERS = ("x-ratelimit-reset-after", "ratelimit-reset")
REMAINING_HEADERS = ("x-ratelimit-remaining", "ratelimit-remaining", "x-rate-limit-remaining")
Params = Mapping[str, str | int | float | bool | list[str]] | None
ACCEPT_ENCODING = "gzip, deflate"
"""The only encodings asked for: those :func:`_inflater` decompresses a piece at a time."""


def is_loopback(host: str | None) -> bool:
    """Whether ``host`` is this machine (``localhost``, 127.0.0.0/8 or ::1)."""
    if not host:
        return False
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_api_url(url: str) -> str:
    """``url`` without a trailing slash; raises ValueError unless https, or http on loopback."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url.rstrip("/")
    if parts.scheme == "http" and is_loopback(parts.hostname):
        return url.rstrip("/")
    if parts.scheme == "http":
        raise ValueError("plain http:// is only accepted for loopback hosts; use https://")
    raise ValueError("must be an https:// URL")


def safe_url(url: str | httpx.URL) -> str:
    """``scheme://host/path`` of ``url``: query strings may carry tokens, so they are dropped."""
    parts = urlsplit(str(url))
    return f"{parts.scheme}://{parts.netloc.rsplit('@', 1)[-1]}{parts.path}"


DEFAULT_PORTS = {"https": 443, "http": 80}


def _origin(url: str) -> tuple[str, str, int | None]:
    """``(scheme, host, port)`` of ``url``, the default port made explicit."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    return (scheme, (parts.hostname or "").lower(), parts.port or DEFAULT_PORTS.get(scheme))


@dataclass(frozen=True)
class _Call:
    """One request as the retry loop sends it (the token, if any, goes in a header)."""

    method: str
    url: str
    params: Params = None
    data: Mapping[str, str] | None = None
    token: str | None = None
    json: Any = None  # a JSON body (Graph's $batch)
    weight: int = 1  # requests the platform counts it as (a Graph $batch: its reads)


@dataclass(frozen=True)
class OAuth2:
    """An OAuth2 token endpoint and the form that obtains a token from it.

    ``form`` is called for each token request, so a signed assertion (JWT bearer) is
    fresh every time; client-credentials forms just return the same fields. ``hint``
    ends the error when the endpoint refuses the form: what to check on this platform.
    """

    token_url: str
    form: Callable[[], Mapping[str, str]]
    hint: str = "check the client id and secret"


class HttpStatusError(ConnectorError):
    """The platform answered a non-success status (after retries and token refresh).

    ``response`` is that answer, for connectors that tell refusals apart by its body; its
    request still carries the credentials, so never log or show it.
    """

    def __init__(self, message: str, status: int, response: httpx.Response | None = None) -> None:
        """The error ``message`` for HTTP ``status``, answered by ``response``."""
        super().__init__(message)
        self.status = status
        self.response = response


class WaitTooLongError(ConnectorError):
    """The platform asked to wait ``wait`` seconds, more than ``max_retry_after_s``: the
    request was given up (a caller may hold its other requests, :meth:`HttpClient.pause`)."""

    def __init__(self, message: str, status: int, wait: float) -> None:
        """The error ``message`` for HTTP ``status`` asking to wait ``wait`` seconds."""
        super().__init__(message)
        self.status = status
        self.wait = wait


class _Retryable(Exception):
    """A response worth trying again: a 5xx, or a rate-limit answer with its wait."""

    def __init__(self, response: httpx.Response, retry_after: float | None) -> None:
        super().__init__(f"HTTP {response.status_code}")
        self.status = response.status_code
        self.retry_after = retry_after


def retry_after_seconds(response: httpx.Response, now: float | None = None) -> float | None:
    """How long the platform asks us to wait: ``Retry-After`` (seconds or HTTP date),
    the ``X-RateLimit-Reset-After``/``RateLimit-Reset`` headers, or a JSON ``retry_after``."""
    value = response.headers.get("retry-after")
    if value:
        value = value.strip()
        try:
            return max(0.0, float(value))
        except ValueError:
            try:
                when = email.utils.parsedate_to_datetime(value)
            except (TypeError, ValueError):
                when = None
            if when is not None:
                return max(0.0, when.timestamp() - (now if now is not None else time.time()))
    for name in RESET_AFTER_HEADERS:
        try:
            return max(0.0, float(response.headers[name]))
        except (KeyError, ValueError):
            continue
    if "json" in response.headers.get("content-type", ""):
        try:
            body = response.json()
        except ValueError:
            return None
        if isinstance(body, dict) and isinstance(body.get("retry_after"), int | float):
            return max(0.0, float(body["retry_after"]))
    return None


def status_hint(response: httpx.Response, refreshed: bool = False) -> str:
    """What an error status means, as the shared client says it after ``HTTP <status>, ``
    (``refreshed``: a 401 that came even after fetching a new access token)."""
    status = response.status_code
    return {
        401: "the credentials were refused"
        + (" even after fetching a new access token" if refreshed else ""),
        403: "permission denied: check the app's granted scopes/permissions",
        404: "not found: check the page's external_id",
    }.get(status, response.reason_phrase or "request failed")


def is_rate_limited(response: httpx.Response) -> bool:
    """429 and GroupMe's 420, and the 403s Google and Canvas answer when throttling."""
    if response.status_code in RATE_LIMIT_STATUSES:
        return True
    if response.status_code == 403:
        return bool(RATE_LIMIT_REASONS.search(response.text[:2000]))
    return False


@dataclass
class RequestCount:
    """How many HTTP requests (retries and token requests included) a block of work sent."""

    sent: int = 0
    tokens: int = 0  # of which token requests


_REQUESTS: ContextVar[RequestCount | None] = ContextVar("page_requests", default=None)


@contextmanager
def count_requests() -> Iterator[RequestCount]:
    """Count the requests sent by the current task (and the tasks it starts) in the block:
    the runner counts each page's, for the run's statistics."""
    counter = RequestCount()
    token = _REQUESTS.set(counter)
    try:
        yield counter
    finally:
        _REQUESTS.reset(token)


def current_count() -> RequestCount | None:
    """The counter of the block of work under way (None outside :func:`count_requests`):
    for requests sent on a page's behalf by another task, such as a shared Graph batch."""
    return _REQUESTS.get()


class HttpClient:
    """One connector's HTTP client: base URL, politeness limits, token cache, retries.

    Authentication is one of: ``auth`` (an OAuth2 token endpoint; the token goes in
    ``Authorization: Bearer``), fixed ``headers`` (e.g. ``Authorization: Bot ...`` or
    ``X-Access-Token``), or ``request_auth``, an :class:`httpx.Auth` run on every attempt
    (request signing such as OAuth 1.0a). Every answer is read up to ``max_response_mb``
    (decompressed) and within ``request_deadline_s`` per attempt (see the module docstring).
    Two optional hooks read a platform's answers:

    - ``error_detail(response)``: the words after ``HTTP <status>, `` in the error for a
      non-success answer (a hint for the status and the platform's own message from the
      body; :func:`status_hint` is the shared hint); ``None`` keeps the shared hint.
    - ``rate_limit_wait(response)``: the seconds a rate-limited or 5xx answer asks to wait,
      read the platform's way (e.g. Discord's 429 body ``retry_after``); ``None`` falls
      back to ``Retry-After`` and the usual headers. A limit that holds every request can
      call :meth:`pause` from here.
    """

    def __init__(
        self,
        platform: str,
        base_url: str,
        *,
        timeout_s: float = 30.0,
        max_concurrency: int = 4,
        max_concurrency_ceiling: int | None = None,
        requests_per_second: float | None = None,
        max_attempts: int = 5,
        max_retry_after_s: float = 300.0,
        max_response_mb: float = 50.0,
        request_deadline_s: float = 120.0,
        auth: OAuth2 | None = None,
        request_auth: httpx.Auth | None = None,
        extra_origins: tuple[str, ...] = (),
        headers: Mapping[str, str] | None = None,
        error_detail: Callable[[httpx.Response], str | None] | None = None,
        rate_limit_wait: Callable[[httpx.Response], float | None] | None = None,
    ) -> None:
        """A client of ``platform``'s API at ``base_url`` (options: see the class docstring)."""
        self.platform = platform
        self.base_url = check_api_url(base_url)
        self.max_attempts = max_attempts
        self.max_retry_after_s = max_retry_after_s
        self.max_response_mb = max_response_mb
        self.request_deadline_s = request_deadline_s
        self._auth = auth
        self._error_detail = error_detail
        self._rate_limit_wait = rate_limit_wait
        self._origins = {_origin(self.base_url)} | {
            _origin(check_api_url(u)) for u in extra_origins
        }
        if auth is not None:
            if request_auth is not None:
                raise ValueError("give auth (OAuth2 bearer tokens) or request_auth, not both")
            check_api_url(auth.token_url)
        self._client = transport.client(
            pool_limits(max(max_concurrency, max_concurrency_ceiling or 0)),
            auth=request_auth,
            timeout=httpx.Timeout(timeout_s),
            headers={
                "Accept": "application/json",
                "Accept-Encoding": ACCEPT_ENCODING,
                **(headers or {}),
            },
            follow_redirects=False,
        )
        self.slots = AdaptiveSlots(max_concurrency, max_concurrency_ceiling)
        self._limiter = _limiter(requests_per_second)
        self._token: str | None = None
        self._token_expires = 0.0
        self._token_lock = asyncio.Lock()
        self._paused_until = 0.0

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._client.aclose()

    def pause(self, seconds: float) -> None:
        """Hold every request of this client for ``seconds`` (at most ``max_retry_after_s``):
        for a platform limit that covers all calls, such as an exhausted budget or Discord's
        global rate limit. Requests already sent are not affected."""
        until = time.monotonic() + min(max(0.0, seconds), self.max_retry_after_s)
        self._paused_until = max(self._paused_until, until)

    # --- requests -------------------------------------------------------------------

    def url(self, path_or_url: str) -> str:
        """An absolute URL for ``path_or_url``; absolute URLs must be on an allowed host."""
        if "://" not in path_or_url:
            return f"{self.base_url}/{path_or_url.lstrip('/')}"
        if _origin(path_or_url) not in self._origins:
            raise ConnectorError(
                f"{self.platform}: refusing to call {safe_url(path_or_url)}: "
                f"not on the configured API host {safe_url(self.base_url)}"
            )
        return path_or_url

    async def get_json(self, path_or_url: str, params: Params = None) -> Any:
        """GET and parse JSON; errors name the platform and the path."""
        response = await self.request("GET", path_or_url, params=params)
        return self.json(response)

    def json(self, response: httpx.Response) -> Any:
        """The response body as JSON; a truncated or non-JSON body is a ConnectorError."""
        try:
            return json_text.loads(response.content)
        except (ValueError, UnicodeDecodeError):
            raise ConnectorError(
                f"{self.platform}: {response.request.method} {safe_url(response.request.url)}: "
                "the response is not valid JSON (malformed or truncated)"
            ) from None

    async def request(
        self,
        method: str,
        path_or_url: str,
        *,
        params: Params = None,
        data: Mapping[str, str] | None = None,
        authenticated: bool = True,
        json: Any = None,
        weight: int = 1,
    ) -> httpx.Response:
        """Send one request with retries; 2xx return, others raise HttpStatusError.

        A 401 on an authenticated request drops the cached token, fetches a new one and
        tries once more; a second 401 is an error. ``weight``: how many requests the
        platform counts this one as (a Graph ``$batch`` counts each of its reads), each
        taken from ``requests_per_second``.
        """
        url = self.url(path_or_url)
        use_auth = authenticated and self._auth is not None
        refreshed = False
        while True:
            token = await self._access_token() if use_auth else None
            call = _Call(method, url, params, data, token, json, weight)
            response = await self._send_with_retries(call)
            if response.status_code == 401 and use_auth and not refreshed:
                refreshed = True
                log.info("%s: access token refused (401); fetching a new one", self.platform)
                self._drop_token(token)
                continue
            break
        if response.is_success:
            return response
        raise self._status_error(method, url, response, refreshed)

    async def _send_with_retries(self, call: _Call) -> httpx.Response:
        """``call`` sent until it succeeds or ``max_attempts`` run out (tenacity)."""
        retrying = AsyncRetrying(
            stop=stop_after_attempt(self.max_attempts),
            wait=self._wait,
            retry=retry_if_exception_type((httpx.TransportError, _Retryable)),
            sleep=_pause,
            before_sleep=self._log_retry(call.method, call.url),
            reraise=True,
        )
        where = f"{self.platform}: {call.method} {safe_url(call.url)}"
        try:
            async for attempt in retrying:
                with attempt:
                    return await self._send_once(call)
        except _Retryable as exc:
            raise ConnectorError(
                f"{where}: still HTTP {exc.status} after {self.max_attempts} attempts"
            ) from None
        except httpx.TransportError as exc:
            raise ConnectorError(
                f"{where}: network error after {self.max_attempts} attempts ({type(exc).__name__})"
            ) from None
        raise AssertionError("unreachable: tenacity either returns or raises")

    async def _send_once(self, call: _Call) -> httpx.Response:
        """One attempt: waits out a known empty budget, then the concurrency and rate caps."""
        delay = self._paused_until - time.monotonic()
        if delay > 0:
            await _pause(delay)
        headers = {"Authorization": f"Bearer {call.token}"} if call.token else None
        await self.slots.acquire()
        try:
            if self._limiter is not None:
                for _ in range(call.weight):
                    await self._limiter.acquire()
            sent = time.monotonic()
            response = await self._exchange(call, headers)
        finally:
            self.slots.release()
        if is_rate_limited(response) or response.status_code >= 500:
            self.slots.throttled()
            raise _Retryable(response, self._asked_wait(call, response))
        self.slots.answered(time.monotonic() - sent)
        self._note_budget(response)
        return response

    async def _exchange(self, call: _Call, headers: Mapping[str, str] | None) -> httpx.Response:
        """``call`` sent and its whole answer read within ``request_deadline_s``; the answer
        comes back with its body decompressed (and no ``Content-Encoding`` left)."""
        counter = _REQUESTS.get()
        if counter is not None:
            counter.sent += 1
        request = self._client.build_request(
            call.method,
            call.url,
            params=call.params,
            data=call.data,
            json=call.json,
            headers=headers,
        )
        try:
            async with asyncio.timeout(self.request_deadline_s):
                streamed = await self._client.send(request, stream=True)
                try:
                    body = await self._read_body(call, streamed)
                finally:
                    await streamed.aclose()
        except TimeoutError:
            raise ConnectorError(
                f"{self.platform}: {call.method} {safe_url(call.url)}: no complete answer within "
                f"{self.request_deadline_s:g} s (request_deadline_s); stopped"
            ) from None
        kept = [
            (name, value)
            for name, value in streamed.headers.multi_items()
            if name.lower() not in ("content-encoding", "content-length")
        ]
        return httpx.Response(
            streamed.status_code,
            headers=kept,
            content=body,
            request=streamed.request,
            extensions=streamed.extensions,
        )

    async def _read_body(self, call: _Call, response: httpx.Response) -> bytes:
        """The body of a streamed ``response``, decompressed a piece at a time so that no
        more than ``max_response_mb`` (plus one network read) is ever held."""
        where = f"{self.platform}: {call.method} {safe_url(call.url)}"
        encoding = response.headers.get("content-encoding", "").strip().lower()
        inflate = _inflater(encoding, where)
        cap = int(self.max_response_mb * 1_000_000)
        body = bytearray()
        try:
            async for chunk in response.aiter_raw():
                while chunk:
                    if inflate is None:
                        body += chunk
                        chunk = b""
                    else:  # never more output than the room left, plus one byte to tell
                        body += inflate.decompress(chunk, cap - len(body) + 1)
                        chunk = inflate.unconsumed_tail
                    if len(body) > cap:
                        raise ConnectorError(
                            f"{where}: the response is larger than {self.max_response_mb:g} MB "
                            "(max_response_mb); stopped reading"
                        )
        except zlib.error:
            raise ConnectorError(
                f"{where}: the response body is not valid {encoding} data"
            ) from None
        return bytes(body)

    def _asked_wait(self, call: _Call, response: httpx.Response) -> float | None:
        """The wait the platform asks for, if any; more than ``max_retry_after_s`` gives up."""
        wait = self._rate_limit_wait(response) if self._rate_limit_wait else None
        if wait is None:
            wait = retry_after_seconds(response)
        if wait is not None and wait > self.max_retry_after_s:
            raise WaitTooLongError(
                f"{self.platform}: {call.method} {safe_url(call.url)}: HTTP "
                f"{response.status_code}; the platform asks to wait {wait:.0f} s, more than "
                f"the {self.max_retry_after_s:.0f} s this connector waits",
                response.status_code,
                wait,
            )
        return wait

    def _note_budget(self, response: httpx.Response) -> None:
        """When the platform says no budget remains (``0``, or a float such as Canvas's
        ``0.0``), pause until its reset time; without a reset time nothing is guessed."""
        for name in REMAINING_HEADERS:
            remaining = response.headers.get(name)
            if remaining is None:
                continue
            try:
                empty = float(remaining) <= 0
            except ValueError:
                return
            reset = retry_after_seconds(response) if empty else None
            if reset:
                self.pause(reset)
            return

    def _wait(self, state: RetryCallState) -> float:
        """The pause before the next attempt: the platform's asked wait, else jittered backoff."""
        exc = state.outcome.exception() if state.outcome else None
        if isinstance(exc, _Retryable) and exc.retry_after is not None:
            return exc.retry_after
        return float(wait_random_exponential(multiplier=0.5, max=30)(state))

    def _log_retry(self, method: str, url: str) -> Callable[[RetryCallState], None]:
        """A tenacity ``before_sleep`` that logs each retry (path only, never the query)."""

        def before_sleep(state: RetryCallState) -> None:
            """Log the failed attempt, the attempt count and the coming wait."""
            exc = state.outcome.exception() if state.outcome else None
            what = str(exc) if isinstance(exc, _Retryable) else type(exc).__name__
            wait = state.next_action.sleep if state.next_action else 0.0
            log.warning(
                "%s: %s %s: %s; attempt %d of %d, retrying in %.1f s",
                self.platform,
                method,
                safe_url(url),
                what,
                state.attempt_number,
                self.max_attempts,
                wait,
            )

        return before_sleep

    def status_error(self, method: str, url: str, response: httpx.Response) -> HttpStatusError:
        """The error for a non-success ``response`` to ``method url`` that came back some
        other way than :meth:`request` (inside a Graph ``$batch``), worded as if it had."""
        return self._status_error(method, url, response, False)

    def _status_error(
        self, method: str, url: str, response: httpx.Response, refreshed: bool
    ) -> HttpStatusError:
        """The error for a non-success answer, worded by the ``error_detail`` hook if any."""
        status = response.status_code
        said = self._error_detail(response) if self._error_detail else None
        hint = said or status_hint(response, refreshed)
        return HttpStatusError(
            f"{self.platform}: {method} {safe_url(url)}: HTTP {status}, {hint}", status, response
        )

    # --- OAuth2 tokens ---------------------------------------------------------------

    async def _access_token(self) -> str:
        """The cached access token, fetched anew when missing or about to expire."""
        async with self._token_lock:
            if self._token is None or time.monotonic() >= self._token_expires:
                self._token, lifetime = await self._fetch_token()
                self._token_expires = time.monotonic() + max(0.0, lifetime - TOKEN_EARLY_S)
            return self._token

    def _drop_token(self, token: str | None) -> None:
        """Forget ``token`` after a 401, unless another request already replaced it."""
        if token is not None and self._token == token:
            self._token = None

    async def _fetch_token(self) -> tuple[str, float]:
        """A new access token and its lifetime (s) from the token endpoint."""
        assert self._auth is not None
        url = self._auth.token_url
        counter = _REQUESTS.get()
        before = counter.sent if counter is not None else 0
        try:
            response = await self._send_with_retries(_Call("POST", url, data=self._auth.form()))
        finally:
            if counter is not None:
                counter.tokens += counter.sent - before
        if not response.is_success:
            code = ""
            try:
                error = response.json().get("error")
                if isinstance(error, str) and re.fullmatch(r"[a-z_]{1,60}", error):
                    code = f", {error}"
            except (ValueError, AttributeError):
                pass
            raise ConnectorError(
                f"{self.platform}: token request to {safe_url(url)} was refused "
                f"(HTTP {response.status_code}{code}): {self._auth.hint}"
            )
        body = self.json(response)
        token = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(token, str) or not token:
            raise ConnectorError(
                f"{self.platform}: token response from {safe_url(url)} has no access_token"
            )
        try:
            lifetime = float(body.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        register_secret(token)
        return token, lifetime

    # --- pagination ------------------------------------------------------------------

    async def pages_next_link(
        self,
        path: str,
        params: Params = None,
        next_key: str | tuple[str, ...] = "@odata.nextLink",
    ) -> AsyncIterator[Any]:
        """Yield each page (parsed JSON), following the next link in ``next_key`` (a key,
        or a path of keys such as ``("links", "next")``); a missing, null or empty link
        ends the listing."""
        keys = (next_key,) if isinstance(next_key, str) else next_key
        url: str | None = self.url(path)
        page_params = params
        seen: set[str] = set()
        while url is not None:
            page = await self.get_json(url, page_params)
            yield page
            link = page
            for key in keys:
                link = link.get(key) if isinstance(link, dict) else None
            if link is None or link == "":
                return
            if not isinstance(link, str):
                raise ConnectorError(
                    f"{self.platform}: {safe_url(url)}: {'.'.join(keys)} is not a URL"
                )
            url = self._next_url(url, link, seen)
            page_params = None

    async def pages_token(
        self,
        path: str,
        params: Params = None,
        token_param: str = "pageToken",
        token_key: str = "nextPageToken",
    ) -> AsyncIterator[Any]:
        """Yield each page, passing the previous page's ``token_key`` as ``token_param``."""
        token: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            query = dict(params or {})
            if token is not None:
                query[token_param] = token
            page = await self.get_json(path, query)
            yield page
            token = page.get(token_key) if isinstance(page, dict) else None
            if not token:
                return
            if not isinstance(token, str) or token in seen:
                raise ConnectorError(
                    f"{self.platform}: {safe_url(self.url(path))}: {token_key} repeats or is "
                    "not a string; stopped paging"
                )
            seen.add(token)
        raise ConnectorError(f"{self.platform}: {safe_url(self.url(path))}: over {MAX_PAGES} pages")

    async def pages_link_header(self, path: str, params: Params = None) -> AsyncIterator[Any]:
        """Yield each page, following the ``Link: <...>; rel="next"`` response header."""
        url: str | None = self.url(path)
        page_params = params
        seen: set[str] = set()
        while url is not None:
            response = await self.request("GET", url, params=page_params)
            yield self.json(response)
            link = response.links.get("next", {}).get("url")
            url = self._next_url(url, link, seen) if link else None
            page_params = None

    async def pages_offset(
        self,
        path: str,
        items: Callable[[Any], list[Any]],
        params: Params = None,
        offset_param: str = "start",
        limit_param: str = "limit",
        limit: int = 100,
    ) -> AsyncIterator[Any]:
        """Yield each page, advancing ``offset_param`` until a page has fewer than ``limit``."""
        offset = 0
        for _ in range(MAX_PAGES):
            query = {**dict(params or {}), offset_param: offset, limit_param: limit}
            page = await self.get_json(path, query)
            yield page
            count = len(items(page))
            if count < limit:
                return
            offset += count
        raise ConnectorError(f"{self.platform}: {safe_url(self.url(path))}: over {MAX_PAGES} pages")

    def _next_url(self, current: str, link: str, seen: set[str]) -> str:
        """Resolve a pagination link; refuse other hosts, loops and endless paging."""
        nxt = urljoin(current, link)
        if _origin(nxt) != _origin(self.base_url):
            raise ConnectorError(
                f"{self.platform}: refusing to follow a pagination link off the configured "
                f"API host {safe_url(self.base_url)}: refusing to call {safe_url(nxt)}"
            )
        if nxt in seen or len(seen) >= MAX_PAGES:
            raise ConnectorError(
                f"{self.platform}: {safe_url(nxt)}: pagination loops or never ends; stopped"
            )
        seen.add(nxt)
        return nxt


def _inflater(encoding: str, where: str) -> Any:
    """A zlib decompressor for a ``Content-Encoding`` of gzip or deflate (its header tells
    which: ``MAX_WBITS | 32``), ``None`` for an uncompressed body; any other encoding (never
    asked for, see :data:`ACCEPT_ENCODING`) is an error."""
    if encoding in ("", "identity"):
        return None
    if encoding in ("gzip", "x-gzip", "deflate"):
        return zlib.decompressobj(zlib.MAX_WBITS | 32)
    shown = encoding[:40]
    raise ConnectorError(f"{where}: the response has content encoding {shown!r}, not asked for")


async def _pause(seconds: float) -> None:
    """Sleep through the module-level ``sleep`` (looked up at call time, so tests can patch)."""
    await sleep(seconds)


KEEPALIVE_MAX = 20  # idle connections kept per client (httpx's default)


def pool_limits(max_concurrency: int) -> httpx.Limits:
    """Connection pool limits for a client with ``max_concurrency`` request slots: never
    more connections than slots, and at most ``KEEPALIVE_MAX`` kept idle (httpcore checks
    every pooled connection on each request: 100 kept idle cost more CPU than reconnecting
    on loopback, tests/bench/RESULTS.md, "keep-alive")."""
    return httpx.Limits(
        max_connections=max_concurrency,
        max_keepalive_connections=min(max_concurrency, KEEPALIVE_MAX),
    )


def _limiter(requests_per_second: float | None) -> AsyncLimiter | None:
    """A leaky bucket allowing ``requests_per_second`` (bursts up to one second's worth)."""
    if requests_per_second is None:
        return None
    if requests_per_second >= 1:
        return AsyncLimiter(requests_per_second, 1.0)
    return AsyncLimiter(1, 1.0 / requests_per_second)
