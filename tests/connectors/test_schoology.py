"""The schoology connector: the shared contract suite plus OAuth 1.0a signing and the
mapping of Schoology's group, enrollment, update and comment fields."""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

import httpx
import pytest
import respx
from schoology_platform import (
    AS_OF,
    BASE,
    ENV,
    GROUP,
    GROUP_IDS,
    MEMBER_IDS,
    PAGES,
    SETTINGS,
    load,
    mock_schoology,
    user,
)

import auditor.connectors.http
import auditor.connectors.schoology as schoology
from auditor.connectors.base import ConnectorError
from auditor.connectors.registry import available_connectors
from auditor.connectors.schoology import (
    SchoologyConnector,
    SchoologyGroup,
    SchoologySettings,
    map_group,
    text_and_links,
)
from auditor.snapshot import PageSnapshot, Settings
from auditor.testkit.connectors import FaultInjector, HttpConnectorContract

KEY = ENV["SCHOOLOGY_CONSUMER_KEY"]
SECRET = ENV["SCHOOLOGY_CONSUMER_SECRET"]
OAUTH_PARAMS = {
    "oauth_consumer_key",
    "oauth_signature_method",
    "oauth_nonce",
    "oauth_timestamp",
    "oauth_signature",
}


@pytest.fixture(autouse=True)
def as_of(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fetch as of the fixtures' date, so the look-back window does not move with the clock."""
    monkeypatch.setattr(schoology, "clock", lambda: AS_OF)


@pytest.fixture
def platform() -> Iterator[respx.MockRouter]:
    """The mocked Schoology API (every request must hit a route)."""
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        mock_schoology(router)
        yield router


@pytest.fixture
def pauses(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """Waits the HTTP client asked for (nothing really sleeps)."""
    asked: list[float] = []

    async def record(seconds: float) -> None:
        asked.append(seconds)

    monkeypatch.setattr(auditor.connectors.http, "sleep", record)
    return asked


def make(monkeypatch: pytest.MonkeyPatch, **changes: Any) -> SchoologyConnector:
    """The connector configured like :data:`SETTINGS`, with ``changes``."""
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    return SchoologyConnector("sgy", SchoologySettings.model_validate({**SETTINGS, **changes}))


async def fetch(monkeypatch: pytest.MonkeyPatch, **changes: Any) -> PageSnapshot:
    """The fixture group's snapshot."""
    async with make(monkeypatch, **changes) as conn:
        return await conn.fetch_page(PAGES[0])


def oauth_params(request: httpx.Request) -> dict[str, str]:
    """The parameters of the request's ``Authorization: OAuth ...`` header, decoded."""
    header = request.headers["Authorization"]
    assert header.startswith("OAuth "), header
    return {k: unquote(v) for k, v in re.findall(r'(\w+)="([^"]*)"', header[len("OAuth ") :])}


def check_hmac_sha1(request: httpx.Request) -> dict[str, str]:
    """Assert the request carries a valid two-legged OAuth 1.0a HMAC-SHA1 signature, computed
    here from RFC 5849 (not with oauthlib); return the header's parameters."""
    params = oauth_params(request)
    assert params.keys() >= OAUTH_PARAMS
    assert params["oauth_consumer_key"] == KEY
    assert params["oauth_signature_method"] == "HMAC-SHA1"
    assert params["oauth_version"] == "1.0"
    assert params.get("oauth_token", "") == ""
    assert abs(int(params["oauth_timestamp"]) - time.time()) < 300

    def enc(text: str) -> str:
        return quote(text, safe="~")

    signed = [
        (k, v) for k, v in params.items() if k.startswith("oauth_") and k != "oauth_signature"
    ]
    signed += parse_qsl(request.url.query.decode(), keep_blank_values=True)
    normalized = "&".join(f"{k}={v}" for k, v in sorted((enc(k), enc(v)) for k, v in signed))
    path = request.url.raw_path.split(b"?")[0].decode()
    base_uri = f"{request.url.scheme}://{request.url.host}{path}"
    base = "&".join((request.method, enc(base_uri), enc(normalized)))
    digest = hmac.new(f"{enc(SECRET)}&".encode(), base.encode(), hashlib.sha1).digest()
    assert params["oauth_signature"] == base64.b64encode(digest).decode()
    return params


class TestSchoologyContract(HttpConnectorContract):
    platform = "schoology"
    ref = PAGES[0]
    paged_route = "enrollments"
    fault_target = "/enrollments"
    token_route = None
    expected_member_ids = MEMBER_IDS
    malformed = [
        (f"/groups/{GROUP}", {"title": "no id", "privacy_level": "group"}, "id"),
        ("/enrollments", {"enrollment": [{"uid": "1", "admin": 1, "status": [1]}]}, "status"),
        ("/enrollments", {"enrollment": "none"}, "enrollment"),
        ("/users/", {"uid": "4410021", "primary_email": 42}, "primary_email"),
        ("/updates?", {"update": [{"id": 1, "body": "x", "created": "yesterday"}]}, "created"),
        ("/comments", {"comment": [{"id": 9, "comment": ["not text"]}]}, "comment[0].comment"),
    ]
    expected_discovered = GROUP_IDS

    def make_connector(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SchoologyConnector:
        return make(monkeypatch)

    def mock_platform(self, router: respx.MockRouter) -> None:
        mock_schoology(router)

    async def test_every_request_is_signed_with_oauth1_hmac_sha1(
        self, connector: SchoologyConnector, router: respx.MockRouter
    ) -> None:
        await self.fetch(connector)
        requests = [call.request for call in router.calls]
        assert len(requests) > 10
        nonces = [check_hmac_sha1(r)["oauth_nonce"] for r in requests]
        assert len(set(nonces)) == len(nonces), "a nonce was reused"
        assert all(oauth_params(r)["realm"] == "Schoology API" for r in requests)

    async def test_a_retry_is_signed_afresh(
        self, connector: SchoologyConnector, faults: FaultInjector, router: respx.MockRouter
    ) -> None:
        faults.add("/enrollments", lambda r: httpx.Response(503))
        await self.fetch(connector)
        first, retry = [c.request for c in router.calls if "/enrollments" in c.request.url.path][:2]
        assert first.url == retry.url
        assert check_hmac_sha1(first)["oauth_nonce"] != check_hmac_sha1(retry)["oauth_nonce"]

    async def test_replay_401_is_a_page_error_without_secrets(
        self,
        connector: SchoologyConnector,
        faults: FaultInjector,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        body = "Duplicate timestamp/nonce combination, possible replay attack.  Request rejected."
        faults.add(f"/groups/{GROUP}", lambda r: httpx.Response(401, json=body))
        with caplog.at_level(logging.DEBUG), pytest.raises(ConnectorError) as info:
            await self.fetch(connector)
        message = str(info.value)
        assert message.startswith("schoology: GET https://api.schoology.com/v1/groups/7712345")
        assert "HTTP 401, the credentials were refused" in message
        assert SECRET not in message and SECRET not in caplog.text
        assert "oauth_signature" not in message

    async def test_rate_limit_without_retry_after_is_backed_off(
        self, connector: SchoologyConnector, faults: FaultInjector, waits: list[float]
    ) -> None:
        faults.add("/updates", lambda r: httpx.Response(429), times=2)
        snapshot = await self.fetch(connector)
        assert len(faults.hits) == 2 and len(waits) == 2
        assert snapshot.posts, "the updates were read after the waits"

    async def test_discovery_follows_links_next(
        self, connector: SchoologyConnector, router: respx.MockRouter
    ) -> None:
        async with connector:
            found = {g.external_id: g async for g in connector.discover()}
        assert router.routes["groups"].call_count == 2
        assert found[GROUP].url == "https://app.schoology.com/group/7712345"
        assert found[GROUP].extra == {"group_code": "RPMS-BOOK"}
        assert found["7712350"].extra == {}
        calls = router.routes["groups"].calls
        assert calls[0].request.url.params["start"] == "0"
        assert str(calls[1].request.url) == f"{BASE}/groups?start=5&limit=5"


async def test_snapshot_maps_the_documented_group(
    monkeypatch: pytest.MonkeyPatch, platform: respx.MockRouter
) -> None:
    snap = await fetch(monkeypatch)
    assert snap.name == "RPMS Book Club"
    assert snap.url == "https://app.schoology.com/group/7712345"
    assert snap.kind == "group"
    assert snap.fetched_at == AS_OF
    assert snap.links == ["https://www.danbury.k12.ct.us/rpms/clubs/book-club"]
    assert snap.settings.model_dump() == {
        "visibility": "secret",
        "join_policy": "invite",
        "post_moderation": "moderators-only",
        "invite_links": [
            {
                "url": "Schoology access code ending in 2F",
                "created_by": None,
                "expires_at": None,
                "max_uses": None,
                "uses": None,
            }
        ],
        "external_members_allowed": None,
    }
    assert "K7QPM-3XD2F" not in snap.model_dump_json(), "the access code itself stays private"
    people = {m.id: (m.email, m.role, m.state) for m in snap.members or []}
    assert people == {
        "4410021": ("kolsen@danbury.k12.ct.us", "owner", "active"),
        "4410022": ("pnguyen@danbury.k12.ct.us", "owner", "active"),
        "5520301": ("eli.frost@students.danbury.k12.ct.us", "member", "active"),
        "5520302": ("nina.vale@students.danbury.k12.ct.us", "member", "active"),
        "6630101": ("ann.frost@example.com", "member", "active"),
        "5520388": ("maya.ortiz@students.danbury.k12.ct.us", "member", "invited"),
        "5520377": (None, "member", "requested"),
    }
    assert {m.name for m in snap.members or []} >= {"Karen Olsen", "Jordan Pike"}
    assert set(snap.unavailable) == {"moderation", "external_members_allowed"}
    assert snap.warnings == [
        "members may comment on updates without approval (options.member_post_comment = 1)",
        "1 expired enrollment(s) left out: they are no longer members",
    ]
    assert snap.coverage == {
        "posts": "posts of the last 30 days (group updates and their comments)"
    }
    assert snap.limits == {}
    enrollments = platform.routes["enrollments"].calls[0].request.url.params
    assert enrollments["enrollment_status"] == "1,2,3,4,5"
    assert platform.routes["updates"].calls[0].request.url.params["with_attachments"] == "1"


async def test_updates_and_comments_become_posts(
    monkeypatch: pytest.MonkeyPatch, platform: respx.MockRouter
) -> None:
    snap = await fetch(monkeypatch)
    posts = {p.id: p for p in snap.posts or []}
    assert list(posts) == [
        "81500107",
        "81500107/9120011",
        "81500107/9120012",
        "81500106",
        "81500105",
        "81500105/9120021",
        "81500104",
        "81500103",
        "81500102",
    ], "in-window updates in order, each followed by its comments; the deleted one skipped"
    assert posts["81500107"].author_id == "4410021"
    assert posts["81500107"].created_at is not None
    assert posts["81500107"].created_at.isoformat() == "2026-11-19T20:10:00+00:00"
    assert posts["81500107/9120011"].parent_id == "81500107"
    assert "203-555-0147" in posts["81500107/9120011"].text
    assert posts["81500107/9120012"].parent_id == "81500107/9120011", "a reply to a comment"
    assert posts["81500106"].links == ["https://www.signupgenius.com/go/rpms-bookfair"]
    assert posts["81500105"].text == (
        "Great turnout at the read-a-thon: 40 books in a month! Photos are on the school news page."
    )
    assert posts["81500105"].links == ["https://www.danbury.k12.ct.us/rpms/news"]
    assert posts["81500103"].links == ["https://karenreads.blogspot.com/2026/11/book-club-notes"]
    commented = {c.request.url.path.split("/")[-2] for c in platform.routes["comments"].calls}
    assert commented == {"81500107", "81500105"}, "updates with num_comments 0 are not asked"


async def test_look_back_window_and_edited_updates(
    monkeypatch: pytest.MonkeyPatch, platform: respx.MockRouter
) -> None:
    first = load("updates-1")
    first["update"][4]["last_updated"] = 1795000000  # an old update edited on 2026-11-18
    platform.routes["updates"].side_effect = lambda r: httpx.Response(
        200, json=first if r.url.params.get("start") == "0" else load("updates-2")
    )
    snap = await fetch(monkeypatch, lookback_days=10)
    ids = [p.id for p in snap.posts or [] if p.parent_id is None]
    assert ids == ["81500107", "81500106", "81500105", "81500104", "81500103"]
    assert platform.routes["updates"].call_count == 2
    assert snap.coverage["posts"].startswith("posts of the last 10 days")


async def test_paging_stops_at_a_page_older_than_the_window(
    monkeypatch: pytest.MonkeyPatch, platform: respx.MockRouter
) -> None:
    monkeypatch.setattr(schoology, "clock", lambda: AS_OF + timedelta(days=60))
    snap = await fetch(monkeypatch)
    assert platform.routes["updates"].call_count == 1, "page 2 can only hold older updates"
    assert snap.posts == []
    assert not platform.routes["comments"].called
    assert snap.coverage["posts"].startswith("posts of the last 30 days")
    assert snap.limits == {}


async def test_max_updates_cap_is_a_limit_of_posts(
    monkeypatch: pytest.MonkeyPatch, platform: respx.MockRouter
) -> None:
    snap = await fetch(monkeypatch, max_updates=2)
    assert [p.id for p in snap.posts or [] if p.parent_id is None] == ["81500107", "81500106"]
    assert platform.routes["updates"].call_count == 1
    assert snap.limits == {
        "posts": "only the 2 most recent updates of the look-back window were read (max_updates)"
    }


async def test_posts_off_or_refused_say_why(
    monkeypatch: pytest.MonkeyPatch, platform: respx.MockRouter
) -> None:
    snap = await fetch(monkeypatch, read_posts=False)
    assert snap.posts is None and "read_posts = false" in snap.unavailable["posts"]
    assert not platform.routes["updates"].called
    platform.routes["updates"].side_effect = lambda r: httpx.Response(403, content=b"")
    snap = await fetch(monkeypatch)
    assert snap.posts is None and "HTTP 403" in snap.unavailable["posts"]
    assert {m.id for m in snap.members or []} == MEMBER_IDS, "everything else is still read"


@pytest.mark.parametrize(
    ("privacy", "expected"),
    [("everyone", "public"), ("school", "public"), ("building", "public"), ("group", "secret")],
)
def test_privacy_level_mapping(privacy: str, expected: str) -> None:
    settings, warnings, unavailable = mapped(privacy_level=privacy)
    assert settings.visibility == expected
    assert "visibility" not in unavailable and not any("privacy" in w for w in warnings)


def test_custom_or_unknown_privacy_is_never_guessed() -> None:
    settings, warnings, unavailable = mapped(privacy_level="custom")
    assert settings.visibility is None and "per-item privacy" in unavailable["visibility"]
    settings, warnings, unavailable = mapped(privacy_level="district")
    assert settings.visibility is None
    assert "privacy_level: unknown value 'district'; left unset" in warnings


@pytest.mark.parametrize(
    ("invite_type", "expected"),
    [(0, "invite"), ("0", "invite"), (1, "request"), (2, "open"), ("3", None)],
)
def test_invite_type_mapping(invite_type: object, expected: str | None) -> None:
    settings, warnings, _ = mapped(options={**load("group")["options"], "invite_type": invite_type})
    assert settings.join_policy == expected
    assert any("options.invite_type: unknown value '3'" in w for w in warnings) == (
        expected is None
    )


@pytest.mark.parametrize(
    ("member_post", "discussion", "comment", "expected", "warned"),
    [
        (1, 0, 1, "none", None),
        (0, 1, 0, "none", "create_discussion = 1"),
        (0, 0, 1, "moderators-only", "member_post_comment = 1"),
        (0, 0, 0, "moderators-only", None),
        ("1", "0", "0", "none", None),
        (0, 0, 7, "moderators-only", "options.member_post_comment: unknown value '7'"),
        (5, 0, 0, None, "options.member_post: unknown value '5'"),
    ],
)
def test_member_options_map_to_post_moderation(
    member_post: object, discussion: object, comment: object, expected: str, warned: str | None
) -> None:
    options = {
        "member_post": member_post,
        "member_post_comment": comment,
        "create_discussion": discussion,
        "create_files": 0,
        "invite_type": 0,
    }
    settings, warnings, _ = mapped(options=options)
    assert settings.post_moderation == expected
    if warned is None:
        assert warnings == []
    else:
        assert any(warned in w for w in warnings), warnings


def test_members_adding_resources_is_warned() -> None:
    _, warnings, _ = mapped(options={**load("group")["options"], "create_files": 1})
    assert "members may add resources (options.create_files = 1); not read" in warnings


def test_missing_options_leave_join_and_moderation_unknown() -> None:
    raw = load("group")
    del raw["options"]
    settings, _, unavailable = mapped_raw(raw)
    assert settings.join_policy is None and settings.post_moderation is None
    assert unavailable["join_policy"] == unavailable["post_moderation"]


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"access_code": "H2QSM-CJPXD"}, ["Schoology access code ending in XD"]),
        ({"access_code": ""}, []),
        ({"access_code": None}, []),
        ({"access_code": "  "}, []),
    ],
)
def test_access_code_is_an_open_join_link(changes: dict[str, Any], expected: list[str]) -> None:
    settings, _, unavailable = mapped(**changes)
    links = settings.invite_links or []
    assert [link.url for link in links] == expected
    assert all(link.expires_at is None and not link.max_uses for link in links)
    assert "invite_links" not in unavailable


