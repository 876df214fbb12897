"""The groupme connector: the shared contract suite plus GroupMe's mapping, paging and errors."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from groupme_platform import (
    ACTIVE_MEMBER_IDS,
    API,
    ENV,
    GROUP,
    GROUP_IDS,
    MEMBER_IDS,
    NOW,
    PAGES,
    SETTINGS,
    TOKEN,
    authorized,
    groups_page,
    load,
    messages_page,
    mock_groupme,
)

import auditor.connectors.groupme as groupme
import auditor.connectors.http
from auditor.connectors.base import ConnectorError, PageRef
from auditor.connectors.groupme import GroupMeConnector, GroupMeSettings
from auditor.rules.closed import Closed
from auditor.rules.invite_only import InviteOnly
from auditor.rules.moderated import Moderated
from auditor.snapshot import PageSnapshot
from auditor.testkit.connectors import FaultInjector, HttpConnectorContract
from tests.rules.helpers import ctx as rule_ctx

REF = PAGES[0]
WINDOW_POSTS = [
    "179349840001000111",
    "179349480001000110",
    "179345520001000109",
    "179339460001000108",
    "179339430001000107",
    "179339400001000106",
    "179296020001000105",
    "179291880001000104",
]
OLDER_POSTS = ["179138520001000103", "178843200001000101"]
SYSTEM_MESSAGE = "178843206001000102"


@pytest.fixture(autouse=True)
def pinned_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The audit happens at the fixtures' time, so the look-back window is fixed."""
    monkeypatch.setattr(groupme, "clock", lambda: NOW)


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Retries wait for nothing; the waits asked for are recorded."""
    asked: list[float] = []

    async def record(seconds: float) -> None:
        asked.append(seconds)

    monkeypatch.setattr(auditor.connectors.http, "sleep", record)
    return asked


def connector(monkeypatch: pytest.MonkeyPatch, **settings: Any) -> GroupMeConnector:
    """A connector on the mock, with :data:`SETTINGS` overridden by ``settings``."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    return GroupMeConnector("gm", GroupMeSettings.model_validate(SETTINGS | settings))


async def fetch(monkeypatch: pytest.MonkeyPatch, **settings: Any) -> PageSnapshot:
    """The sample page fetched with ``settings``."""
    async with connector(monkeypatch, **settings) as conn:
        return await conn.fetch_page(REF)


def with_group(router: respx.MockRouter, **fields: Any) -> None:
    """Answer the group route with the fixture group, ``fields`` replaced (None: removed)."""
    body = load("group")
    for key, value in fields.items():
        if value is None:
            body["response"].pop(key, None)
        else:
            body["response"][key] = value
    router.routes["group"].side_effect = authorized(lambda r: httpx.Response(200, json=body))


