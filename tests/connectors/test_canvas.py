"""The canvas connector: the shared contract suite plus Canvas-specific mapping and errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
import respx
from canvas_platform import (
    ACCOUNT,
    ACCOUNT_GROUPS,
    API,
    BASE,
    DISCOVERED,
    ENV,
    GROUP,
    MEMBER_IDS,
    NOW,
    PAGES,
    SETTINGS,
    answer,
    load,
    mock_canvas,
)

import auditor.connectors.canvas
from auditor.connectors.base import ConnectorError
from auditor.connectors.canvas import (
    CanvasConnector,
    CanvasSettings,
    canvas_error,
    html_text,
)
from auditor.snapshot import PageSnapshot
from auditor.testkit.connectors import FaultInjector, HttpConnectorContract

TOKEN = ENV["CANVAS_TOKEN"]
RATE_LIMITED = "403 Forbidden (Rate Limit Exceeded)\n"


def canvas_connector(monkeypatch: pytest.MonkeyPatch, **settings: object) -> CanvasConnector:
    """A connector pointed at the mock, with the clock at the fixtures' :data:`NOW`."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(auditor.connectors.canvas, "clock", lambda: NOW)
    return CanvasConnector("canvas", CanvasSettings.model_validate({**SETTINGS, **settings}))


def json_answer(body: Any) -> Callable[[httpx.Request], httpx.Response]:
    """A respx side effect answering ``body`` as a single Canvas page."""
    return lambda request: answer(body, request)


def error(status: int, fixture: str) -> Callable[[httpx.Request], httpx.Response]:
    """A respx side effect answering ``status`` with a Canvas error body."""
    return lambda request: httpx.Response(status, json=load(fixture))


