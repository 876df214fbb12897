"""The shared ``$batch`` queue: the reads of pages fetched at the same time go out
together, up to 20 a batch, and what one page asks never fails another's."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

from auditor.connectors.base import ConnectorError
from auditor.connectors.graph_batch import (
    MAX_BATCH,
    THROTTLE_PAUSE_S,
    Answer,
    BatchItem,
    BatchQueue,
    answer_json,
)
from auditor.connectors.http import HttpClient, HttpStatusError, OAuth2, count_requests

GRAPH = "https://graph.microsoft.com/v1.0"
Item = dict[str, Any]


pytestmark = pytest.mark.usefixtures("waits")  # every pause recorded, none slept (conftest)


def ok(path: str) -> Item:
    """Graph's answer to ``GET path`` inside a batch: a body naming the path."""
    return {"status": 200, "headers": {"Content-Type": "application/json"}, "body": {"p": path}}


class Graph:
    """``POST /$batch`` answered item by item by ``answer(path, attempt)`` (``None``:
    left out of the batch's answer); every batch's paths are kept in ``batches``."""

    def __init__(self, answer: Callable[[str, int], Item | None] = lambda p, n: ok(p)) -> None:
        self.answer = answer
        self.batches: list[list[str]] = []
        self.asked: dict[str, int] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        items = json.loads(request.content)["requests"]
        self.batches.append([i["url"] for i in items])
        out = []
        for item in items:
            self.asked[item["url"]] = self.asked.get(item["url"], 0) + 1
            got = self.answer(item["url"], self.asked[item["url"]])
            if got is not None:
                out.append({"id": item["id"], **got})
        return httpx.Response(200, json={"responses": out[::-1]})


@pytest.fixture
def graph() -> Iterator[Graph]:
    fake = Graph()
    with respx.mock(assert_all_called=False) as router:
        router.post(f"{GRAPH}/$batch", name="batch").mock(side_effect=lambda r: fake(r))
        yield fake


def client(concurrency: int = 4) -> HttpClient:
    return HttpClient("microsoft365", GRAPH, max_concurrency=concurrency)


async def page(queue: BatchQueue, name: str, reads: int) -> tuple[dict[str, BatchItem], int]:
    """One page's round of ``reads`` reads, and the requests counted to the page."""
    paths = {f"r{n}": f"groups/{name}/r{n}" for n in range(reads)}
    with count_requests() as counted:
        answers = await queue.get(paths)
    return answers, counted.sent


async def pages(queue: BatchQueue, **reads: int) -> dict[str, tuple[dict[str, BatchItem], int]]:
    """Rounds of several pages at the same time, by page name."""
    done = await asyncio.gather(*(page(queue, name, n) for name, n in reads.items()))
    return dict(zip(reads, done, strict=True))


async def test_pages_share_batches_of_at_most_twenty(graph: Graph) -> None:
    http = client()
    got = await pages(BatchQueue(http), a=6, b=6, c=8, d=6)
    await http.aclose()
    assert sorted(len(b) for b in graph.batches) == [6, 20], "26 reads, one full batch"
    for name, (answers, sent) in got.items():
        assert all(answer_json(http, a) == {"p": f"/groups/{name}/{k}"} for k, a in answers.items())
        carried = sum(any(p.startswith(f"/groups/{name}/") for p in b) for b in graph.batches)
        assert sent == carried, "a page counts each request that carried its reads"
    assert max(len(b) for b in graph.batches) <= MAX_BATCH


async def test_a_page_alone_is_sent_at_once(graph: Graph) -> None:
    http = client()
    answers, sent = await page(BatchQueue(http), "a", 25)
    await http.aclose()
    assert [len(b) for b in graph.batches] == [20, 5] and sent == 2
    assert len(answers) == 25


async def test_one_pages_refusal_is_its_own(graph: Graph) -> None:
    refused = {"status": 403, "headers": {}, "body": {"error": {"code": "Forbidden"}}}
    graph.answer = lambda p, n: refused if p.startswith("/groups/a/") else ok(p)
    http = client()
    got = await pages(BatchQueue(http), a=2, b=2)
    await http.aclose()
    assert len(graph.batches) == 1, "in one batch"
    with pytest.raises(HttpStatusError, match=r"GET https://graph\S+/groups/a/r0: HTTP 403"):
        answer_json(http, got["a"][0]["r0"])
    assert answer_json(http, got["b"][0]["r0"]) == {"p": "/groups/b/r0"}


