"""The microsoft365 connector tells an unchanged page from its answers and kept state
alone (``fetch_page_changed``): no snapshot is built, and what it claims is exactly the
snapshot a full rebuild makes; anything it did not see unchanged is built."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest
import respx
from microsoft365_platform import spy_builds
from mock_platforms import CHANNEL, GRAPH, TEAM, load, mock_microsoft
from test_microsoft365 import NOW, graph_connector
from test_microsoft365_incremental import REF, delta_answer, new_message

import auditor.connectors.http
import auditor.connectors.microsoft365
from auditor.connectors.base import ConnectorError, Fetched, snapshot_digest
from auditor.connectors.http import count_requests
from auditor.connectors.microsoft365 import Microsoft365Connector

pytestmark = pytest.mark.usefixtures("waits")  # nothing really sleeps (conftest)


@pytest.fixture
def router() -> Any:
    with respx.mock(assert_all_called=False) as mock:
        mock_microsoft(mock)
        yield mock


async def changed(
    conn: Microsoft365Connector, state: dict[str, Any] | None, seen: str | None
) -> tuple[Fetched, int]:
    """The page fetched from ``state``, told ``seen``; and the requests it sent."""
    with count_requests() as counted:
        fetched = await conn.fetch_page_changed(REF, state, seen)
    return fetched, counted.sent


def at(monkeypatch: pytest.MonkeyPatch, when: datetime) -> None:
    """The connector's clock at ``when``."""
    monkeypatch.setattr(auditor.connectors.microsoft365, "clock", lambda: when)


async def first_fetch(conn: Microsoft365Connector) -> tuple[Fetched, dict[str, Any], str]:
    """A first fetch (no state): the fetch, its state and its content digest."""
    fetched, _ = await changed(conn, None, None)
    assert fetched.snapshot is not None and fetched.state is not None
    assert fetched.content == snapshot_digest(fetched.snapshot)
    return fetched, fetched.state, fetched.content


