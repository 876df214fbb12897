"""The shared ``$batch`` queue: the reads of pages fetched at the same time go out
together, up to 20 a batch, and what one page asks never fails another's."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest
import respx

import auditor.connectors.http
from auditor.connectors.base import ConnectorError
from auditor.connectors.graph_batch import MAX_BATCH, Answer, BatchItem, BatchQueue, answer_json
from auditor.connectors.http import HttpClient, HttpStatusError, count_requests

GRAPH = "https://graph.microsoft.com/v1.0"
Item = dict[str, Any]


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Every pause asked for (nothing really sleeps)."""
    asked: list[float] = []

    async def record(seconds: float) -> None:
        asked.append(seconds)

    monkeypatch.setattr(auditor.connectors.http, "sleep", record)
    return asked


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
    assert waits == [7.0]
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