def test_hidden_access_code_is_unknown_not_absent() -> None:
    raw = load("group")
    del raw["access_code"]  # only group admins see it
    settings, _, unavailable = mapped_raw(raw)
    assert settings.invite_links is None
    assert "only group admins can see it" in unavailable["invite_links"]


def mapped(**changes: Any) -> tuple[Settings, list[str], dict[str, str]]:
    """``map_group`` of the fixture group with ``changes``: settings, warnings, unavailable."""
    return mapped_raw({**load("group"), **changes})


def mapped_raw(raw: dict[str, Any]) -> tuple[Settings, list[str], dict[str, str]]:
    """``map_group`` of the group payload ``raw``: settings, warnings, unavailable."""
    group = SchoologyGroup.model_validate(raw)
    warnings: list[str] = []
    unavailable: dict[str, str] = {}
    return map_group(group, warnings, unavailable), warnings, unavailable


async def test_enrollment_statuses_and_admin_flags(
    monkeypatch: pytest.MonkeyPatch, platform: respx.MockRouter
) -> None:
    rows = load("enrollments-2")
    template = rows["enrollment"][0]
    rows["enrollment"] = [
        {**template, "uid": "1", "admin": "1", "status": 3},
        {**template, "uid": "2", "admin": 0, "status": "4"},
        {**template, "uid": "3", "admin": 0, "status": "5"},
        {**template, "uid": "4", "admin": 0, "status": "9"},
        {**template, "uid": "5", "admin": "2", "status": 1},
    ]
    platform.routes["enrollments"].side_effect = lambda r: httpx.Response(
        200, json=rows if r.url.params.get("start") != "0" else load("enrollments-1")
    )
    snap = await fetch(monkeypatch, read_member_emails=False)
    people = {m.id: (m.role, m.state) for m in snap.members or []}
    assert people["1"] == ("owner", "invited")
    assert people["2"] == ("member", "requested")
    assert people["5"] == ("member", "active")
    assert "3" not in people and "4" not in people
    assert "1 archived enrollment(s) left out: they are no longer members" in snap.warnings
    assert "enrollment of user 4 has unknown status '9'; left out" in snap.warnings
    assert "enrollment admin: unknown value '2'; left unset" in snap.warnings


