"""The shared HTTP client (retries, rate limits, token refresh, pagination, safety, the
CloudConnector hooks) and the connectors' shared HTML helper."""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import AsyncIterator, Generator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import httpx
import pytest
import respx

from auditor.connectors.base import ConnectorError, PageRef
from auditor.connectors.cloud import CloudConnector, CloudConnectorSettings, read_secret
from auditor.connectors.html_text import html_text, with_urls
from auditor.connectors.http import (
    HttpClient,
    HttpStatusError,
    OAuth2,
    check_api_url,
    retry_after_seconds,
)
from auditor.snapshot import PageSnapshot

BASE = "https://api.example.test/v1"
TOKEN_URL = "https://login.example.test/token"


pytestmark = pytest.mark.usefixtures("waits")  # every pause recorded, none slept (conftest)


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
async def test_access_token_never_reaches_errors_or_logs(caplog: pytest.LogCaptureFixture) -> None:
    token = "eyJ0eXAi.access-token-value.sig"
    respx.post(TOKEN_URL).respond(json={"access_token": token, "expires_in": 3600})
    respx.get(f"{BASE}/x").respond(401, json={"error": {"message": f"bad token {token}"}})
    http = client(auth=OAuth2(TOKEN_URL, lambda: {"grant_type": "client_credentials"}))
    with caplog.at_level(logging.DEBUG), pytest.raises(ConnectorError) as info:
        await http.get_json("x")
    assert "401" in str(info.value)
    assert token not in str(info.value) and token not in caplog.text


# --- hooks for platforms that differ ---------------------------------------------------


class Signer(httpx.Auth):
    """Signs each request with a counter, as OAuth 1.0a signs each with a fresh nonce."""

    def __init__(self) -> None:
        self.count = 0

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        self.count += 1
        request.headers["Authorization"] = f"Signed n={self.count}"
        yield request


@respx.mock
async def test_request_auth_signs_every_attempt_afresh() -> None:
    route = respx.get(f"{BASE}/x").mock(
        side_effect=[httpx.Response(503), httpx.Response(200, json=1)]
    )
    assert await client(request_auth=Signer()).get_json("x") == 1
    assert [c.request.headers["Authorization"] for c in route.calls] == ["Signed n=1", "Signed n=2"]


def test_request_auth_and_oauth2_are_exclusive() -> None:
    with pytest.raises(ValueError, match="not both"):
        client(auth=OAuth2(TOKEN_URL, dict), request_auth=Signer())


@respx.mock
async def test_error_detail_words_the_error_and_none_keeps_the_shared_hint() -> None:
    body = {"meta": {"code": 404, "errors": ["not found"]}}
    respx.get(f"{BASE}/x").respond(404, json=body)

    def detail(response: httpx.Response) -> str | None:
        if response.status_code != 404:
            return None
        return f"no such group (demo: {response.json()['meta']['errors'][0]})"

    with pytest.raises(HttpStatusError) as info:
        await client(error_detail=detail).get_json("x")
    assert str(info.value) == f"demo: GET {BASE}/x: HTTP 404, no such group (demo: not found)"
    assert info.value.status == 404 and info.value.response is not None
    assert info.value.response.json() == body, "the answer stays readable for the connector"
    respx.get(f"{BASE}/y").respond(403)
    with pytest.raises(HttpStatusError, match=r"HTTP 403, permission denied: check the app's"):
        await client(error_detail=detail).get_json("y")


@pytest.mark.parametrize(("hooked", "expected"), [(0.5, [0.5]), (None, [3.0])])
@respx.mock
async def test_rate_limit_wait_hook_reads_the_platform_answer(
    waits: list[float], hooked: float | None, expected: list[float]
) -> None:
    seen: list[int] = []

    def platform_wait(response: httpx.Response) -> float | None:
        seen.append(response.status_code)
        return hooked

    respx.get(f"{BASE}/x").mock(
        side_effect=[httpx.Response(429, headers={"Retry-After": "3"}), httpx.Response(200, json=1)]
    )
    assert await client(rate_limit_wait=platform_wait).get_json("x") == 1
    assert waits == expected, "the hook's wait, else Retry-After"
    assert seen == [429], "asked only about the rate-limited answer"


