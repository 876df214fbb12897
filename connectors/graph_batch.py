"""Microsoft Graph JSON batching shared by the pages fetched at the same time: their GET
requests go out together, up to 20 in one ``POST /$batch``.

Graph answers each request of a batch on its own (``responses``, in any order, matched by
``id``, each with ``status``, ``headers`` and ``body``); the batch itself is answered 200
even when requests in it were refused or throttled. See
https://learn.microsoft.com/graph/json-batching.

:class:`BatchQueue` is a connector's one queue. A page hands it a round of reads
(:meth:`BatchQueue.get`) and waits for their answers; the queue sends what waits, 20 reads
a batch in the order they came, whenever fewer batches are in flight than the HTTP
client has request slots, so that pages fetched at the same time share batches (more
pages waiting make fuller batches) and a page alone still gets its answers at once.

What one page asks never fails another's:

- each answer comes back to the page that asked for it, as an :class:`Answer` (read with
  :func:`answer_json`, which raises the one-line error the request alone would have);
- a read answered ``429`` or ``5xx`` is queued again after its own ``Retry-After`` (else a
  jittered backoff), up to the client's ``max_attempts``, then is that read's error; one
  that asks to wait longer than ``max_retry_after_s`` is its error at once; a ``429``
  also holds the client's other requests a moment (:data:`THROTTLE_PAUSE_S` at most), and
  a batch with a ``429`` or ``5xx`` read halves the adaptive slots as such an answer does;
- a read the batch's answer leaves out is that read's error, never an empty answer, and
  an answer that cannot be read fails the batch's reads with a one-line error;
- a batch that fails as a whole (after the client's own retries) fails each of its reads
  with the batch's error when no single read can have caused it (``429``, ``5xx``,
  network, ``401``, ``403``; a wait asked past ``max_retry_after_s`` pauses the client);
  otherwise (another ``4xx``, an answer that is not JSON) a batch that carried reads of
  several pages is queued again split by page, ahead of what waits, so that a page only
  ever fails on its own requests.

Requests are counted per page (:func:`auditor.connectors.http.count_requests`) as the
HTTP requests that carried its reads: a batch shared by several pages counts once for
each of them (its retries and a token request it needed included).
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import random
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

import auditor.connectors.http as http_module
from auditor.connectors.base import ConnectorError
from auditor.connectors.http import (
    HttpClient,
    HttpStatusError,
    RequestCount,
    WaitTooLongError,
    count_requests,
    current_count,
    retry_after_seconds,
    safe_url,
)

log = logging.getLogger(__name__)

MAX_BATCH = 20
"""Requests per batch: Graph's documented limit."""
WHOLE = frozenset({401, 403, 429})
"""Statuses of a failed ``$batch`` that concern the call as a whole, never one read of it."""
THROTTLE_PAUSE_S = 5.0
"""Longest that a read answered 429 holds the client's other requests."""
CLOSED = "the connector closed before Graph answered"


@dataclass(frozen=True)
class Answer:
    """One request's answer inside a batch, as Graph gave it: ``status``, ``headers``,
    the parsed JSON ``body`` (None when it had none) and the absolute ``url`` asked."""

    status: int
    headers: Mapping[str, str]
    body: Any
    url: str

    @property
    def ok(self) -> bool:
        """A 2xx answer."""
        return 200 <= self.status < 300

    def response(self) -> httpx.Response:
        """The answer as the response it would have been alone (made only for errors and
        waits, which the client reads from a response)."""
        request = httpx.Request("GET", self.url)
        if self.body is None:
            return httpx.Response(self.status, headers=self.headers, request=request)
        return httpx.Response(self.status, headers=self.headers, json=self.body, request=request)


BatchItem = Answer | ConnectorError
"""One request's answer, or why it has none."""


@dataclass(eq=False)
class _Read:
    """A GET waiting in the queue: its path, the future its page waits on, the page's
    request counter, its round (``owner``: the :meth:`BatchQueue.get` call) and attempt."""

    path: str
    done: asyncio.Future[BatchItem]
    counter: RequestCount | None
    owner: object
    attempt: int = 1
    alone: bool = False  # split from a failed batch: sent only with its own page's reads