async def test_a_throttled_read_alone_is_sent_again_after_its_wait(
    graph: Graph, waits: list[float]
) -> None:
    throttled = {"status": 429, "headers": {"Retry-After": "7"}, "body": None}
    graph.answer = lambda p, n: throttled if p == "/groups/a/r1" and n == 1 else ok(p)
    http = client()
    got = await pages(BatchQueue(http), a=2, b=2)
    await http.aclose()
    assert waits[0] == 7.0, "the read waits its Retry-After"
    assert waits[1:] and all(0 < w <= THROTTLE_PAUSE_S for w in waits[1:]), "the rest held"
    assert graph.batches[1:] == [["/groups/a/r1"]], "only the throttled read, again"
    assert answer_json(http, got["a"][0]["r1"]) == {"p": "/groups/a/r1"}
    assert got["a"][1] == 2 and got["b"][1] == 1, "the retry counts for its page only"


async def test_a_read_throttled_to_the_end_is_its_pages_error(graph: Graph) -> None:
    graph.answer = lambda p, n: {"status": 503, "headers": {}} if p == "/groups/a/r0" else ok(p)
    http = client()
    got = await pages(BatchQueue(http), a=1, b=1)
    await http.aclose()
    assert graph.asked["/groups/a/r0"] == http.max_attempts
    with pytest.raises(ConnectorError, match="still HTTP 503 after 5 attempts"):
        answer_json(http, got["a"][0]["r0"])
    assert answer_json(http, got["b"][0]["r0"]) == {"p": "/groups/b/r0"}


async def test_a_wait_too_long_is_an_error_at_once(graph: Graph, waits: list[float]) -> None:
    graph.answer = lambda p, n: {"status": 429, "headers": {"Retry-After": "9999"}}
    http = client()
    answers, _ = await page(BatchQueue(http), "a", 1)
    await http.aclose()
    assert waits == [] and graph.asked == {"/groups/a/r0": 1}
    with pytest.raises(ConnectorError, match="asks to wait 9999 s, more than the 300 s"):
        answer_json(http, answers["r0"])


async def test_a_read_left_out_of_the_answer_is_never_empty(graph: Graph) -> None:
    graph.answer = lambda p, n: None if p == "/groups/a/r0" else ok(p)
    http = client()
    got = await pages(BatchQueue(http), a=2, b=1)
    await http.aclose()
    with pytest.raises(ConnectorError, match=r"no status for GET https://\S+/groups/a/r0"):
        answer_json(http, got["a"][0]["r0"])
    assert answer_json(http, got["a"][0]["r1"]) == {"p": "/groups/a/r1"}
    assert answer_json(http, got["b"][0]["r0"]) == {"p": "/groups/b/r0"}


async def test_a_read_answered_without_a_body_is_not_valid_json(graph: Graph) -> None:
    graph.answer = lambda p, n: {"status": 200, "headers": {}}
    http = client()
    answers, _ = await page(BatchQueue(http), "a", 1)
    await http.aclose()
    with pytest.raises(ConnectorError, match="not valid JSON"):
        answer_json(http, answers["r0"])


