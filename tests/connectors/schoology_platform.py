"""A respx mock of the Schoology REST API v1 answering from ``fixtures/schoology/`` (shaped like
developers.schoology.com's documented responses, slashes escaped as Schoology's PHP does).

The fixture group is the Rogers Park Middle School Book Club of the sample district: a
teacher admin (Karen Olsen), the supervisor (Paul Nguyen, admin), two students, a parent,
a pending invitation, a join request and an expired enrollment; seven updates (five in
the 30 days before :data:`AS_OF`), one with a personal blog link, and comments, one of
which gives a student's phone number. Enrollments, updates and the groups list span two
pages (``links.next``).

Use: ``mock_schoology(router)`` inside ``respx.mock()``, set the :data:`ENV` variables,
build ``SchoologyConnector`` from :data:`SETTINGS`, fetch :data:`PAGES`; set
``auditor.connectors.schoology.clock`` to return :data:`AS_OF` for the fixtures' dates.
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

FIXTURES = Path(__file__).parent / "fixtures" / "schoology"
BASE = "https://api.schoology.com/v1"
GROUP = "7712345"
AS_OF = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
"""The moment the fixtures describe (the sample district's audit date)."""

ENV: dict[str, str] = {
    "SCHOOLOGY_CONSUMER_KEY": "a1b2c3d4e5f60718293a4b5c6d7e8f9006b1d2e3f",
    "SCHOOLOGY_CONSUMER_SECRET": "9f8e7d6c5b4a39281706f5e4d3c2b1a0",
}
SETTINGS: dict[str, Any] = {
    "base_url": BASE,
    "consumer_key_env": "SCHOOLOGY_CONSUMER_KEY",
    "consumer_secret_env": "SCHOOLOGY_CONSUMER_SECRET",
    "page_size": 5,
}
PAGES: list[PageRef] = [PageRef("rpms-book-club", GROUP, "RPMS Book Club")]

MEMBER_IDS = {"4410021", "4410022", "5520301", "5520302", "6630101", "5520388", "5520377"}
"""Members across both enrollment pages (the expired enrollment 5520310 is left out)."""
GROUP_IDS = {GROUP, "7712346", "7712347", "7712348", "7712349", "7712350"}


def load(name: str) -> Any:
    """A fixture's parsed JSON (a fresh copy each call, so tests may edit it)."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def by_start(first: str, second: str) -> Callable[[httpx.Request], httpx.Response]:
    """Serves ``first`` for ``start=0`` (or none) and ``second`` for any later offset."""

    def answer(request: httpx.Request) -> httpx.Response:
        """The page for the request's ``start``."""
        start = request.url.params.get("start", "0")
        return httpx.Response(200, json=load(first if start == "0" else second))

    return answer


def user(request: httpx.Request, uid: str) -> httpx.Response:
    """``GET /users/{uid}`` from ``users.json``; unknown users are a 404 with an empty body."""
    for found in load("users")["user"]:
        if found["uid"] == uid:
            return httpx.Response(200, json=found)
    return httpx.Response(404, content=b"")


def comments(request: httpx.Request, update: str) -> httpx.Response:
    """An update's comments (``comments-{id}.json``; none for updates without a fixture)."""
    path = FIXTURES / f"comments-{update}.json"
    if path.exists():
        return httpx.Response(200, json=load(f"comments-{update}"))
    self_link = f"{BASE}/groups/{GROUP}/updates/{update}/comments?start=0&limit=5"
    return httpx.Response(200, json={"comment": [], "total": "0", "links": {"self": self_link}})


def mock_schoology(router: respx.MockRouter) -> None:
    """Register named routes for every call the connector makes for :data:`GROUP`."""
    group = f"{BASE}/groups/{GROUP}"
    router.get(group, name="group").mock(
        side_effect=lambda r: httpx.Response(200, json=load("group"))
    )
    router.get(f"{group}/enrollments", name="enrollments").mock(
        side_effect=by_start("enrollments-1", "enrollments-2")
    )
    router.get(f"{group}/updates", name="updates").mock(
        side_effect=by_start("updates-1", "updates-2")
    )
    router.get(
        url__regex=rf"^{re.escape(BASE)}/groups/{GROUP}/updates/(?P<update>\d+)/comments(\?.*)?$",
        name="comments",
    ).mock(side_effect=comments)
    router.get(url__regex=rf"^{re.escape(BASE)}/users/(?P<uid>\d+)(\?.*)?$", name="users").mock(
        side_effect=user
    )
    router.get(f"{BASE}/groups", name="groups").mock(side_effect=by_start("groups-1", "groups-2"))