@respx.mock
async def test_rate_limit_wait_hook_beyond_the_limit_gives_up() -> None:
    route = respx.get(f"{BASE}/x").respond(429)
    with pytest.raises(ConnectorError, match="HTTP 429; the platform asks to wait 90 s"):
        await client(rate_limit_wait=lambda r: 90.0, max_retry_after_s=60).get_json("x")
    assert route.call_count == 1


@respx.mock
async def test_pause_holds_every_request_up_to_the_limit(waits: list[float]) -> None:
    respx.get(f"{BASE}/a").respond(json=1)
    respx.get(f"{BASE}/b").respond(json=2)
    http = client(max_retry_after_s=30)
    http.pause(4)
    assert await http.get_json("a") == 1
    assert len(waits) == 1 and 3.5 < waits[0] <= 4
    http.pause(86400)
    assert await http.get_json("b") == 2
    assert len(waits) == 2 and 29 < waits[1] <= 30, "capped at max_retry_after_s"


@pytest.mark.parametrize(
    ("headers", "paused"),
    [
        ({"X-Rate-Limit-Remaining": "0.0", "X-RateLimit-Reset-After": "4"}, True),
        ({"X-Rate-Limit-Remaining": "-2.5", "X-RateLimit-Reset-After": "4"}, True),
        ({"X-Rate-Limit-Remaining": "0.5", "X-RateLimit-Reset-After": "4"}, False),
        ({"X-Rate-Limit-Remaining": "0.0"}, False),
        ({"X-Rate-Limit-Remaining": "unknown", "X-RateLimit-Reset-After": "4"}, False),
    ],
)
@respx.mock
async def test_float_budget_headers(
    waits: list[float], headers: dict[str, str], paused: bool
) -> None:
    respx.get(f"{BASE}/a").respond(json=1, headers=headers)
    respx.get(f"{BASE}/b").respond(json=2)
    http = client()
    await http.get_json("a")
    await http.get_json("b")
    assert bool(waits) == paused
    assert all(3.5 < w <= 4 for w in waits)


@respx.mock
async def test_next_link_under_a_nested_key() -> None:
    respx.get(f"{BASE}/items", params={"start": "2"}).respond(
        json={"item": [3], "links": {"self": f"{BASE}/items?start=2", "next": ""}}
    )
    respx.get(f"{BASE}/items").respond(
        json={"item": [1, 2], "links": {"next": f"{BASE}/items?start=2"}}
    )
    pages = await collect(client().pages_next_link("items", next_key=("links", "next")))
    assert [p["item"] for p in pages] == [[1, 2], [3]], "an empty link ends the listing"


@respx.mock
async def test_next_link_under_a_nested_key_must_be_a_url() -> None:
    respx.get(f"{BASE}/items").respond(json={"links": {"next": 2}})
    with pytest.raises(ConnectorError, match=r"demo: .*/items: links\.next is not a URL"):
        await collect(client().pages_next_link("items", next_key=("links", "next")))


@pytest.mark.parametrize(
    ("hint", "expected"),
    [(None, "check the client id and secret"), ("check the delegation", "check the delegation")],
)
@respx.mock
async def test_token_refusal_ends_with_the_platform_hint(hint: str | None, expected: str) -> None:
    respx.post(TOKEN_URL).respond(401, json={"error": "unauthorized_client"})
    auth = OAuth2(TOKEN_URL, dict) if hint is None else OAuth2(TOKEN_URL, dict, hint)
    with pytest.raises(ConnectorError) as info:
        await client(auth=auth).get_json("x")
    assert str(info.value).endswith(f"(HTTP 401, unauthorized_client): {expected}")


class HookedSettings(CloudConnectorSettings):
    token_env: str = "DEMO_TOKEN"


class HookedConnector(CloudConnector):
    """Every CloudConnector hook overridden, as a fixed-token platform would."""

    type = "demo"
    Settings = HookedSettings
    settings: HookedSettings

    def api_base_url(self) -> str:
        return self.settings.base_url + "/api/v1"

    def headers(self) -> dict[str, str]:
        return {"X-Access-Token": read_secret(self.type, "token_env", self.settings.token_env)}

    def error_detail(self, response: httpx.Response) -> str | None:
        return f"demo says {response.text}" if response.status_code == 400 else None

    def rate_limit_wait(self, response: httpx.Response) -> float | None:
        wait = float(response.json()["wait"])
        self.http.pause(wait)
        return wait

    async def fetch_page(self, ref: PageRef) -> PageSnapshot:
        raise NotImplementedError


