"""A respx mock of the Discord HTTP API v10 serving the fixtures in ``fixtures/discord/``
(shaped like Discord's documented responses) for one school club server, "WMS Coding
Club": the teacher owner, the supervisor (a moderator), two students, a parent, an
outsider, a banned spammer and the auditing bot; announcements, general and project
channels, a thread and an archived thread, about ten messages of which several break the
policy (a private-tutoring offer, a student's phone number, a personal link, a rude
remark), and an audit log.

The mock answers like Discord does: listings honour ``limit`` with ``after``/``before``
(snowflakes, or archive times for archived threads), every request must carry
``Authorization: Bot <token>`` (else 401), and unknown members are 404.

Reusable pieces: :func:`mock_discord` (named routes), :data:`SETTINGS` and :data:`ENV`
(the ``[[connectors]]`` settings and environment that point the connector at the mock),
:data:`PAGES`, and :data:`NOW`: the fixtures are dated for that moment, so patch
``auditor.connectors.discord.utcnow`` to return it (the look-back window is counted from
"now").
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

FIXTURES = Path(__file__).parent / "fixtures" / "discord"
BASE = "https://discord.com/api/v10"
GUILD = "990000000000000042"
BOT = "1533081865420931079"
TOKEN = "MTUzMzA4MTg2NTQyMDkzMTA3OQ.GzTest.fake-bot-token-used-only-by-tests_0"
NOW = datetime(2026, 11, 20, 7, 0, tzinfo=UTC)
SETTINGS: dict[str, Any] = {"base_url": BASE, "token_env": "DISCORD_BOT_TOKEN"}
ENV: dict[str, str] = {"DISCORD_BOT_TOKEN": TOKEN}
PAGES: list[PageRef] = [PageRef("wms-coding", GUILD, "WMS Coding Club")]

MEMBER_IDS = {
    "880000000000000001",
    "880000000000000002",
    "880000000000000101",
    "880000000000000102",
    "880000000000000201",
    "880000000000000999",
}
BANNED_IDS = {"880000000000000777"}
DISCOVERED = {GUILD, "1012345678901234567", "1099887766554433221"}
CHANNELS = {
    "announcements": "990000000000000201",
    "general": "990000000000000202",
    "projects": "990000000000000203",
    "voice": "990000000000000204",
    "staff-room": "990000000000000205",
}
THREADS = {
    "snake-game": "1572733137715331081",
    "expo-carpool": "1570466955264131085",
    "sign-ups": "1547622678528131088",
}

Answer = Callable[[httpx.Request], httpx.Response]


def load(name: str) -> Any:
    """A fixture's parsed JSON (a fresh copy each call, so tests may edit it)."""
    return json.loads((FIXTURES / f"{name}.json").read_text())


def all_messages() -> list[dict[str, Any]]:
    """Every message fixture (``messages-*.json``), whatever its channel."""
    return [m for path in sorted(FIXTURES.glob("messages-*.json")) for m in load(path.stem)]


def authorized(answer: Answer) -> Answer:
    """``answer``, but 401 (Discord's body) without ``Authorization: Bot <TOKEN>``."""

    def check(request: httpx.Request) -> httpx.Response:
        if request.headers.get("Authorization") != f"Bot {TOKEN}":
            return httpx.Response(401, json=load("error-unauthorized"))
        return answer(request)

    return check


def snowflake(item: dict[str, Any]) -> int:
    """The id a listing is ordered by: the user's for members and bans, else the item's."""
    return int(item["user"]["id"] if "user" in item else item["id"])


def by_snowflake(
    items: list[dict[str, Any]], request: httpx.Request, newest_first: bool, default: int
) -> list[dict[str, Any]]:
    """A page as Discord cuts it: ``after``/``before`` an id, at most ``limit`` items."""
    params = request.url.params
    chosen = sorted(items, key=snowflake, reverse=newest_first)
    if "before" in params:
        chosen = [i for i in chosen if snowflake(i) < int(params["before"])]
    elif "after" in params:
        chosen = [i for i in chosen if snowflake(i) > int(params["after"])]
    return chosen[: int(params.get("limit", default))]