async def test_member_emails_are_read_once_per_connector(
    monkeypatch: pytest.MonkeyPatch, platform: respx.MockRouter
) -> None:
    async with make(monkeypatch) as conn:
        await conn.fetch_page(PAGES[0])
        snap = await conn.fetch_page(PAGES[0])
    looked_up = [c.request.url.path for c in platform.routes["users"].calls]
    assert sorted(looked_up) == sorted(f"/v1/users/{uid}" for uid in MEMBER_IDS)
    assert {m.email for m in snap.members or []} >= {"kolsen@danbury.k12.ct.us"}


async def test_member_emails_can_be_turned_off(
    monkeypatch: pytest.MonkeyPatch, platform: respx.MockRouter
) -> None:
    snap = await fetch(monkeypatch, read_member_emails=False)
    assert not platform.routes["users"].called
    assert all(m.email is None for m in snap.members or [])
    assert any("read_member_emails = false" in w for w in snap.warnings)


async def test_unknown_member_account_is_warned(
    monkeypatch: pytest.MonkeyPatch, platform: respx.MockRouter
) -> None:
    def answer(request: httpx.Request, uid: str) -> httpx.Response:
        return httpx.Response(404, content=b"") if uid == "6630101" else user(request, uid)

    platform.routes["users"].side_effect = answer
    snap = await fetch(monkeypatch)
    parent = next(m for m in snap.members or [] if m.id == "6630101")
    assert parent.email is None and parent.name == "Ann Frost"
    assert any("1 member account(s) not found" in w and "6630101" in w for w in snap.warnings)


