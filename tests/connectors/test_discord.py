"""The discord connector: the shared contract suite plus Discord's mapping (visibility,
roles from permission bits, invites, bans, messages and threads within the look-back
window, the audit log), its paging, its rate-limit answers and its error bodies."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from discord_platform import (
    BANNED_IDS,
    BASE,
    BOT,
    CHANNELS,
    DISCOVERED,
    ENV,
    GUILD,
    MEMBER_IDS,
    NOW,
    PAGES,
    SETTINGS,
    THREADS,
    TOKEN,
    all_messages,
    by_snowflake,
    load,
    mock_discord,
)

import auditor.connectors.discord as discord
from auditor.connectors.base import ConnectorError, PageRef
from auditor.connectors.discord import (
    ADMINISTRATOR,
    BAN_MEMBERS,
    KICK_MEMBERS,
    MANAGE_GUILD,
    MANAGE_MESSAGES,
    MANAGE_THREADS,
    READ_MESSAGE_HISTORY,
    VIEW_AUDIT_LOG,
    VIEW_CHANNEL,
    AuditEntry,
    Channel,
    DiscordConnector,
    DiscordSettings,
    Guild,
    Overwrite,
    Permissions,
    is_moderator_action,
    snowflake_time,
)
from auditor.snapshot import PageSnapshot
from auditor.testkit.connectors import FaultInjector, HttpConnectorContract

CLUB = PAGES[0]
CHEN, CLARKE, NOAH, IVY, TARA, GLITCH = (
    "880000000000000001",
    "880000000000000002",
    "880000000000000101",
    "880000000000000102",
    "880000000000000201",
    "880000000000000999",
)
STUDENTS_ROLE = "990000000000000102"


@pytest.fixture(autouse=True)
def frozen_now(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixtures are dated for NOW; the look-back window is counted from it."""
    monkeypatch.setattr(discord, "utcnow", lambda: NOW)


def discord_connector(monkeypatch: pytest.MonkeyPatch, **settings: object) -> DiscordConnector:
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    return DiscordConnector("dc", DiscordSettings.model_validate({**SETTINGS, **settings}))


async def fetch(monkeypatch: pytest.MonkeyPatch, **settings: object) -> PageSnapshot:
    async with discord_connector(monkeypatch, **settings) as conn:
        return await conn.fetch_page(CLUB)


def serve(router: respx.MockRouter, route: str, body: Any, status: int = 200) -> None:
    """Answer ``route`` with ``body`` from now on."""
    router.routes[route].side_effect = lambda r: httpx.Response(status, json=body)


def serve_listing(router: respx.MockRouter, route: str, items: list[dict[str, Any]]) -> None:
    """Answer ``route`` with ``items`` paged ``after`` a snowflake, as Discord does."""
    router.routes[route].side_effect = lambda r: httpx.Response(
        200, json=by_snowflake(items, r, newest_first=False, default=1000)
    )


def serve_channel(router: respx.MockRouter, channel: str, response: httpx.Response) -> None:
    """Answer ``channel``'s messages with ``response``; other channels as before."""
    others = router.routes["messages"].side_effect

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith(f"/channels/{channel}/messages"):
            return response
        return others(request)

    router.routes["messages"].side_effect = answer


def role_named(guild: dict[str, Any], name: str) -> dict[str, Any]:
    return next(r for r in guild["roles"] if r["name"] == name)


def without(permissions: str, bits: int) -> str:
    return str(int(permissions) & ~bits)


def message_paths(router: respx.MockRouter) -> list[str]:
    return [c.request.url.path for c in router.routes["messages"].calls]