class TestCanvasContract(HttpConnectorContract):
    """The shared HTTP contract against the Canvas mock, plus Canvas's own error answers."""

    platform = "canvas"
    ref = PAGES[0]
    paged_route = "memberships"
    fault_target = "/memberships"
    token_route = None
    expected_member_ids = MEMBER_IDS
    malformed = [
        (f"/groups/{GROUP}", {"name": "RPMS Garden Club"}, "id"),
        ("/memberships", [{"id": 1, "user_id": 4101, "workflow_state": 7}], "[0].workflow_state"),
        (
            "/discussion_topics/701/entries",
            [{"id": 9, "user_id": 4101, "created_at": "yesterday"}],
            "[0].created_at",
        ),
    ]
    expected_discovered = DISCOVERED

    def make_connector(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CanvasConnector:
        """A connector pointed at the mock."""
        return canvas_connector(monkeypatch)

    def mock_platform(self, router: respx.MockRouter) -> None:
        """The Canvas mock's named routes."""
        mock_canvas(router)

    async def test_canvas_rate_limit_403_is_backed_off(
        self, connector: CanvasConnector, faults: FaultInjector, waits: list[float]
    ) -> None:
        """Canvas's throttling 403 is waited out and retried."""
        throttled = httpx.Response(
            403,
            text=RATE_LIMITED,
            headers={"Content-Type": "text/plain; charset=utf-8", "X-Rate-Limit-Remaining": "0.0"},
        )
        faults.add("/memberships", lambda r: throttled, times=2)
        snapshot = await self.fetch(connector)
        assert len(faults.hits) == 2 and len(waits) == 2
        assert {m.id for m in snapshot.members or []} == MEMBER_IDS

    async def test_permission_403_is_a_page_error_with_canvas_message(
        self, connector: CanvasConnector, faults: FaultInjector, waits: list[float]
    ) -> None:
        """A permission 403 fails the page at once, with Canvas's message."""
        faults.add(f"/groups/{GROUP}", error(403, "error-unauthorized"), times=5)
        with pytest.raises(ConnectorError) as info:
            await self.fetch(connector)
        message = str(info.value)
        assert message.startswith("canvas: GET https://danbury.instructure.com/api/v1/groups/5530")
        assert "HTTP 403, permission denied" in message
        assert message.endswith("user not authorized to perform that action")
        assert waits == [] and len(faults.hits) == 1, "a refusal is not retried"

    async def test_refused_token_names_the_token_and_hides_it(
        self, connector: CanvasConnector, faults: FaultInjector
    ) -> None:
        """A refused token says so, never showing the token."""
        faults.add(f"/groups/{GROUP}", error(401, "error-unauthenticated"))
        with pytest.raises(ConnectorError) as info:
            await self.fetch(connector)
        message = str(info.value)
        assert "HTTP 401, the access token was refused" in message
        assert message.endswith(": user authorization required")
        assert TOKEN not in message

    async def test_not_found_group(self, connector: CanvasConnector, faults: FaultInjector) -> None:
        """An unknown group id is a 404 page error with Canvas's message."""
        faults.add(f"/groups/{GROUP}", error(404, "error-not-found"))
        with pytest.raises(ConnectorError, match=r"HTTP 404, not found: The specified resource"):
            await self.fetch(connector)

    async def test_every_request_sends_the_bearer_token(
        self, connector: CanvasConnector, router: respx.MockRouter
    ) -> None:
        """The access token goes in the Authorization header."""
        await self.fetch(connector)
        assert router.calls
        for call in router.calls:
            assert call.request.headers["Authorization"] == f"Bearer {TOKEN}"

    async def test_pagination_link_to_another_host_is_refused(
        self, connector: CanvasConnector, router: respx.MockRouter
    ) -> None:
        """A Link header to another host is not followed."""
        evil = httpx.Response(
            200,
            json=load("memberships-1"),
            headers={"Link": '<https://evil.example.com/api/v1/x?page=2>; rel="next"'},
        )
        router.routes["memberships"].side_effect = lambda r: evil
        with pytest.raises(ConnectorError, match="refusing to follow a pagination link"):
            await self.fetch(connector)


async def fetch(monkeypatch: pytest.MonkeyPatch, **settings: object) -> PageSnapshot:
    """The sample page, fetched through the mock already active in the test."""
    async with canvas_connector(monkeypatch, **settings) as conn:
        return await conn.fetch_page(PAGES[0])


async def test_snapshot_maps_the_sample_group(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every field of the sample club, from the documented Canvas JSON."""
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        snap = await fetch(monkeypatch)
        calls = {r.name: r.calls for r in router.routes}
    assert (snap.name, snap.url, snap.kind) == (
        "RPMS Garden Club",
        f"{BASE}/groups/5530",
        "group",
    )
    assert snap.description == "Planting days and volunteer sign-ups."
    assert (
        snap.created_at is not None and snap.created_at.isoformat() == "2026-09-05T14:00:00+00:00"
    )
    assert snap.fetched_at == NOW
    assert snap.settings.model_dump() == {
        "visibility": "closed",
        "join_policy": "invite",
        "post_moderation": None,
        "invite_links": [],
        "external_members_allowed": None,
    }
    assert set(snap.unavailable) == {"post_moderation", "external_members_allowed", "moderation"}
    assert snap.moderation is None
    members = {m.id: m for m in snap.members or []}
    assert {i: (m.role, m.state) for i, m in members.items()} == {
        "301": ("owner", "active"),
        "302": ("manager", "active"),
        "4101": ("member", "active"),
        "4102": ("member", "active"),
        "4103": ("member", "active"),
        "4104": ("member", "active"),
        "4105": ("member", "invited"),
    }
    assert members["301"].email == "kolsen@danbury.k12.ct.us"
    assert (members["4101"].name, members["4101"].email) == (
        "Eli Frost",
        "eli.frost@students.danbury.k12.ct.us",
    )
    assert members["4101"].joined_at is not None
    assert members["4105"].name is None, "Canvas lists only accepted members as group users"
    assert members["4105"].joined_at is not None
    assert members["4105"].joined_at.isoformat() == "2026-11-09T15:20:00+00:00"
    assert "5201" not in members, "observers are not group members"
    observers = next(w for w in snap.warnings if w.startswith("observers (guardians)"))
    assert observers.endswith(
        "Ann Frost <ann.frost@example.com> (Canvas user 5201) observes Eli Frost (4101)"
    )
    assert "Omar Haddad" not in observers, "he observes a student outside the group"
    assert any(w.startswith("4 of 5 members have no observer") for w in snap.warnings)
    assert snap.coverage == {"posts": "posts of the last 30 days"} and snap.limits == {}
    assert not any("lookback_days" in w for w in snap.warnings)
    posts = {p.id: p for p in snap.posts or []}
    assert set(posts) == {
        "topic-701",
        "topic-703",
        "entry-9003",
        "entry-9004",
        "entry-9005",
        "entry-9006",
        "entry-9008",
        "entry-9011",
    }
    topic = posts["topic-701"]
    assert topic.text.startswith("Planting day: Saturday, November 21\nWe plant")
    assert "<p>" not in topic.text
    assert topic.links == ["https://www.signupgenius.com/go/rpms-garden-club"]
    assert topic.pinned and topic.author_id == "301" and topic.parent_id is None
    assert posts["entry-9006"].links == ["https://www.youtube.com/@ninagrowsthings"]
    assert "203-555-0148" in posts["entry-9005"].text
    assert posts["entry-9003"].parent_id == "topic-701"
    assert posts["entry-9004"].parent_id == "entry-9003"
    assert posts["entry-9008"].parent_id == "entry-9004", "a reply to a reply keeps its parent"
    assert posts["entry-9011"].parent_id == "entry-9010", "a recent reply to an old entry"
    assert not calls["entries-702"], "a topic quiet since before the look-back is not read"
    assert not calls["replies-9003"], "all replies came with the entry"
    memberships = calls["memberships"][0].request.url.params
    assert memberships["per_page"] == "100"
    users = calls["group-users"][0].request.url.params
    assert users.get_list("include[]") == ["email"]
    course = calls["course-users"][0].request.url.params
    assert course.get_list("enrollment_type[]") == ["teacher", "ta", "observer"]
    assert course.get_list("include[]") == ["enrollments", "email"]
    topic_calls = [c.request.url.params.get("only_announcements") for c in calls["topics"]]
    assert topic_calls == [None, "true"]


def group_with(**changes: object) -> Callable[[httpx.Request], httpx.Response]:
    """The sample group fixture with ``changes``."""
    return json_answer({**load("group"), **changes})


@pytest.mark.parametrize(
    ("role", "join_level", "self_signup", "expected"),
    [
        (None, "invitation_only", None, "invite"),
        (None, "invitation_only", "enabled", "open"),
        (None, "invitation_only", "restricted", "open"),
        ("student_organized", "parent_context_auto_join", "enabled", "open"),
        ("student_organized", "parent_context_request", None, "request"),
        ("communities", "invitation_only", "enabled", "invite"),
        ("communities", "parent_context_request", None, "request"),
    ],
)
async def test_join_policy_mapping(
    monkeypatch: pytest.MonkeyPatch,
    role: str | None,
    join_level: str,
    self_signup: str | None,
    expected: str,
) -> None:
    """join_level for self-organized groups, the group set's self_signup otherwise."""
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["group"].side_effect = group_with(role=role, join_level=join_level)
        router.routes["category"].side_effect = json_answer(
            {**load("group-category"), "self_signup": self_signup, "role": role}
        )
        snap = await fetch(monkeypatch)
        category_read = router.routes["category"].called
    assert snap.settings.join_policy == expected
    assert category_read == (role is None), "join_level decides for self-organized groups"


async def test_group_without_category_uses_join_level(monkeypatch: pytest.MonkeyPatch) -> None:
    """A group outside any group set is judged by its join_level."""
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["group"].side_effect = group_with(
            group_category_id=None, join_level="parent_context_auto_join"
        )
        snap = await fetch(monkeypatch)
    assert snap.settings.join_policy == "open"


async def test_unknown_join_values_are_warned(monkeypatch: pytest.MonkeyPatch) -> None:
    """Unknown self_signup or join_level values leave join_policy unset, warned."""
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["category"].side_effect = json_answer(
            {**load("group-category"), "self_signup": "by_lottery"}
        )
        snap = await fetch(monkeypatch)
    assert snap.settings.join_policy is None
    assert "self_signup: unknown value 'by_lottery'; left unset" in snap.warnings
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["group"].side_effect = group_with(role="communities", join_level="sometimes")
        snap = await fetch(monkeypatch)
    assert snap.settings.join_policy is None
    assert "join_level: unknown value 'sometimes'; left unset" in snap.warnings
    assert "join_level" in snap.unavailable["join_policy"]


@pytest.mark.parametrize(
    ("status", "fixture"), [(403, "error-unauthorized"), (401, "error-unauthorized")]
)
async def test_unreadable_group_set_leaves_join_policy_unknown(
    monkeypatch: pytest.MonkeyPatch, status: int, fixture: str
) -> None:
    """Canvas answers "not authorized" with 403, or 401 where its new API error codes are off."""
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["category"].side_effect = error(status, fixture)
        snap = await fetch(monkeypatch)
    assert snap.settings.join_policy is None
    reason = snap.unavailable["join_policy"]
    assert "group set" in reason and "user not authorized to perform that action" in reason
    assert snap.settings.visibility == "closed", "the rest of the page is still audited"


async def test_refused_token_on_the_group_set_fails_the_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A refused token is a page error even on an optional call."""
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["category"].side_effect = error(401, "error-unauthenticated")
        with pytest.raises(ConnectorError, match="401, the access token was refused"):
            await fetch(monkeypatch)


@pytest.mark.parametrize(("is_public", "expected"), [(True, "public"), (False, "closed")])
async def test_visibility_mapping(
    monkeypatch: pytest.MonkeyPatch, is_public: bool, expected: str
) -> None:
    """is_public maps onto visibility."""
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["group"].side_effect = group_with(is_public=is_public)
        snap = await fetch(monkeypatch)
    assert snap.settings.visibility == expected
    assert "visibility" not in snap.unavailable


async def test_missing_is_public_is_not_guessed(monkeypatch: pytest.MonkeyPatch) -> None:
    """No is_public: visibility stays null with the reason."""
    group = load("group")
    del group["is_public"]
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["group"].side_effect = json_answer(group)
        snap = await fetch(monkeypatch)
    assert snap.settings.visibility is None
    assert "is public" in snap.unavailable["visibility"]


async def test_leader_moderator_and_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    """Leader, moderator flag, join requests and unknown membership states."""
    first = load("memberships-1")
    first[0]["moderator"] = True  # Eli
    second = load("memberships-2")
    second[1]["workflow_state"] = "requested"  # Sam asked to join
    second.append({**second[0], "id": 90399, "user_id": 4199, "workflow_state": "deleted"})
    leader = {"id": 4102, "anonymous_id": "35y", "display_name": "Nina Vale"}

    def memberships(request: httpx.Request) -> httpx.Response:
        """Two pages of memberships, edited."""
        page = int(request.url.params.get("page", "1"))
        return answer(first if page == 1 else second, request, page, 2)

    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["group"].side_effect = group_with(leader=leader)
        router.routes["memberships"].side_effect = memberships
        snap = await fetch(monkeypatch)
    members = {m.id: m for m in snap.members or []}
    assert members["4101"].role == "moderator"
    assert members["4102"].role == "manager", "the group leader"
    assert members["4105"].state == "requested"
    assert "4199" not in members
    assert "membership 90399 workflow_state: unknown value 'deleted'; left unset" in snap.warnings


async def test_teacher_who_is_also_a_member_keeps_the_stronger_role(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A teacher in the group is listed once, as owner."""
    second = load("memberships-2")
    second.append({**second[0], "id": 90400, "user_id": 301, "created_at": "2026-09-05T14:00:00Z"})

    def memberships(request: httpx.Request) -> httpx.Response:
        """Two pages of memberships, edited."""
        page = int(request.url.params.get("page", "1"))
        body = load("memberships-1") if page == 1 else second
        return answer(body, request, page, 2)

    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["memberships"].side_effect = memberships
        snap = await fetch(monkeypatch)
    karen = [m for m in snap.members or [] if m.id == "301"]
    assert len(karen) == 1
    assert karen[0].role == "owner"
    assert karen[0].joined_at is not None, "her membership's date is kept"


async def test_unreadable_course_roster_is_a_limit_of_members(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the course roster, members come from memberships only."""
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["course-users"].side_effect = error(403, "error-unauthorized")
        snap = await fetch(monkeypatch)
    assert {m.id for m in snap.members or []} == MEMBER_IDS - {"301", "302"}
    cut = snap.limits["members"]
    assert cut.startswith("course 1207 teachers, TAs and observers not readable: ")
    assert "user not authorized" in cut
    assert not any(w.startswith("observers") for w in snap.warnings)


async def test_unreadable_group_users_leave_members_unnamed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Without the group's users, members have ids only."""
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["group-users"].side_effect = error(403, "error-unauthorized")
        snap = await fetch(monkeypatch)
    eli = next(m for m in snap.members or [] if m.id == "4101")
    assert (eli.name, eli.email) == (None, None)
    assert any(w.startswith("group users not readable") for w in snap.warnings)


async def test_users_without_emails_are_warned(monkeypatch: pytest.MonkeyPatch) -> None:
    """A token that may not read emails is warned about."""
    users = load("group-users")
    for user in users:
        del user["email"]
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["group-users"].side_effect = json_answer(users)
        snap = await fetch(monkeypatch)
    assert next(m for m in snap.members or [] if m.id == "4101").email is None
    assert any("no email addresses" in w for w in snap.warnings)


async def test_account_group_has_no_course_people(monkeypatch: pytest.MonkeyPatch) -> None:
    """An account group has no course teachers or observers to read."""
    group = load("group")
    del group["course_id"]
    group.update(context_type="Account", account_id=1, role="communities")
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["group"].side_effect = json_answer(group)
        snap = await fetch(monkeypatch)
        course_read = router.routes["course-users"].called
    assert not course_read
    assert {m.id for m in snap.members or []} == MEMBER_IDS - {"301", "302"}
    assert any(w.startswith("the group belongs to an account") for w in snap.warnings)


@pytest.mark.parametrize(
    ("changes", "warning"),
    [
        ({"concluded": True}, "concluded"),
        ({"non_collaborative": True}, "non-collaborative"),
    ],
)
async def test_group_state_warnings(
    monkeypatch: pytest.MonkeyPatch, changes: dict[str, object], warning: str
) -> None:
    """Concluded and non-collaborative groups are warned about."""
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["group"].side_effect = group_with(**changes)
        snap = await fetch(monkeypatch)
    assert any(warning in w for w in snap.warnings)


async def test_unreadable_topics_make_posts_not_applicable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Refused topics leave posts null with the reason."""
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["topics"].side_effect = error(403, "error-unauthorized")
        snap = await fetch(monkeypatch)
    assert snap.posts is None
    assert "discussion topics" in snap.unavailable["posts"]
    assert {m.id for m in snap.members or []} == MEMBER_IDS


async def test_topic_needing_an_initial_post_is_a_limit_of_posts(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Canvas answers 403 with the JSON string "require_initial_post"."""
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["entries-701"].side_effect = lambda r: httpx.Response(
            403, json="require_initial_post"
        )
        snap = await fetch(monkeypatch)
    ids = {p.id for p in snap.posts or []}
    assert "topic-701" in ids and "entry-9006" not in ids
    assert "entry-9011" in ids, "other topics are still read"
    cut = snap.limits["posts"]
    assert cut.startswith("entries of topic 701 not readable: ")
    assert cut.endswith(": require_initial_post")


async def test_more_replies_are_paged_down_to_the_look_back(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """has_more_replies sends the connector to the replies listing."""
    entries = load("entries-701")
    entries[2]["has_more_replies"] = True
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["entries-701"].side_effect = json_answer(entries)
        snap = await fetch(monkeypatch)
        replies_params = router.routes["replies-9003"].calls.last.request.url.params
    ids = {p.id for p in snap.posts or []}
    assert {"entry-9004", "entry-9008"} <= ids
    assert "entry-9002" not in ids, "a reply from before the look-back"
    assert replies_params["per_page"] == "100"


async def test_replies_stop_paging_at_the_look_back(monkeypatch: pytest.MonkeyPatch) -> None:
    """Replies come newest first: a page reaching before the look-back is the last one read."""
    entries = load("entries-701")
    entries[2]["has_more_replies"] = True
    older = [{**load("replies-9003")[2], "id": 8999, "created_at": "2026-10-01T12:00:00Z"}]

    def replies(request: httpx.Request) -> httpx.Response:
        """Two pages of replies, the first reaching before the look-back."""
        page = int(request.url.params.get("page", "1"))
        return answer(load("replies-9003") if page == 1 else older, request, page, 2)

    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["entries-701"].side_effect = json_answer(entries)
        router.routes["replies-9003"].side_effect = replies
        await fetch(monkeypatch)
        pages_read = router.routes["replies-9003"].call_count
    assert pages_read == 1


async def test_topic_without_dates_is_read(monkeypatch: pytest.MonkeyPatch) -> None:
    """An undated topic is kept (and its entries read) rather than silently dropped."""
    topics = load("topics")
    for key in ("posted_at", "created_at", "last_reply_at"):
        topics[2][key] = None  # topic 702
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["topics"].side_effect = lambda r: answer(
            load("announcements") if r.url.params.get("only_announcements") else topics, r
        )
        snap = await fetch(monkeypatch)
        entries_read = router.routes["entries-702"].called
    assert entries_read
    assert "topic-702" in {p.id for p in snap.posts or []}


async def test_longer_look_back_reads_older_topics(monkeypatch: pytest.MonkeyPatch) -> None:
    """lookback_days widens the window of posts read."""
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        snap = await fetch(monkeypatch, lookback_days=90)
        old_topic_read = router.routes["entries-702"].called
    assert old_topic_read
    ids = {p.id for p in snap.posts or []}
    assert {"topic-702", "topic-704", "entry-9010", "entry-9020"} <= ids
    assert snap.coverage == {"posts": "posts of the last 90 days"}


async def test_deleted_entries_are_skipped(monkeypatch: pytest.MonkeyPatch) -> None:
    """Deleted entries (no message, no author) are not posts."""
    entries = load("entries-701")
    deleted = entries[1]
    for key in ("user_id", "message", "user_name", "user"):
        del deleted[key]
    deleted["deleted"] = True
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        router.routes["entries-701"].side_effect = json_answer(entries)
        snap = await fetch(monkeypatch)
    ids = {p.id for p in snap.posts or []}
    assert "entry-9005" not in ids and "entry-9006" in ids


async def test_discover_lists_an_accounts_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """With account_id, discovery lists that account's groups."""
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        async with canvas_connector(monkeypatch, account_id=ACCOUNT) as conn:
            found = [g async for g in conn.discover()]
        own_groups_read = router.routes["self-groups"].called
    assert {g.external_id for g in found} == ACCOUNT_GROUPS
    assert not own_groups_read
    coordinators = next(g for g in found if g.external_id == "5600")
    assert coordinators.name == "District Garden Coordinators"
    assert coordinators.url == f"{BASE}/groups/5600"


async def test_discover_aliases_the_sis_group_id(monkeypatch: pytest.MonkeyPatch) -> None:
    """A group's SIS id is offered as an alias for matching."""
    with respx.mock(assert_all_called=False) as router:
        mock_canvas(router)
        async with canvas_connector(monkeypatch) as conn:
            found = {g.external_id: g async for g in conn.discover()}
    assert found["5530"].extra == {"sis_group_id": "RPMS-GARDEN-2026"}
    assert found["5531"].extra == {}


def test_settings_take_the_instance_address() -> None:
    """base_url is the instance (https), with no token URL."""
    conf = CanvasSettings(base_url="https://danbury.instructure.com/api/v1/", token_env="T")
    assert conf.base_url == BASE
    assert conf.token_url is None and conf.lookback_days == 30
    local = CanvasSettings(base_url="http://127.0.0.1:3000", token_env="T")
    assert local.base_url == "http://127.0.0.1:3000"
    with pytest.raises(ValueError, match="loopback"):
        CanvasSettings(base_url="http://canvas.example.org", token_env="T")
    with pytest.raises(ValueError, match="no token endpoint"):
        CanvasSettings(base_url=BASE, token_env="T", token_url=f"{BASE}/login/oauth2/token")
    with pytest.raises(ValueError, match="base_url"):
        CanvasSettings.model_validate({"token_env": "T"})


def test_missing_token_variable_is_a_connector_error(monkeypatch: pytest.MonkeyPatch) -> None:
    """An unset token variable is a one-line connector error."""
    monkeypatch.delenv("CANVAS_TOKEN", raising=False)
    with pytest.raises(
        ConnectorError,
        match="canvas: the environment variable named by setting token_env is not set",
    ):
        CanvasConnector("canvas", CanvasSettings.model_validate(SETTINGS))


def test_api_calls_go_under_api_v1(monkeypatch: pytest.MonkeyPatch) -> None:
    """API paths are resolved under /api/v1 of the instance."""
    conn = canvas_connector(monkeypatch)
    assert conn.http.url("groups/5530") == f"{API}/groups/5530"


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"errors": [{"message": "a"}, {"message": "b"}]}, "a; b"),
        ({"errors": {"scope": "scope is contradictory"}}, "scope: scope is contradictory"),
        ({"errors": "Invalid as_user_id"}, "Invalid as_user_id"),
        ({"message": "That page has been disabled"}, "That page has been disabled"),
        ("require_initial_post", "require_initial_post"),
        ("<html><body>Bad gateway</body></html>", None),
        ({"errors": []}, None),
        ({"errors": [{"message": "x\n  y"}]}, "x y"),
        ({"errors": [{"message": "z" * 300}]}, "z" * 197 + "..."),
    ],
)
def test_canvas_error_message(body: object, expected: str | None) -> None:
    """Canvas error bodies become one short line."""
    assert canvas_error(body) == expected


def test_html_text_keeps_web_links_only() -> None:
    """HTML messages become text; only web links are kept."""
    text, links = html_text(
        '<p>See <a href="https://district.org/a">this</a> and '
        '<a href="/courses/1/files/2">a file</a>, <a href="mailto:x@y.org">mail</a>.</p>'
        "<p>Also https://example.com/b</p>"
    )
    assert text == "See this and a file, mail.\nAlso https://example.com/b"
    assert links == ["https://district.org/a", "https://example.com/b"]