@pytest.mark.parametrize("status", [401, 403])
async def test_refused_member_accounts_are_a_clear_page_error(
    monkeypatch: pytest.MonkeyPatch, platform: respx.MockRouter, status: int
) -> None:
    platform.routes["users"].side_effect = lambda r, uid: httpx.Response(status, content=b"")
    with pytest.raises(ConnectorError) as info:
        await fetch(monkeypatch)
    assert str(info.value) == (
        f"schoology: reading member accounts (GET /users/{{uid}}) was refused (HTTP {status}): "
        "the API user needs permission to view users, or set read_member_emails = false"
    )


async def test_unknown_group_is_a_page_error(
    monkeypatch: pytest.MonkeyPatch, platform: respx.MockRouter
) -> None:
    platform.routes["group"].side_effect = lambda r: httpx.Response(404, content=b"")
    with pytest.raises(ConnectorError, match=r"^schoology: GET .*/groups/7712345: HTTP 404, not"):
        await fetch(monkeypatch)


async def test_next_link_to_another_host_is_refused(
    monkeypatch: pytest.MonkeyPatch, platform: respx.MockRouter
) -> None:
    page = load("enrollments-1")
    page["links"]["next"] = "https://evil.example.com/v1/groups/7712345/enrollments?start=5"
    platform.routes["enrollments"].side_effect = lambda r: httpx.Response(200, json=page)
    with pytest.raises(ConnectorError, match=r"refusing to call https://evil\.example\.com/v1/"):
        await fetch(monkeypatch)