class BatchQueue:
    """The GET requests of a connector's pages, sent as shared ``$batch`` calls."""

    def __init__(self, http: HttpClient) -> None:
        """A queue sending through ``http`` (its slots bound the batches in flight)."""
        self.http = http
        self.batches = 0  # POST /$batch requests sent (retries and splits included)
        self.reads = 0  # reads answered (a throttled one each time it is answered)
        self._waiting: deque[_Read] = deque()
        self._later: set[_Read] = set()  # throttled reads waiting to be queued again
        self._sending: dict[asyncio.Task[None], list[_Read]] = {}
        self._in_flight = 0
        self._scheduled = False
        self._closed = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def get(self, paths: Mapping[str, str]) -> dict[str, BatchItem]:
        """GET each of ``paths`` (key -> path relative to the API base, query included)
        in the shared batches; the answer of each key."""
        if not paths:
            return {}
        if self._closed:
            raise ConnectorError(f"{self.http.platform}: {CLOSED}")
        loop = asyncio.get_running_loop()
        counter, owner = current_count(), object()
        reads = {
            key: _Read(path, loop.create_future(), counter, owner) for key, path in paths.items()
        }
        self._waiting.extend(reads.values())
        self._schedule()
        await asyncio.gather(*(read.done for read in reads.values()))  # cancelled: left out
        return {key: read.done.result() for key, read in reads.items()}

    def close(self) -> None:
        """Stop the batches and waits still under way (the connector is closing): every
        read not answered yet is given a "connector closed" error."""
        self._closed = True
        closed = ConnectorError(f"{self.http.platform}: {CLOSED}")
        for read in [*self._waiting, *self._later]:
            _settle(read, closed)
        self._waiting.clear()
        self._later.clear()
        for task, batch in list(self._sending.items()):
            for read in batch:
                _settle(read, closed)
            task.cancel()
        for task in list(self._tasks):
            task.cancel()

    def _schedule(self) -> None:
        """Send what waits at the event loop's next turn, so that the reads of the pages
        resumed by the same answer go out together."""
        if not self._scheduled and not self._closed:
            self._scheduled = True
            loop = asyncio.get_running_loop()
            loop.call_soon(self._dispatch, context=contextvars.Context())  # no page's

    def _dispatch(self) -> None:
        """Start batches of up to 20 waiting reads while fewer are in flight than the
        client has request slots (reads split from a failed batch go in batches of their
        own page's reads only)."""
        self._scheduled = False
        while self._waiting and self._in_flight < max(1, self.http.slots.limit):
            batch: list[_Read] = []
            while self._waiting and len(batch) < MAX_BATCH:
                read = self._waiting[0]
                if batch and (read.alone, read.alone and read.owner) != (
                    batch[0].alone,
                    batch[0].alone and batch[0].owner,
                ):
                    break
                self._waiting.popleft()
                if not read.done.done():  # its page stopped waiting (cancelled)
                    batch.append(read)
            if batch:
                self._start(batch)

    def _start(self, batch: list[_Read]) -> None:
        """Send ``batch`` in a task of its own (counted in flight until the task ends,
        even one cancelled before it ran)."""
        self._in_flight += 1
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._sending[task] = batch
        task.add_done_callback(self._sent)

    def _sent(self, task: asyncio.Task[None]) -> None:
        """A batch's task ended: one batch fewer in flight, and what waits may go."""
        self._sending.pop(task, None)
        self._in_flight -= 1
        self._schedule()

    async def _send(self, batch: list[_Read]) -> None:
        """One ``POST /$batch`` of ``batch``; each read settled, queued again or split."""
        try:
            raw, failed, split = await self._post(batch)
            if failed is not None:
                self._failed(batch, failed, split)
                return
            try:
                self._answered(batch, raw)
            except Exception as exc:  # never leave a page waiting on a broken answer
                log.debug("%s: reading a $batch answer failed", self.http.platform, exc_info=True)
                broken = ConnectorError(
                    f"{self._where()}: the batch answer could not be read ({type(exc).__name__})"
                )
                for read in batch:
                    _settle(read, broken)
        except asyncio.CancelledError:
            stopped = ConnectorError(f"{self.http.platform}: stopped before Graph answered")
            for read in batch:
                _settle(read, stopped)
            raise
        finally:  # whatever happened, no read of the batch is left waiting
            unanswered = ConnectorError(f"{self._where()}: the batch ended without an answer")
            for read in batch:
                queued = read in self._later or (read.alone and read in self._waiting)
                if not queued:
                    _settle(read, unanswered)

    async def _post(self, batch: list[_Read]) -> tuple[Any, ConnectorError | None, bool]:
        """The batch's JSON answer (the client retries it whole on 429, 5xx, 401), or why
        it has none and whether sending its pages apart could help (see :meth:`_failed`)."""
        requests = [
            {"id": str(n), "method": "GET", "url": "/" + read.path.lstrip("/")}
            for n, read in enumerate(batch, 1)
        ]
        failed: ConnectorError | None = None
        split = False
        with count_requests() as counted:  # this task's own count, charged to the pages
            try:
                response = await self.http.request(
                    "POST", "$batch", json={"requests": requests}, weight=len(requests)
                )
            except HttpStatusError as exc:
                failed, split = exc, 400 <= exc.status < 500 and exc.status not in WHOLE
            except ConnectorError as exc:
                failed = exc
            except Exception as exc:  # never leave a page waiting on a broken batch
                log.debug("%s: POST $batch failed", self.http.platform, exc_info=True)
                failed = ConnectorError(f"{self._where()}: {type(exc).__name__}")
        self.batches += counted.sent - counted.tokens
        for counter in {id(r.counter): r.counter for r in batch if r.counter}.values():
            counter.sent += counted.sent
        if failed is not None:
            return None, failed, split
        try:
            return self.http.json(response), None, False
        except ConnectorError as exc:
            return None, exc, True

    def _where(self) -> str:
        """``platform: POST <$batch URL>``, to begin an error about a batch."""
        return f"{self.http.platform}: POST {safe_url(self.http.url('$batch'))}"

    def _answered(self, batch: list[_Read], raw: Any) -> None:
        """Each read's answer from the batch's ``responses`` (matched by ``id``)."""
        found: dict[str, dict[str, Any]] = {}
        if isinstance(raw, dict) and isinstance(raw.get("responses"), list):
            for item in raw["responses"]:
                if isinstance(item, dict) and isinstance(item.get("status"), int):
                    found.setdefault(str(item.get("id")), item)
        base = self.http.base_url
        throttled = 0
        for n, read in enumerate(batch, 1):
            if read.done.done():  # its page stopped waiting: neither counted nor retried
                continue
            item = found.get(str(n))
            url = f"{base}/{read.path.lstrip('/')}"  # what the batch asked (relative to base)
            if item is None:
                missing = f"{self._where()}: the batch answer has no status for GET {safe_url(url)}"
                _settle(read, ConnectorError(missing))
                continue
            raw_headers = item.get("headers")
            headers = (
                {str(k): str(v) for k, v in raw_headers.items()}
                if isinstance(raw_headers, dict)
                else {}
            )
            answer = Answer(item["status"], headers, item.get("body"), url)
            self.reads += 1
            if answer.status == 429 or answer.status >= 500:
                throttled += 1
                self._throttled(read, answer)
            else:
                _settle(read, answer)
        if throttled:  # once a batch, as the client does once an answer
            self.http.slots.throttled()

    def _throttled(self, read: _Read, answer: Answer) -> None:
        """A read answered 429 or 5xx: queued again after its wait, or its error. A 429
        also holds the client's other requests a moment (Graph throttles the app)."""
        http, url = self.http, safe_url(answer.url)
        wait = retry_after_seconds(answer.response())
        if answer.status == 429:
            http.pause(min(wait if wait is not None else THROTTLE_PAUSE_S, THROTTLE_PAUSE_S))
        if read.attempt >= http.max_attempts:
            _settle(
                read,
                ConnectorError(
                    f"{http.platform}: GET {url}: still HTTP {answer.status} after "
                    f"{http.max_attempts} attempts"
                ),
            )
            return
        if wait is None:
            wait = min(30.0, 0.5 * 2**read.attempt * random.random())
        if wait > http.max_retry_after_s:
            _settle(
                read,
                ConnectorError(
                    f"{http.platform}: GET {url}: the platform asks to wait {wait:.0f} s, more "
                    f"than the {http.max_retry_after_s:.0f} s this connector waits"
                ),
            )
            return
        read.attempt += 1
        self._later.add(read)
        task = asyncio.get_running_loop().create_task(self._again(read, wait))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _again(self, read: _Read, wait: float) -> None:
        """Queue ``read`` again after ``wait`` seconds."""
        await http_module.sleep(wait)
        self._later.discard(read)
        if not read.done.done():
            self._waiting.append(read)
            self._schedule()

    def _failed(self, batch: list[_Read], error: ConnectorError, split: bool) -> None:
        """A batch without an answer. When a single read may have caused it (``split``: a
        4xx other than 401, 403 and 429, or an answer that is not JSON) and it carried
        several pages' reads, each page's reads are queued again, first, in batches of
        their own, so that a page only ever fails on its own requests. Otherwise (429,
        5xx, network, 401, 403: the batch as a whole) every read has the error, worded as
        the batch's, never as a refusal of the read itself; a wait asked longer than the
        client waits holds the client's other requests too."""
        if isinstance(error, WaitTooLongError):
            self.http.pause(error.wait)
        owners = {id(read.owner) for read in batch if not read.done.done()}
        if split and len(owners) > 1:
            for read in reversed(batch):
                read.alone = True
                self._waiting.appendleft(read)
            return
        whole = ConnectorError(str(error))  # not an HttpStatusError: no read was refused
        for read in batch:
            _settle(read, whole)


def _settle(read: _Read, answer: BatchItem) -> None:
    """Give ``read``'s page its answer (unless it stopped waiting)."""
    if not read.done.done():
        read.done.set_result(answer)


def answer_json(http: HttpClient, item: BatchItem) -> Any:
    """The JSON body of a successful batch answer; otherwise the error a request sent
    alone would have raised (an :class:`~auditor.connectors.http.HttpStatusError` for an
    error status, so callers tell 403 and 404 apart as they would)."""
    if isinstance(item, ConnectorError):
        raise item
    if not item.ok:
        raise http.status_error("GET", item.url, item.response())
    if item.body is None:
        raise ConnectorError(
            f"{http.platform}: GET {safe_url(item.url)}: the response is not valid JSON "
            "(malformed or truncated)"
        )
    return item.body