@respx.mock
async def test_cloud_connector_builds_its_client_from_the_hooks(
    monkeypatch: pytest.MonkeyPatch, waits: list[float]
) -> None:
    monkeypatch.setenv("DEMO_TOKEN", "fixed-token-1")
    site = "https://school.example.test"
    api = respx.get(f"{site}/api/v1/x").mock(
        side_effect=[httpx.Response(429, json={"wait": 2}), httpx.Response(200, json=1)]
    )
    respx.get(f"{site}/api/v1/y").respond(json=2)
    respx.get(f"{site}/api/v1/bad").respond(400, text="missing field")
    async with HookedConnector("d", HookedSettings(base_url=site)) as conn:
        assert await conn.http.get_json("x") == 1
        assert await conn.http.get_json("y") == 2
        with pytest.raises(HttpStatusError, match=r"HTTP 400, demo says missing field$"):
            await conn.http.get_json("bad")
    assert api.calls.last.request.headers["X-Access-Token"] == "fixed-token-1"
    assert waits[0] == 2.0 and 1.5 < waits[1] <= 2, "the hook's wait; its pause held /y too"


def test_token_url_is_optional_and_still_checked() -> None:
    assert CloudConnectorSettings(base_url=BASE).token_url is None
    given = CloudConnectorSettings(base_url=BASE, token_url=TOKEN_URL + "/")
    assert given.token_url == TOKEN_URL
    with pytest.raises(ValueError, match="loopback"):
        CloudConnectorSettings(base_url=BASE, token_url="http://login.example.test/token")


# --- the shared HTML helper of the connectors -------------------------------------------


def test_html_text_keeps_text_web_links_and_bare_urls_once() -> None:
    text, links = html_text(
        '<p>Meet <a href="https://district.org/a">here</a> &amp; <a href="mailto:x@y.org">'
        'mail</a> <a href="/files/2">file</a></p><p></p><p>  </p><div>see https://b.example/c'
        " and https://district.org/a</div>"
    )
    assert text == "Meet here & mail file\n\nsee https://b.example/c and https://district.org/a"
    assert links == ["https://district.org/a", "https://b.example/c"]
    assert with_urls("a https://x.example/1 b https://x.example/1", ["https://y.example"]) == [
        "https://y.example",
        "https://x.example/1",
    ]


def test_html_text_can_leave_out_quotes_and_a_footer() -> None:
    html = (
        '<div>Yes <a href="https://district.org/y">ok</a></div><blockquote>old <br>'
        '<a href="https://old.example">x</a></blockquote><div>-- <br>Sent by the list '
        '<a href="https://list.example">list</a></div>'
    )
    footer = re.compile(r"^--\s*\n", re.M)
    assert html_text(html, skip_quotes=True, cut_at=footer) == (
        "Yes ok",
        ["https://district.org/y"],
    )
    text, links = html_text(html)
    assert "old" in text and "Sent by the list" in text
    assert links == ["https://district.org/y", "https://old.example", "https://list.example"]


async def test_requests_are_counted_per_block_of_work_tokens_and_retries_included() -> None:
    from auditor.connectors.http import count_requests

    client = HttpClient(
        "demo",
        "https://api.example.org/v1",
        auth=OAuth2("https://login.example.org/token", lambda: {"grant_type": "x"}),
    )
    with respx.mock() as router:
        router.post("https://login.example.org/token").respond(
            json={"access_token": "t", "expires_in": 3600}
        )
        router.get("https://api.example.org/v1/a").mock(
            side_effect=[httpx.Response(503), httpx.Response(200, json={})]
        )
        router.get("https://api.example.org/v1/b").respond(json={})
        with count_requests() as first:
            await client.get_json("a")  # token + 503 + 200
        with count_requests() as second:
            await asyncio.gather(client.get_json("b"), client.get_json("b"))
        await client.get_json("b")  # outside any block: counted nowhere
    await client.aclose()
    assert (first.sent, second.sent) == (3, 2)
