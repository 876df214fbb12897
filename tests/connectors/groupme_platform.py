"""A respx mock of the GroupMe v3 API answering from ``fixtures/groupme/`` (shaped like
dev.groupme.com's documented responses, envelope included), reusable outside the tests.

The page is the DHS Girls Volleyball group: the coach (owner), the athletic director
(supervisor), four students (the captain is an admin), a parent, an outsider, a parent's
pending join request, and messages over three months, some breaking content rules (a
profane message, a student's phone number, a personal Instagram link). The group is
searchable, asks new members for approval and has an active share link.

The mock behaves as GroupMe does where paging is concerned: ``/groups/:id/messages``
serves ``limit`` messages older than ``before_id`` (newest first) and ``304 Not Modified``
when there are none; ``/groups`` serves ``per_page`` groups of page ``page``. Every route
checks the ``X-Access-Token`` header and answers GroupMe's 401 envelope without it.

Use with the ``groupme`` connector: ``type = "groupme"`` plus :data:`SETTINGS`, the
environment in :data:`ENV`, the pages in :data:`PAGES`. GroupMe gives no email addresses,
so a roster matches members by GroupMe user id: :data:`ROSTER_USER_IDS` lists the ids of
the sample roster's people (``userIds`` entries ``{groupme:<id>}``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import respx

from auditor.connectors.base import PageRef

FIXTURES = Path(__file__).parent / "fixtures" / "groupme"
API = "https://api.groupme.com/v3"
TOKEN = "gm-test-token-4f1c9a7e2b6d8035"
GROUP = "61550001"
NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
"""The audit time the fixtures were written for (the look-back window ends here)."""

ENV: dict[str, str] = {"GROUPME_TOKEN": TOKEN}
SETTINGS: dict[str, Any] = {
    "base_url": API,
    "token_env": "GROUPME_TOKEN",
    "lookback_days": 3650,  # the fixtures' messages date from autumn 2026: read them all
}
PAGES: list[PageRef] = [PageRef("dhs-volleyball", GROUP, "DHS Girls Volleyball")]

ACTIVE_MEMBER_IDS = {f"4300100{n}" for n in range(1, 9)}
PENDING_MEMBER_IDS = {"43001009"}
MEMBER_IDS = ACTIVE_MEMBER_IDS | PENDING_MEMBER_IDS
GROUP_IDS = {GROUP, "88442211", "61550002", "70332214", "59001877"}
ROSTER_USER_IDS = {
    "t-kmorgan": "43001001",
    "a-dreyes": "43001002",
    "s-1001": "43001003",
    "s-1002": "43001004",
    "s-1003": "43001005",
    "s-1004": "43001006",
    "g-2001": "43001007",
    "g-2002": "43001009",
}
"""Sample roster ``sourcedId`` -> GroupMe user id (Jake Tolland is on no roster)."""

Handler = Callable[[httpx.Request], httpx.Response]


def load(name: str) -> Any:
    """A fixture's parsed JSON (a fresh copy each call, so tests may edit it)."""
    return json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))


def authorized(handler: Handler) -> Handler:
    """``handler`` behind GroupMe's token check: no or a wrong token gets its 401."""

    def answer(request: httpx.Request) -> httpx.Response:
        if request.headers.get("X-Access-Token") != TOKEN:
            return httpx.Response(401, json=load("error-401"))
        return handler(request)

    return answer


def messages_page(request: httpx.Request, body: dict[str, Any] | None = None) -> httpx.Response:
    """``limit`` messages of ``body`` (default: the fixture) older than ``before_id``,
    newest first, in GroupMe's envelope; ``304`` when none are left."""
    body = body if body is not None else load("messages")
    messages = body["response"]["messages"]
    limit = int(request.url.params.get("limit", 20))
    before = request.url.params.get("before_id")
    start = 0
    if before is not None:
        ids = [m["id"] for m in messages]
        start = ids.index(before) + 1 if before in ids else len(ids)
    page = messages[start : start + limit]
    if not page:
        return httpx.Response(304)
    return httpx.Response(200, json={**body, "response": {**body["response"], "messages": page}})


def groups_page(request: httpx.Request, body: dict[str, Any] | None = None) -> httpx.Response:
    """Page ``page`` (``per_page`` groups) of ``body`` (default: the fixture)."""
    body = body if body is not None else load("groups")
    number = int(request.url.params.get("page", 1))
    size = int(request.url.params.get("per_page", 10))
    groups = body["response"][(number - 1) * size : number * size]
    return httpx.Response(200, json={**body, "response": groups})


def mock_groupme(router: respx.MockRouter) -> None:
    """Named routes ``group``, ``pending``, ``messages``, ``groups`` and ``other-group``
    (GroupMe's 404 for any group the account is not in)."""
    router.get(f"{API}/groups/{GROUP}", name="group").mock(
        side_effect=authorized(lambda r: httpx.Response(200, json=load("group")))
    )
    router.get(f"{API}/groups/{GROUP}/pending_memberships", name="pending").mock(
        side_effect=authorized(lambda r: httpx.Response(200, json=load("pending_memberships")))
    )
    router.get(f"{API}/groups/{GROUP}/messages", name="messages").mock(
        side_effect=authorized(messages_page)
    )
    router.get(f"{API}/groups", name="groups").mock(side_effect=authorized(groups_page))
    router.get(url__regex=rf"^{re.escape(API)}/groups/[^/?]+", name="other-group").mock(
        side_effect=authorized(lambda r: httpx.Response(404, json=load("error-404")))
    )
