"""Microsoft Graph JSON batching: up to 20 GET requests sent as one ``POST /$batch``.

Graph answers each request of a batch on its own (``responses``, in any order, matched by
``id``, each with ``status``, ``headers`` and ``body``). An answer that is rate limited
(429) or a server error (5xx) is sent again in a later batch, after the ``Retry-After``
its answer carries (else a jittered backoff), up to the client's ``max_attempts``; each
other answer comes back as the :class:`httpx.Response` it would have been on its own, so
the caller reads it with :func:`answer_json` and gets the same one-line error as for a
request sent alone. See https://learn.microsoft.com/graph/json-batching.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from typing import Any

import httpx

import auditor.connectors.http as http_module
from auditor.connectors.base import ConnectorError
from auditor.connectors.http import HttpClient, retry_after_seconds, safe_url

MAX_BATCH = 20
"""Requests per batch: Graph's documented limit."""

BatchItem = httpx.Response | ConnectorError
"""One request's answer: a response (success or not), or why it has none."""


async def batch_get(http: HttpClient, paths: Mapping[str, str]) -> dict[str, BatchItem]:
    """GET each of ``paths`` (key -> path relative to the API base, query included) in
    batches of :data:`MAX_BATCH`; the answer of each key."""
    answers: dict[str, BatchItem] = {}
    keys = list(paths)
    for start in range(0, len(keys), MAX_BATCH):
        chunk = {key: paths[key] for key in keys[start : start + MAX_BATCH]}
        answers.update(await _send_chunk(http, chunk))
    return answers


async def _send_chunk(http: HttpClient, paths: Mapping[str, str]) -> dict[str, BatchItem]:
    """One batch of at most 20, its throttled and failed items sent again."""
    answers: dict[str, BatchItem] = {}
    pending = dict(paths)
    for attempt in range(1, http.max_attempts + 1):
        ids = {str(n): key for n, key in enumerate(pending, 1)}
        body = {
            "requests": [
                {"id": n, "method": "GET", "url": "/" + pending[key].lstrip("/")}
                for n, key in ids.items()
            ]
        }
        raw = http.json(await http.request("POST", "$batch", json=body))
        retry: dict[str, str] = {}
        waits: list[float] = []
        for n, key in ids.items():
            response = _item(http, raw, n, pending[key])
            if response.status_code == 429 or response.status_code >= 500:
                retry[key] = pending[key]
                waits.append(retry_after_seconds(response) or 0.0)
                answers[key] = ConnectorError(
                    f"{http.platform}: GET {safe_url(http.url(pending[key]))}: still HTTP "
                    f"{response.status_code} after {http.max_attempts} attempts"
                )
            else:
                answers[key] = response
        if not retry or attempt == http.max_attempts:
            break
        wait = max(waits) or min(30.0, 0.5 * 2**attempt * random.random())
        if wait > http.max_retry_after_s:
            for key, path in retry.items():
                answers[key] = ConnectorError(
                    f"{http.platform}: GET {safe_url(http.url(path))}: the platform asks to "
                    f"wait {wait:.0f} s, more than the {http.max_retry_after_s:.0f} s this "
                    "connector waits"
                )
            break
        await http_module.sleep(wait)
        pending = retry
    return answers


def _item(http: HttpClient, raw: Any, n: str, path: str) -> httpx.Response:
    """The answer to request ``n`` of a batch, as a response to ``GET path``; a batch
    answer without it is an error naming the batch."""
    found = None
    if isinstance(raw, dict) and isinstance(raw.get("responses"), list):
        found = next(
            (r for r in raw["responses"] if isinstance(r, dict) and str(r.get("id")) == n), None
        )
    if found is None or not isinstance(found.get("status"), int):
        raise ConnectorError(
            f"{http.platform}: POST {safe_url(http.url('$batch'))}: the batch answer has no "
            f"status for GET {safe_url(http.url(path))}"
        )
    status: int = found["status"]
    headers = found.get("headers") if isinstance(found.get("headers"), dict) else {}
    request = httpx.Request("GET", http.url(path))
    body = found.get("body")
    if body is None:
        return httpx.Response(status, headers=headers, request=request)
    return httpx.Response(status, headers=headers, json=body, request=request)


def answer_json(http: HttpClient, item: BatchItem) -> Any:
    """The JSON body of a successful batch answer; otherwise the error a request sent
    alone would have raised (an :class:`~auditor.connectors.http.HttpStatusError` for an
    error status, so callers tell 403 and 404 apart as they would)."""
    if isinstance(item, ConnectorError):
        raise item
    if not item.is_success:
        raise http.status_error("GET", str(item.request.url), item)
    return http.json(item)