async def test_next_link_loop_is_stopped(
    monkeypatch: pytest.MonkeyPatch, platform: respx.MockRouter
) -> None:
    page = load("enrollments-1")
    page["links"]["next"] = page["links"]["self"]
    platform.routes["enrollments"].side_effect = lambda r: httpx.Response(200, json=page)
    with pytest.raises(ConnectorError, match="pagination loops or never ends"):
        await fetch(monkeypatch)
    assert platform.routes["enrollments"].call_count == 2


async def test_plaintext_signature_and_secret_kept_out_of_errors(
    monkeypatch: pytest.MonkeyPatch, platform: respx.MockRouter, caplog: pytest.LogCaptureFixture
) -> None:
    await fetch(monkeypatch, signature_method="PLAINTEXT")
    params = oauth_params(platform.routes["group"].calls.last.request)
    assert params.keys() >= OAUTH_PARAMS
    assert params["oauth_signature_method"] == "PLAINTEXT"
    assert params["oauth_signature"] == f"{SECRET}&"
    platform.routes["updates"].side_effect = lambda r: httpx.Response(401, json="Unauthorized")
    with caplog.at_level(logging.DEBUG), pytest.raises(ConnectorError) as info:
        await fetch(monkeypatch, signature_method="PLAINTEXT")
    assert "HTTP 401" in str(info.value)
    assert SECRET not in str(info.value) and SECRET not in caplog.text


