"""The shared HTTP client: retries, rate limits, token refresh, pagination and safety."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

import auditor.connectors.http
from auditor.connectors.base import ConnectorError
from auditor.connectors.http import HttpClient, OAuth2, check_api_url, retry_after_seconds

BASE = "https://api.example.test/v1"
TOKEN_URL = "https://login.example.test/token"


@pytest.fixture(autouse=True)
def waits(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    asked: list[float] = []

    async def record(seconds: float) -> None:
        asked.append(seconds)

    monkeypatch.setattr(auditor.connectors.http, "sleep", record)
    return asked


def client(**kwargs: object) -> HttpClient:
    return HttpClient("demo", BASE, **kwargs)  # type: ignore[arg-type]


async def collect(pages: AsyncIterator[object]) -> list[object]:
    return [p async for p in pages]


@respx.mock
async def test_next_link_pages_are_all_followed() -> None:
    respx.get(f"{BASE}/items", params={"page": "2"}).respond(json={"value": [3]})
    respx.get(f"{BASE}/items").respond(json={"value": [1, 2], "next": f"{BASE}/items?page=2"})
    http = client()
    pages = await collect(http.pages_next_link("items", {"top": 2}, next_key="next"))
    assert [p["value"] for p in pages] == [[1, 2], [3]]


@respx.mock
async def test_next_link_to_another_host_is_refused() -> None:
    respx.get(f"{BASE}/items").respond(
        json={"value": [1], "@odata.nextLink": "https://evil.example.org/v1/items?page=2"}
    )
    evil = respx.get("https://evil.example.org/v1/items").respond(json={"value": []})
    with pytest.raises(ConnectorError, match=r"refusing to follow.*evil\.example\.org"):
        await collect(client().pages_next_link("items"))
    assert not evil.called


@respx.mock
async def test_next_link_loop_is_stopped() -> None:
    respx.get(f"{BASE}/items").respond(json={"value": [1], "next": "/v1/items?page=2"})
    with pytest.raises(ConnectorError, match="loops"):
        await collect(client().pages_next_link("items", next_key="next"))


@respx.mock
async def test_token_pages_and_repeated_token() -> None:
    route = respx.get(f"{BASE}/members")
    route.side_effect = lambda r: httpx.Response(
        200,
        json={"members": [1]} | ({} if "pageToken" in r.url.params else {"nextPageToken": "t"}),
    )
    assert len(await collect(client().pages_token("members"))) == 2
    route.side_effect = lambda r: httpx.Response(200, json={"nextPageToken": "same"})
    with pytest.raises(ConnectorError, match="repeats"):
        await collect(client().pages_token("members"))


@respx.mock
async def test_link_header_pages() -> None:
    respx.get(f"{BASE}/groups", params={"page": "2"}).respond(json=[3])
    respx.get(f"{BASE}/groups").respond(
        json=[1, 2], headers={"Link": f'<{BASE}/groups?page=2>; rel="next", <{BASE}/x>; rel="last"'}
    )
    pages = await collect(client().pages_link_header("groups", {"per_page": 2}))
    assert pages == [[1, 2], [3]]


@respx.mock
async def test_offset_pages_stop_on_a_short_page() -> None:
    route = respx.get(f"{BASE}/enrollments")
    route.side_effect = lambda r: httpx.Response(
        200, json={"items": [0, 0] if r.url.params["start"] == "0" else [0]}
    )
    pages = await collect(client().pages_offset("enrollments", lambda p: p["items"], limit=2))
    assert len(pages) == 2
    assert [c.request.url.params["start"] for c in route.calls] == ["0", "2"]


@respx.mock
async def test_429_waits_retry_after_then_succeeds(waits: list[float]) -> None:
    respx.get(f"{BASE}/x").mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "12"}),
            httpx.Response(200, json=1),
        ]
    )
    assert await client().get_json("x") == 1
    assert waits == [12.0]


@pytest.mark.parametrize(
    ("status", "headers", "body"),
    [
        (429, {"X-RateLimit-Reset-After": "2.5"}, None),
        (429, {}, {"message": "You are being rate limited.", "retry_after": 2.5, "global": False}),
        (420, {"Retry-After": "2.5"}, None),
    ],
)
@respx.mock
async def test_platform_rate_limit_signals(
    waits: list[float], status: int, headers: dict, body: dict | None
) -> None:
    respx.get(f"{BASE}/x").mock(
        side_effect=[
            httpx.Response(status, headers=headers, json=body),
            httpx.Response(200, json=1),
        ]
    )
    assert await client().get_json("x") == 1
    assert waits == [2.5]


def test_retry_after_http_date() -> None:
    now = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
    later = format_datetime(now + timedelta(seconds=30), usegmt=True)
    response = httpx.Response(429, headers={"Retry-After": later})
    assert retry_after_seconds(response, now=now.timestamp()) == pytest.approx(30)


@respx.mock
async def test_too_long_retry_after_gives_up() -> None:
    route = respx.get(f"{BASE}/x").respond(429, headers={"Retry-After": "3600"})
    with pytest.raises(ConnectorError, match="asks to wait 3600 s"):
        await client(max_retry_after_s=60).get_json("x")
    assert route.call_count == 1


@respx.mock
async def test_empty_budget_pauses_before_the_next_request(waits: list[float]) -> None:
    respx.get(f"{BASE}/a").respond(
        json=1, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "4"}
    )
    respx.get(f"{BASE}/b").respond(json=2)
    http = client()
    await http.get_json("a")
    assert waits == []
    await http.get_json("b")
    assert len(waits) == 1 and 3.5 < waits[0] <= 4


@respx.mock
async def test_network_errors_are_retried_then_reported(waits: list[float]) -> None:
    route = respx.get(f"{BASE}/x").mock(side_effect=httpx.ConnectError("refused"))
    with pytest.raises(ConnectorError, match=r"network error after 3 attempts \(ConnectError"):
        await client(max_attempts=3).get_json("x")
    assert route.call_count == 3 and len(waits) == 2
    assert all(0 <= w <= 30 for w in waits)


@respx.mock
async def test_token_cached_and_refreshed_once_on_401() -> None:
    tokens = iter(["tok-A", "tok-B", "tok-C"])
    token = respx.post(TOKEN_URL).mock(
        side_effect=lambda r: httpx.Response(
            200, json={"access_token": next(tokens), "expires_in": 3600}
        )
    )
    api = respx.get(f"{BASE}/x").mock(
        side_effect=[httpx.Response(200, json=1), httpx.Response(401), httpx.Response(200, json=2)]
    )
    http = client(auth=OAuth2(TOKEN_URL, lambda: {"grant_type": "client_credentials"}))
    assert await http.get_json("x") == 1
    assert await http.get_json("x") == 2
    assert token.call_count == 2
    used = [c.request.headers["Authorization"] for c in api.calls]
    assert used == ["Bearer tok-A", "Bearer tok-A", "Bearer tok-B"]


@respx.mock
async def test_refused_token_request_names_no_secret(caplog: pytest.LogCaptureFixture) -> None:
    respx.post(TOKEN_URL).respond(
        401, json={"error": "invalid_client", "error_description": "AADSTS7000215: bad secret"}
    )
    secret = "very-secret-value-123"
    http = client(auth=OAuth2(TOKEN_URL, lambda: {"client_secret": secret}))
    with caplog.at_level(logging.DEBUG), pytest.raises(ConnectorError) as info:
        await http.get_json("x?code=hidden-query")
    assert "invalid_client" in str(info.value)
    assert secret not in str(info.value) and secret not in caplog.text


@respx.mock
async def test_errors_and_logs_never_show_query_strings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    respx.get(f"{BASE}/x").respond(503)
    with caplog.at_level(logging.WARNING), pytest.raises(ConnectorError) as info:
        await client(max_attempts=2).get_json("x", {"token": "query-secret-42"})
    assert "HTTP 503 after 2 attempts" in str(info.value)
    assert "query-secret-42" not in str(info.value) + caplog.text
    assert "retrying" in caplog.text


async def test_absolute_url_on_another_host_is_refused() -> None:
    with pytest.raises(ConnectorError, match="refusing to call"):
        await client().get_json("https://other.example.org/v1/x")


@pytest.mark.parametrize(
    "url", ["http://localhost:8080/api", "http://127.0.0.1/api", "http://[::1]:9000/api"]
)
def test_http_accepted_for_loopback(url: str) -> None:
    assert check_api_url(url + "/") == url


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/api",
        "http://localhost.example.org/api",
        "http://127.0.0.1.nip.io/api",
        "http://[2001:db8::1]/api",
    ],
)
def test_http_rejected_for_other_hosts(url: str) -> None:
    with pytest.raises(ValueError, match="loopback"):
        check_api_url(url)


def test_client_refuses_plain_http_base() -> None:
    with pytest.raises(ValueError, match="loopback"):
        HttpClient("demo", "http://api.example.org/v1")


@respx.mock
async def test_concurrency_cap_is_respected() -> None:
    active = 0
    peak = 0

    class SlowBody(httpx.AsyncByteStream):
        async def __aiter__(self) -> AsyncIterator[bytes]:
            nonlocal active, peak
            active += 1
            peak = max(peak, active)
            await asyncio.sleep(0.01)
            active -= 1
            yield b"1"

    respx.get(f"{BASE}/x").mock(side_effect=lambda r: httpx.Response(200, stream=SlowBody()))
    http = client(max_concurrency=2)
    results = await asyncio.gather(*(http.get_json("x") for _ in range(8)))
    assert results == [1] * 8
    assert peak == 2


@respx.mock
async def test_requests_per_second_spaces_requests() -> None:
    respx.get(f"{BASE}/x").respond(json=1)
    http = client(requests_per_second=50)
    loop = asyncio.get_running_loop()
    start = loop.time()
    for _ in range(60):
        await http.get_json("x")
    assert loop.time() - start >= 0.15


@respx.mock
async def test_next_link_with_the_default_port_written_out_is_followed() -> None:
    respx.get(f"{BASE}/items", params={"page": "2"}).respond(json={"value": [2]})
    respx.get(f"{BASE}/items").respond(
        json={"value": [1], "next": "https://API.example.test:443/v1/items?page=2"}
    )
    pages = await collect(client().pages_next_link("items", next_key="next"))
    assert [p["value"] for p in pages] == [[1], [2]]


@respx.mock
async def test_5xx_retry_after_is_honoured_and_capped(waits: list[float]) -> None:
    respx.get(f"{BASE}/x").mock(
        side_effect=[
            httpx.Response(503, headers={"Retry-After": "5"}),
            httpx.Response(200, json=1),
        ]
    )
    assert await client().get_json("x") == 1
    assert waits == [5.0]
    respx.get(f"{BASE}/y").respond(503, headers={"Retry-After": "7200"})
    with pytest.raises(ConnectorError, match="HTTP 503; the platform asks to wait 7200 s"):
        await client(max_retry_after_s=60).get_json("y")


@respx.mock
async def test_empty_budget_pause_is_capped(waits: list[float]) -> None:
    respx.get(f"{BASE}/a").respond(
        json=1, headers={"X-RateLimit-Remaining": "0", "X-RateLimit-Reset-After": "86400"}
    )
    respx.get(f"{BASE}/b").respond(json=2)
    http = client(max_retry_after_s=30)
    await http.get_json("a")
    await http.get_json("b")
    assert len(waits) == 1 and 29 < waits[0] <= 30


def test_tls_certificates_are_verified() -> None:
    import ssl

    pool = client()._client._transport._pool  # type: ignore[attr-defined]
    assert pool._ssl_context.verify_mode == ssl.CERT_REQUIRED
    assert pool._ssl_context.check_hostname


@respx.mock
async def test_undecodable_body_is_a_connector_error() -> None:
    respx.get(f"{BASE}/x").mock(
        side_effect=lambda r: httpx.Response(
            200, headers={"Content-Encoding": "gzip"}, stream=httpx.ByteStream(b"plain")
        )
    )
    with pytest.raises(ConnectorError, match=r"demo: GET https://api\.example\.test/v1/x: .*Decod"):
        await client().get_json("x")


@respx.mock
async def test_access_token_never_reaches_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    token = "eyJ0eXAi.access-token-value.sig"
    respx.post(TOKEN_URL).respond(json={"access_token": token, "expires_in": 3600})
    respx.get(f"{BASE}/x").respond(401, json={"error": {"message": f"bad token {token}"}})
    http = client(auth=OAuth2(TOKEN_URL, lambda: {"grant_type": "client_credentials"}))
    with caplog.at_level(logging.DEBUG), pytest.raises(ConnectorError) as info:
        await http.get_json("x")
    assert "401" in str(info.value)
    assert token not in str(info.value) and token not in caplog.text