async def test_an_unchanged_page_is_not_built_and_what_it_claims_is_true(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    async with graph_connector(monkeypatch) as conn:
        first, state, seen = await first_fetch(conn)
        built = spy_builds(monkeypatch)
        second, sent = await changed(conn, state, seen)
        assert second == Fetched(None, state, seen), "not built; the state stays as it is"
        assert built == [] and sent == 2, "one round, and the members' second page"
        rebuilt, kept = await conn.fetch_page_incremental(REF, state)
    assert snapshot_digest(rebuilt) == seen, "a rebuild gives the content claimed"
    assert rebuilt.warnings == first.snapshot.warnings != [], "its warnings are kept"
    assert kept == state


async def test_a_new_delta_link_is_kept_without_building(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    async with graph_connector(monkeypatch) as conn:
        _, state, seen = await first_fetch(conn)
        router.routes["delta"].side_effect = lambda r: delta_answer()  # nothing, a new link
        second, _ = await changed(conn, state, seen)
    assert second.snapshot is None and second.content == seen
    assert second.state is not None and second.state != state
    assert second.state["channels"][CHANNEL]["delta"].endswith("$deltatoken=n2")
    assert second.state["channels"][CHANNEL]["threads"] == state["channels"][CHANNEL]["threads"]


@pytest.mark.parametrize("seen", [None, "snapshot:another"])
async def test_without_the_same_stored_results_it_is_built(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter, seen: str | None
) -> None:
    async with graph_connector(monkeypatch) as conn:
        first, state, _ = await first_fetch(conn)
        second, _ = await changed(conn, state, seen)
    assert second.snapshot == first.snapshot and second.content == first.content


def members_with(extra: dict[str, Any]) -> Any:
    """The members' second page with one more member."""

    def answer(request: httpx.Request) -> httpx.Response:
        name = "members-2" if "$skiptoken" in request.url.params else "members-1"
        body = load("microsoft365", name)
        if name == "members-2":
            body["value"].append(extra)
        return httpx.Response(200, json=body)

    return answer


NEWCOMER = {
    "@odata.type": "#microsoft.graph.user",
    "id": "d9e8f7a6-0000-4c6d-8e9f-0a1b2c3d4e5f",
    "displayName": "New Student",
    "mail": "new.student@students.district.org",
    "userPrincipalName": "new.student@students.district.org",
    "userType": "Member",
}


def changes() -> dict[str, Any]:
    """Each change, as what it does to the mocked Graph: the route and its new answer."""
    archived = load("microsoft365", "team") | {"isArchived": True}
    other_setting = load("microsoft365", "group-settings")
    other_setting["value"][0]["values"][0]["value"] = "true"
    renamed = load("microsoft365", "group") | {"displayName": "DHS Debate Club"}
    two = load("microsoft365", "channels")
    two["value"].append(two["value"][0] | {"id": "19:new@thread.tacv2", "displayName": "New"})
    return {
        "a new message": ("delta", lambda r: delta_answer(new_message("1773900000009", "Hi"))),
        "a new member": ("members", members_with(NEWCOMER)),
        "the team archived": ("team", lambda r: httpx.Response(200, json=archived)),
        "guests allowed by the group": (
            "group-settings",
            lambda r: httpx.Response(200, json=other_setting),
        ),
        "the group renamed": ("group", lambda r: httpx.Response(200, json=renamed)),
        "a new channel": ("channels", lambda r: httpx.Response(200, json=two)),
    }


@pytest.mark.parametrize("change", list(changes()))
async def test_a_change_is_built_and_its_digest_differs(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter, change: str
) -> None:
    route, answer = changes()[change]
    channel = f"{GRAPH}/teams/{TEAM}/channels/19%3Anew%40thread.tacv2/messages"
    posted = new_message("1773900000010", "In the new channel")
    router.get(url__startswith=channel).mock(side_effect=lambda r: delta_answer(posted))
    async with graph_connector(monkeypatch) as conn:
        _, state, seen = await first_fetch(conn)
        router.routes[route].side_effect = answer
        second, _ = await changed(conn, state, seen)
        rebuilt, _ = await conn.fetch_page_incremental(REF, state)
    assert second.snapshot is not None and second.snapshot == rebuilt
    assert second.content == snapshot_digest(rebuilt) != seen


async def test_a_tenant_policy_change_is_seen_where_the_group_leaves_it_to_the_tenant(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    router.routes["group-settings"].side_effect = lambda r: httpx.Response(200, json={"value": []})
    async with graph_connector(monkeypatch) as conn:
        _, state, seen = await first_fetch(conn)
    closed = {"value": [{"values": [{"name": "AllowGuestsToAccessGroups", "value": "false"}]}]}
    router.routes["tenant-settings"].side_effect = lambda r: httpx.Response(200, json=closed)
    async with graph_connector(monkeypatch) as conn:  # the tenant's read once a connector
        second, _ = await changed(conn, state, seen)
    assert second.snapshot is not None and second.content != seen
    assert second.snapshot.settings.external_members_allowed is False


async def test_posts_leaving_the_window_are_never_claimed(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    async with graph_connector(monkeypatch) as conn:
        first, state, seen = await first_fetch(conn)
        until = datetime.fromisoformat(state["seen"]["until"])
        assert NOW < until < NOW + timedelta(days=30)
        at(monkeypatch, until - timedelta(minutes=1))
        before, _ = await changed(conn, state, seen)
        at(monkeypatch, until)
        edge, _ = await changed(conn, state, seen)
        at(monkeypatch, until + timedelta(minutes=1))
        after, _ = await changed(conn, state, seen)
    assert before.snapshot is None, "nothing has left the window yet"
    assert edge.snapshot is not None and edge.content == seen, "built at the edge, the same"
    assert after.snapshot is not None and after.content != seen
    assert len(after.snapshot.posts or []) < len(first.snapshot.posts or [])


async def test_a_clock_set_back_is_never_claimed(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    async with graph_connector(monkeypatch) as conn:
        _, state, seen = await first_fetch(conn)
        at(monkeypatch, NOW - timedelta(hours=1))
        earlier, _ = await changed(conn, state, seen)
    assert earlier.snapshot is not None


async def test_a_fetch_that_fell_back_is_never_the_ground_of_a_claim(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    """An expired delta link reads the channel anew and says so: that snapshot's warning
    belongs to that fetch, so its content is never claimed; the next fetch is."""
    gone = {"error": {"code": "SyncStateNotFound", "message": "The delta token is expired."}}
    listing = router.routes["delta"].side_effect
    async with graph_connector(monkeypatch) as conn:
        _, state, seen = await first_fetch(conn)
        router.routes["delta"].side_effect = lambda r: (
            httpx.Response(410, json=gone) if "$deltatoken" in r.url.params else listing(r)
        )
        fell, _ = await changed(conn, state, seen)
        assert fell.snapshot is not None and fell.state is not None and fell.content
        assert any("no longer honours" in w for w in fell.snapshot.warnings)
        assert "seen" not in fell.state
        router.routes["delta"].side_effect = listing
        third, _ = await changed(conn, fell.state, fell.content)
        assert third.snapshot is not None, "the fallback's content is not claimed"
        assert third.state is not None and "seen" in third.state
        fourth, _ = await changed(conn, third.state, third.content)
    assert fourth.snapshot is None and fourth.content == third.content == seen


def more_to_come(request: httpx.Request) -> httpx.Response:
    """A delta round's first page that is empty but not the last."""
    link = f"{GRAPH}/teams/{TEAM}/channels/{CHANNEL}/messages/delta?$skiptoken=p2"
    if "$skiptoken" in request.url.params:
        return delta_answer()
    return httpx.Response(200, json={"value": [], "@odata.nextLink": link})


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (more_to_come, None),
        (lambda r: httpx.Response(200, json={"value": []}), "without an @odata.deltaLink"),
        (
            lambda r: httpx.Response(404, json={"error": {"code": "NotFound", "message": "gone"}}),
            r"/messages/delta: HTTP 404",
        ),
    ],
    ids=["a round of two pages", "a round without its link", "a refused round"],
)
async def test_a_delta_round_not_seen_whole_and_empty_is_never_claimed(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter, answer: Any, error: str | None
) -> None:
    """A round of two pages is built; a round cut short is the page's error."""
    async with graph_connector(monkeypatch) as conn:
        _, state, seen = await first_fetch(conn)
        router.routes["delta"].side_effect = answer
        if error is not None:
            with pytest.raises(ConnectorError, match=error):
                await changed(conn, state, seen)
            return
        second, _ = await changed(conn, state, seen)
    assert second.snapshot is not None and second.content == seen, "built, the same content"


async def test_a_channel_removed_is_built(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    async with graph_connector(monkeypatch) as conn:
        first, state, seen = await first_fetch(conn)
        router.routes["channels"].side_effect = lambda r: httpx.Response(200, json={"value": []})
        second, _ = await changed(conn, state, seen)
    assert first.snapshot is not None and first.snapshot.posts
    assert second.snapshot is not None and second.snapshot.posts == []
    assert second.content != seen and second.state is not None
    assert second.state["channels"] == {}


async def test_without_messages_read_an_unchanged_page_is_not_built(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    """``read_messages = false``: no channel is kept, and the group's answers alone tell."""
    async with graph_connector(monkeypatch, read_messages=False) as conn:
        _, state, seen = await first_fetch(conn)
        second, _ = await changed(conn, state, seen)
        rebuilt, _ = await conn.fetch_page_incremental(REF, state)
    assert second == Fetched(None, state, seen)
    assert snapshot_digest(rebuilt) == seen


async def test_a_group_without_a_team_is_told_unchanged_unless_channels_were_kept(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    """No team now: unchanged only when no channel was kept (a team gone is a change)."""
    teamless = load("microsoft365", "group") | {"resourceProvisioningOptions": []}
    async with graph_connector(monkeypatch) as conn:
        _, with_team, team_seen = await first_fetch(conn)
        router.routes["group"].side_effect = lambda r: httpx.Response(200, json=teamless)
        _, without, seen = await first_fetch(conn)
        again, _ = await changed(conn, without, seen)
        gone, _ = await changed(conn, with_team, team_seen)
    assert not without.get("channels"), "no channel kept"
    assert again == Fetched(None, without, seen), "nothing kept, nothing changed"
    assert gone.snapshot is not None and gone.content != team_seen, "the team's posts went"


async def test_a_reply_can_end_the_window_first(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    """A root edited after its reply was posted: the reply leaves the window first, and
    the page is built from then on."""
    edited = load("microsoft365", "messages")
    edited["value"][0]["lastModifiedDateTime"] = "2026-11-19T10:00:00.000Z"
    router.routes["messages"].side_effect = lambda r: httpx.Response(200, json=edited)
    reply = datetime.fromisoformat(load("microsoft365", "replies")["value"][0]["createdDateTime"])
    async with graph_connector(monkeypatch) as conn:
        _, state, seen = await first_fetch(conn)
        until = datetime.fromisoformat(state["seen"]["until"])
        at(monkeypatch, until + timedelta(minutes=1))
        after, _ = await changed(conn, state, seen)
    assert until == reply + timedelta(days=30), "the reply's end, not the root's"
    assert after.snapshot is not None and after.content != seen


async def test_a_rate_limited_run_fetches_its_pages_within_their_deadline(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    """With requests_per_second set, pages in flight stay at the request slots: pages
    taking turns each get their requests within page_deadline_s (eight pages in flight
    sharing 20 reads a second ran past a 1.5 s deadline)."""
    settings = {"max_concurrency": 1, "requests_per_second": 20, "page_deadline_s": 1.5}
    async with graph_connector(monkeypatch, **settings) as conn:
        slots = asyncio.Semaphore(conn.settings.pages_in_flight)  # as the runner does

        async def one() -> Any:
            async with slots:
                return await conn.fetch_page_synced(REF, None, NOW)

        done = await asyncio.gather(*(one() for _ in range(8)), return_exceptions=True)
    assert [str(d) for d in done if isinstance(d, BaseException)] == []
    assert conn.settings.pages_in_flight == 1


async def test_a_read_the_batch_left_out_is_an_error_not_a_claim(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    batch = router.routes["batch"].side_effect

    def without_delta(request: httpx.Request) -> httpx.Response:
        body = batch(request).json()
        asked = {i["id"]: i["url"] for i in json.loads(request.content)["requests"]}
        body["responses"] = [r for r in body["responses"] if "/delta" not in asked[r["id"]]]
        return httpx.Response(200, json=body)

    async with graph_connector(monkeypatch) as conn:
        _, state, seen = await first_fetch(conn)
        router.routes["batch"].side_effect = without_delta
        with pytest.raises(ConnectorError, match="the batch answer has no status for GET"):
            await changed(conn, state, seen)


async def test_a_state_kept_under_other_settings_is_never_claimed(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    async with graph_connector(monkeypatch) as conn:
        _, state, seen = await first_fetch(conn)
    async with graph_connector(monkeypatch, max_messages_per_channel=50) as conn:
        second, _ = await changed(conn, state, seen)
    assert second.snapshot is not None


async def test_pages_fetched_together_share_their_batches(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    """Unchanged pages fetched at the same time: their one round each goes out in
    shared batches (the mock answers every group id alike)."""
    async with graph_connector(monkeypatch) as conn:
        _, state, seen = await first_fetch(conn)
        router.routes["batch"].reset()
        done = await asyncio.gather(*(changed(conn, state, seen) for _ in range(5)))
    assert all(fetched.snapshot is None for fetched, _ in done)
    batches = [json.loads(c.request.content)["requests"] for c in router.routes["batch"].calls]
    assert [len(b) for b in batches] == [20, 15], "5 pages x 7 reads, 20 a batch"
    assert all(sent <= 3 for _, sent in done), "at most two batches and the members' page"


async def test_a_batch_refused_whole_in_the_delta_round_is_the_pages_error(
    monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    """A 403 on the ``$batch`` call carrying the channels' delta requests is the page's
    error, never read as the app lacking ChannelMessage.Read.All."""
    batch = router.routes["batch"].side_effect

    def refuse_delta(request: httpx.Request) -> httpx.Response:
        if "/delta" in request.content.decode():
            return httpx.Response(403, json={"error": {"code": "Forbidden", "message": "no"}})
        return batch(request)

    router.routes["batch"].side_effect = refuse_delta
    async with graph_connector(monkeypatch) as conn:
        with pytest.raises(ConnectorError, match=r"POST https://\S+/\$batch: HTTP 403"):
            await changed(conn, None, None)