async def test_a_failed_shared_batch_is_sent_again_page_by_page() -> None:
    """A batch refused whole (here: a truncated answer, after the client's retries) is
    sent again split by page; the page whose reads break it fails alone."""
    batches: list[list[str]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        paths = [i["url"] for i in json.loads(request.content)["requests"]]
        batches.append(paths)
        if any(p.startswith("/groups/a/") for p in paths):
            return httpx.Response(200, content=b'{"responses": [', headers={"content-type": "json"})
        items = [{"id": str(n), **ok(p)} for n, p in enumerate(paths, 1)]
        return httpx.Response(200, json={"responses": items})

    with respx.mock() as router:
        router.post(f"{GRAPH}/$batch").mock(side_effect=answer)
        http = client()
        got = await pages(BatchQueue(http), a=1, b=2)
        await http.aclose()
    assert batches == [
        ["/groups/a/r0", "/groups/b/r0", "/groups/b/r1"],
        ["/groups/a/r0"],
        ["/groups/b/r0", "/groups/b/r1"],
    ]
    with pytest.raises(ConnectorError, match="not valid JSON"):
        answer_json(http, got["a"][0]["r0"])
    assert answer_json(http, got["b"][0]["r1"]) == {"p": "/groups/b/r1"}


async def test_a_page_that_stopped_waiting_is_left_out(graph: Graph) -> None:
    http = client(concurrency=1)
    queue = BatchQueue(http)
    first = asyncio.create_task(page(queue, "a", 1))
    await asyncio.sleep(0)  # a's batch is on its way
    gone = asyncio.create_task(page(queue, "b", 1))
    await asyncio.sleep(0)
    gone.cancel()
    kept = await page(queue, "c", 1)
    await first
    await http.aclose()
    assert all("/groups/b/r0" not in b for b in graph.batches), "b's read was never sent"
    assert answer_json(http, kept[0]["r0"]) == {"p": "/groups/c/r0"}


def test_an_answer_reads_as_the_response_it_would_have_been() -> None:
    answer = Answer(429, {"Retry-After": "3"}, {"error": {"code": "TooManyRequests"}}, f"{GRAPH}/x")
    response = answer.response()
    assert response.status_code == 429 and response.headers["retry-after"] == "3"
    assert response.json() == {"error": {"code": "TooManyRequests"}}
    assert not answer.ok and Answer(204, {}, None, f"{GRAPH}/x").ok


async def test_a_batch_takes_one_request_of_the_rate_limit_per_read(graph: Graph) -> None:
    """Graph counts each read of a batch against its limits: so does requests_per_second."""
    http = HttpClient("microsoft365", GRAPH, max_concurrency=4, requests_per_second=100)
    taken: list[int] = []
    acquire = http._limiter.acquire  # type: ignore[union-attr]

    async def counted(amount: float = 1) -> None:
        taken.append(int(amount))
        await acquire(amount)

    http._limiter.acquire = counted  # type: ignore[union-attr,method-assign]
    await page(BatchQueue(http), "a", 6)
    await http.aclose()
    assert len(graph.batches) == 1 and sum(taken) == 6


class Whole:
    """``POST /$batch`` failing as a whole with ``status`` (and ``headers``); the number
    of reads of each POST in ``posts``, and the batches in flight at each in ``flying``."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        self.status, self.headers = status, headers or {}
        self.posts: list[int] = []
        self.flying: list[int] = []
        self.queue: BatchQueue | None = None

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.posts.append(len(json.loads(request.content)["requests"]))
        if self.queue is not None:
            self.flying.append(self.queue._in_flight)
        return httpx.Response(self.status, headers=self.headers)


async def whole(status: int, names: str, headers: dict[str, str] | None = None) -> Any:
    """Pages ``names`` (one letter each, three reads each) sent while every batch fails
    whole with ``status``: the failing endpoint, the client and each page's answers."""
    fake = Whole(status, headers)
    with respx.mock() as router:
        router.post(f"{GRAPH}/$batch").mock(side_effect=fake)
        http = client(concurrency=1)
        fake.queue = BatchQueue(http)
        got = await pages(fake.queue, **dict.fromkeys(names, 3))
        await http.aclose()
    return fake, http, got


async def test_a_whole_batch_throttled_for_long_is_not_sent_again(waits: list[float]) -> None:
    """Graph throttles the $batch itself for an hour: one POST, every read fails with
    it, and the client holds its next requests (never a burst of split batches)."""
    fake, http, got = await whole(429, "abcdef", {"Retry-After": "3600"})
    assert fake.posts == [18], "one POST to an endpoint that asked to wait an hour"
    for answers, _ in got.values():
        with pytest.raises(ConnectorError, match="asks to wait 3600 s") as caught:
            answer_json(http, answers["r0"])
        assert not isinstance(caught.value, HttpStatusError)
    assert http._paused_until > time.monotonic() + 290, "the next requests are held"


async def test_a_whole_batch_failing_5xx_is_sent_at_most_max_attempts_times() -> None:
    fake, http, got = await whole(503, "abcdef")
    assert len(fake.posts) == http.max_attempts, "the client's retries, never split"
    with pytest.raises(ConnectorError, match="still HTTP 503 after 5 attempts"):
        answer_json(http, got["c"][0]["r2"])


async def test_a_whole_batch_refused_is_not_a_refusal_of_each_read() -> None:
    """A 403 on the $batch call is the batch's error, not each read's permission refusal
    (the channel-delta round tells a refused read by its HttpStatusError 403)."""
    fake, http, got = await whole(403, "ab")
    assert fake.posts == [6]
    for answers, _ in got.values():
        with pytest.raises(ConnectorError, match=r"POST https://\S+/\$batch: HTTP 403") as caught:
            answer_json(http, answers["r1"])
        assert not isinstance(caught.value, HttpStatusError)


async def test_split_batches_go_first_and_within_the_slots() -> None:
    """A 400 may be one read's fault: each page is sent again on its own, ahead of what
    waits, never more batches in flight than the client's slots."""
    fake, http, got = await whole(400, "abcdefgh")
    assert fake.posts == [20, 3, 3, 3, 3, 3, 3, 2, 4, 1, 3], (
        "24 reads: a full batch, its pages alone, then the rest and its pages alone"
    )
    assert max(fake.flying) <= 1 == http.slots.limit
    with pytest.raises(ConnectorError, match=r"\$batch: HTTP 400"):
        answer_json(http, got["h"][0]["r0"])


async def test_a_malformed_item_never_leaves_another_page_waiting(graph: Graph) -> None:
    """A header value that is not a string is read as one; another page's read in the
    same batch is answered."""
    throttled = {"status": 429, "headers": {"Retry-After": 1}}
    graph.answer = lambda p, n: throttled if p == "/groups/a/r0" else ok(p)
    http = client()
    got = await asyncio.wait_for(pages(BatchQueue(http), a=1, b=1), timeout=10)
    await http.aclose()
    assert graph.asked["/groups/a/r0"] == http.max_attempts
    assert answer_json(http, got["b"][0]["r0"]) == {"p": "/groups/b/r0"}


async def test_an_answer_that_cannot_be_read_settles_every_read(
    graph: Graph, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(self: BatchQueue, read: Any, answer: Answer) -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(BatchQueue, "_throttled", broken)
    graph.answer = lambda p, n: {"status": 503, "headers": {}} if p == "/groups/a/r0" else ok(p)
    http = client()
    got = await asyncio.wait_for(pages(BatchQueue(http), a=1, b=2), timeout=10)
    await http.aclose()
    with pytest.raises(ConnectorError, match=r"could not be read \(RuntimeError\)$"):
        answer_json(http, got["b"][0]["r1"])


async def test_a_path_with_a_url_in_its_query_is_answered(graph: Graph) -> None:
    http = client()
    queue = BatchQueue(http)
    answers = await asyncio.wait_for(queue.get({"x": "groups?$filter=u eq 'https://x.org/'"}), 10)
    await http.aclose()
    assert answer_json(http, answers["x"]) == {"p": "/groups?$filter=u eq 'https://x.org/'"}


async def test_a_read_answered_5xx_slows_the_client(graph: Graph) -> None:
    graph.answer = lambda p, n: {"status": 502, "headers": {}} if n == 1 else ok(p)
    http = HttpClient("microsoft365", GRAPH, max_concurrency=4, max_concurrency_ceiling=8)
    await page(BatchQueue(http), "a", 3)
    await http.aclose()
    assert http.slots.limit == 2, "halved once for the batch, as for one 5xx answer"


async def test_a_read_throttled_long_holds_the_client_briefly(
    graph: Graph, waits: list[float]
) -> None:
    throttled = {"status": 429, "headers": {"Retry-After": "60"}}
    graph.answer = lambda p, n: throttled if p == "/groups/a/r0" and n == 1 else ok(p)
    http = client()
    await pages(BatchQueue(http), a=1, b=1)
    await http.aclose()
    assert waits[0] == 60.0 and 0 < waits[1] <= THROTTLE_PAUSE_S


async def test_a_read_whose_page_stopped_waiting_is_not_retried_nor_counted() -> None:
    sent: list[list[str]] = []
    release = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        paths = [i["url"] for i in json.loads(request.content)["requests"]]
        sent.append(paths)
        await release.wait()
        items = [{"id": str(n), "status": 503, "headers": {}} for n in range(1, len(paths) + 1)]
        return httpx.Response(200, json={"responses": items})

    with respx.mock() as router:
        router.post(f"{GRAPH}/$batch").mock(side_effect=answer)
        http = client()
        queue = BatchQueue(http)
        gone = asyncio.create_task(page(queue, "a", 2))
        for _ in range(5):
            await asyncio.sleep(0)
        gone.cancel()
        release.set()
        for _ in range(20):
            await asyncio.sleep(0)
        await http.aclose()
    assert sent == [["/groups/a/r0", "/groups/a/r1"]] and queue.reads == 0


async def test_closing_settles_every_read_still_waiting() -> None:
    release = asyncio.Event()

    async def answer(request: httpx.Request) -> httpx.Response:
        await release.wait()
        return httpx.Response(500)

    with respx.mock(assert_all_called=False) as router:
        router.post(f"{GRAPH}/$batch").mock(side_effect=answer)
        http = client(concurrency=1)
        queue = BatchQueue(http)
        rounds = [asyncio.create_task(page(queue, n, 25)) for n in "ab"]
        for _ in range(5):
            await asyncio.sleep(0)
        queue.close()
        got = await asyncio.wait_for(asyncio.gather(*rounds), timeout=10)
        await http.aclose()
    for answers, _ in got:
        with pytest.raises(ConnectorError, match="closed before Graph answered"):
            answer_json(http, answers["r24"])
    assert queue._in_flight == 0 and not queue._waiting
    with pytest.raises(ConnectorError, match="closed"):
        await queue.get({"x": "groups/c"})


async def test_only_batch_requests_count_as_batches() -> None:
    token = OAuth2("https://login.example.org/token", lambda: {"grant_type": "x"})
    fake = Graph()
    with respx.mock() as router:
        router.post(f"{GRAPH}/$batch").mock(side_effect=fake)
        router.post("https://login.example.org/token").respond(
            200, json={"access_token": "t0k3n-value", "expires_in": 3600}
        )
        http = HttpClient("microsoft365", GRAPH, auth=token)
        queue = BatchQueue(http)
        _, sent = await page(queue, "a", 2)
        await http.aclose()
    assert queue.batches == 1 and sent == 2, "the token request counts for the page only"