async def test_missing_credentials_name_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = SchoologySettings.model_validate(SETTINGS)
    monkeypatch.setenv("SCHOOLOGY_CONSUMER_KEY", KEY)
    monkeypatch.delenv("SCHOOLOGY_CONSUMER_SECRET", raising=False)
    with pytest.raises(ConnectorError) as info:
        SchoologyConnector("sgy", settings)
    assert str(info.value) == (
        "schoology: the environment variable named by setting consumer_secret_env is not set"
    )  # the variable's name is never quoted: a pasted secret could stand there


def test_settings_defaults_and_url_checks() -> None:
    base = {"consumer_key_env": "K", "consumer_secret_env": "S"}
    conf = SchoologySettings.model_validate(base)
    assert conf.base_url == "https://api.schoology.com/v1"
    assert conf.site_url == "https://app.schoology.com"
    assert (conf.lookback_days, conf.signature_method, conf.token_url) == (30, "HMAC-SHA1", None)
    local = SchoologySettings.model_validate({**base, "base_url": "http://127.0.0.1:9/v1/"})
    assert local.base_url == "http://127.0.0.1:9/v1"
    for field in ("base_url", "site_url"):
        with pytest.raises(ValueError, match="loopback"):
            SchoologySettings.model_validate({**base, field: "http://api.schoology.com/v1"})
    with pytest.raises(ValueError, match="token_url"):
        SchoologySettings.model_validate({**base, "token_url": "https://x.example/token"})
    with pytest.raises(ValueError, match="signature_method"):
        SchoologySettings.model_validate({**base, "signature_method": "RSA-SHA1"})


def test_registered_as_a_connector_plugin() -> None:
    assert available_connectors()["schoology"] is SchoologyConnector


@pytest.mark.parametrize(
    ("body", "text", "links"),
    [
        ("plain <3 text", "plain <3 text", []),
        (
            '<p>See <a href="https://a.example/x">this</a><br>and https://b.example/y</p>',
            "See this\nand https://b.example/y",
            ["https://a.example/x", "https://b.example/y"],
        ),
        ("Tom &amp; Jerry <b>rock</b>", "Tom & Jerry rock", []),
    ],
)
def test_bodies_may_be_html_or_plain_text(body: str, text: str, links: list[str]) -> None:
    assert text_and_links(body) == (text, links)
