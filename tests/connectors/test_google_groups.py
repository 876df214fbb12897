"""The google-groups connector: the shared contract suite plus its settings mapping."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import parse_qs

import httpx
import pytest
import respx
from google.auth import jwt
from mock_platforms import (
    GOOGLE_DIRECTORY,
    GOOGLE_GROUP,
    GOOGLE_GROUPS,
    GOOGLE_MEMBER_IDS,
    GOOGLE_TOKEN,
    load,
    mock_google,
    public_key_pem,
    write_service_account_key,
)

from auditor.connectors.base import ConnectorError, PageRef
from auditor.connectors.google_groups import (
    GoogleGroupsConnector,
    GoogleGroupsSettings,
    GroupSettingsResource,
    map_settings,
)
from auditor.snapshot import PageSnapshot
from auditor.testkit.connectors import FaultInjector, HttpConnectorContract

ADMIN = "it-admin@district.org"
DIRECTORY = GOOGLE_DIRECTORY


def google_connector(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> GoogleGroupsConnector:
    key = write_service_account_key(tmp_path / "sa.json")
    monkeypatch.setenv("GOOGLE_SA_FILE", str(key))
    settings = GoogleGroupsSettings(credentials_file_env="GOOGLE_SA_FILE", delegated_admin=ADMIN)
    return GoogleGroupsConnector("gw", settings)


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
    ]
    expected_discovered = GOOGLE_GROUPS

    def make_connector(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
        return google_connector(tmp_path, monkeypatch)

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


async def test_snapshot_maps_the_documented_group(tmp_path: Path, monkeypatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_google(router)
        async with google_connector(tmp_path, monkeypatch) as conn:
            snap = await conn.fetch_page(PageRef("robotics", GOOGLE_GROUP))
        settings_call = router.routes["settings"].calls.last.request
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
    assert snap.posts is None and "posts" in snap.unavailable
    assert snap.moderation is None and "moderation" in snap.unavailable
    assert snap.warnings == []
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
    with pytest.raises(ConnectorError, match="GOOGLE_SA_FILE not found"):
        GoogleGroupsConnector("gw", settings)
    monkeypatch.delenv("GOOGLE_SA_FILE")
    with pytest.raises(ConnectorError, match=r"GOOGLE_SA_FILE \(setting credentials_file_env"):
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
    assert any(outside in w and "could not be listed (HTTP 404)" in w for w in snap.warnings)


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
