"""The microsoft365 connector's incremental fetch: one ``$batch`` for the group's reads,
channel messages through Graph delta links, and the state it keeps between runs."""

from __future__ import annotations

import dataclasses
import json
from collections import Counter
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

import httpx
import microsoft365_platform
import pytest
import respx
from mock_platforms import CHANNEL, DELTA_TOKEN, GRAPH, TEAM, load, mock_microsoft
from test_microsoft365 import NOW, TestMicrosoft365Contract, graph_connector

import auditor.connectors.http
import auditor.connectors.microsoft365
from auditor.connectors.base import (
    Connector,
    ConnectorError,
    PageRef,
    SyncState,
    full_fetch_due,
)
from auditor.connectors.http import count_requests
from auditor.connectors.microsoft365 import Microsoft365Connector, state_link
from auditor.results import RuleResult
from auditor.rules import catalog
from auditor.snapshot import PageSnapshot
from auditor.testkit.connectors import FaultInjector
from tests.rules.helpers import ctx

REF = PageRef("debate", TEAM, "DHS Debate Team")
MESSAGES = f"{GRAPH}/teams/{TEAM}/channels/{CHANNEL}/messages"
LINK = f"{MESSAGES}/delta?$deltatoken={DELTA_TOKEN}"


class TestMicrosoft365IncrementalContract(TestMicrosoft365Contract):
    """The shared HTTP contract, met by the incremental fetch (its faults land inside the
    ``$batch``, where Graph reports them per request)."""

    malformed = [
        (f"/groups/{TEAM}?", {"displayName": "no id"}, "id"),
        ("/members", {"value": [{"id": "x", "userType": 3}]}, "value[0].userType"),
        (
            "/messages/delta?",
            {"value": [{"id": "m1", "createdDateTime": "yesterday"}]},
            "createdDateTime",
        ),
    ]

    async def fetch(self, connector: Connector) -> PageSnapshot:
        async with connector:
            snapshot, _ = await connector.fetch_page_incremental(self.ref, None)
            return snapshot

    async def test_401_refreshes_token_once(
        self, connector: Connector, faults: FaultInjector, router: respx.MockRouter
    ) -> None:
        """Graph refuses a token on the ``$batch`` request itself, not on its items."""
        faults.add("batch", lambda r: httpx.Response(401))
        await self.fetch(connector)
        assert len(faults.hits) == 1
        assert router.routes["token"].call_count == 2

    async def test_second_401_is_an_error(
        self, connector: Connector, faults: FaultInjector, router: respx.MockRouter
    ) -> None:
        faults.add("batch", lambda r: httpx.Response(401), times=5)
        with pytest.raises(ConnectorError, match="401"):
            await self.fetch(connector)
        assert router.routes["token"].call_count == 2
        assert len(faults.hits) == 2


pytestmark = pytest.mark.usefixtures("waits")  # every pause recorded, none slept (conftest)


@pytest.fixture
def router() -> Any:
    with respx.mock(assert_all_called=False) as mock:
        mock_microsoft(mock)
        yield mock


async def incremental(
    conn: Microsoft365Connector, state: dict[str, Any] | None
) -> tuple[PageSnapshot, dict[str, Any] | None, int]:
    """The page fetched from ``state``, the state to keep and the requests sent."""
    with count_requests() as counted:
        snapshot, kept = await conn.fetch_page_incremental(REF, state)
    return snapshot, kept, counted.sent


def findings(snapshot: PageSnapshot) -> list[RuleResult]:
    return catalog.evaluate(snapshot, dataclasses.replace(ctx(), now=NOW))


def delta_answer(*messages: dict[str, Any]) -> httpx.Response:
    """A delta round as Graph answers it: the changed reply chains and a new link."""
    return httpx.Response(
        200, json={"value": list(messages), "@odata.deltaLink": LINK.replace(DELTA_TOKEN, "n2")}
    )


def new_message(ident: str, text: str, minutes: int = 0) -> dict[str, Any]:
    """A new root message shaped like Graph's chatMessage, posted ``minutes`` before NOW."""
    message = load("microsoft365", "messages")["value"][0]
    when = (NOW - timedelta(minutes=minutes)).isoformat().replace("+00:00", "Z")
    message.update(
        id=ident,
        etag=ident,
        createdDateTime=when,
        lastModifiedDateTime=when,
        body={"contentType": "text", "content": text},
        replies=[],
    )
    return message


