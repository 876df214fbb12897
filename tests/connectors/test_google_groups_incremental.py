"""The google-groups connector's incremental fetch: Gmail messages read on the last run
are kept and not read again; everything else is read each time."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from mock_platforms import AUDIT_MAILBOX, GOOGLE_GROUP, load, mock_google
from test_google_groups import TestGoogleGroupsContract, google_connector

import auditor.connectors.http
from auditor.connectors.base import Connector, PageRef
from auditor.connectors.google_groups import GoogleGroupsConnector
from auditor.connectors.http import count_requests
from auditor.snapshot import PageSnapshot

REF = PageRef("robotics", GOOGLE_GROUP, "DHS Robotics")


class TestGoogleGroupsIncrementalContract(TestGoogleGroupsContract):
    """The shared HTTP contract, met by the incremental fetch (no state: a full read)."""

    async def fetch(self, connector: Connector) -> PageSnapshot:
        async with connector:
            snapshot, _ = await connector.fetch_page_incremental(self.ref, None)
            return snapshot


@pytest.fixture(autouse=True)
def no_waits(monkeypatch: pytest.MonkeyPatch) -> None:
    async def skip(seconds: float) -> None:
        return None

    monkeypatch.setattr(auditor.connectors.http, "sleep", skip)


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(assert_all_called=False) as mock:
        mock_google(mock)
        yield mock


@pytest.fixture
def conn(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GoogleGroupsConnector:
    return google_connector(tmp_path, monkeypatch, audit_mailbox=AUDIT_MAILBOX)


async def incremental(
    conn: GoogleGroupsConnector, state: dict[str, Any] | None
) -> tuple[PageSnapshot, dict[str, Any] | None, int]:
    with count_requests() as counted:
        snapshot, kept = await conn.fetch_page_incremental(REF, state)
    return snapshot, kept, counted.sent


def same(a: PageSnapshot, b: PageSnapshot) -> bool:
    """Equal but for the moment of the fetch."""
    return a.model_copy(update={"fetched_at": b.fetched_at}) == b


async def test_second_run_reads_no_message_again_and_finds_the_same(
    conn: GoogleGroupsConnector, router: respx.MockRouter
) -> None:
    async with conn:
        full = await conn.fetch_page(REF)
        first, state, _ = await incremental(conn, None)
        gets = router.routes["gmail-get"].call_count
        second, again, sent = await incremental(conn, state)
    assert same(first, full) and same(second, first)
    assert full.posts, "the fixture page has posts"
    assert router.routes["gmail-get"].call_count == gets, "no message was read again"
    assert again == state
    assert state is not None and set(state["messages"]) >= {p.id for p in first.posts or []}
    assert sent == 7, "group, settings, 2 member pages, the mailbox's membership, 2 list pages"


async def test_a_new_message_is_read_on_the_next_run(
    conn: GoogleGroupsConnector, router: respx.MockRouter
) -> None:
    async with conn:
        first, state, _ = await incremental(conn, None)
        assert state is not None
        dropped = sorted(state["messages"])[0]
        del state["messages"][dropped]  # as if it arrived after the last run
        router.routes["gmail-get"].reset()
        second, again, _ = await incremental(conn, state)
    asked = [c.request.url.path.rsplit("/", 1)[-1] for c in router.routes["gmail-get"].calls]
    assert asked == [dropped]
    assert same(second, first)
    assert again is not None and dropped in again["messages"]


async def test_an_unreadable_state_is_read_in_full_with_a_warning(
    conn: GoogleGroupsConnector, router: respx.MockRouter
) -> None:
    async with conn:
        first, _, _ = await incremental(conn, None)
        second, kept, _ = await incremental(conn, {"v": 1, "settings": {}, "messages": [1]})
    assert second.posts == first.posts
    assert any(w.startswith("stored sync state unusable") for w in second.warnings)
    assert kept is not None and kept["messages"]


async def test_state_of_another_mailbox_is_not_used(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter
) -> None:
    async with google_connector(tmp_path, monkeypatch, audit_mailbox=AUDIT_MAILBOX) as conn:
        _, state, _ = await incremental(conn, None)
    assert state is not None
    state["settings"]["audit_mailbox"] = "someone-else@district.org"
    router.routes["gmail-get"].reset()
    async with google_connector(tmp_path, monkeypatch, audit_mailbox=AUDIT_MAILBOX) as conn:
        await incremental(conn, state)
    assert router.routes["gmail-get"].call_count == len(state["messages"])


async def test_kept_messages_hold_no_credentials(
    conn: GoogleGroupsConnector, router: respx.MockRouter
) -> None:
    async with conn:
        _, state, _ = await incremental(conn, None)
    text = json.dumps(state)
    token = load("google", "gmail-token")["access_token"]
    assert token not in text and "private_key" not in text


async def test_a_message_gone_from_the_mailbox_leaves(
    conn: GoogleGroupsConnector, router: respx.MockRouter
) -> None:
    async with conn:
        first, state, _ = await incremental(conn, None)
        listing = load("google", "gmail-list-1")
        posted = {p.id for p in first.posts or []}
        gone = next(m["id"] for m in listing["messages"] if m["id"] in posted)
        listing["messages"] = [m for m in listing["messages"] if m["id"] != gone]
        router.routes["gmail-list"].side_effect = lambda r: httpx.Response(
            200, json={**listing, "nextPageToken": None}
        )
        second, again, _ = await incremental(conn, state)
    assert gone not in {p.id for p in second.posts or []}
    assert again is not None and gone not in again["messages"]