class TestDiscordContract(HttpConnectorContract):
    platform = "discord"
    ref = CLUB
    paged_route = "members"
    fault_target = "/members?"
    token_route = None
    expected_member_ids = MEMBER_IDS | BANNED_IDS
    malformed = [
        (f"/guilds/{GUILD}?", {"id": GUILD, "name": "WMS Coding Club"}, "owner_id"),
        (f"{GUILD}/channels", [{"id": "1", "type": "text"}], "[0].type"),
        ("/members?", [{"user": {"id": "1", "username": "x"}, "roles": "Students"}], "[0].roles"),
        (
            "/messages?",
            [
                {
                    "id": "1",
                    "channel_id": "2",
                    "author": {"id": "3", "username": "x"},
                    "content": "hi",
                    "timestamp": "yesterday",
                    "type": 0,
                }
            ],
            "[0].timestamp",
        ),
        ("/invites", [{"code": "abc", "max_uses": "lots"}], "[0].max_uses"),
        (
            "/audit-logs",
            {"audit_log_entries": [{"id": "1", "action_type": "kick"}]},
            "audit_log_entries[0].action_type",
        ),
    ]
    expected_discovered = DISCOVERED

    def make_connector(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> DiscordConnector:
        monkeypatch.setattr(discord, "MEMBERS_PAGE", 2)  # seven members: four pages
        return discord_connector(monkeypatch)

    def mock_platform(self, router: respx.MockRouter) -> None:
        mock_discord(router)

    async def test_429_body_retry_after_is_honoured(
        self, connector: DiscordConnector, faults: FaultInjector, waits: list[float]
    ) -> None:
        body = {"message": "You are being rate limited.", "retry_after": 2.5, "global": False}
        headers = {"Retry-After": "3", "X-RateLimit-Scope": "user", "X-RateLimit-Bucket": "b1"}
        faults.add("/members?", lambda r: httpx.Response(429, json=body, headers=headers))
        snapshot = await self.fetch(connector)
        assert faults.hits
        assert waits == [2.5], "the body's exact retry_after, not the rounded header"
        assert {m.id for m in snapshot.members or []} == self.expected_member_ids

    async def test_429_body_without_headers_is_honoured(
        self, connector: DiscordConnector, faults: FaultInjector, waits: list[float]
    ) -> None:
        body = {"message": "You are being rate limited.", "retry_after": 0.42, "global": False}
        faults.add("/bans", lambda r: httpx.Response(429, json=body))
        await self.fetch(connector)
        assert waits == [0.42]

    async def test_global_rate_limit_holds_every_request(
        self, connector: DiscordConnector, faults: FaultInjector, waits: list[float]
    ) -> None:
        body = {"message": "You are being rate limited.", "retry_after": 1.25, "global": True}
        headers = {"Retry-After": "2", "X-RateLimit-Global": "true", "X-RateLimit-Scope": "global"}
        faults.add("/members?", lambda r: httpx.Response(429, json=body, headers=headers))
        snapshot = await self.fetch(connector)
        assert waits[0] == 1.25
        held = [w for w in waits[1:] if 1.0 < w <= 1.25]
        assert len(held) >= 3, "later requests wait out the global limit too"
        assert snapshot.members is not None

    async def test_route_rate_limit_holds_only_its_request(
        self, connector: DiscordConnector, faults: FaultInjector, waits: list[float]
    ) -> None:
        body = {"message": "You are being rate limited.", "retry_after": 1.25, "global": False}
        faults.add("/members?", lambda r: httpx.Response(429, json=body))
        await self.fetch(connector)
        assert waits == [1.25]

    async def test_wait_beyond_the_limit_is_a_page_error(
        self, connector: DiscordConnector, faults: FaultInjector
    ) -> None:
        body = {"message": "The resource is being rate limited.", "retry_after": 1336.57}
        headers = {"Retry-After": "1337", "X-RateLimit-Scope": "shared"}
        faults.add("/members?", lambda r: httpx.Response(429, json=body, headers=headers))
        with pytest.raises(ConnectorError, match=r"discord: GET .*/members: HTTP 429.*1337 s"):
            await self.fetch(connector)

    async def test_empty_bucket_pauses_until_it_resets(
        self, connector: DiscordConnector, faults: FaultInjector, waits: list[float]
    ) -> None:
        headers = {
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": "0.75",
            "X-RateLimit-Bucket": "abcd1234",
        }
        faults.add(
            f"{GUILD}/channels",
            lambda r: httpx.Response(200, json=load("channels"), headers=headers),
        )
        snapshot = await self.fetch(connector)
        assert waits and 0.5 < waits[0] <= 0.75, "the next request waits for the reset"
        assert snapshot.posts

    async def test_missing_member_intent_makes_members_unavailable(
        self, connector: DiscordConnector, faults: FaultInjector, router: respx.MockRouter
    ) -> None:
        denied = load("error-missing-access")
        faults.add("/members?", lambda r: httpx.Response(403, json=denied))
        snapshot = await self.fetch(connector)
        assert snapshot.members is None
        reason = snapshot.unavailable["members"]
        assert "GUILD_MEMBERS" in reason and "about 7 members" in reason
        assert not router.routes["bans"].called
        assert snapshot.posts, "messages are still read"


async def test_snapshot_maps_the_club_server(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        snap = await fetch(monkeypatch)
        request = router.routes["guild"].calls.last.request
    assert request.headers["Authorization"] == f"Bot {TOKEN}"
    assert request.headers["User-Agent"].startswith("DiscordBot (page-auditor, ")
    assert request.url.params["with_counts"] == "true"
    assert snap.name == "WMS Coding Club"
    assert snap.url == f"https://discord.com/channels/{GUILD}"
    assert snap.kind == "group"
    assert snap.created_at == datetime(2022, 6, 24, 21, 6, 33, 310000, tzinfo=UTC)
    assert snap.fetched_at == NOW
    assert snap.description and "linktr.ee/mrchen" in snap.description
    assert snap.links == ["https://www.danbury.k12.ct.us/wms/code-of-conduct"]
    assert snap.settings.model_dump() == {
        "visibility": "closed",
        "join_policy": "invite",
        "post_moderation": None,
        "invite_links": [
            {
                "url": "https://discord.gg/wmscode1",
                "created_by": CHEN,
                "expires_at": datetime(2026, 11, 25, tzinfo=UTC),
                "max_uses": 1,
                "uses": 0,
            }
        ],
        "external_members_allowed": True,
    }
    roles = {m.id: (m.name, m.role, m.state) for m in snap.members or []}
    assert roles == {
        CHEN: ("mr_chen", "owner", "active"),
        CLARKE: ("s.clarke", "moderator", "active"),
        NOAH: ("noahb", "member", "active"),
        IVY: ("ivy_s", "member", "active"),
        TARA: ("tara_b", "member", "active"),
        GLITCH: ("xX_glitch_Xx", "member", "active"),
        "880000000000000777": ("free.nitro.drops", "member", "banned"),
    }, "the auditing bot itself is not a member of the audit"
    assert all(m.email is None for m in snap.members or [])
    assert snap.moderation is not None
    assert snap.moderation.last_moderator_action_at == datetime(2026, 11, 18, 21, tzinfo=UTC)
    assert snap.moderation.pending_reports is None
    assert set(snap.unavailable) == {"post_moderation"}
    assert snap.warnings[0] == (
        "recorded, no snapshot field: verification_level 2 = MEDIUM (registered on Discord "
        "for longer than 5 minutes); default_message_notifications 1 = ONLY_MENTIONS; "
        "explicit_content_filter 2 = ALL_MEMBERS"
    )
    assert snap.limits == {
        "posts": "the bot cannot read 1 channel(s) or thread(s) (needs View Channel and Read "
        "Message History there): #staff-room"
    }
    assert snap.coverage == {"posts": "posts of the last 30 days"}
    assert not any("cannot read" in w or "day(s)" in w for w in snap.warnings)


async def test_posts_are_messages_of_channels_and_threads(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        snap = await fetch(monkeypatch)
        read = message_paths(router)
    posts = {p.text.split(" ")[0] + " " + p.text.split(" ")[1]: p for p in snap.posts or []}
    assert len(snap.posts or []) == 11
    assert [p.created_at for p in snap.posts or []] == sorted(
        p.created_at for p in snap.posts or []
    )
    assert "Welcome to" not in posts, "a message older than lookback_days is left out"
    assert all(p.text for p in snap.posts or []), "pin notices and thread starters are skipped"
    starter = posts["Snake game"]
    assert posts["Ivy's cell"].parent_id == starter.id == THREADS["snake-game"]
    assert posts["please don't"].parent_id == starter.id
    assert posts["Sure, Noah:"].parent_id == posts["can someone"].id, "a reply's parent"
    assert posts["I can"].parent_id is None, "the thread has no starter message to point at"
    assert posts["Club meets"].pinned is True
    assert posts["Club meets"].links == ["https://www.danbury.k12.ct.us/wms/coding"]
    assert posts["lol ur"].links == ["https://www.youtube.com/@glitchplays"]
    assert posts["lol ur"].author_id == GLITCH
    assert "Starter projects" not in posts["Club meets"].text, "a link preview is not text"
    assert f"/api/v10/channels/{THREADS['sign-ups']}/messages" not in read
    assert f"/api/v10/channels/{CHANNELS['voice']}/messages" not in read, "no recent message"
    assert f"/api/v10/channels/{CHANNELS['staff-room']}/messages" not in read, "not readable"


async def test_lookback_window_limits_messages_and_archived_threads(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        snap = await fetch(monkeypatch, lookback_days=2)
        read = message_paths(router)
    cutoff = NOW - timedelta(days=2)
    assert snap.posts and all(p.created_at and p.created_at >= cutoff for p in snap.posts)
    assert len(snap.posts) == 6
    assert f"/api/v10/channels/{THREADS['expo-carpool']}/messages" not in read, (
        "a thread archived before the window is not read"
    )
    assert snap.coverage == {"posts": "posts of the last 2 days"}


async def test_messages_are_paged_before_the_oldest_seen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(discord, "MESSAGES_PAGE", 2)
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        snap = await fetch(monkeypatch)
        general = [
            c.request.url.params
            for c in router.routes["messages"].calls
            if CHANNELS["general"] in c.request.url.path
        ]
    assert len(snap.posts or []) == 11
    assert [p.get("before") for p in general] == [
        None,
        "1573080426086531079",
        "1572356908646531077",
    ], "each page asks for messages before the oldest of the previous one"
    assert all(p["limit"] == "2" for p in general)


async def test_message_cap_per_channel_is_a_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        snap = await fetch(monkeypatch, max_messages_per_channel=2)
    general = [p for p in snap.posts or [] if p.author_id in (NOAH, GLITCH, CLARKE)]
    assert "can someone explain for loops again?" not in {p.text for p in general}
    assert (
        "#general: only the newest 2 messages of the window were read (max_messages_per_channel)"
        in snap.limits["posts"].split("; ")
    )


async def test_archived_threads_are_paged_until_the_window_ends(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(discord, "THREADS_PAGE", 1)
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        snap = await fetch(monkeypatch)
        general = [
            c.request.url.params
            for c in router.routes["archived-public"].calls
            if CHANNELS["general"] in c.request.url.path
        ]
    assert [p.get("before") for p in general] == [None, "2026-11-15T17:30:00+00:00"]
    assert any(p.author_id == TARA for p in snap.posts or [])


async def test_without_message_content_intent_posts_are_not_applicable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    stripped = []
    for m in all_messages():
        m.update(content="", embeds=[], attachments=[], components=[])
        stripped.append(m)
    own = {**stripped[0], "id": "1573200000000000001", "content": "Audit ran."}
    own["author"] = load("user-me")
    own["timestamp"] = "2026-11-20T06:00:00.000000+00:00"
    stripped.append(own)  # the bot's own messages keep their content: not proof of the intent
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        router.routes["messages"].side_effect = lambda r: httpx.Response(
            200,
            json=by_snowflake(
                [m for m in stripped if m["channel_id"] == r.url.path.split("/")[-2]],
                r,
                newest_first=True,
                default=50,
            ),
        )
        snap = await fetch(monkeypatch)
    assert snap.posts is None
    assert "MESSAGE_CONTENT" in snap.unavailable["posts"]
    assert "posts" not in snap.limits, "nothing was read (#staff-room's cut is moot)"
    assert snap.members is not None


async def test_one_message_with_content_proves_the_intent(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    messages = load("messages-general")
    for m in messages:
        m["content"] = ""
    messages[0]["content"] = "hello"
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        serve_channel(router, CHANNELS["general"], httpx.Response(200, json=messages))
        snap = await fetch(monkeypatch)
    assert snap.posts is not None and "posts" not in snap.unavailable


@pytest.mark.parametrize(("status", "code"), [(403, 50001), (404, 10003)])
async def test_a_channel_refusing_its_messages_is_a_limit(
    monkeypatch: pytest.MonkeyPatch, status: int, code: int
) -> None:
    refusal = httpx.Response(status, json={"message": "refused", "code": code})
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        serve_channel(router, CHANNELS["general"], refusal)
        snap = await fetch(monkeypatch)
    assert f"#general: messages not read (HTTP {status})" in snap.limits["posts"].split("; ")
    assert snap.posts and not any(p.author_id == GLITCH for p in snap.posts)
    assert any(p.author_id == IVY for p in snap.posts), "the other channels are read"


async def test_reading_messages_can_be_turned_off(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        snap = await fetch(monkeypatch, read_messages=False)
        called = router.routes["messages"].called or router.routes["threads-active"].called
    assert snap.posts is None and "read_messages" in snap.unavailable["posts"]
    assert not called


async def test_channel_without_read_history_is_skipped_and_a_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channels = load("channels")
    general = next(c for c in channels if c["id"] == CHANNELS["general"])
    bot_role = role_named(load("guild"), "Page Auditor")["id"]
    general["permission_overwrites"] = [
        {"id": bot_role, "type": 0, "allow": "0", "deny": str(READ_MESSAGE_HISTORY)},
        {"id": GUILD, "type": 0, "allow": "0", "deny": str(READ_MESSAGE_HISTORY)},
    ]
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        serve(router, "channels", channels)
        snap = await fetch(monkeypatch)
        read = message_paths(router)
    assert f"/api/v10/channels/{CHANNELS['general']}/messages" not in read, (
        "Discord would answer an empty list, which would pass for a quiet channel"
    )
    assert "cannot read 2 channel(s)" in snap.limits["posts"]
    assert "#general" in snap.limits["posts"]
    assert snap.posts and not any(p.author_id == GLITCH for p in snap.posts)


async def test_no_readable_channel_makes_posts_unavailable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    channels = load("channels")
    for c in channels:
        c["permission_overwrites"] = [
            {"id": GUILD, "type": 0, "allow": "0", "deny": str(VIEW_CHANNEL)}
        ]
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        serve(router, "channels", channels)
        snap = await fetch(monkeypatch)
        called = router.routes["messages"].called
    assert snap.posts is None and "no channel" in snap.unavailable["posts"]
    assert "posts" not in snap.limits, "nothing was read, so nothing was cut"
    assert not called


async def test_private_threads_need_manage_threads_or_membership(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    guild = load("guild")
    bot_role = role_named(guild, "Page Auditor")
    bot_role["permissions"] = without(bot_role["permissions"], MANAGE_THREADS)
    active = load("threads-active")
    secret = {**active["threads"][0], "id": "1572900000000000001", "type": 12, "name": "secret"}
    joined = {**active["threads"][0], "id": "1572900000000000002", "type": 12, "name": "joined"}
    active["threads"] += [secret, joined]
    active["members"] = [{"id": joined["id"], "user_id": BOT, "join_timestamp": "", "flags": 0}]
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        serve(router, "guild", guild)
        serve(router, "threads-active", active)
        snap = await fetch(monkeypatch)
        read = message_paths(router)
        private_listed = router.routes["archived-private"].called
    assert "/api/v10/channels/1572900000000000001/messages" not in read
    assert "/api/v10/channels/1572900000000000002/messages" in read, "the bot joined it"
    assert not private_listed
    cuts = snap.limits["posts"].split("; ")
    assert any("private thread #secret" in cut for cut in cuts)
    assert any(cut.startswith("archived private threads were not listed") for cut in cuts)


@pytest.mark.parametrize(
    ("vanity", "features", "everyone_view", "overwrite", "visibility", "join"),
    [
        (None, ["COMMUNITY"], True, None, "closed", "invite"),
        ("wmscode", ["VANITY_URL"], True, None, "public", "open"),
        (None, ["COMMUNITY", "DISCOVERABLE"], True, None, "public", "open"),
        (None, ["DISCOVERABLE"], False, None, "closed", "open"),
        (None, ["DISCOVERABLE"], True, "deny", "closed", "open"),
        (None, ["DISCOVERABLE"], False, "allow", "public", "open"),
    ],
)
async def test_visibility_and_join_policy(
    monkeypatch: pytest.MonkeyPatch,
    vanity: str | None,
    features: list[str],
    everyone_view: bool,
    overwrite: str | None,
    visibility: str,
    join: str,
) -> None:
    guild = {**load("guild"), "vanity_url_code": vanity, "features": features}
    everyone = role_named(guild, "@everyone")
    if not everyone_view:
        everyone["permissions"] = without(everyone["permissions"], VIEW_CHANNEL)
    channels = load("channels")
    if overwrite is not None:
        for c in channels:
            c["permission_overwrites"] = [
                {"id": GUILD, "type": 0, **{"allow": "0", "deny": "0", overwrite: "1024"}}
            ]
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        serve(router, "guild", guild)
        serve(router, "channels", channels)
        snap = await fetch(monkeypatch)
    assert (snap.settings.visibility, snap.settings.join_policy) == (visibility, join)
    urls = [link.url for link in snap.settings.invite_links or []]
    assert ("https://discord.gg/wmscode" in urls) == (vanity is not None)


async def test_vanity_url_is_a_permanent_unlimited_invite(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        serve(router, "guild", {**load("guild"), "vanity_url_code": "wms-coding"})
        snap = await fetch(monkeypatch)
    vanity = (snap.settings.invite_links or [])[-1]
    assert vanity.url == "https://discord.gg/wms-coding"
    assert vanity.expires_at is None and vanity.max_uses is None


@pytest.mark.parametrize(
    ("students", "everyone_extra", "expected"),
    [
        (ADMINISTRATOR, 0, "manager"),
        (MANAGE_GUILD, 0, "manager"),
        (MANAGE_MESSAGES, 0, "moderator"),
        (KICK_MEMBERS | BAN_MEMBERS, 0, "member"),
        (0, 0, "member"),
        (0, MANAGE_MESSAGES, "moderator"),
    ],
)
async def test_member_roles_come_from_permission_bits(
    monkeypatch: pytest.MonkeyPatch, students: int, everyone_extra: int, expected: str
) -> None:
    guild = load("guild")
    role_named(guild, "Students")["permissions"] = str(students)
    everyone = role_named(guild, "@everyone")
    everyone["permissions"] = str(int(everyone["permissions"]) | everyone_extra)
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        serve(router, "guild", guild)
        snap = await fetch(monkeypatch)
    roles = {m.id: m.role for m in snap.members or []}
    assert roles[NOAH] == roles[IVY] == expected
    assert roles[CHEN] == "owner", "owner_id wins over any role"
    assert roles[TARA] == ("moderator" if everyone_extra else "member"), "@everyone counts"


@pytest.mark.parametrize(
    ("changes", "expires", "max_uses"),
    [
        ({}, datetime(2026, 11, 25, tzinfo=UTC), 1),
        ({"expires_at": None, "max_age": 3600}, datetime(2026, 11, 18, 1, tzinfo=UTC), 1),
        ({"expires_at": None, "max_age": 0, "max_uses": 0}, None, 0),
        ({"max_uses": 0}, datetime(2026, 11, 25, tzinfo=UTC), 0),
    ],
)
async def test_invites_map_expiry_and_uses(
    monkeypatch: pytest.MonkeyPatch,
    changes: dict[str, Any],
    expires: datetime | None,
    max_uses: int,
) -> None:
    invites = load("invites")
    invites[0].update(changes)
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        serve(router, "invites", invites)
        snap = await fetch(monkeypatch)
    (link,) = snap.settings.invite_links or []
    assert (link.expires_at, link.max_uses, link.uses) == (expires, max_uses, 0)


@pytest.mark.parametrize(
    ("permission", "route", "field", "words"),
    [
        (MANAGE_GUILD, "invites", "invite_links", "MANAGE_GUILD"),
        (BAN_MEMBERS, "bans", "bans", "BAN_MEMBERS"),
        (VIEW_AUDIT_LOG, "audit-log", "moderation", "VIEW_AUDIT_LOG"),
    ],
)
async def test_a_missing_permission_is_not_asked_and_is_explained(
    monkeypatch: pytest.MonkeyPatch, permission: int, route: str, field: str, words: str
) -> None:
    guild = load("guild")
    bot_role = role_named(guild, "Page Auditor")
    bot_role["permissions"] = without(bot_role["permissions"], permission)
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        serve(router, "guild", guild)
        snap = await fetch(monkeypatch)
        asked = router.routes[route].called
    assert not asked, "Discord counts refused requests against the bot"
    assert words in snap.unavailable[field]
    if field == "invite_links":
        assert snap.settings.invite_links is None
    if field == "moderation":
        assert snap.moderation is None
    if field == "bans":
        assert BANNED_IDS.isdisjoint({m.id for m in snap.members or []})


@pytest.mark.parametrize(
    ("route", "field"),
    [("invites", "invite_links"), ("bans", "bans"), ("audit-log", "moderation")],
)
async def test_a_403_anyway_is_explained(
    monkeypatch: pytest.MonkeyPatch, route: str, field: str
) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        serve(router, route, load("error-missing-access"), status=403)
        snap = await fetch(monkeypatch)
    assert field in snap.unavailable
    assert snap.members is not None


async def test_audit_log_is_paged_until_a_moderator_action(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(discord, "AUDIT_PAGE", 2)
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        snap = await fetch(monkeypatch)
        pages = [c.request.url.params for c in router.routes["audit-log"].calls]
    assert [p.get("before") for p in pages] == [None, "1572733137715331093"]
    assert snap.moderation is not None
    assert snap.moderation.last_moderator_action_at == datetime(2026, 11, 18, 21, tzinfo=UTC)


async def test_no_moderator_action_in_the_audit_log(monkeypatch: pytest.MonkeyPatch) -> None:
    log = load("audit-log")
    log["audit_log_entries"] = [e for e in log["audit_log_entries"] if e["action_type"] != 72]
    log["audit_log_entries"] = [e for e in log["audit_log_entries"] if e["action_type"] != 22]
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        serve(router, "audit-log", log)
        snap = await fetch(monkeypatch)
    assert snap.moderation is not None
    assert snap.moderation.last_moderator_action_at is None
    assert "moderation" not in snap.unavailable


@pytest.mark.parametrize(
    ("action", "actor", "target", "robots", "counts"),
    [
        (72, CLARKE, GLITCH, frozenset(), True),
        (22, CHEN, GLITCH, frozenset(), True),
        (24, NOAH, NOAH, frozenset(), False),
        (110, IVY, "1572733137715331081", frozenset(), False),
        (40, CHEN, None, frozenset(), False),
        (72, BOT, GLITCH, frozenset({BOT}), False),
        (20, None, GLITCH, frozenset(), False),
    ],
)
def test_moderator_actions(
    action: int, actor: str | None, target: str | None, robots: frozenset[str], counts: bool
) -> None:
    entry = AuditEntry(id="1", user_id=actor, target_id=target, action_type=action)
    assert is_moderator_action(entry, robots) is counts


async def test_bans_members_and_guilds_are_paged_after_the_highest_id(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(discord, "BANS_PAGE", 1)
    monkeypatch.setattr(discord, "GUILDS_PAGE", 2)
    bans = load("bans")
    bans.insert(0, {"reason": None, "user": {"id": "880000000000000888", "username": "troll"}})
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        serve_listing(router, "bans", bans)
        async with discord_connector(monkeypatch) as conn:
            snap = await conn.fetch_page(CLUB)
            found = [g.external_id async for g in conn.discover()]
        ban_pages = [c.request.url.params.get("after") for c in router.routes["bans"].calls]
        guild_pages = [c.request.url.params.get("after") for c in router.routes["guilds"].calls]
    assert ban_pages == [None, "880000000000000777", "880000000000000888"]
    assert {m.id for m in snap.members or [] if m.state == "banned"} == {
        "880000000000000777",
        "880000000000000888",
    }
    assert guild_pages == [None, "1012345678901234567"]
    assert set(found) == DISCOVERED


async def test_paging_that_does_not_advance_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discord, "MEMBERS_PAGE", 2)
    first_two = load("members")[:2]
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        serve(router, "members", first_two)  # ignores after=
        with pytest.raises(ConnectorError, match=r"discord: .*/members: paging by after does"):
            await fetch(monkeypatch)


@pytest.mark.parametrize("status", [403, 404])
async def test_a_server_the_bot_is_not_in_is_a_page_error(
    monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    body = (
        load("error-missing-access")
        if status == 403
        else {"message": "Unknown Guild", "code": 10004}
    )
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        serve(router, "guild", body, status=status)
        with pytest.raises(ConnectorError) as info:
            await fetch(monkeypatch)
    message = str(info.value)
    assert message.startswith(f"discord: server {GUILD}: HTTP {status}")
    assert "not a member of this server" in message
    assert TOKEN not in message


async def test_a_wrong_token_is_a_page_error_without_the_token(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        monkeypatch.setenv("OTHER_TOKEN", "not-the-bot-token")
        async with DiscordConnector(
            "dc", DiscordSettings.model_validate({**SETTINGS, "token_env": "OTHER_TOKEN"})
        ) as conn:
            with pytest.raises(ConnectorError, match="HTTP 401") as info:
                await conn.fetch_page(CLUB)
    assert "not-the-bot-token" not in str(info.value)


async def test_a_pasted_bot_prefix_is_not_doubled(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        monkeypatch.setenv("PREFIXED", f"Bot {TOKEN}\n")
        async with DiscordConnector(
            "dc", DiscordSettings.model_validate({**SETTINGS, "token_env": "PREFIXED"})
        ) as conn:
            snap = await conn.fetch_page(CLUB)
    assert snap.name == "WMS Coding Club"


async def test_an_external_id_that_is_not_a_snowflake_is_refused(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        with pytest.raises(ConnectorError, match="not a Discord server id"):
            async with discord_connector(monkeypatch) as conn:
                await conn.fetch_page(PageRef("x", "../users/@me"))
        assert not router.calls


async def test_server_notes_are_warned(monkeypatch: pytest.MonkeyPatch) -> None:
    guild = load("guild")
    guild.update(verification_level=7, features=[*guild["features"], "INVITES_DISABLED"])
    members = load("members")
    members[5]["pending"] = True
    members[2]["roles"].append("990000000000000199")  # a role deleted since
    members.append(
        {
            **members[5],
            "pending": False,
            "roles": [],
            "user": {"id": "1533081865420931999", "username": "MEE6", "bot": True},
        }
    )
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        serve(router, "guild", guild)
        serve_listing(router, "members", members)
        snap = await fetch(monkeypatch)
    assert "verification_level: unknown value '7'; left unset" in snap.warnings
    assert any("INVITES_DISABLED" in w for w in snap.warnings)
    assert any(w.startswith("1 member(s) have not yet passed Membership") for w in snap.warnings)
    assert any("bots (apps)" in w and "MEE6" in w for w in snap.warnings)
    assert "member noahb has 1 role(s) the server does not list" in " ".join(snap.warnings)
    assert "1533081865420931999" in {m.id for m in snap.members or []}


async def test_forwards_and_rich_embeds_are_text(monkeypatch: pytest.MonkeyPatch) -> None:
    messages = load("messages-general")
    messages[0]["content"] = ""
    messages[0]["message_reference"] = {"type": 1, "message_id": "1", "channel_id": "2"}
    messages[0]["message_snapshots"] = [
        {"message": {"content": "Call me at 203-555-0199", "embeds": [], "type": 0}}
    ]
    messages[1]["embeds"] = [
        {
            "type": "rich",
            "title": "Expo results",
            "description": "See https://example.org/expo",
            "url": "https://example.org/expo-page",
        }
    ]
    with respx.mock(assert_all_called=False) as router:
        mock_discord(router)
        serve_channel(router, CHANNELS["general"], httpx.Response(200, json=messages))
        snap = await fetch(monkeypatch)
    posts = {p.id: p for p in snap.posts or []}
    forwarded, rich = posts[messages[0]["id"]], posts[messages[1]["id"]]
    assert forwarded.text == "Call me at 203-555-0199"
    assert rich.text == "my game finally compiles!!\nExpo results\nSee https://example.org/expo"
    assert rich.links == ["https://example.org/expo-page", "https://example.org/expo"]


@pytest.mark.parametrize(
    ("everyone", "role_bits", "overwrites", "expected"),
    [
        (VIEW_CHANNEL, 0, [], True),
        (VIEW_CHANNEL, 0, [("everyone", 0, VIEW_CHANNEL)], False),
        (VIEW_CHANNEL, 0, [("everyone", 0, VIEW_CHANNEL), ("a", VIEW_CHANNEL, 0)], True),
        (0, 0, [("a", 0, VIEW_CHANNEL), ("b", VIEW_CHANNEL, 0)], True),
        (VIEW_CHANNEL, 0, [("a", 0, VIEW_CHANNEL), ("member", 0, 0)], False),
        (0, 0, [("a", 0, VIEW_CHANNEL), ("member", VIEW_CHANNEL, 0)], True),
        (0, ADMINISTRATOR, [("everyone", 0, VIEW_CHANNEL)], True),
    ],
)
def test_channel_permissions_follow_the_documented_hierarchy(
    everyone: int,
    role_bits: int,
    overwrites: list[tuple[str, int, int]],
    expected: bool,
) -> None:
    """Role overwrites (allow wins among roles) beat @everyone's; a member's beats both;
    ADMINISTRATOR ignores overwrites (topics/permissions, "Permission Overwrites")."""
    ids = {"everyone": GUILD, "a": "11", "b": "12", "member": NOAH}
    guild = Guild.model_validate(
        {
            **load("guild"),
            "roles": [
                {"id": GUILD, "name": "@everyone", "permissions": str(everyone)},
                {"id": "11", "name": "a", "permissions": str(role_bits)},
                {"id": "12", "name": "b", "permissions": "0"},
            ],
        }
    )
    channel = Channel(
        id="5",
        type=0,
        permission_overwrites=[
            Overwrite(id=ids[who], type=1 if who == "member" else 0, allow=allow, deny=deny)
            for who, allow, deny in overwrites
        ],
    )
    perms = Permissions(guild)
    allowed = perms.in_channel(perms.base(NOAH, ["11", "12"]), NOAH, ["11", "12"], channel)
    assert bool(allowed & VIEW_CHANNEL) is expected


def test_the_owner_has_every_permission() -> None:
    guild = Guild.model_validate(load("guild"))
    perms = Permissions(guild)
    assert perms.base(CHEN, []) & MANAGE_GUILD
    assert not perms.base(NOAH, [STUDENTS_ROLE]) & MANAGE_GUILD


def test_snowflake_time_is_the_documented_formula() -> None:
    assert snowflake_time("175928847299117063") == datetime(
        2016, 4, 30, 11, 18, 25, 796000, tzinfo=UTC
    )


def test_settings_defaults_and_checks() -> None:
    conf = DiscordSettings(token_env="DISCORD_BOT_TOKEN")
    assert conf.base_url == "https://discord.com/api/v10"
    assert (conf.lookback_days, conf.read_messages, conf.requests_per_second) == (30, True, 25.0)
    assert conf.token_url is None
    with pytest.raises(ValueError, match="token_url"):
        DiscordSettings(token_env="X", token_url="https://discord.com/api/oauth2/token")
    with pytest.raises(ValueError, match="loopback"):
        DiscordSettings(token_env="X", base_url="http://discord.example.org/api/v10")
    local = DiscordSettings(token_env="X", base_url="http://127.0.0.1:8080/api/v10/")
    assert local.base_url == "http://127.0.0.1:8080/api/v10"
    with pytest.raises(ValueError, match="token_env"):
        DiscordSettings.model_validate({"token_env": "not a name!"})


def test_a_missing_token_variable_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DISCORD_BOT_TOKEN", raising=False)
    with pytest.raises(
        ConnectorError,
        match="discord: the environment variable named by setting token_env is not set",
    ):
        DiscordConnector("dc", DiscordSettings.model_validate(SETTINGS))


def test_mock_base_is_the_public_api() -> None:
    assert DiscordSettings(token_env="X").base_url == BASE
