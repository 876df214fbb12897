"""The microsoft365 connector: the shared contract suite plus Graph-specific mapping."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

import httpx
import microsoft365_platform
import pytest
import respx
from mock_platforms import (
    CHANNEL,
    GRAPH,
    GRAPH_GROUPS,
    GRAPH_MEMBER_IDS,
    TEAM,
    TENANT,
    load,
    mock_microsoft,
)

import auditor.connectors.microsoft365
from auditor.connectors.base import ConnectorError, PageRef
from auditor.connectors.microsoft365 import Microsoft365Connector, Microsoft365Settings
from auditor.results import Status
from auditor.rules import catalog
from auditor.testkit.connectors import HttpConnectorContract
from tests.rules.helpers import ctx

SECRET = "s3cr3t-client-value~Q8"
NOW = microsoft365_platform.NOW


def graph_connector(monkeypatch: pytest.MonkeyPatch, **settings: object) -> Microsoft365Connector:
    """A connector of the mocked tenant, its clock at the fixtures' :data:`NOW`."""
    monkeypatch.setattr(auditor.connectors.microsoft365, "clock", lambda: NOW)
    monkeypatch.setenv("M365_SECRET", SECRET)
    conf = Microsoft365Settings.model_validate(
        {
            "tenant_id": TENANT,
            "client_id": "6731de76-14a6-49ae-97bc-6eba6914391e",
            "client_secret_env": "M365_SECRET",
            **settings,
        }
    )
    return Microsoft365Connector("m365", conf)


