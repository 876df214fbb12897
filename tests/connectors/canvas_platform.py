"""A respx mock of the sample district's Canvas instance, answering from ``fixtures/canvas``.

The page is the RPMS Garden Club, group 5530 of the course "RPMS Clubs 2026-27" (1207):
Karen Olsen teaches the course (owner), the principal Paul Nguyen is its TA (supervisor),
four students are members and a fifth is invited, and Ann Frost observes her son Eli. Its
discussions hold eight posts within the default 30-day look-back, among them a student's
phone number and a link to a student's video channel.

Bodies are the fixtures (shaped like the Canvas REST API's documented JSON); the mock adds
what Canvas puts in headers: ``Link`` pagination (``rel="current"``, ``"next"``, ``"first"``,
``"last"``) for the two-page listings, built from the request's own URL.

To run the connector against this mock (e.g. to build the sample district's snapshot)::

    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        os.environ.update(ENV)
        auditor.connectors.canvas.clock = lambda: NOW  # the posts' look-back is from NOW
        settings = CanvasSettings.model_validate(SETTINGS)
        async with CanvasConnector("canvas", settings) as conn:
            snapshot = await conn.fetch_page(PAGES[0])

``SETTINGS`` are the ``[[connectors]]`` keys other than ``name`` and ``type``
(``type = "canvas"``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import respx

from auditor.connectors.base import PageRef

FIXTURES = Path(__file__).parent / "fixtures" / "canvas"

BASE = "https://danbury.instructure.com"
API = f"{BASE}/api/v1"
GROUP = "5530"
COURSE = 1207
CATEGORY = 88
ACCOUNT = "1"
NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
"""The moment the sample snapshot is taken: the fixtures' posts are dated before it."""

ENV: dict[str, str] = {"CANVAS_TOKEN": "7~FakeCanvasAccessTokenForTheSampleDistrict0001"}
SETTINGS: dict[str, Any] = {"base_url": BASE, "token_env": "CANVAS_TOKEN"}
PAGES: list[PageRef] = [PageRef("rpms-garden", GROUP, "RPMS Garden Club")]

MEMBER_IDS = {"301", "302", "4101", "4102", "4103", "4104", "4105"}
"""Every member: the memberships (two pages), the course's teacher and TA."""
DISCOVERED = {"5530", "5531", "5600"}
"""The groups of the token's user (``/users/self/groups``, two pages)."""
ACCOUNT_GROUPS = {"5600", "5601"}
"""The groups of account ``ACCOUNT`` (``/accounts/1/groups``)."""

Responder = Callable[[httpx.Request], httpx.Response]


def load(name: str) -> Any:
    """A fixture's parsed JSON (a fresh copy each call, so tests may edit it)."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def link_header(request: httpx.Request, page: int, last: int) -> str:
    """Canvas's ``Link`` header for ``page`` of ``last`` of the requested listing."""
    per_page = request.url.params.get("per_page", "10")

    def at(n: int) -> str:
        """The URL of page ``n``."""
        url = request.url.copy_set_param("page", str(n)).copy_set_param("per_page", per_page)
        return str(url)

    rels = [("current", page)]
    if page < last:
        rels.append(("next", page + 1))
    if page > 1:
        rels.append(("prev", page - 1))
    rels += [("first", 1), ("last", last)]
    return ",".join(f'<{at(n)}>; rel="{rel}"' for rel, n in rels)


def answer(body: Any, request: httpx.Request, page: int = 1, last: int = 1) -> httpx.Response:
    """A 200 JSON answer with Canvas's ``Link`` and throttling headers."""
    headers = {
        "Link": link_header(request, page, last),
        "X-Request-Cost": "0.0123",
        "X-Rate-Limit-Remaining": "699.95",
    }
    return httpx.Response(200, json=body, headers=headers)


def fixture(name: str) -> Responder:
    """Answers every request with fixture ``name`` as a single page."""
    return lambda request: answer(load(name), request)


def paged(*names: str) -> Responder:
    """Serves fixture ``names[page - 1]`` for the request's ``page`` (first page: no param)."""

    def respond(request: httpx.Request) -> httpx.Response:
        """The page the request asks for."""
        page = int(request.url.params.get("page", "1"))
        return answer(load(names[page - 1]), request, page, len(names))

    return respond


def topics(request: httpx.Request) -> httpx.Response:
    """Discussion topics, or announcements with ``only_announcements=true``."""
    wanted = request.url.params.get("only_announcements") == "true"
    return answer(load("announcements" if wanted else "topics"), request)


def mock_canvas(router: respx.MockRouter) -> None:
    """Register the named routes of every Canvas call the connector makes for :data:`GROUP`."""
    group = f"{API}/groups/{GROUP}"
    routes: dict[str, tuple[str, Responder]] = {
        "group": (group, fixture("group")),
        "category": (f"{API}/group_categories/{CATEGORY}", fixture("group-category")),
        "memberships": (f"{group}/memberships", paged("memberships-1", "memberships-2")),
        "group-users": (f"{group}/users", fixture("group-users")),
        "course-users": (f"{API}/courses/{COURSE}/users", fixture("course-users")),
        "topics": (f"{group}/discussion_topics", topics),
        "entries-701": (f"{group}/discussion_topics/701/entries", fixture("entries-701")),
        "entries-702": (f"{group}/discussion_topics/702/entries", fixture("entries-702")),
        "entries-704": (f"{group}/discussion_topics/704/entries", fixture("entries-704")),
        "replies-9003": (
            f"{group}/discussion_topics/701/entries/9003/replies",
            fixture("replies-9003"),
        ),
        "self-groups": (f"{API}/users/self/groups", paged("groups-1", "groups-2")),
        "account-groups": (f"{API}/accounts/{ACCOUNT}/groups", fixture("account-groups")),
    }
    for name, (url, responder) in routes.items():
        router.get(url, name=name).mock(side_effect=responder)
