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
  that asks to wait longer than ``max_retry_after_s`` is its error at once;
- a read the batch's answer leaves out is that read's error, never an empty answer;
- a batch that fails as a whole (after the client's own retries) and carried reads of
  several pages is sent again split by page, so that a page only ever fails on its own
  requests.

Requests are counted per page (:func:`auditor.connectors.http.count_requests`) as the
HTTP requests that carried its reads: a batch shared by several pages counts once for
each of them (its retries and a token request it needed included).
"""

from __future__ import annotations

import asyncio
import contextvars
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
    RequestCount,
    count_requests,
    current_count,
    retry_after_seconds,
    safe_url,
)

MAX_BATCH = 20
"""Requests per batch: Graph's documented limit."""


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


class BatchQueue:
    """The GET requests of a connector's pages, sent as shared ``$batch`` calls."""

    def __init__(self, http: HttpClient) -> None:
        """A queue sending through ``http`` (its slots bound the batches in flight)."""
        self.http = http
        self.batches = 0  # POST /$batch requests sent (attempts and splits included)
        self.reads = 0  # reads answered (a throttled one each time it is answered)
        self._waiting: deque[_Read] = deque()
        self._in_flight = 0
        self._scheduled = False
        self._tasks: set[asyncio.Task[None]] = set()

    async def get(self, paths: Mapping[str, str]) -> dict[str, BatchItem]:
        """GET each of ``paths`` (key -> path relative to the API base, query included)
        in the shared batches; the answer of each key."""
        if not paths:
            return {}
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
        """Stop the batches and waits still under way (the connector is closing)."""
        for task in list(self._tasks):
            task.cancel()

    def _schedule(self) -> None:
        """Send what waits at the event loop's next turn, so that the reads of the pages
        resumed by the same answer go out together."""
        if not self._scheduled:
            self._scheduled = True
            loop = asyncio.get_running_loop()
            loop.call_soon(self._dispatch, context=contextvars.Context())  # no page's

    def _dispatch(self) -> None:
        """Start batches of up to 20 waiting reads while fewer are in flight than the
        client has request slots."""
        self._scheduled = False
        while self._waiting and self._in_flight < max(1, self.http.slots.limit):
            batch: list[_Read] = []
            while self._waiting and len(batch) < MAX_BATCH:
                read = self._waiting.popleft()
                if not read.done.done():  # its page stopped waiting (cancelled)
                    batch.append(read)
            if batch:
                self._start(batch)

    def _start(self, batch: list[_Read]) -> None:
        """Send ``batch`` in a task of its own."""
        self._in_flight += 1
        task = asyncio.get_running_loop().create_task(self._send(batch))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, batch: list[_Read]) -> None:
        """One ``POST /$batch`` of ``batch``; each read settled, queued again or split."""
        try:
            failed: ConnectorError | None = None
            with count_requests() as counted:  # this task's own count, charged to the pages
                try:
                    raw = await self._post(batch)
                except ConnectorError as exc:
                    failed = exc
                except Exception as exc:  # never leave a page waiting on a broken batch
                    failed = ConnectorError(
                        f"{self.http.platform}: POST {safe_url(self.http.url('$batch'))}: "
                        f"{type(exc).__name__}"
                    )
            self.batches += counted.sent
            for counter in {id(r.counter): r.counter for r in batch if r.counter}.values():
                counter.sent += counted.sent
            if failed is None:
                self._answered(batch, raw)
            else:
                self._failed(batch, failed)
        except asyncio.CancelledError:
            stopped = ConnectorError(f"{self.http.platform}: stopped before Graph answered")
            for read in batch:
                _settle(read, stopped)
            raise
        finally:
            self._in_flight -= 1
            self._schedule()

    async def _post(self, batch: list[_Read]) -> Any:
        """The batch's JSON answer (the client retries it whole on 429, 5xx, 401)."""
        requests = [
            {"id": str(n), "method": "GET", "url": "/" + read.path.lstrip("/")}
            for n, read in enumerate(batch, 1)
        ]
        body = {"requests": requests}
        response = await self.http.request("POST", "$batch", json=body, weight=len(requests))
        return self.http.json(response)

    def _answered(self, batch: list[_Read], raw: Any) -> None:
        """Each read's answer from the batch's ``responses`` (matched by ``id``)."""
        found: dict[str, dict[str, Any]] = {}
        if isinstance(raw, dict) and isinstance(raw.get("responses"), list):
            for item in raw["responses"]:
                if isinstance(item, dict) and isinstance(item.get("status"), int):
                    found.setdefault(str(item.get("id")), item)
        where = f"{self.http.platform}: POST {safe_url(self.http.url('$batch'))}"
        for n, read in enumerate(batch, 1):
            item = found.get(str(n))
            url = self.http.url(read.path)
            if item is None:
                missing = f"{where}: the batch answer has no status for GET {safe_url(url)}"
                _settle(read, ConnectorError(missing))
                continue
            headers = item["headers"] if isinstance(item.get("headers"), dict) else {}
            answer = Answer(item["status"], headers, item.get("body"), url)
            self.reads += 1
            if answer.status == 429 or answer.status >= 500:
                self._throttled(read, answer)
            else:
                _settle(read, answer)

    def _throttled(self, read: _Read, answer: Answer) -> None:
        """A read answered 429 or 5xx: queued again after its wait, or its error."""
        http, url = self.http, safe_url(answer.url)
        if answer.status == 429:
            http.slots.throttled()
        if read.attempt >= http.max_attempts:
            _settle(
                read,
                ConnectorError(
                    f"{http.platform}: GET {url}: still HTTP {answer.status} after "
                    f"{http.max_attempts} attempts"
                ),
            )
            return
        wait = retry_after_seconds(answer.response())
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
        task = asyncio.get_running_loop().create_task(self._again(read, wait))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _again(self, read: _Read, wait: float) -> None:
        """Queue ``read`` again after ``wait`` seconds."""
        await http_module.sleep(wait)
        self._waiting.append(read)
        self._schedule()

    def _failed(self, batch: list[_Read], error: ConnectorError) -> None:
        """A batch without an answer: its reads' error when they were one page's round,
        else each page's reads sent again in a batch of their own."""
        rounds: dict[int, list[_Read]] = {}
        for read in batch:
            rounds.setdefault(id(read.owner), []).append(read)
        if len(rounds) == 1:
            for read in batch:
                _settle(read, error)
            return
        for reads in rounds.values():
            self._start(reads)


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
