"""The google-groups connector: the shared contract suite plus its settings mapping."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from itertools import pairwise
from pathlib import Path
from urllib.parse import parse_qs

import google_groups_platform
import httpx
import pytest
import respx
from google.auth import jwt
from mock_platforms import (
    AUDIT_MAILBOX,
    GMAIL_SCOPE,
    GOOGLE_DIRECTORY,
    GOOGLE_GROUP,
    GOOGLE_GROUPS,
    GOOGLE_MEMBER_IDS,
    GOOGLE_TOKEN,
    google_error,
    load,
    mock_google,
    public_key_pem,
    write_service_account_key,
)

from auditor.connectors.base import ConnectorError, PageRef
from auditor.connectors.google_groups import (
    GmailPart,
    GoogleGroupsConnector,
    GoogleGroupsSettings,
    GroupSettingsResource,
    decode_body,
    mail_html_text,
    map_settings,
    message_text,
    strip_quoted,
)
from auditor.snapshot import PageSnapshot
from auditor.testkit.connectors import FaultInjector, HttpConnectorContract

ADMIN = "it-admin@district.org"
DIRECTORY = GOOGLE_DIRECTORY


def google_connector(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, **settings: object
) -> GoogleGroupsConnector:
    key = write_service_account_key(tmp_path / "sa.json")
    monkeypatch.setenv("GOOGLE_SA_FILE", str(key))
    conf = GoogleGroupsSettings.model_validate(
        {"credentials_file_env": "GOOGLE_SA_FILE", "delegated_admin": ADMIN, **settings}
    )
    return GoogleGroupsConnector("gw", conf)


class TestGoogleGroupsContract(HttpConnectorContract):
    platform = "google-groups"
    ref = PageRef("robotics", GOOGLE_GROUP, "DHS Robotics")
    paged_route = "members"
    fault_target = "/members"
    expected_member_ids = GOOGLE_MEMBER_IDS
    malformed = [
        ("/groups/robotics", {"kind": "admin#directory#group", "id": "03ep43zb2nm8xyz"}, "email"),
        ("/members", {"members": [{"id": "1", "role": ["OWNER"]}]}, "members[0].role"),
        ("/members", {"members": "none"}, "members"),
        ("/messages?", {"messages": [{"threadId": "19a6c1d2e3f40001"}]}, "messages[0].id"),
        (
            "/messages/19a6c1d2e3f40006",
            {"id": "19a6c1d2e3f40006", "internalDate": "yesterday"},
            "internalDate",
        ),
    ]
    expected_discovered = GOOGLE_GROUPS

    def make_connector(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
        return google_connector(tmp_path, monkeypatch, audit_mailbox=AUDIT_MAILBOX)

    def mock_platform(self, router: respx.MockRouter) -> None:
        mock_google(router)

    async def test_google_rate_limit_403_is_backed_off(
        self, connector: GoogleGroupsConnector, faults: FaultInjector, waits: list[float]
    ) -> None:
        body = {
            "error": {
                "code": 403,
                "message": "Quota exceeded for quota metric 'Queries'",
                "errors": [{"reason": "userRateLimitExceeded", "domain": "usageLimits"}],
            }
        }
        faults.add("/members", lambda r: httpx.Response(403, json=body))
        snapshot = await self.fetch(connector)
        assert len(waits) == 1
        assert {m.id for m in snapshot.members or []} == GOOGLE_MEMBER_IDS

    async def test_permission_403_is_not_retried(
        self, connector: GoogleGroupsConnector, faults: FaultInjector, waits: list[float]
    ) -> None:
        body = {"error": {"code": 403, "message": "Not Authorized to access this resource/api"}}
        faults.add("/members", lambda r: httpx.Response(403, json=body), times=5)
        with pytest.raises(ConnectorError, match="403"):
            await self.fetch(connector)
        assert waits == [] and len(faults.hits) == 1

    async def test_gmail_429_is_waited_out_and_every_post_still_read(
        self, connector: GoogleGroupsConnector, faults: FaultInjector, waits: list[float]
    ) -> None:
        faults.add("/gmail/v1/", lambda r: httpx.Response(429, headers={"Retry-After": "4"}))
        faults.add(
            "/messages/19a6c1d2e3f40004",
            lambda r: google_error(
                403, "User-rate limit exceeded.", "userRateLimitExceeded", "PERMISSION_DENIED"
            ),
        )
        snapshot = await self.fetch(connector)
        assert len(faults.hits) == 2 and 4.0 in waits and len(waits) == 2
        assert len(snapshot.posts or []) == 7

    async def test_second_gmail_401_is_an_error_naming_the_mailbox(
        self, connector: GoogleGroupsConnector, faults: FaultInjector, router: respx.MockRouter
    ) -> None:
        faults.add("/gmail/v1/", lambda r: httpx.Response(401), times=5)
        with pytest.raises(ConnectorError, match="401") as info:
            await self.fetch(connector)
        assert f"google-groups: reading posts as audit mailbox {AUDIT_MAILBOX}" in str(info.value)
        assert router.routes["gmail-token"].call_count == 2
        assert router.routes["token"].call_count == 1, "the admin token was not touched"


async def test_snapshot_maps_the_documented_group(tmp_path: Path, monkeypatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_google(router)
        async with google_connector(tmp_path, monkeypatch) as conn:
            snap = await conn.fetch_page(PageRef("robotics", GOOGLE_GROUP))
        settings_call = router.routes["settings"].calls.last.request
        gmail_called = router.routes["gmail-list"].called or router.routes["gmail-token"].called
    assert snap.name == "DHS Robotics"
    assert snap.url == "https://groups.google.com/a/district.org/g/robotics"
    assert snap.settings.model_dump() == {
        "visibility": "secret",
        "join_policy": "invite",
        "post_moderation": "all",
        "invite_links": [],
        "external_members_allowed": False,
    }
    roles = {m.email: m.role for m in snap.members or []}
    assert roles["owner@district.org"] == "owner"
    assert roles["boss@district.org"] == "manager"
    assert roles["parent.d@gmail.com"] == "member"
    assert snap.posts is None and "audit_mailbox" in snap.unavailable["posts"]
    assert snap.moderation is None and "moderation" in snap.unavailable
    assert snap.warnings == []
    assert not gmail_called, "no audit mailbox: Gmail is never called"
    assert settings_call.url.params["alt"] == "json"
    assert settings_call.headers["Authorization"] == "Bearer ya29.c.b0AXv0zTOKEN-PLACEHOLDER-1"


async def test_token_request_is_a_delegated_jwt_signed_by_the_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_google(router)
        async with google_connector(tmp_path, monkeypatch) as conn:
            await conn.fetch_page(PageRef("robotics", GOOGLE_GROUP))
        form = parse_qs(router.routes["token"].calls.last.request.content.decode())
    assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    claims = jwt.decode(form["assertion"][0], certs=public_key_pem(), audience=GOOGLE_TOKEN)
    assert claims["sub"] == ADMIN
    assert claims["iss"] == "auditor@district-auditor.iam.gserviceaccount.com"
    assert "auth/apps.groups.settings" in claims["scope"]
    assert "auth/admin.directory.group.readonly" in claims["scope"]


def settings_with(**changes: str) -> GroupSettingsResource:
    return GroupSettingsResource.model_validate({**load("google", "settings"), **changes})


@pytest.mark.parametrize(
    ("view", "discover", "expected"),
    [
        ("ANYONE_CAN_VIEW", "ALL_MEMBERS_CAN_DISCOVER", "public"),
        ("ALL_IN_DOMAIN_CAN_VIEW", "ALL_MEMBERS_CAN_DISCOVER", "public"),
        ("ALL_MEMBERS_CAN_VIEW", "ANYONE_CAN_DISCOVER", "closed"),
        ("ALL_MANAGERS_CAN_VIEW", "ALL_IN_DOMAIN_CAN_DISCOVER", "closed"),
        ("ALL_OWNERS_CAN_VIEW", "ALL_MEMBERS_CAN_DISCOVER", "secret"),
    ],
)
def test_visibility_mapping(view: str, discover: str, expected: str) -> None:
    warnings: list[str] = []
    prefs = settings_with(whoCanViewGroup=view, whoCanDiscoverGroup=discover)
    assert map_settings(prefs, warnings).visibility == expected
    assert warnings == []


@pytest.mark.parametrize(("listed", "expected"), [("true", "closed"), ("false", "secret")])
def test_visibility_falls_back_to_show_in_group_directory(listed: str, expected: str) -> None:
    data = load("google", "settings")
    del data["whoCanDiscoverGroup"]
    prefs = GroupSettingsResource.model_validate({**data, "showInGroupDirectory": listed})
    assert map_settings(prefs, []).visibility == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ANYONE_CAN_JOIN", "open"),
        ("ALL_IN_DOMAIN_CAN_JOIN", "open"),
        ("CAN_REQUEST_TO_JOIN", "request"),
        ("INVITED_CAN_JOIN", "invite"),
    ],
)
def test_join_mapping(value: str, expected: str) -> None:
    assert map_settings(settings_with(whoCanJoin=value), []).join_policy == expected


@pytest.mark.parametrize(
    ("posters", "level", "expected"),
    [
        ("NONE_CAN_POST", "MODERATE_NONE", "moderators-only"),
        ("ALL_MANAGERS_CAN_POST", "MODERATE_NONE", "moderators-only"),
        ("ALL_OWNERS_CAN_POST", "MODERATE_NONE", "moderators-only"),
        ("ALL_MEMBERS_CAN_POST", "MODERATE_ALL_MESSAGES", "all"),
        ("ALL_IN_DOMAIN_CAN_POST", "MODERATE_NEW_MEMBERS", "new-members"),
        ("ANYONE_CAN_POST", "MODERATE_NON_MEMBERS", "none"),
        ("ALL_MEMBERS_CAN_POST", "MODERATE_NONE", "none"),
    ],
)
def test_post_moderation_mapping(posters: str, level: str, expected: str) -> None:
    prefs = settings_with(whoCanPostMessage=posters, messageModerationLevel=level)
    assert map_settings(prefs, []).post_moderation == expected


@pytest.mark.parametrize(("value", "expected"), [("true", True), ("false", False)])
def test_external_members_mapping(value: str, expected: bool) -> None:
    prefs = settings_with(allowExternalMembers=value)
    assert map_settings(prefs, []).external_members_allowed is expected


def test_posting_as_the_group_is_warned() -> None:
    warnings: list[str] = []
    prefs = settings_with(membersCanPostAsTheGroup="true")
    assert map_settings(prefs, warnings).post_moderation == "all"
    assert any("membersCanPostAsTheGroup" in w for w in warnings)


@pytest.mark.parametrize(
    ("field", "attribute"),
    [
        ("whoCanJoin", "join_policy"),
        ("whoCanViewGroup", "visibility"),
        ("whoCanDiscoverGroup", "visibility"),
        ("whoCanPostMessage", "post_moderation"),
        ("messageModerationLevel", "post_moderation"),
        ("allowExternalMembers", "external_members_allowed"),
    ],
)
def test_unknown_enum_value_is_a_warning_not_a_crash(field: str, attribute: str) -> None:
    warnings: list[str] = []
    settings = map_settings(settings_with(**{field: "SOMETHING_NEW"}), warnings)
    assert getattr(settings, attribute) is None
    assert warnings == [f"{field}: unknown value 'SOMETHING_NEW'; left unset"]


async def test_unknown_values_reach_the_snapshot_as_warnings(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    members = load("google", "members-2")
    members["members"][0]["role"] = "CO_OWNER"
    members["members"][1].update(type="GROUP", email="parents@district.org")
    with respx.mock(assert_all_called=False) as router:
        mock_google(router)
        router.routes["settings"].side_effect = None
        router.routes["settings"].return_value = httpx.Response(
            200, json={**load("google", "settings"), "whoCanJoin": "ANYONE_WITH_LINK"}
        )
        router.routes["members"].side_effect = lambda r: httpx.Response(
            200, json=members if "pageToken" in r.url.params else load("google", "members-1")
        )
        router.get(f"{DIRECTORY}/groups/parents@district.org/members").respond(
            json={"kind": "admin#directory#members", "members": []}
        )
        async with google_connector(tmp_path, monkeypatch) as conn:
            snap = await conn.fetch_page(PageRef("robotics", GOOGLE_GROUP))
    PageSnapshot.model_validate(snap.model_dump())
    assert snap.settings.join_policy is None
    assert "whoCanJoin: unknown value 'ANYONE_WITH_LINK'; left unset" in snap.warnings
    assert any("role: unknown value 'CO_OWNER'" in w for w in snap.warnings)
    assert any("parents@district.org is a nested group" in w for w in snap.warnings)


async def test_missing_key_file_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_SA_FILE", str(tmp_path / "missing.json"))
    settings = GoogleGroupsSettings(credentials_file_env="GOOGLE_SA_FILE")
    with pytest.raises(
        ConnectorError, match=r"key file \(setting credentials_file_env\) not found"
    ):
        GoogleGroupsConnector("gw", settings)
    monkeypatch.delenv("GOOGLE_SA_FILE")
    with pytest.raises(
        ConnectorError, match="the environment variable named by setting credentials_file_env"
    ):
        GoogleGroupsConnector("gw", settings)


def member(ident: str, email: str, **fields: str) -> dict[str, str]:
    """A Directory API member resource as members.list returns it."""
    return {
        "kind": "admin#directory#member",
        "etag": f'"{ident}"',
        "id": ident,
        "email": email,
        "role": "MEMBER",
        "type": "USER",
        "status": "ACTIVE",
        **fields,
    }


async def fetch_with_members(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, listings: dict[str, object]
) -> tuple[PageSnapshot, list[str]]:
    """Fetch the fixture group with its members (and nested groups') replaced by ``listings``
    (group email -> list of members, or an HTTP status the Directory API answers); also
    returns the paths requested."""
    with respx.mock(assert_all_called=False) as router:
        mock_google(router)
        for group, answer in listings.items():
            route = router.get(f"{DIRECTORY}/groups/{group}/members")
            if isinstance(answer, int):
                route.respond(answer, json={"error": {"code": answer, "message": "denied"}})
            else:
                route.respond(json={"kind": "admin#directory#members", "members": answer})
        async with google_connector(tmp_path, monkeypatch) as conn:
            snap = await conn.fetch_page(PageRef("robotics", GOOGLE_GROUP))
        paths = [c.request.url.path for c in router.calls]
    return snap, paths


async def test_nested_groups_are_expanded_once_as_members(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nested = "parents@district.org"
    snap, calls = await fetch_with_members(
        tmp_path,
        monkeypatch,
        {
            GOOGLE_GROUP: [
                member("1", "owner@district.org", role="OWNER"),
                member("g1", nested, type="GROUP", role="MANAGER"),
            ],
            nested: [
                member("2", "pat@gmail.com", role="OWNER"),
                member("1", "owner@district.org"),
                member("g0", GOOGLE_GROUP, type="GROUP"),  # a cycle back to the group
            ],
        },
    )
    roles = {m.email: m.role for m in snap.members or []}
    assert roles == {"owner@district.org": "owner", "pat@gmail.com": "member"}
    assert any(f"{nested} is a nested group" in w and "MANAGER" in w for w in snap.warnings)
    assert calls.count(f"/admin/directory/v1/groups/{nested}/members") == 1
    assert calls.count(f"/admin/directory/v1/groups/{GOOGLE_GROUP}/members") == 1


async def test_unlistable_nested_group_stays_one_member(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    outside = "club@partner.example.org"
    snap, _ = await fetch_with_members(
        tmp_path,
        monkeypatch,
        {GOOGLE_GROUP: [member("g9", outside, type="GROUP")], outside: 404},
    )
    assert [(m.id, m.email, m.state) for m in snap.members or []] == [("g9", outside, "active")]
    assert snap.limits == {
        "members": f"{outside} is a nested group whose members could not be listed (HTTP 404), "
        "so it is shown as one member"
    }
    assert not any(outside in w for w in snap.warnings), "a limit, not a warning"


async def test_a_group_nested_too_deep_is_a_limit_of_members(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    chain = [GOOGLE_GROUP] + [f"level{n}@district.org" for n in range(1, 7)]
    listings: dict[str, object] = {
        outer: [member(f"g{n}", inner, type="GROUP")]
        for n, (outer, inner) in enumerate(pairwise(chain), start=1)
    }
    snap, calls = await fetch_with_members(tmp_path, monkeypatch, listings)
    assert snap.limits == {
        "members": "level6@district.org is a group nested too deep: its members are not listed"
    }
    assert f"/admin/directory/v1/groups/{chain[-1]}/members" not in calls


async def test_member_statuses_map_to_state(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snap, _ = await fetch_with_members(
        tmp_path,
        monkeypatch,
        {
            GOOGLE_GROUP: [
                member("1", "owner@district.org", role="OWNER"),
                member("2", "gone@district.org", status="SUSPENDED"),
                member("3", "left@district.org", status="ARCHIVED"),
                member("4", "pat@gmail.com", status="UNKNOWN"),
                member("5", "new@district.org", status="PROVISIONING"),
            ]
        },
    )
    states = {m.email: m.state for m in snap.members or []}
    assert states == {
        "owner@district.org": "active",
        "pat@gmail.com": "active",
        "new@district.org": "active",
    }
    assert any("gone@district.org" in w and "suspended" in w for w in snap.warnings)
    assert any("left@district.org" in w and "archived" in w for w in snap.warnings)
    assert "member new@district.org status: unknown value 'PROVISIONING'; left unset" in (
        snap.warnings
    )


async def test_large_group_is_paged_to_the_end(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    everyone = [member(str(n), f"s{n}@students.district.org") for n in range(450)]

    def page(request: httpx.Request) -> httpx.Response:
        start = int(request.url.params.get("pageToken", "0"))
        size = int(request.url.params["maxResults"])
        body: dict[str, object] = {"members": everyone[start : start + size]}
        if start + size < len(everyone):
            body["nextPageToken"] = str(start + size)
        return httpx.Response(200, json=body)

    with respx.mock(assert_all_called=False) as router:
        mock_google(router)
        router.routes["members"].side_effect = page
        async with google_connector(tmp_path, monkeypatch) as conn:
            snap = await conn.fetch_page(PageRef("robotics", GOOGLE_GROUP))
        sizes = {c.request.url.params["maxResults"] for c in router.routes["members"].calls}
        pages = router.routes["members"].call_count
    assert len(snap.members or []) == 450
    assert sizes == {"200"} and pages == 3


MEMBER_ID = {
    "owner": "108826563431274911111",
    "boss": "108826563431274922222",
    "ana": "108826563431274933333",
    "ben": "108826563431274944444",
    "parent": "108826563431274955555",
}


Calls = dict[str, list[httpx.Request]]


async def fetch_posts(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[respx.MockRouter], None] | None = None,
    **settings: object,
) -> tuple[PageSnapshot, Calls]:
    """Fetch the fixture group with an audit mailbox; ``change(router)`` may alter routes
    first. Returns the snapshot and the requests each named route answered."""
    with respx.mock(assert_all_called=False) as router:
        mock_google(router)
        if change is not None:
            change(router)
        conf = {"audit_mailbox": AUDIT_MAILBOX, **settings}
        async with google_connector(tmp_path, monkeypatch, **conf) as conn:
            snap = await conn.fetch_page(PageRef("robotics", GOOGLE_GROUP))
        calls = {r.name: [c.request for c in r.calls] for r in router.routes if r.name}
    return snap, calls


async def test_posts_are_read_from_the_audit_mailbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = int(time.time()) - 30 * 86400
    snap, calls = await fetch_posts(tmp_path, monkeypatch)
    after = int(time.time()) - 30 * 86400
    posts = {p.id: p for p in snap.posts or []}
    assert set(posts) == {f"19a6c1d2e3f4000{n}" for n in range(1, 8)}, "List-Id filter"
    welcome, reply = posts["19a6c1d2e3f40001"], posts["19a6c1d2e3f40002"]
    assert welcome.author_id == MEMBER_ID["owner"] and welcome.parent_id is None
    assert welcome.created_at is not None and welcome.created_at.isoformat() == (
        "2026-11-10T15:30:00+00:00"
    )
    assert welcome.links == ["https://district.org/robotics/calendar"]
    assert welcome.text.endswith("Ms. Owner"), "the Google Groups footer is cut"
    assert reply.author_id == MEMBER_ID["ana"] and reply.parent_id == welcome.id
    assert reply.text == "Can we bring the drivetrain prototype from last year?\n\nAna"
    assert reply.links == [], "quoted text and footer links are not the reply's"
    carpool = posts["19a6c1d2e3f40003"]
    assert carpool.author_id == MEMBER_ID["parent"], "X-Original-From, not the group's From"
    assert "203-555-0148" in posts["19a6c1d2e3f40004"].text
    assert posts["19a6c1d2e3f40004"].parent_id == carpool.id
    html_only = posts["19a6c1d2e3f40005"]
    assert html_only.author_id == MEMBER_ID["boss"]
    assert html_only.parent_id == "19a6c1d2e3f40004"
    assert html_only.links == ["https://district.org/robotics/carpool"]
    assert "203-555-0148" not in html_only.text and "You received" not in html_only.text
    assert posts["19a6c1d2e3f40006"].links == ["https://www.instagram.com/coach.olivia.builds"]
    assert posts["19a6c1d2e3f40007"].text.startswith("Parts list for the new intake")
    assert "posts" not in snap.unavailable
    assert any("1 message(s) found by list:robotics@district.org" in w for w in snap.warnings)
    assert snap.coverage == {
        "posts": f"posts of the last 30 days, as received by the audit mailbox {AUDIT_MAILBOX}"
    }
    assert snap.limits == {} and not any("lookback_days" in w for w in snap.warnings)

    lists = [r.url.params for r in calls["gmail-list"]]
    assert len(lists) == 2 and lists[1]["pageToken"] == "09841176052473188391"
    query, stamp = lists[0]["q"].rsplit(" after:", 1)
    assert query == "list:robotics@district.org" and before <= int(stamp) <= after
    assert lists[0]["maxResults"] == "500"
    gets = calls["gmail-get"]
    assert len(gets) == 8 and {r.url.params["format"] for r in gets} == {"full"}
    assert {r.headers["Authorization"] for r in gets} == {
        "Bearer ya29.c.b0AXv0zGMAIL-PLACEHOLDER-1"
    }
    assert len(calls["audit-member"]) == 1


async def test_gmail_token_is_a_second_jwt_acting_as_the_mailbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, calls = await fetch_posts(tmp_path, monkeypatch)
    admin = parse_qs(calls["token"][-1].content.decode())
    gmail = parse_qs(calls["gmail-token"][-1].content.decode())
    assert gmail["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"]
    claims = jwt.decode(gmail["assertion"][0], certs=public_key_pem(), audience=GOOGLE_TOKEN)
    assert claims["sub"] == AUDIT_MAILBOX and claims["scope"] == GMAIL_SCOPE
    admin_claims = jwt.decode(admin["assertion"][0], certs=public_key_pem(), audience=GOOGLE_TOKEN)
    assert admin_claims["sub"] == ADMIN and "gmail" not in admin_claims["scope"]


async def test_without_a_mailbox_in_the_group_posts_are_not_applicable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def drop_mailbox(router: respx.MockRouter) -> None:
        members = load("google", "members-2")
        members["members"].pop()
        router.routes["members"].side_effect = lambda r: httpx.Response(
            200, json=members if "pageToken" in r.url.params else load("google", "members-1")
        )

    snap, calls = await fetch_posts(tmp_path, monkeypatch, change=drop_mailbox)
    assert snap.posts is None
    assert f"audit mailbox {AUDIT_MAILBOX} is not a member" in snap.unavailable["posts"]
    assert not calls["gmail-list"] and not calls["audit-member"]


async def test_suspended_mailbox_reads_no_posts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def suspend(router: respx.MockRouter) -> None:
        members = load("google", "members-2")
        members["members"][-1]["status"] = "SUSPENDED"
        router.routes["members"].side_effect = lambda r: httpx.Response(
            200, json=members if "pageToken" in r.url.params else load("google", "members-1")
        )

    snap, calls = await fetch_posts(tmp_path, monkeypatch, change=suspend)
    assert snap.posts is None and "not an active member" in snap.unavailable["posts"]
    assert not calls["gmail-list"]


@pytest.mark.parametrize("delivery", ["DIGEST", "DAILY", "NONE", "DISABLED"])
async def test_mailbox_not_getting_each_message_reads_no_posts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, delivery: str
) -> None:
    def set_delivery(router: respx.MockRouter) -> None:
        entry = {**load("google", "member-audit"), "delivery_settings": delivery}
        router.routes["audit-member"].side_effect = lambda r: httpx.Response(200, json=entry)

    snap, calls = await fetch_posts(tmp_path, monkeypatch, change=set_delivery)
    assert snap.posts is None
    assert f"as {delivery}, not each message" in snap.unavailable["posts"]
    assert not calls["gmail-list"]


async def test_unknown_delivery_setting_is_warned_and_posts_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unknown(router: respx.MockRouter) -> None:
        entry = load("google", "member-audit")
        del entry["delivery_settings"]
        router.routes["audit-member"].side_effect = lambda r: httpx.Response(200, json=entry)

    snap, _ = await fetch_posts(tmp_path, monkeypatch, change=unknown)
    assert len(snap.posts or []) == 7
    assert any("delivery setting not returned" in w for w in snap.warnings)


async def test_mailbox_in_a_nested_group_is_checked_there(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    nested = "auditors@district.org"

    def nest(router: respx.MockRouter) -> None:
        members = load("google", "members-2")
        members["members"][-1] = member("g7", nested, type="GROUP")
        router.routes["members"].side_effect = lambda r: httpx.Response(
            200, json=members if "pageToken" in r.url.params else load("google", "members-1")
        )
        router.get(f"{DIRECTORY}/groups/{nested}/members").respond(
            json={"members": [member("108826563431274966666", AUDIT_MAILBOX)]}
        )
        router.get(f"{DIRECTORY}/groups/{nested}/members/{AUDIT_MAILBOX}", name="nested-get").mock(
            side_effect=lambda r: httpx.Response(200, json=load("google", "member-audit"))
        )

    snap, calls = await fetch_posts(tmp_path, monkeypatch, change=nest)
    assert calls["nested-get"] and not calls["audit-member"]
    assert len(snap.posts or []) == 7


async def test_lookback_days_sets_the_window(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snap, calls = await fetch_posts(tmp_path, monkeypatch, lookback_days=7)
    stamp = int(calls["gmail-list"][0].url.params["q"].split("after:")[1])
    assert abs(stamp - (time.time() - 7 * 86400)) < 60
    assert snap.coverage["posts"].startswith("posts of the last 7 days, as received by")


async def test_max_posts_caps_the_messages_read_and_records_the_limit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snap, calls = await fetch_posts(tmp_path, monkeypatch, max_posts=3)
    assert len(calls["gmail-list"]) == 1
    assert calls["gmail-list"][0].url.params["maxResults"] == "3"
    assert len(calls["gmail-get"]) == 3
    assert [p.id for p in snap.posts or []] == ["19a6c1d2e3f40007", "19a6c1d2e3f40006"]
    assert snap.limits == {"posts": "only 3 of about 8 messages were read (max_posts)"}


@pytest.mark.parametrize(
    ("status", "message", "reason", "grpc"),
    [
        (400, "Mail service not enabled", "failedPrecondition", "FAILED_PRECONDITION"),
        (
            403,
            "Gmail API has not been used in project 1 before or it is disabled.",
            "accessNotConfigured",
            "PERMISSION_DENIED",
        ),
        (403, "Delegation denied for groups-audit@district.org", "forbidden", "PERMISSION_DENIED"),
    ],
)
async def test_gmail_refusal_makes_posts_not_applicable(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    status: int,
    message: str,
    reason: str,
    grpc: str,
) -> None:
    def refuse(router: respx.MockRouter) -> None:
        router.routes["gmail-list"].side_effect = lambda r: google_error(
            status, message, reason, grpc
        )

    snap, calls = await fetch_posts(tmp_path, monkeypatch, change=refuse)
    assert snap.posts is None and f"(HTTP {status})" in snap.unavailable["posts"]
    assert {m.id for m in snap.members or []} == GOOGLE_MEMBER_IDS
    assert len(calls["gmail-list"]) == 1, "a refusal is not retried"


async def test_message_gone_between_list_and_get_is_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def lose_one(router: respx.MockRouter) -> None:
        listing = load("google", "gmail-list-1")
        listing["messages"].append({"id": "19a6c1d2e3f4ffff", "threadId": "19a6c1d2e3f4ffff"})
        router.routes["gmail-list"].side_effect = lambda r: httpx.Response(
            200, json=load("google", "gmail-list-2") if "pageToken" in r.url.params else listing
        )

    snap, _ = await fetch_posts(tmp_path, monkeypatch, change=lose_one)
    assert len(snap.posts or []) == 7
    assert "posts: 1 message(s) left the audit mailbox while being read" in snap.warnings


async def test_refused_mailbox_token_is_a_page_error_naming_the_mailbox(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    refusal = {
        "error": "unauthorized_client",
        "error_description": "Client is unauthorized to retrieve access tokens using this "
        "method, or client not authorized for any of the scopes requested.",
    }

    def refuse(router: respx.MockRouter) -> None:
        gmail_only = router.routes["gmail-token"].side_effect  # None for the admin token
        router.routes["gmail-token"].side_effect = lambda r: (
            None if gmail_only(r) is None else httpx.Response(401, json=refusal)
        )

    with pytest.raises(ConnectorError) as info:
        await fetch_posts(tmp_path, monkeypatch, change=refuse)
    text = str(info.value)
    assert text.startswith(f"google-groups: reading posts as audit mailbox {AUDIT_MAILBOX}: ")
    assert "unauthorized_client" in text and "\n" not in text


async def test_refused_mailbox_token_says_which_delegation_to_check(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(router: respx.MockRouter) -> None:
        gmail_only = router.routes["gmail-token"].side_effect
        router.routes["gmail-token"].side_effect = lambda r: (
            None
            if gmail_only(r) is None
            else httpx.Response(401, json={"error": "unauthorized_client"})
        )

    with pytest.raises(ConnectorError) as info:
        await fetch_posts(tmp_path, monkeypatch, change=refuse)
    text = str(info.value)
    assert "client id and secret" not in text, "a service account has no client secret"
    assert "domain-wide delegation grants its client id gmail.readonly" in text
    assert text.endswith(f"and that {AUDIT_MAILBOX} is an active account")


async def test_the_snapshot_with_posts_feeds_the_content_rules(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    snap, _ = await fetch_posts(tmp_path, monkeypatch)
    again = PageSnapshot.model_validate_json(snap.model_dump_json())
    assert again == snap and again.posts is not None


def b64url(text: str, charset: str = "utf-8") -> str:
    """``text`` as Gmail's unpadded base64url ``body.data``."""
    return base64.urlsafe_b64encode(text.encode(charset)).decode().rstrip("=")


def part(mime: str, text: str, charset: str = "utf-8", **fields: object) -> GmailPart:
    """A leaf MIME part as Gmail returns it."""
    headers = [{"name": "Content-Type", "value": f"{mime}; charset={charset}"}]
    data = {"mimeType": mime, "headers": headers, "body": {"data": b64url(text, charset)}}
    return GmailPart.model_validate({**data, **fields})


def test_body_charset_is_honoured() -> None:
    assert decode_body(part("text/plain", "Félicitations à l'équipe", "iso-8859-1")) == (
        "Félicitations à l'équipe"
    )
    unknown = part("text/plain", "ok").model_dump(by_alias=True)
    unknown["headers"] = [{"name": "Content-Type", "value": "text/plain; charset=x-unknown"}]
    assert decode_body(GmailPart.model_validate(unknown)) == "ok"


def test_attachments_are_not_body_text() -> None:
    mixed = GmailPart.model_validate(
        {
            "mimeType": "multipart/mixed",
            "parts": [
                part("text/plain", "See the notes.").model_dump(by_alias=True),
                part("text/plain", "secret notes", filename="notes.txt").model_dump(by_alias=True),
                {
                    **part("text/plain", "inline file").model_dump(by_alias=True),
                    "headers": [{"name": "Content-Disposition", "value": "attachment"}],
                },
            ],
        }
    )
    limits: dict[str, str] = {}
    assert message_text(mixed, "m1", limits) == ("See the notes.", [])
    assert limits == {}


def test_a_body_stored_as_attachment_is_a_limit_of_posts() -> None:
    big = GmailPart.model_validate(
        {"mimeType": "text/plain", "body": {"attachmentId": "ANGjdJ8", "size": 900000}}
    )
    limits: dict[str, str] = {}
    assert message_text(big, "m9", limits) == ("", [])
    assert message_text(big, "m10", limits) == ("", [])
    assert limits == {
        "posts": "post m9: a body part stored as an attachment was not read; "
        "post m10: a body part stored as an attachment was not read"
    }


def test_quoted_reply_and_wrapped_attribution_are_stripped() -> None:
    text = (
        "Yes, Tuesday works.\n\nOn Tue, Nov 10, 2026 at 10:30 AM Olivia Owner <\n"
        "owner@district.org> wrote:\n\n> Meeting Tuesday?\n> Call 203-555-0148\n\nThanks"
    )
    assert strip_quoted(text) == "Yes, Tuesday works.\n\nThanks"


def test_html_quote_and_footer_links_are_left_out() -> None:
    html = (
        '<div>Forms: <a href="https://district.org/forms">here</a><br>'
        '<img src="cid:x"></div><div class="gmail_quote"><div class="gmail_attr">On Mon '
        'wrote:</div><blockquote><a href="https://evil.example.com">old</a></blockquote></div>'
        "-- <br />You received this message because you are subscribed to the Google Groups "
        '&quot;X&quot; group.<br /><a href="https://groups.google.com/a/d/x">view</a>'
    )
    text, links = mail_html_text(html)
    assert links == ["https://district.org/forms"]
    assert text.strip() == "Forms: here", "quote, attribution and footer left out"


async def test_platform_module_serves_the_sample_page(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in google_groups_platform.ENV.items():
        monkeypatch.setenv(name, value)
    settings = GoogleGroupsSettings.model_validate(google_groups_platform.SETTINGS)
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        google_groups_platform.mock_google_groups(router)
        async with GoogleGroupsConnector("workspace", settings) as conn:
            snap = await conn.fetch_page(google_groups_platform.PAGES[0])
    roles = {m.email: m.role for m in snap.members or []}
    assert roles[google_groups_platform.OWNER] == "owner"
    assert roles[google_groups_platform.SUPERVISOR] == "manager"
    assert {"ana.b@students.district.org", "parent.d@gmail.com"} <= set(roles)
    posts = snap.posts or []
    assert len(posts) == 7
    assert any("instagram.com/coach.olivia.builds" in link for p in posts for link in p.links)
    assert any("203-555-0148" in p.text for p in posts)


async def test_the_gmail_client_has_the_same_size_cap_and_deadline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    conn = google_connector(
        tmp_path,
        monkeypatch,
        audit_mailbox=AUDIT_MAILBOX,
        max_response_mb=7,
        request_deadline_s=9,
    )
    async with conn:
        assert conn.gmail is not None
        clients = (conn.http, conn.gmail)
        assert {(c.max_response_mb, c.request_deadline_s) for c in clients} == {(7, 9)}


async def test_listings_ask_for_partial_responses_of_exactly_the_fields_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Google's ``fields`` parameter: members, groups and settings ask for what the models
    read (and every field they read), and nothing more."""
    from auditor.connectors.google_groups import MembersPage, partial

    assert partial(MembersPage) == (
        "members(id,email,role,type,status,delivery_settings),nextPageToken"
    )
    with respx.mock(assert_all_mocked=True, assert_all_called=False) as router:
        mock_google(router)
        async with google_connector(tmp_path, monkeypatch) as conn:
            await conn.fetch_page(PageRef("robotics", GOOGLE_GROUP))
            [g async for g in conn.discover()]
        asked = {
            call.request.url.path.rsplit("/", 1)[-1]: call.request.url.params.get("fields")
            for call in router.calls
            if "googleapis.com" in call.request.url.host and "token" not in call.request.url.path
        }
    assert asked["members"] == partial(MembersPage)
    assert asked["groups"].startswith("groups(id,email,name,description)")
    assert "whoCanJoin" in asked[GOOGLE_GROUP] and "messageModerationLevel" in asked[GOOGLE_GROUP]