def listing(
    name: str | Callable[[], list[dict[str, Any]]], newest_first: bool, default: int
) -> Answer:
    """Serves fixture ``name`` (or a loader's list) paged by snowflake."""

    def answer(request: httpx.Request) -> httpx.Response:
        items = name() if callable(name) else load(name)
        return httpx.Response(200, json=by_snowflake(items, request, newest_first, default))

    return answer


def member(request: httpx.Request) -> httpx.Response:
    """``GET /guilds/{id}/members/{user.id}``: one member, or Discord's 404."""
    user_id = request.url.path.rsplit("/", 1)[-1]
    for m in load("members"):
        if m["user"]["id"] == user_id:
            return httpx.Response(200, json=m)
    return httpx.Response(404, json={"message": "Unknown Member", "code": 10007})


def messages(request: httpx.Request) -> httpx.Response:
    """``GET /channels/{id}/messages``: that channel's messages, newest first."""
    channel = request.url.path.split("/")[-2]
    mine = [m for m in all_messages() if m["channel_id"] == channel]
    return httpx.Response(200, json=by_snowflake(mine, request, newest_first=True, default=50))


def archived(kind: str) -> Answer:
    """``GET /channels/{id}/threads/archived/{kind}``: newest archived first, ``before``
    an ISO8601 time, ``has_more`` when the limit cut the list."""

    def answer(request: httpx.Request) -> httpx.Response:
        body = load(f"threads-archived-{kind}")
        parent = request.url.path.split("/")[-4]
        params = request.url.params
        threads = sorted(
            (t for t in body["threads"] if t["parent_id"] == parent),
            key=lambda t: t["thread_metadata"]["archive_timestamp"],
            reverse=True,
        )
        if "before" in params:
            before = datetime.fromisoformat(params["before"])
            threads = [
                t
                for t in threads
                if datetime.fromisoformat(t["thread_metadata"]["archive_timestamp"]) < before
            ]
        limit = int(params.get("limit", 50))
        body["threads"] = threads[:limit]
        body["has_more"] = len(threads) > limit
        return httpx.Response(200, json=body)

    return answer


def audit_log(request: httpx.Request) -> httpx.Response:
    """``GET /guilds/{id}/audit-logs``: entries newest first, ``before`` an entry id."""
    body = load("audit-log")
    body["audit_log_entries"] = by_snowflake(
        body["audit_log_entries"], request, newest_first=True, default=50
    )
    return httpx.Response(200, json=body)


def fixed(name: str) -> Answer:
    """Serves fixture ``name`` as is."""
    return lambda request: httpx.Response(200, json=load(name))


def mock_discord(router: respx.MockRouter) -> None:
    """Register every route the connector calls for :data:`GUILD`, named for tests."""
    guild = f"{BASE}/guilds/{GUILD}"
    routes: list[tuple[str, str, Answer]] = [
        ("me", f"{BASE}/users/@me", fixed("user-me")),
        ("guilds", f"{BASE}/users/@me/guilds", listing("guilds", False, 200)),
        ("guild", guild, fixed("guild")),
        ("members", f"{guild}/members", listing("members", False, 1)),
        ("bans", f"{guild}/bans", listing("bans", False, 1000)),
        ("invites", f"{guild}/invites", fixed("invites")),
        ("channels", f"{guild}/channels", fixed("channels")),
        ("threads-active", f"{guild}/threads/active", fixed("threads-active")),
        ("audit-log", f"{guild}/audit-logs", audit_log),
    ]
    for name, url, answer in routes:
        router.get(url, name=name).mock(side_effect=authorized(answer))
    patterns: list[tuple[str, str, Answer]] = [
        ("member", rf"^/api/v10/guilds/{GUILD}/members/\d+$", member),
        ("messages", r"^/api/v10/channels/\d+/messages$", messages),
        ("archived-public", r"^/api/v10/channels/\d+/threads/archived/public$", archived("public")),
        (
            "archived-private",
            r"^/api/v10/channels/\d+/threads/archived/private$",
            archived("private"),
        ),
    ]
    for name, path, answer in patterns:
        router.get(host="discord.com", path__regex=re.compile(path), name=name).mock(
            side_effect=authorized(answer)
        )