class TestGroupMeContract(HttpConnectorContract):
    platform = "groupme"
    ref = REF
    paged_route = "messages"
    fault_target = "/messages"
    token_route = None  # a user's fixed access token: a 401 is a page error
    expected_member_ids = MEMBER_IDS
    malformed = [
        (f"/groups/{GROUP}", {"response": {"name": "no id"}, "meta": {"code": 200}}, "response.id"),
        (
            f"/groups/{GROUP}",
            {"response": {"id": GROUP, "members": [{"user_id": 43001001}]}},
            "response.members[0].user_id",
        ),
        (
            "/pending_memberships",
            {"response": [{"nickname": "x"}], "meta": {"code": 200}},
            "response[0].user_id",
        ),
        (
            "/messages",
            {"response": {"count": 1, "messages": [{"id": "1", "created_at": "yesterday"}]}},
            "response.messages[0].created_at",
        ),
    ]
    expected_discovered = GROUP_IDS

    def make_connector(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GroupMeConnector:
        monkeypatch.setattr(groupme, "MESSAGES_PER_PAGE", 4)  # the 11 messages span 3 pages
        return connector(monkeypatch)

    def mock_platform(self, router: respx.MockRouter) -> None:
        mock_groupme(router)


async def test_snapshot_maps_the_volleyball_group(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        snap = await fetch(monkeypatch, lookback_days=30)
        requests = [call.request for call in router.calls]
    assert all(r.headers["X-Access-Token"] == TOKEN for r in requests)
    assert not any("token" in r.url.params for r in requests), "the token stays out of URLs"
    first_messages = next(r for r in requests if r.url.path.endswith("/messages"))
    assert dict(first_messages.url.params) == {"limit": "100", "acceptFiles": "1"}

    assert snap.name == "DHS Girls Volleyball" and snap.kind == "group"
    assert snap.created_at == datetime(2026, 8, 25, 14, tzinfo=UTC)
    assert snap.fetched_at == NOW
    s = snap.settings
    assert (s.visibility, s.join_policy, s.post_moderation) == ("closed", "request", "none")
    assert s.external_members_allowed is True
    assert [link.url for link in s.invite_links or []] == [
        "https://groupme.com/join_group/61550001/Vb7kQ2xR"
    ]
    link = (s.invite_links or [])[0]
    assert link.expires_at is None and link.max_uses is None
    assert snap.moderation is None and "moderation" in snap.unavailable

    members = {m.id: m for m in snap.members or []}
    assert set(members) == MEMBER_IDS
    assert {i: m.role for i, m in members.items() if m.role != "member"} == {
        "43001001": "owner",
        "43001005": "manager",
    }
    assert members["43001001"].name == "Kate Morgan", "the real name wins over the nickname"
    request = members["43001009"]
    assert (request.state, request.name) == ("requested", "Sam Khan")
    assert request.joined_at == datetime(2026, 10, 2, 18, 30, tzinfo=UTC)
    assert all(members[i].state == "active" for i in ACTIVE_MEMBER_IDS)

    posts = {p.id: p for p in snap.posts or []}
    assert list(posts) == WINDOW_POSTS, "newest first, only the last 30 days"
    assert posts["179339430001000107"].parent_id == "179339400001000106"
    assert posts["179339460001000108"].text == "Tournament site:\n[location: Bethel High School]"
    assert posts["179296020001000105"].links == ["https://www.instagram.com/jaketolland.photo"]
    assert posts["179349480001000110"].author_id == "43001007"
    assert "203-555-0147" in posts["179349480001000110"].text
    assert snap.coverage == {"posts": "posts of the last 30 days"} and snap.limits == {}
    assert any(w.startswith("1 image, video or file attachment") for w in snap.warnings)


async def test_the_whole_history_within_a_long_lookback(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        snap = await fetch(monkeypatch)  # SETTINGS: lookback_days = 3650
        last = router.routes["messages"].calls.last
    assert [p.id for p in snap.posts or []] == [*WINDOW_POSTS, *OLDER_POSTS]
    assert SYSTEM_MESSAGE not in {p.id for p in snap.posts or []}, "system notices are not posts"
    welcome = (snap.posts or [])[-1]
    assert welcome.pinned and welcome.links == [
        "https://www.danbury.k12.ct.us/dhs/athletics/volleyball"
    ]
    assert last.response.status_code == 304, "paging ends on GroupMe's 304"
    assert last.request.url.params["before_id"] == OLDER_POSTS[-1]
    assert snap.coverage == {"posts": "posts of the last 3650 days"} and snap.limits == {}


async def test_messages_are_paged_back_with_before_id(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(groupme, "MESSAGES_PER_PAGE", 3)
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        snap = await fetch(monkeypatch)
        calls = router.routes["messages"].calls
        cursors = [c.request.url.params.get("before_id") for c in calls]
        pages = [c.response.json()["response"]["messages"] for c in calls[:-1]]
    assert len(calls) == 5, "four pages of three, then 304"
    assert cursors == [None, *(page[-1]["id"] for page in pages)]
    assert len(snap.posts or []) == 10


async def test_a_group_without_messages(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        router.routes["messages"].side_effect = authorized(lambda r: httpx.Response(304))
        snap = await fetch(monkeypatch, lookback_days=30)
    assert snap.posts == [] and snap.limits == {}
    assert snap.coverage == {"posts": "posts of the last 30 days"}
    assert not any("attachment" in w for w in snap.warnings)


async def test_paging_that_repeats_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        stuck = authorized(lambda r: messages_page(httpx.Request("GET", API)))
        router.routes["messages"].side_effect = stuck  # ignores before_id
        with pytest.raises(ConnectorError, match=r"^groupme: .*/messages: before_id paging"):
            await fetch(monkeypatch)


@pytest.mark.parametrize(
    ("limit", "expected", "cut"),
    [(3, WINDOW_POSTS[:3], True), (8, WINDOW_POSTS, False), (20, WINDOW_POSTS, False)],
)
async def test_max_messages_caps_and_says_so_in_limits(
    monkeypatch: pytest.MonkeyPatch, limit: int, expected: list[str], cut: bool
) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        snap = await fetch(monkeypatch, lookback_days=30, max_messages=limit)
    assert [p.id for p in snap.posts or []] == expected
    said = f"only the newest {limit} messages of the last 30 days were read (max_messages)"
    assert snap.limits == ({"posts": said} if cut else {})


@pytest.mark.parametrize(
    ("visibility", "approval", "expected"),
    [
        ("searchable", True, ("closed", "request")),
        ("searchable", False, ("closed", "open")),
        ("hidden", False, ("secret", "invite")),
        ("hidden", True, ("secret", "request")),
        ("hidden", None, ("secret", "invite")),
        (None, True, ("closed", "request")),
        (None, False, ("closed", None)),
        ("searchable", None, ("closed", None)),
    ],
)
async def test_visibility_and_approval_mapping(
    monkeypatch: pytest.MonkeyPatch,
    visibility: str | None,
    approval: bool | None,
    expected: tuple[str | None, str | None],
) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        with_group(router, visibility=visibility, requires_approval=approval)
        snap = await fetch(monkeypatch)
    assert (snap.settings.visibility, snap.settings.join_policy) == expected
    reason = snap.unavailable.get("join_policy", "")
    assert ("(visibility)" in reason) is (expected[1] is None and visibility is None)
    assert ("(requires_approval)" in reason) is (expected[1] is None and approval is None)


async def test_unknown_visibility_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        with_group(router, visibility="campus_only", requires_approval=False)
        snap = await fetch(monkeypatch)
    assert snap.settings.visibility is None and "visibility" in snap.unavailable
    assert snap.settings.join_policy is None
    assert "visibility: unknown value 'campus_only'; left unset" in snap.warnings


@pytest.mark.parametrize(
    ("group_type", "moderation", "warning"),
    [
        ("closed", "none", None),
        ("private", "none", "type is private: every member can change the group's settings"),
        ("announcement", "moderators-only", None),
        ("broadcast", None, "type: unknown value 'broadcast'; left unset"),
        (None, None, None),
    ],
)
async def test_group_type_mapping(
    monkeypatch: pytest.MonkeyPatch,
    group_type: str | None,
    moderation: str | None,
    warning: str | None,
) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        with_group(router, type=group_type)
        snap = await fetch(monkeypatch)
    assert snap.settings.post_moderation == moderation
    assert ("post_moderation" in snap.unavailable) is (moderation is None)
    type_warnings = [w for w in snap.warnings if w.startswith("type")]
    assert len(type_warnings) == (warning is not None)
    assert all(w.startswith(warning or "") for w in type_warnings)


async def test_a_group_without_share_link_has_no_invite_links(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        with_group(router, share_url=None)
        snap = await fetch(monkeypatch)
    assert snap.settings.invite_links == []


async def test_rules_read_the_share_link_and_group_type(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        with_group(router, visibility="hidden", requires_approval=False, type="announcement")
        snap = await fetch(monkeypatch)
        with_group(router, visibility="hidden", requires_approval=False, share_url=None)
        no_link = await fetch(monkeypatch)
    ctx = rule_ctx()
    invite = InviteOnly().check(snap, ctx)
    assert invite.status == "fail" and "never expire" in invite.message
    assert InviteOnly().check(no_link, ctx).status == "pass"
    assert Moderated().check(snap, ctx).status == "pass"
    assert Moderated().check(no_link, ctx).status == "fail"
    assert Closed().check(snap, ctx).status == "pass"


async def test_without_roles_the_creator_is_the_owner(monkeypatch: pytest.MonkeyPatch) -> None:
    members = load("group")["response"]["members"]
    for m in members:
        del m["roles"]
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        with_group(router, members=members)
        snap = await fetch(monkeypatch)
    roles = {m.id: m.role for m in snap.members or [] if m.state == "active"}
    assert roles["43001001"] == "owner"
    assert set(roles.values()) == {"owner", "member"}
    assert any("did not report every member's roles" in w for w in snap.warnings)


async def test_roles_win_over_the_creator(monkeypatch: pytest.MonkeyPatch) -> None:
    members = load("group")["response"]["members"]
    members[0]["roles"] = ["admin"]  # the creator handed ownership to the supervisor
    members[1]["roles"] = ["owner", "admin"]
    members[2]["roles"] = ["user", "moderator"]
    members[3]["autokicked"] = True
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        with_group(router, members=members)
        snap = await fetch(monkeypatch)
    roles = {m.id: m.role for m in snap.members or []}
    assert (roles["43001001"], roles["43001002"], roles["43001003"]) == (
        "manager",
        "owner",
        "member",
    )
    assert "member 43001003 role: unknown value 'moderator'; left unset" in snap.warnings
    assert any("Mia Khan is marked autokicked" in w for w in snap.warnings)


async def test_admins_unable_to_delete_messages_is_warned(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        with_group(router, message_deletion_mode=["sender"])
        snap = await fetch(monkeypatch)
    assert any(w.startswith("message_deletion_mode does not include admin") for w in snap.warnings)


async def test_a_group_without_member_list(monkeypatch: pytest.MonkeyPatch) -> None:
    body = load("group")
    body["response"]["members"] = None
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        router.routes["group"].side_effect = authorized(lambda r: httpx.Response(200, json=body))
        snap = await fetch(monkeypatch)
        pending_called = router.routes["pending"].called
    assert snap.members is None and "member list" in snap.unavailable["members"]
    assert not pending_called
    assert snap.posts, "messages are still read"


async def test_a_join_request_of_a_member_is_not_listed_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = load("pending_memberships")
    body["response"][0]["user_id"] = "43001004"  # Mia is already in the group
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        router.routes["pending"].side_effect = authorized(lambda r: httpx.Response(200, json=body))
        snap = await fetch(monkeypatch)
    mia = [m for m in snap.members or [] if m.id == "43001004"]
    assert [(m.state, m.name) for m in mia] == [("active", "Mia Khan")]


@pytest.mark.parametrize("status", [401, 403, 404])
async def test_unreadable_join_requests_are_a_limit_of_members(
    monkeypatch: pytest.MonkeyPatch, status: int
) -> None:
    body = {"meta": {"code": status, "errors": ["unauthorized"]}, "response": None}
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        router.routes["pending"].side_effect = lambda r: httpx.Response(status, json=body)
        snap = await fetch(monkeypatch)
    assert {m.id for m in snap.members or []} == ACTIVE_MEMBER_IDS
    assert snap.limits == {
        "members": f"pending join requests could not be read (HTTP {status}): people "
        "waiting to join are not listed"
    }


async def test_rate_limiting_420_is_waited_out(
    monkeypatch: pytest.MonkeyPatch, no_sleep: list[float]
) -> None:
    faults = FaultInjector()
    faults.add("/messages", lambda r: httpx.Response(420), times=2)
    with respx.mock(assert_all_called=False) as router:
        router.route(name="faults").mock(side_effect=faults)
        mock_groupme(router)
        snap = await fetch(monkeypatch, lookback_days=30)
    assert len(faults.hits) == 2 and len(no_sleep) == 2
    assert [p.id for p in snap.posts or []] == WINDOW_POSTS


async def test_error_bodies_become_clear_page_errors(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        async with connector(monkeypatch) as conn:
            with pytest.raises(ConnectorError) as info:
                await conn.fetch_page(PageRef("gone", "99887766"))
    assert str(info.value) == (
        "groupme: GET https://api.groupme.com/v3/groups/99887766: HTTP 404, not found: check "
        "the page's external_id and that the token's user is a member (GroupMe: not found)"
    )


async def test_a_refused_token_is_named_without_the_token(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    leaky = {"meta": {"code": 401, "errors": [f"token {TOKEN} unauthorized"]}, "response": None}
    caplog.set_level(logging.DEBUG)
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        router.routes["group"].side_effect = lambda r: httpx.Response(401, json=leaky)
        with pytest.raises(ConnectorError) as info:
            await fetch(monkeypatch)
    message = str(info.value)
    assert "HTTP 401, the access token was refused: check the variable named by token_env" in (
        message
    )
    assert "(GroupMe: token *** unauthorized)" in message
    assert TOKEN not in message and TOKEN not in caplog.text


async def test_the_token_is_never_logged(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    faults = FaultInjector()
    faults.add("/messages", lambda r: httpx.Response(503))
    caplog.set_level(logging.DEBUG)
    with respx.mock(assert_all_called=False) as router:
        router.route(name="faults").mock(side_effect=faults)
        mock_groupme(router)
        await fetch(monkeypatch)
    assert "retrying" in caplog.text, "the retry was logged"
    assert TOKEN not in caplog.text


async def test_an_empty_group_response_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        router.routes["group"].side_effect = authorized(
            lambda r: httpx.Response(200, json={"response": None, "meta": {"code": 200}})
        )
        with pytest.raises(
            ConnectorError,
            match=r"^groupme: GET https://api\.groupme\.com/v3/groups/61550001: the response holds",
        ):
            await fetch(monkeypatch)


def test_a_missing_token_variable_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GROUPME_TOKEN", raising=False)
    with pytest.raises(
        ConnectorError,
        match="groupme: the environment variable named by setting token_env is not set",
    ):
        GroupMeConnector("gm", GroupMeSettings.model_validate(SETTINGS))


async def test_discovery_pages_through_every_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(groupme, "GROUPS_PER_PAGE", 2)
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        async with connector(monkeypatch) as conn:
            found = [g async for g in conn.discover()]
        params = [dict(c.request.url.params) for c in router.routes["groups"].calls]
    assert [g.external_id for g in found] == [GROUP, "88442211", "61550002", "70332214", "59001877"]
    assert found[0].name == "DHS Girls Volleyball"
    assert params == [
        {"page": str(n), "per_page": "2", "omit": "memberships"} for n in (1, 2, 3, 4)
    ], "three pages of groups, then an empty one"


async def test_discovery_stops_when_pages_repeat(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        router.routes["groups"].side_effect = authorized(
            lambda r: groups_page(httpx.Request("GET", f"{API}/groups?per_page=100"))
        )
        async with connector(monkeypatch) as conn:
            with pytest.raises(ConnectorError, match="page 2 repeats earlier groups"):
                _ = [g async for g in conn.discover()]


async def test_discovery_of_an_account_without_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_groupme(router)
        router.routes["groups"].side_effect = authorized(lambda r: httpx.Response(304))
        async with connector(monkeypatch) as conn:
            assert [g async for g in conn.discover()] == []


def test_settings() -> None:
    conf = GroupMeSettings(token_env="GM_TOKEN")
    assert conf.base_url == "https://api.groupme.com/v3"
    assert (conf.lookback_days, conf.max_messages, conf.token_url) == (30, 1000, None)
    local = GroupMeSettings(token_env="GM_TOKEN", base_url="http://127.0.0.1:9000/v3/")
    assert local.base_url == "http://127.0.0.1:9000/v3"
    with pytest.raises(ValueError, match="loopback"):
        GroupMeSettings(token_env="GM_TOKEN", base_url="http://api.groupme.example/v3")
    with pytest.raises(ValueError, match="token_url"):
        GroupMeSettings.model_validate({"token_env": "GM_TOKEN", "token_url": "https://x.org/t"})
    with pytest.raises(ValueError, match="token_env"):
        GroupMeSettings.model_validate({"token": TOKEN})