class TestMicrosoft365Contract(HttpConnectorContract):
    platform = "microsoft365"
    ref = PageRef("debate", TEAM, "DHS Debate Team")
    paged_route = "members"
    fault_target = "/members"
    expected_member_ids = GRAPH_MEMBER_IDS
    malformed = [
        (f"/groups/{TEAM}?", {"displayName": "no id"}, "id"),
        ("/members", {"value": [{"id": "x", "userType": 3}]}, "value[0].userType"),
        (
            "/messages?",
            {"value": [{"id": "m1", "createdDateTime": "yesterday"}]},
            "createdDateTime",
        ),
    ]
    expected_discovered = GRAPH_GROUPS

    def make_connector(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
        return graph_connector(monkeypatch)

    def mock_platform(self, router: respx.MockRouter) -> None:
        mock_microsoft(router)


async def fetch(monkeypatch: pytest.MonkeyPatch, router: respx.MockRouter, **settings: object):
    async with graph_connector(monkeypatch, **settings) as conn:
        return await conn.fetch_page(PageRef("debate", TEAM))


async def test_snapshot_maps_the_documented_team(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_microsoft(router)
        snap = await fetch(monkeypatch, router)
        form = parse_qs(router.routes["token"].calls.last.request.content.decode())
        tenant_called = router.routes["tenant-settings"].called
    assert form == {
        "grant_type": ["client_credentials"],
        "client_id": ["6731de76-14a6-49ae-97bc-6eba6914391e"],
        "client_secret": [SECRET],
        "scope": ["https://graph.microsoft.com/.default"],
    }
    assert snap.settings.visibility == "closed"
    assert snap.settings.join_policy == "request"
    assert snap.settings.external_members_allowed is False
    assert not tenant_called, "the group's own guest setting wins"
    assert snap.settings.post_moderation is None and "post_moderation" in snap.unavailable
    roles = {m.email: m.role for m in snap.members or []}
    assert roles == {
        "owner@district.org": "owner",
        "boss@district.org": "member",
        "ana.b@students.district.org": "member",
        "pat.parent@gmail.com": "member",
    }
    assert snap.url and snap.url.startswith("https://teams.microsoft.com/l/team/")
    assert any("allowCreatePrivateChannels" in w for w in snap.warnings)
    posts = {p.id: p for p in snap.posts or []}
    assert set(posts) == {"1773400000001", "1773400500002"}, "system events are skipped"
    top, reply = posts["1773400000001"], posts["1773400500002"]
    assert top.text.startswith("Bus leaves at 7:30.") and "<p>" not in top.text
    assert top.links == ["https://district.org/debate/schedule"]
    assert top.author_id == "8ea0e38b-efb3-4757-924a-5f94061cf8c2"
    assert reply.parent_id == "1773400000001"
    assert reply.links == ["https://docs.example.com/carpool"]


@pytest.mark.parametrize(
    ("value", "visibility", "join"),
    [
        ("public", "public", "open"),
        ("Private", "closed", "request"),
        ("hiddenMembership", "secret", "invite"),
        ("HiddenMembership", "secret", "invite"),
    ],
)
async def test_visibility_mapping(
    monkeypatch: pytest.MonkeyPatch, value: str, visibility: str, join: str
) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_microsoft(router)
        router.routes["team"].side_effect = lambda r: httpx.Response(
            200, json={**load("microsoft365", "team"), "visibility": value}
        )
        snap = await fetch(monkeypatch, router)
    assert (snap.settings.visibility, snap.settings.join_policy) == (visibility, join)


async def test_unknown_visibility_is_a_warning(monkeypatch: pytest.MonkeyPatch) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_microsoft(router)
        router.routes["team"].side_effect = lambda r: httpx.Response(
            200, json={**load("microsoft365", "team"), "visibility": "unknownFutureValue"}
        )
        snap = await fetch(monkeypatch, router)
    assert snap.settings.visibility is None and snap.settings.join_policy is None
    assert "visibility: unknown value 'unknownfuturevalue'; left unset" in snap.warnings


async def test_without_message_permission_posts_are_not_applicable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    denied = {"error": {"code": "Forbidden", "message": "Missing role permissions"}}
    with respx.mock(assert_all_called=False) as router:
        mock_microsoft(router)
        router.routes["messages"].side_effect = lambda r: httpx.Response(403, json=denied)
        snap = await fetch(monkeypatch, router)
    assert snap.posts is None
    assert "ChannelMessage.Read.All" in snap.unavailable["posts"]
    assert {m.id for m in snap.members or []} == GRAPH_MEMBER_IDS


async def test_group_without_team_has_no_posts(monkeypatch: pytest.MonkeyPatch) -> None:
    group = {**load("microsoft365", "group"), "resourceProvisioningOptions": []}
    with respx.mock(assert_all_called=False) as router:
        mock_microsoft(router)
        router.routes["group"].side_effect = lambda r: httpx.Response(200, json=group)
        snap = await fetch(monkeypatch, router)
        team_called = router.routes["team"].called
    assert not team_called
    assert snap.settings.visibility == "closed", "the group's own visibility is used"
    assert snap.posts is None and "no team" in snap.unavailable["posts"]


@pytest.mark.parametrize(
    ("tenant_values", "expected"),
    [
        ([{"name": "AllowToAddGuests", "value": "true"}], True),
        ([{"name": "AllowToAddGuests", "value": "false"}], False),
        ([{"name": "AllowGuestsToAccessGroups", "value": "false"}], False),
        (None, True),
    ],
)
async def test_guest_policy_falls_back_to_the_tenant(
    monkeypatch: pytest.MonkeyPatch, tenant_values: list | None, expected: bool
) -> None:
    tenant = load("microsoft365", "tenant-settings")
    if tenant_values is None:
        tenant["value"] = []
    else:
        tenant["value"][0]["values"] = tenant_values
    with respx.mock(assert_all_called=False) as router:
        mock_microsoft(router)
        router.routes["group-settings"].side_effect = lambda r: httpx.Response(
            200, json={"value": []}
        )
        router.routes["tenant-settings"].side_effect = lambda r: httpx.Response(200, json=tenant)
        snap = await fetch(monkeypatch, router)
    assert snap.settings.external_members_allowed is expected


async def test_national_cloud_endpoints(monkeypatch: pytest.MonkeyPatch) -> None:
    base = "https://graph.microsoft.us/v1.0"
    token = "https://login.microsoftonline.us/{tenant_id}/oauth2/v2.0/token"
    with respx.mock(assert_all_called=False) as router:
        router.post(f"https://login.microsoftonline.us/{TENANT}/oauth2/v2.0/token").respond(
            json=load("microsoft365", "token")
        )
        group = router.get(f"{base}/groups/{TEAM}").respond(404, json={"error": {}})
        async with graph_connector(monkeypatch, base_url=base, token_url=token) as conn:
            with pytest.raises(Exception, match=r"graph\.microsoft\.us/v1\.0/groups/.*HTTP 404"):
                await conn.fetch_page(PageRef("debate", TEAM))
        form = parse_qs(router.calls[0].request.content.decode())
        assert group.called
    assert form["scope"] == ["https://graph.microsoft.us/.default"]


def test_http_only_for_loopback() -> None:
    base = {"tenant_id": TENANT, "client_id": "c", "client_secret_env": "X"}
    ok = Microsoft365Settings.model_validate({**base, "base_url": "http://127.0.0.1:8080/v1.0/"})
    assert ok.base_url == "http://127.0.0.1:8080/v1.0"
    with pytest.raises(ValueError, match="loopback"):
        Microsoft365Settings.model_validate({**base, "base_url": "http://graph.example.org/v1.0"})
    with pytest.raises(ValueError, match="https"):
        Microsoft365Settings.model_validate({**base, "token_url": "ftp://login.example.org/t"})


def test_graph_base_is_the_public_endpoint() -> None:
    conf = Microsoft365Settings(tenant_id=TENANT, client_id="c", client_secret_env="X")
    assert conf.base_url == GRAPH


def next_link(path: str, token: str) -> str:
    """An ``@odata.nextLink`` to page ``token`` of ``path``, as Graph writes them."""
    return f"{GRAPH}/{path}?$skiptoken={token}"


def two_pages(first: dict, second: dict) -> object:
    """A respx side effect serving ``first`` until the request carries ``$skiptoken``."""
    return lambda r: httpx.Response(200, json=second if "$skiptoken" in r.url.params else first)


async def test_channels_messages_and_owners_are_paged_to_the_end(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    other = "19:0a0b0c0d0e0f40a1a2a3a4a5a6a7a8a9@thread.tacv2"
    channels = load("microsoft365", "channels")
    extra_channel = {**channels["value"][0], "id": other, "displayName": "Tournaments"}
    messages = load("microsoft365", "messages")
    older = {**messages["value"][0], "id": "1773000000009"}
    owners = load("microsoft365", "owners")
    co_owner = load("microsoft365", "members-1")["value"][1]
    with respx.mock(assert_all_called=False) as router:
        mock_microsoft(router)
        router.routes["channels"].side_effect = two_pages(
            {**channels, "@odata.nextLink": next_link(f"teams/{TEAM}/channels", "c2")},
            {**channels, "value": [extra_channel]},
        )
        router.routes["messages"].side_effect = two_pages(
            {
                **messages,
                "@odata.nextLink": next_link(f"teams/{TEAM}/channels/{CHANNEL}/messages", "m2"),
            },
            {**messages, "value": [older]},
        )
        router.get(f"{GRAPH}/teams/{TEAM}/channels/{other}/messages").respond(json={"value": []})
        router.get(path__regex=r"/messages/1773000000009/replies$").respond(json={"value": []})
        router.routes["owners"].side_effect = two_pages(
            {**owners, "@odata.nextLink": next_link(f"groups/{TEAM}/owners", "o2")},
            {**owners, "value": [co_owner]},
        )
        snap = await fetch(monkeypatch, router)
        other_channel_read = router.get(f"{GRAPH}/teams/{TEAM}/channels/{other}/messages").called
    assert other_channel_read, "the second page of channels was not read"
    assert {"1773400000001", "1773400500002", "1773000000009"} <= {p.id for p in snap.posts or []}
    roles = {m.email: m.role for m in snap.members or []}
    assert roles["boss@district.org"] == "owner", "the second page of owners was not read"


async def test_guest_policy_tenant_false_overrides_group_true(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group = load("microsoft365", "group-settings")
    group["value"][0]["values"] = [{"name": "AllowToAddGuests", "value": "true"}]
    tenant = load("microsoft365", "tenant-settings")
    tenant["value"][0]["values"] = [{"name": "AllowGuestsToAccessGroups", "value": "False"}]
    with respx.mock(assert_all_called=False) as router:
        mock_microsoft(router)
        router.routes["group-settings"].side_effect = lambda r: httpx.Response(200, json=group)
        router.routes["tenant-settings"].side_effect = lambda r: httpx.Response(200, json=tenant)
        snap = await fetch(monkeypatch, router)
    assert snap.settings.external_members_allowed is False


async def test_tenant_policy_is_read_once_and_warned_on_every_page(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    no_group_setting = httpx.Response(200, json={"value": []})
    with respx.mock(assert_all_called=False) as router:
        mock_microsoft(router)
        router.routes["group-settings"].side_effect = lambda r: no_group_setting
        router.routes["tenant-settings"].side_effect = lambda r: httpx.Response(
            403, json={"error": {"code": "Authorization_RequestDenied"}}
        )
        async with graph_connector(monkeypatch) as conn:
            snaps = await asyncio.gather(
                *(conn.fetch_page(PageRef(f"debate-{n}", TEAM)) for n in range(3))
            )
        tenant_calls = router.routes["tenant-settings"].call_count
    assert tenant_calls == 1
    for snap in snaps:
        assert snap.settings.external_members_allowed is None
        assert any("guest policy unknown" in w for w in snap.warnings)


async def test_guest_without_mail_gets_no_tenant_looking_address(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    members = load("microsoft365", "members-2")
    members["value"][1]["mail"] = None
    with respx.mock(assert_all_called=False) as router:
        mock_microsoft(router)
        router.routes["members"].side_effect = two_pages(load("microsoft365", "members-1"), members)
        snap = await fetch(monkeypatch, router)
    guest = next(m for m in snap.members or [] if m.id == "c1d2e3f4-5a6b-4c7d-8e9f-a0b1c2d3e4f5")
    assert guest.email is None and guest.name == "Pat Parent"
    ana = next(m for m in snap.members or [] if m.name == "Ana B.")
    assert ana.email == "ana.b@students.district.org"


async def test_owners_unable_to_delete_messages_is_warned(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    team = load("microsoft365", "team")
    team["messagingSettings"]["allowOwnerDeleteMessages"] = False
    with respx.mock(assert_all_called=False) as router:
        mock_microsoft(router)
        router.routes["team"].side_effect = lambda r: httpx.Response(200, json=team)
        snap = await fetch(monkeypatch, router)
    assert any("allowOwnerDeleteMessages is false" in w for w in snap.warnings)
    assert snap.posts, "the team's messages are still read"


async def test_replies_under_a_deleted_root_are_read(monkeypatch: pytest.MonkeyPatch) -> None:
    messages = load("microsoft365", "messages")
    root = messages["value"][0]
    root.update(
        deletedDateTime="2026-11-19T08:00:00.000Z",
        lastModifiedDateTime="2026-11-19T08:00:00.000Z",
        body={"contentType": "text", "content": ""},
    )
    replies = load("microsoft365", "replies")
    deleted_reply = {
        **replies["value"][0],
        "id": "1773400600003",
        "deletedDateTime": "2026-11-19T08:05:00.000Z",
        "body": {"contentType": "text", "content": ""},
    }
    replies["value"].append(deleted_reply)
    with respx.mock(assert_all_called=False) as router:
        mock_microsoft(router)
        router.routes["messages"].side_effect = lambda r: httpx.Response(200, json=messages)
        router.routes["replies"].side_effect = lambda r: httpx.Response(200, json=replies)
        snap = await fetch(monkeypatch, router)
        replies_read = router.routes["replies"].called
    assert replies_read, "the deleted root's replies were never requested"
    posts = {p.id: p for p in snap.posts or []}
    assert set(posts) == {"1773400500002"}, "only the live reply: not the deleted root or reply"
    reply = posts["1773400500002"]
    assert reply.parent_id == "1773400000001"
    assert reply.links == ["https://docs.example.com/carpool"]


async def test_platform_module_serves_the_sample_page(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(auditor.connectors.microsoft365, "clock", lambda: NOW)
    for name, value in microsoft365_platform.ENV.items():
        monkeypatch.setenv(name, value)
    settings = Microsoft365Settings.model_validate(microsoft365_platform.SETTINGS)
    with respx.mock(assert_all_called=False, assert_all_mocked=True) as router:
        microsoft365_platform.mock_microsoft365(router)
        async with Microsoft365Connector("m365", settings) as conn:
            snap = await conn.fetch_page(microsoft365_platform.PAGES[0])
    roles = {m.email: m.role for m in snap.members or []}
    assert roles[microsoft365_platform.OWNER] == "owner"
    assert roles[microsoft365_platform.SUPERVISOR] == "member"
    assert {"ana.b@students.district.org", "leo.m@students.district.org"} <= set(roles)
    posts = {p.id: p for p in snap.posts or []}
    assert len(posts) == 6 and "1773500000002" not in posts, "the deleted root has no post"
    under_deleted = posts["1773500900005"]
    assert under_deleted.parent_id == "1773500000002"
    assert under_deleted.links == ["https://www.etsy.com/shop/PatsTeeShop"]
    assert "Venmo @Pat-Parent-22" in under_deleted.text
    assert "203-555-0171" in posts["1773601200006"].text
    assert snap.coverage == {"posts": "posts of the last 30 days"} and snap.limits == {}


# --- what was read, and where it was cut (defect 5 of the hardening issue) ---------------

PHONE_POST = "Ana's cell is 203-555-0147: text her about Tuesday's IEP meeting."
CUT = "channel General: only the newest 100 of its messages were read (max_messages_per_channel)"


def graph_time(when: datetime) -> str:
    """A timestamp as Graph writes it (``2026-11-18T15:02:11.395Z``)."""
    return when.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def channel_messages(count: int, now: datetime, texts: dict[int, str]) -> list[dict]:
    """``count`` top-level messages of the General channel, newest first, one a minute
    back from ``now``; message ``n`` (1 = the newest) says ``texts[n]`` if given."""
    template = load("microsoft365", "messages")["value"][0]
    out = []
    for n in range(1, count + 1):
        when = graph_time(now - timedelta(minutes=n))
        text = texts.get(n, f"Practice note {n}.")
        out.append(
            {
                **template,
                "id": str(1775000000000 + count - n),
                "etag": str(1775000000000 + count - n),
                "createdDateTime": when,
                "lastModifiedDateTime": when,
                "body": {"contentType": "html", "content": f"<p>{text}</p>"},
            }
        )
    return out


def graph_pages(messages: list[dict]) -> object:
    """A respx side effect listing ``messages`` as Graph does: ``$top`` a page, the rest
    behind an ``@odata.nextLink`` carrying a ``$skiptoken``."""
    path = f"teams/{TEAM}/channels/{CHANNEL}/messages"

    def respond(request: httpx.Request) -> httpx.Response:
        params = request.url.params
        start = int(params.get("$skiptoken", "0"))
        top = int(params.get("$top", "20"))
        body: dict = {"value": messages[start : start + top]}
        if start + top < len(messages):
            body["@odata.nextLink"] = f"{next_link(path, str(start + top))}&$top={top}"
        return httpx.Response(200, json=body)

    return respond


async def fetch_channel(
    monkeypatch: pytest.MonkeyPatch, messages: list[dict], **settings: object
) -> object:
    """The team's snapshot with ``messages`` in its General channel and no replies."""
    monkeypatch.setenv("M365_SECRET", SECRET)
    conf = Microsoft365Settings.model_validate(
        {
            "tenant_id": TENANT,
            "client_id": "6731de76-14a6-49ae-97bc-6eba6914391e",
            "client_secret_env": "M365_SECRET",
            **settings,
        }
    )
    with respx.mock(assert_all_called=False) as router:
        mock_microsoft(router)
        router.routes["messages"].side_effect = graph_pages(messages)
        router.get(path__regex=r"/messages/[0-9]+/replies$").respond(json={"value": []})
        async with Microsoft365Connector("m365", conf) as conn:
            return await conn.fetch_page(PageRef("debate", TEAM))


async def test_a_channel_cut_at_the_cap_makes_ds6_warn_not_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The issue's case: 150 messages, the cap at 100, the 141st gives a student's phone
    number and IEP. Before, DS6 said "PASS: None of the 100 post(s) discloses..."."""
    now = datetime.now(UTC)
    messages = channel_messages(150, now, {141: PHONE_POST})
    snap = await fetch_channel(monkeypatch, messages, max_messages_per_channel=100)
    assert len(snap.posts or []) == 100
    assert snap.limits == {"posts": CUT}
    ds6 = {r.rule: r for r in catalog.evaluate(snap, ctx())}["DS6.confidentiality"]
    assert ds6.status == Status.WARN, ds6.message
    assert CUT in ds6.message

    whole = await fetch_channel(monkeypatch, messages, max_messages_per_channel=200)
    assert whole.limits == {}
    ds6 = {r.rule: r for r in catalog.evaluate(whole, ctx())}["DS6.confidentiality"]
    assert ds6.status == Status.FAIL, "read whole, the phone number is found"


async def test_a_channel_exactly_at_the_cap_is_not_cut(monkeypatch: pytest.MonkeyPatch) -> None:
    snap = await fetch_channel(
        monkeypatch, channel_messages(100, datetime.now(UTC), {}), max_messages_per_channel=100
    )
    assert len(snap.posts or []) == 100 and snap.limits == {}


async def test_the_lookback_window_bounds_the_messages_and_is_the_posts_coverage(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    now = datetime.now(UTC)
    recent = channel_messages(3, now, {})
    old = channel_messages(60, now - timedelta(days=40), {})
    snap = await fetch_channel(monkeypatch, recent + old, max_messages_per_channel=2)
    assert [p.text for p in snap.posts or []] == ["Practice note 1.", "Practice note 2."]
    assert snap.limits == {"posts": CUT.replace("100", "2")}
    assert snap.coverage == {"posts": "posts of the last 30 days"}

    snap = await fetch_channel(monkeypatch, recent + old, lookback_days=7)
    assert len(snap.posts or []) == 3 and snap.limits == {}
    assert snap.coverage == {"posts": "posts of the last 7 days"}

    snap = await fetch_channel(monkeypatch, recent + old, lookback_days=60)
    assert len(snap.posts or []) == 63


async def test_a_team_graph_cannot_find_is_a_page_error_not_a_group_without_team(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A 404 on /teams/{id} for a group that lists a team once read as "has no team"."""
    missing = {"error": {"code": "NotFound", "message": "No team found with Group Id"}}
    with respx.mock(assert_all_called=False) as router:
        mock_microsoft(router)
        router.routes["team"].side_effect = lambda r: httpx.Response(404, json=missing)
        async with graph_connector(monkeypatch) as conn:
            with pytest.raises(ConnectorError) as caught:
                await conn.fetch_page(PageRef("debate", TEAM))
    message = str(caught.value)
    assert message.startswith(f"microsoft365: GET {GRAPH}/teams/{TEAM}: HTTP 404: the group ")
    assert "lists a team" in message and "no team" not in message


async def test_a_member_group_is_a_limit_of_members_and_a_device_a_warning(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    members = load("microsoft365", "members-2")
    members["value"] += [
        {
            "@odata.type": "#microsoft.graph.group",
            "id": "5e6f7a8b-9c0d-4e1f-a2b3-c4d5e6f7a8b9",
            "displayName": "Debate Parents",
            "mail": "debate-parents@district.org",
        },
        {"@odata.type": "#microsoft.graph.device", "id": "d0e1f2a3-b4c5-4d6e-8f7a-9b0c1d2e3f4a"},
    ]
    with respx.mock(assert_all_called=False) as router:
        mock_microsoft(router)
        router.routes["members"].side_effect = two_pages(load("microsoft365", "members-1"), members)
        snap = await fetch(monkeypatch, router)
    assert snap.limits == {
        "members": "member Debate Parents is a group whose members are not listed"
    }
    assert "member d0e1f2a3-b4c5-4d6e-8f7a-9b0c1d2e3f4a is a device, not a person" in snap.warnings
    staff = {r.rule: r for r in catalog.evaluate(snap, ctx())}["DS2.staff-admins"]
    assert staff.status == Status.WARN and "Debate Parents" in staff.message


async def test_replies_expanded_inline_cost_no_request_of_their_own(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Channel messages are listed with ``$expand=replies``: Graph returns up to 1,000
    replies inline, so a thread costs a replies request only past that, through its
    ``replies@odata.nextLink``."""
    now = datetime.now(UTC)
    threads = channel_messages(3, now, {})
    reply = {**threads[0], "replyToId": threads[0]["id"]}
    replies_path = f"teams/{TEAM}/channels/{CHANNEL}/messages/{threads[0]['id']}/replies"
    threads[0] = {
        **threads[0],
        "replies": [{**reply, "id": "r1", "body": {"contentType": "text", "content": "One"}}],
        "replies@odata.nextLink": next_link(replies_path, "2"),
    }
    threads[1] = {**threads[1], "replies": []}
    threads[2] = {**threads[2], "replies": []}
    monkeypatch.setenv("M365_SECRET", SECRET)
    conf = Microsoft365Settings.model_validate(
        {"tenant_id": TENANT, "client_id": "c", "client_secret_env": "M365_SECRET"}
    )
    with respx.mock(assert_all_called=False) as router:
        mock_microsoft(router)
        router.routes["messages"].side_effect = graph_pages(threads)
        later = router.get(path__regex=r"/replies$").respond(
            json={
                "value": [{**reply, "id": "r2", "body": {"contentType": "text", "content": "Two"}}]
            }
        )
        async with Microsoft365Connector("m365", conf) as conn:
            snap = await conn.fetch_page(PageRef("debate", TEAM))
        listed = [c.request for c in router.routes["messages"].calls]
    assert all(r.url.params.get("$expand") == "replies" for r in listed)
    assert later.call_count == 1  # only the rest of the one thread past its inline replies
    assert later.calls[0].request.url.params.get("$skiptoken") == "2"
    assert [p.text for p in snap.posts or [] if p.parent_id] == ["One", "Two"]


async def test_posts_link_to_the_message_where_graph_gives_its_web_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with respx.mock(assert_all_called=False) as router:
        mock_microsoft(router)
        snapshot = await fetch(monkeypatch, router)
    documented = load("microsoft365", "messages")["value"]
    urls = {m["id"]: m["webUrl"] for m in documented if m.get("webUrl")}
    assert urls
    posts = {p.id: p for p in snapshot.posts or []}
    for message_id, url in urls.items():
        assert posts[message_id].url == url