async def test_first_run_equals_a_full_fetch_and_keeps_state(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    async with graph_connector(monkeypatch) as conn:
        full = await conn.fetch_page(REF)
        snapshot, state, _ = await incremental(conn, None)
    assert snapshot == full
    assert findings(snapshot) == findings(full)
    assert state is not None
    channel = state["channels"][CHANNEL]
    assert channel["delta"] == LINK
    assert [t["id"] for t in channel["threads"]] == ["1773400000001"], "no system events"
    assert router.routes["batch"].call_count == 2, "the group's reads, then the channels' deltas"
    reads, deltas = (
        json.loads(c.request.content)["requests"] for c in router.routes["batch"].calls
    )
    assert len(reads) <= 20
    assert {r["url"].split("?")[0] for r in reads} >= {f"/groups/{TEAM}", f"/teams/{TEAM}"}
    assert [r["url"].split("?")[0] for r in deltas] == [
        f"/teams/{TEAM}/channels/{quote(CHANNEL, safe='')}/messages/delta"
    ]


async def test_unchanged_second_run_costs_one_round_and_finds_the_same(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    async with graph_connector(monkeypatch) as conn:
        first, state, _ = await incremental(conn, None)
        second, again, sent = await incremental(conn, state)
    assert sent == 2, "the group's reads with the kept delta links, the members' 2nd page"
    assert second == first
    assert findings(second) == findings(first)
    assert again == state


async def test_sample_page_unchanged_is_identical_across_runs(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The sample page (replies under a deleted root, a student's phone number): the same
    results from a full fetch, a first and a second incremental fetch."""
    with respx.mock(assert_all_called=False) as mock:
        microsoft365_platform.mock_microsoft365(mock)
        monkeypatch.setattr(auditor.connectors.microsoft365, "clock", lambda: NOW)
        monkeypatch.setenv("M365_CLIENT_SECRET", "mock-client-secret-not-real")
        settings = Microsoft365Connector.Settings.model_validate(microsoft365_platform.SETTINGS)
        async with Microsoft365Connector("m365", settings) as conn:
            full = await conn.fetch_page(REF)
            first, state, _ = await incremental(conn, None)
            second, _, sent = await incremental(conn, state)
    assert len(full.posts or []) == 6
    assert first == full and second == full
    assert findings(second) == findings(full)
    assert any(r.status == "fail" and r.rule.startswith("DS6") for r in findings(second))
    assert sent == 2, "the group's reads with the kept delta links, the members' 2nd page"


async def test_a_changed_message_appears_on_the_next_run(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    async with graph_connector(monkeypatch) as conn:
        first, state, _ = await incremental(conn, None)
        text = "Call Ana at 203-555-0188 for the carpool"
        router.routes["delta"].side_effect = lambda r: delta_answer(
            new_message("1773900000009", text)
        )
        second, kept, sent = await incremental(conn, state)
    ids = {p.id for p in second.posts or []}
    assert ids == {p.id for p in first.posts or []} | {"1773900000009"}
    assert sent == 2, "the changed chain came with its replies inline: no replies request"
    assert kept is not None and kept["channels"][CHANNEL]["delta"].endswith("$deltatoken=n2")
    before = {r.rule: r.status for r in findings(first)}
    after = {r.rule: r.status for r in findings(second)}
    assert before != after, "the new post changes a finding"


async def test_a_deleted_message_leaves_on_the_next_run(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    async with graph_connector(monkeypatch) as conn:
        _, state, _ = await incremental(conn, None)
        gone = new_message("1773400000001", "")
        gone["deletedDateTime"] = gone["lastModifiedDateTime"]
        gone["replies"] = load("microsoft365", "replies")["value"]  # still there, inline
        router.routes["delta"].side_effect = lambda r: delta_answer(gone)
        second, _, _ = await incremental(conn, state)
    assert {p.id for p in second.posts or []} == {"1773400500002"}, "its reply stays"


async def test_an_expired_delta_link_falls_back_to_a_full_read(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    gone = {"error": {"code": "SyncStateNotFound", "message": "The delta token is expired."}}
    full_delta = router.routes["delta"].side_effect
    async with graph_connector(monkeypatch) as conn:
        first, state, _ = await incremental(conn, None)
        router.routes["delta"].side_effect = lambda r: (
            httpx.Response(410, json=gone) if "$deltatoken" in r.url.params else full_delta(r)
        )
        second, kept, _ = await incremental(conn, state)
    assert second.posts == first.posts
    assert any("no longer honours the stored delta link (HTTP 410)" in w for w in second.warnings)
    assert kept is not None and kept["channels"][CHANNEL]["delta"] == LINK


async def test_an_unreadable_state_falls_back_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    async with graph_connector(monkeypatch) as conn:
        first, _, _ = await incremental(conn, None)
        broken = {"v": 1, "settings": {}, "channels": {CHANNEL: {"threads": "nonsense"}}}
        second, kept, _ = await incremental(conn, broken)
    assert second.posts == first.posts
    assert any(w.startswith("stored sync state unusable") for w in second.warnings)
    assert kept is not None and kept["channels"][CHANNEL]["delta"] == LINK


async def test_state_from_other_settings_is_not_used(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    async with graph_connector(monkeypatch, lookback_days=30) as conn:
        _, state, _ = await incremental(conn, None)
    async with graph_connector(monkeypatch, lookback_days=90) as conn:
        router.routes["delta"].reset()
        await incremental(conn, state)
    asked = router.routes["delta"].calls.last.request.url.params
    assert "$deltatoken" not in asked and "$filter" in asked, "read anew, not from the link"


async def test_kept_posts_stay_inside_the_look_back_window(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    async with graph_connector(monkeypatch) as conn:
        _, state, _ = await incremental(conn, None)
        later = NOW + timedelta(days=30)
        monkeypatch.setattr(auditor.connectors.microsoft365, "clock", lambda: later)
        snapshot, kept, _ = await incremental(conn, state)
    assert snapshot.posts == []
    assert kept is not None and kept["channels"][CHANNEL]["threads"] == []


async def test_kept_threads_hold_no_names_and_no_credentials(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    async with graph_connector(monkeypatch) as conn:
        _, state, _ = await incremental(conn, None)
    text = json.dumps(state)
    assert "Olivia Owner" not in text, "authors are kept by id only"
    assert "access_token" not in text and "mock-access-token" not in text
    assert state_link(f"{LINK}&access_token=abc") == LINK


@pytest.mark.parametrize(
    ("link", "kept"),
    [
        (f"{LINK}", f"{LINK}"),  # the usual link: only its state token
        (f"{LINK}&sig=abc", f"{LINK}"),
        (f"{LINK}&code=1#frag", f"{LINK}"),
        (f"{LINK}#frag", f"{LINK}"),
        ("https://graph.microsoft.com/v1.0/x/delta?$deltatoken=signcode", None),  # in a value
        (f"{LINK}&si%67=SECRET", f"{LINK}"),  # a name percent-encoded: read decoded
        (f"{LINK}&client%5Fsecret=SECRET", f"{LINK}"),
        (f"{LINK}&cod%65=SECRET", f"{LINK}"),
    ],
)
def test_a_kept_delta_link_loses_what_could_carry_a_credential(link: str, kept: str | None) -> None:
    assert state_link(link) == (link if kept is None else kept)


async def test_batch_item_throttled_is_sent_again(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter, waits: list[float]
) -> None:
    team = router.routes["team"].side_effect
    answers = iter([httpx.Response(429, headers={"Retry-After": "3"})])
    router.routes["team"].side_effect = lambda r: next(answers, None) or team(r)
    async with graph_connector(monkeypatch) as conn:
        snapshot, _, _ = await incremental(conn, None)
    assert router.routes["batch"].call_count == 3, "reads, the throttled one again, deltas"
    assert waits[0] == 3.0, "the throttled read waits its Retry-After"
    assert all(0 < w <= 3.0 for w in waits[1:]), "the other requests held as long at most"
    retried = json.loads(router.routes["batch"].calls[1].request.content)["requests"]
    assert [r["url"] for r in retried] == [f"/teams/{TEAM}"], "only the throttled item"
    assert snapshot.url is not None


@pytest.mark.parametrize(
    ("route", "status"), [("group", 404), ("group-settings", 403), ("owners", 400)]
)
async def test_batch_item_errors_read_as_they_do_alone(
    monkeypatch: pytest.MonkeyPatch, route: str, status: int
) -> None:
    body = {"error": {"code": "Request_ResourceNotFound", "message": "Resource does not exist."}}
    errors = []
    for fetch in ("full", "incremental"):
        with respx.mock(assert_all_called=False) as mock:
            mock_microsoft(mock)
            mock.routes[route].side_effect = lambda r: httpx.Response(status, json=body)
            async with graph_connector(monkeypatch) as conn:
                with pytest.raises(ConnectorError) as info:
                    if fetch == "full":
                        await conn.fetch_page(REF)
                    else:
                        await conn.fetch_page_incremental(REF, None)
            errors.append(str(info.value))
    assert errors[0] == errors[1]
    assert f"HTTP {status}" in errors[1] and "?" not in errors[1]


async def test_synced_fetch_says_why_a_stored_state_was_not_used(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    async with graph_connector(monkeypatch) as conn:
        synced = await conn.fetch_page_synced(
            REF, SyncState({}, None, "not valid JSON"), NOW, full=False
        )
    assert synced.full and synced.state is not None
    assert (
        "stored sync state unusable (not valid JSON): fetched in full" in synced.snapshot.warnings
    )


@pytest.mark.parametrize(
    ("age_days", "forced", "full"), [(1, False, False), (7, False, True), (1, True, True)]
)
async def test_full_fetch_weekly_and_when_forced(
    monkeypatch: pytest.MonkeyPatch,
    router: respx.MockRouter,
    age_days: int,
    forced: bool,
    full: bool,
) -> None:
    async with graph_connector(monkeypatch) as conn:
        _, state, _ = await incremental(conn, None)
        assert state is not None
        previous = SyncState(state, NOW - timedelta(days=age_days))
        router.routes["delta"].reset()
        synced = await conn.fetch_page_synced(REF, previous, NOW, full=forced)
    asked = router.routes["delta"].calls.last.request.url.params
    assert synced.full is full
    assert ("$deltatoken" in asked) is not full


async def test_without_message_permission_posts_are_not_applicable(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    denied = {"error": {"code": "Forbidden", "message": "Missing role permissions"}}
    router.routes["delta"].side_effect = lambda r: httpx.Response(403, json=denied)
    async with graph_connector(monkeypatch) as conn:
        snapshot, state, _ = await incremental(conn, None)
    assert snapshot.posts is None
    assert "ChannelMessage.Read.All" in snapshot.unavailable["posts"]
    assert state is not None and "channels" not in state, "nothing kept: read anew next time"


async def test_a_chain_removed_from_the_channel_is_dropped(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    async with graph_connector(monkeypatch) as conn:
        _, state, _ = await incremental(conn, None)
        removed = {"id": "1773400000001", "@removed": {"reason": "deleted"}}
        router.routes["delta"].side_effect = lambda r: delta_answer(removed)
        second, kept, _ = await incremental(conn, state)
    assert second.posts == []
    assert kept is not None and kept["channels"][CHANNEL]["threads"] == []


async def test_a_stored_link_off_the_api_host_is_not_followed(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    async with graph_connector(monkeypatch) as conn:
        first, state, _ = await incremental(conn, None)
        assert state is not None
        state["channels"][CHANNEL]["delta"] = "https://evil.example/delta?$deltatoken=x"
        second, kept, _ = await incremental(conn, state)
    assert second.posts == first.posts
    assert any("not on the API host" in w for w in second.warnings)
    assert kept is not None and kept["channels"][CHANNEL]["delta"] == LINK


async def test_batch_item_asking_too_long_a_wait_is_a_page_error(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    router.routes["team"].side_effect = lambda r: httpx.Response(
        429, headers={"Retry-After": "9999"}
    )
    async with graph_connector(monkeypatch) as conn:
        with pytest.raises(
            ConnectorError, match=r"teams/.*asks to wait 9999 s, more than the 300 s"
        ):
            await conn.fetch_page_incremental(REF, None)


async def test_a_channel_cut_at_the_cap_stays_cut_on_the_next_run(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    async with graph_connector(monkeypatch, max_messages_per_channel=1) as conn:
        router.routes["delta"].side_effect = lambda r: delta_answer(
            new_message("1773900000001", "one", 5), new_message("1773900000002", "two", 1)
        )
        first, state, _ = await incremental(conn, None)
        second, kept, _ = await incremental(conn, state)
    assert "posts" in first.limits  # only the newest message of the channel was read
    assert second.limits == first.limits  # and the next run still says so
    assert kept is not None and CHANNEL not in kept["channels"]  # read anew each run


def test_full_fetches_spread_over_the_cycle_not_one_night() -> None:

    pages = [f"club-{i}" for i in range(700)]
    start = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # every page read in full that night
    last = dict.fromkeys(pages, start)
    nights: Counter[int] = Counter()
    for day in range(1, 29):
        now = start + timedelta(days=day)
        for page in pages:
            if full_fetch_due(page, last[page], now, 7):
                nights[day] += 1
                last[page] = now
    assert all(now - when <= timedelta(days=7) for when in last.values())  # never older
    assert sum(nights.values()) == 700 * 4  # once a week each, after the first night
    assert max(nights.values()) < 700 * 0.2  # about a seventh a night, not all at once
    assert not full_fetch_due("club-1", start, start + timedelta(hours=20), 7)  # not same day
