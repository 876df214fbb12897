"""A mocked Microsoft Graph for running the ``microsoft365`` connector without Microsoft:
for scripts (e.g. the one producing the sample district's snapshot) and tests.

Use it as::

    with respx.mock() as router:
        mock_microsoft365(router)
        os.environ.update(ENV)
        auditor.connectors.microsoft365.clock = lambda: NOW  # the look-back is from NOW
        connector = Microsoft365Connector("m365", Microsoft365Settings(**SETTINGS))
        snapshot = await connector.fetch_page(PAGES[0])

The page is the DHS Debate Team (a private team): teacher owner Olivia Owner
(owner@district.org), supervisor Sam Supervisor (boss@district.org), students Ana B. and
Leo M. (students.district.org) and a parent, Pat Parent (a guest, pat.parent@gmail.com).
Its General channel holds six posts of November 2026: four messages with replies, one of
them deleted by its author while a parent's reply under it (a Venmo handle and a personal
shop: DS7, DS8) stays; another reply gives a student's cell number (DS6).
"""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
import respx
from mock_platforms import CHANNEL, GRAPH, TEAM, TENANT, json_response, mock_microsoft, paged

from auditor.connectors.base import PageRef
from auditor.connectors.microsoft365 import Microsoft365Connector

ENV: dict[str, str] = {"M365_CLIENT_SECRET": "mock-client-secret-not-real"}
"""Environment the connector reads: the app's (fake) client secret."""

SETTINGS: dict[str, str] = {
    "tenant_id": TENANT,
    "client_id": "6731de76-14a6-49ae-97bc-6eba6914391e",
    "client_secret_env": "M365_CLIENT_SECRET",
    "base_url": GRAPH,
    "token_url": "https://login.microsoftonline.com/{tenant_id}/oauth2/v2.0/token",
}
"""The ``[[connectors]]`` settings (besides ``name`` and ``type = "microsoft365"``)."""

PAGES: list[PageRef] = [PageRef("debate", TEAM, "DHS Debate Team")]
"""The pages the mock answers for."""

NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)
"""The moment the sample snapshot is taken: the fixtures' messages are dated before it."""

OWNER = "owner@district.org"
SUPERVISOR = "boss@district.org"
SAMPLE_ROOTS_WITH_REPLIES = ("1773500000002", "1773600000003", "1773700000004")


def sample(name: str) -> httpx.Response:
    """A ``sample-*`` fixture of the debate team's channel."""
    return json_response("microsoft365", f"sample-{name}")


def mock_microsoft365(router: respx.MockRouter) -> None:
    """Register the named routes answering like Graph does for :data:`PAGES`: the
    fixtures of :func:`mock_platforms.mock_microsoft`, with the sample page's members,
    channel messages and replies."""
    mock_microsoft(router)
    router.routes["members"].side_effect = paged(
        "microsoft365", "members-1", "sample-members-2", "$skiptoken"
    )
    router.routes["messages"].side_effect = lambda r: sample("messages")
    messages = f"{GRAPH}/teams/{TEAM}/channels/{CHANNEL}/messages"
    for root in SAMPLE_ROOTS_WITH_REPLIES:
        router.get(f"{messages}/{root}/replies", name=f"replies-{root}").mock(
            side_effect=lambda r, root=root: sample(f"replies-{root}")
        )


def spy_builds(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The ids of the pages whose snapshot the Microsoft 365 connector builds from now on
    (it still builds them)."""
    built: list[str] = []
    snapshot = Microsoft365Connector._snapshot
    monkeypatch.setattr(
        Microsoft365Connector,
        "_snapshot",
        lambda self, ref, *a: built.append(ref.id) or snapshot(self, ref, *a),
    )
    return built
