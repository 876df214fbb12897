"""The ``microsoft365`` connector: Microsoft 365 groups and their Teams through Microsoft
Graph, with an app's client-credentials token.

Reads the group (visibility), its owners and members (``@odata.nextLink`` paging), the
group's guest setting (falling back to the tenant's), the team's member, guest and
messaging settings, and channel messages with replies of the last ``lookback_days`` when
the tenant granted ``ChannelMessage.Read.All`` (otherwise ``posts`` is null with the
reason). National clouds (GCC High, DoD) and simulators set ``base_url`` and ``token_url``.

Mapping (also in docs/connectors/microsoft365.md):

========================  ===============================================================
snapshot field            Graph value
========================  ===============================================================
visibility, join_policy   team (else group) ``visibility``, case-insensitive: public ->
                          ``public``/``open``; private -> ``closed``/``request``;
                          hiddenMembership -> ``secret``/``invite``
post_moderation           null: channel moderation is only in Graph beta
external_members_allowed  ``false`` when the group's ``Group.Unified.Guest``
                          AllowToAddGuests or the tenant's ``Group.Unified``
                          AllowToAddGuests / AllowGuestsToAccessGroups is ``false``;
                          otherwise ``true`` (Microsoft's default with no setting)
invite_links              ``[]``: Graph exposes no join links or team codes
members                   owners -> ``owner``, other members -> ``member``; email is
                          ``mail``, else a UPN that is not a guest's ``#EXT#`` alias;
                          other non-user members (devices, apps) warned
posts                     channel messages and replies (``messageType`` message, not
                          deleted; the replies under a deleted message are still read)
                          posted or changed within ``lookback_days``, the newest
                          ``max_messages_per_channel`` threads of each channel; text from
                          the HTML body, links from hrefs and text
coverage, limits          ``posts``: the look-back window; a channel cut at
                          ``max_messages_per_channel``. ``members``: member groups whose
                          own members are not listed
warnings                  memberSettings.allowCreatePrivateChannels, guestSettings
                          .allowCreateUpdateChannels, messagingSettings
                          .allowOwnerDeleteMessages false, isArchived
========================  ===============================================================
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from urllib.parse import quote, urlsplit

from pydantic import AwareDatetime, Field, PositiveInt, field_validator

from auditor.config import EnvName
from auditor.connectors.base import (
    ConnectorError,
    DiscoveredGroup,
    PageRef,
    load_remediation,
    note_limit,
)
from auditor.connectors.cloud import (
    CloudConnector,
    CloudConnectorSettings,
    PlatformModel,
    map_enum,
    read_secret,
)
from auditor.connectors.html_text import html_text, with_urls
from auditor.connectors.http import HttpStatusError, OAuth2, safe_url
from auditor.snapshot import Member, PageSnapshot, Post, Settings

PLATFORM = "microsoft365"
USER_FIELDS = "id,displayName,mail,userPrincipalName,userType"
USER_TYPE = "#microsoft.graph.user"
GROUP_TYPE = "#microsoft.graph.group"
MESSAGES_PAGE = 50
VISIBILITY = {
    "public": ("public", "open"),
    "private": ("closed", "request"),
    "hiddenmembership": ("secret", "invite"),
}
BOOL = {"true": True, "false": False}
NO_MODERATION_SETTING = (
    "Microsoft Graph v1.0 does not expose channel moderation (who may start posts); "
    "check it in the Teams client."
)
NO_MODERATION = "Microsoft Graph reports no moderator activity or reported messages."
NO_INVITES = "Microsoft 365 groups have no join links readable through Graph."

clock: Callable[[], datetime] = partial(datetime.now, UTC)
"""The current time; tests fix it to keep the look-back window on their fixtures."""


class Microsoft365Settings(CloudConnectorSettings):
    """Settings of the ``microsoft365`` connector."""

    base_url: str = Field(
        "https://graph.microsoft.com/v1.0", description="Microsoft Graph base URL."
    )
    token_url: str = Field(
        "https://login.microsoftonline.com/{tenant_id}/oauth2/v2.0/token",
        description="Token endpoint; {tenant_id} is replaced by tenant_id.",
    )
    tenant_id: str = Field(description="Entra ID tenant id (GUID) or primary domain.")
    client_id: str = Field(description="Application (client) id of the app registration.")
    client_secret_env: EnvName = Field(
        description="Environment variable holding the app's client secret."
    )
    scope: str | None = Field(
        None, description="Token scope (default: the base URL's host + '/.default')."
    )
    read_messages: bool = Field(
        True, description="Read channel messages (needs ChannelMessage.Read.All)."
    )
    lookback_days: PositiveInt = Field(
        30, description="Read channel messages posted or changed in the last N days."
    )
    max_messages_per_channel: PositiveInt = Field(
        100,
        description="Most recent top-level messages read per channel within the look-back "
        "window; a channel cut short is named in the snapshot's limits.",
    )

    @field_validator("tenant_id")
    @classmethod
    def _tenant(cls, value: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9.-]*", value):
            raise ValueError("must be a tenant GUID or domain name")
        return value


class GraphGroup(PlatformModel):
    """Graph ``group`` resource (the fields used)."""

    id: str
    display_name: str | None = Field(None, alias="displayName")
    description: str | None = None
    visibility: str | None = None
    mail: str | None = None
    created: AwareDatetime | None = Field(None, alias="createdDateTime")
    provisioning: list[str] = Field([], alias="resourceProvisioningOptions")


class GraphGroupsPage(PlatformModel):
    """A page of ``GET /groups``."""

    value: list[GraphGroup]


class DirectoryObject(PlatformModel):
    """A member or owner: usually a user, sometimes a group, device or app."""

    odata_type: str | None = Field(None, alias="@odata.type")
    id: str
    display_name: str | None = Field(None, alias="displayName")
    mail: str | None = None
    user_principal_name: str | None = Field(None, alias="userPrincipalName")
    user_type: str | None = Field(None, alias="userType")


class DirectoryObjectsPage(PlatformModel):
    """A page of ``/members`` or ``/owners``."""

    value: list[DirectoryObject]


class SettingValue(PlatformModel):
    """One ``name``/``value`` pair of a directory setting."""

    name: str
    value: str | None = None


class GroupSetting(PlatformModel):
    """A ``groupSetting`` object (template values)."""

    display_name: str | None = Field(None, alias="displayName")
    values: list[SettingValue] = []

    def get(self, name: str) -> str | None:
        """The value named ``name`` (case-insensitive), if present."""
        for item in self.values:
            if item.name.lower() == name.lower():
                return item.value
        return None


class GroupSettingsPage(PlatformModel):
    """``GET /groups/{id}/settings`` and ``GET /groupSettings``."""

    value: list[GroupSetting]


class TeamMemberSettings(PlatformModel):
    """``teamMemberSettings`` (the field used)."""

    allow_create_private_channels: bool | None = Field(None, alias="allowCreatePrivateChannels")


class TeamGuestSettings(PlatformModel):
    """``teamGuestSettings``."""

    allow_create_update_channels: bool | None = Field(None, alias="allowCreateUpdateChannels")


class TeamMessagingSettings(PlatformModel):
    """``teamMessagingSettings`` (the field used)."""

    allow_owner_delete_messages: bool | None = Field(None, alias="allowOwnerDeleteMessages")


class Team(PlatformModel):
    """Graph ``team`` resource (the fields used)."""

    visibility: str | None = None
    is_archived: bool | None = Field(None, alias="isArchived")
    web_url: str | None = Field(None, alias="webUrl")
    member_settings: TeamMemberSettings | None = Field(None, alias="memberSettings")
    guest_settings: TeamGuestSettings | None = Field(None, alias="guestSettings")
    messaging_settings: TeamMessagingSettings | None = Field(None, alias="messagingSettings")


class Channel(PlatformModel):
    """A channel of a team."""

    id: str
    display_name: str | None = Field(None, alias="displayName")


class ChannelsPage(PlatformModel):
    """``GET /teams/{id}/channels``."""

    value: list[Channel]


class Identity(PlatformModel):
    """An ``identity`` (user or application) in a message's ``from``."""

    id: str | None = None
    display_name: str | None = Field(None, alias="displayName")


class IdentitySet(PlatformModel):
    """A message's ``from``."""

    user: Identity | None = None
    application: Identity | None = None


class ItemBody(PlatformModel):
    """A message body: ``contentType`` text or html."""

    content_type: str | None = Field(None, alias="contentType")
    content: str | None = None


class ChatMessage(PlatformModel):
    """Graph ``chatMessage`` (the fields used)."""

    id: str
    reply_to_id: str | None = Field(None, alias="replyToId")
    message_type: str | None = Field(None, alias="messageType")
    created: AwareDatetime | None = Field(None, alias="createdDateTime")
    modified: AwareDatetime | None = Field(None, alias="lastModifiedDateTime")
    deleted: AwareDatetime | None = Field(None, alias="deletedDateTime")
    sender: IdentitySet | None = Field(None, alias="from")
    body: ItemBody | None = None
    # With $expand=replies: up to 1,000 replies inline, and a link to the rest.
    replies: list[ChatMessage] | None = None
    replies_next: str | None = Field(None, alias="replies@odata.nextLink")


class MessagesPage(PlatformModel):
    """A page of channel messages or replies."""

    value: list[ChatMessage]


class Microsoft365Connector(CloudConnector):
    """Microsoft 365 groups and Teams through Microsoft Graph."""

    type = PLATFORM
    platform = PLATFORM
    remediation = load_remediation(__package__, "remediation/microsoft365.toml")
    summary = "Microsoft 365 groups and Teams (Microsoft Graph, client credentials)"
    Settings = Microsoft365Settings
    settings: Microsoft365Settings

    def __init__(
        self, name: str, settings: Microsoft365Settings, base_dir: Path | None = None
    ) -> None:
        super().__init__(name, settings, base_dir)
        self._tenant_lock = asyncio.Lock()
        self._tenant_policy: tuple[bool | None, list[str]] | None = None

    def oauth(self) -> OAuth2:
        """Client-credentials grant for the app registration."""
        s = self.settings
        secret = read_secret(PLATFORM, "client_secret_env", s.client_secret_env)
        parts = urlsplit(s.base_url)
        scope = s.scope or f"{parts.scheme}://{parts.netloc}/.default"
        form = {
            "grant_type": "client_credentials",
            "client_id": s.client_id,
            "client_secret": secret,
            "scope": scope,
        }
        return OAuth2(s.token_url.replace("{tenant_id}", quote(s.tenant_id)), lambda: form)

    async def fetch_page(self, ref: PageRef) -> PageSnapshot:
        gid = quote(ref.external_id, safe="")
        raw = await self.http.get_json(
            f"groups/{gid}",
            {
                "$select": "id,displayName,description,visibility,mail,createdDateTime,"
                "resourceProvisioningOptions"
            },
        )
        group = self.parse(GraphGroup, raw, "group")
        now = clock()
        warnings: list[str] = []
        unavailable: dict[str, str] = {
            "post_moderation": NO_MODERATION_SETTING,
            "moderation": NO_MODERATION,
            "invite_links": NO_INVITES,
        }
        limits: dict[str, str] = {}
        coverage: dict[str, str] = {}
        owners = await self._objects(f"groups/{gid}/owners", "group owners")
        members = await self._objects(f"groups/{gid}/members", "group members")
        team = await self._team(gid) if "Team" in group.provisioning else None
        visibility_raw = (team.visibility if team else None) or group.visibility
        mapped = map_enum(
            "visibility",
            visibility_raw.lower() if visibility_raw else None,
            VISIBILITY,
            warnings,
        )
        if team is not None:
            warnings.extend(team_warnings(team))
        posts: list[Post] | None = None
        if team is None:
            unavailable["posts"] = "This Microsoft 365 group has no team, so no channel messages."
        elif not self.settings.read_messages:
            unavailable["posts"] = "Reading channel messages is turned off (read_messages)."
        else:
            days = self.settings.lookback_days
            posts = await self._posts(gid, now - timedelta(days=days), unavailable, limits)
            if posts is not None:
                coverage["posts"] = f"posts of the last {days} days"
        return PageSnapshot(
            platform=PLATFORM,
            external_id=ref.external_id,
            name=group.display_name,
            url=team.web_url if team else None,
            description=group.description or None,
            kind="group",
            created_at=group.created,
            fetched_at=now,
            settings=Settings(
                visibility=mapped[0] if mapped else None,
                join_policy=mapped[1] if mapped else None,
                post_moderation=None,
                invite_links=[],
                external_members_allowed=await self._guests_allowed(gid, warnings),
            ),
            members=merge_members(owners, members, warnings, limits),
            posts=posts,
            moderation=None,
            unavailable=unavailable,
            coverage=coverage,
            limits=limits,
            warnings=warnings,
        )

    async def _objects(self, path: str, what: str) -> list[DirectoryObject]:
        found: list[DirectoryObject] = []
        params = {"$select": USER_FIELDS, "$top": 999}
        async for raw in self.http.pages_next_link(path, params):
            found.extend(self.parse(DirectoryObjectsPage, raw, what).value)
        return found

    async def _team(self, gid: str) -> Team:
        """The team of a group that lists one (``resourceProvisioningOptions``); Graph not
        finding it is the page's error, never a group "without a team"."""
        try:
            raw = await self.http.get_json(f"teams/{gid}")
        except HttpStatusError as exc:
            if exc.status != 404:
                raise
            raise ConnectorError(
                f"{PLATFORM}: GET {safe_url(self.http.url(f'teams/{gid}'))}: HTTP 404: the "
                "group lists a team (resourceProvisioningOptions) but Microsoft Graph finds "
                "none (deleted, or still being created?); the team's settings and channel "
                "messages could not be read"
            ) from None
        return self.parse(Team, raw, "team")

    async def _guests_allowed(self, gid: str, warnings: list[str]) -> bool | None:
        """Whether guests can be added: the group's own setting, then the tenant's."""
        raw = await self.http.get_json(f"groups/{gid}/settings")
        for setting in self.parse(GroupSettingsPage, raw, "group settings").value:
            value = setting.get("AllowToAddGuests")
            if value is not None:
                allowed = map_enum("AllowToAddGuests", value.lower(), BOOL, warnings)
                if allowed is not True:  # false, or unknown (warned): the tenant cannot widen it
                    return allowed
        tenant, notes = await self._tenant_guest_policy()
        warnings.extend(notes)
        return tenant

    async def _tenant_guest_policy(self) -> tuple[bool | None, list[str]]:
        """The tenant-wide guest policy and its warnings, read once per connector (pages
        fetched at the same time wait for the first read)."""
        async with self._tenant_lock:
            if self._tenant_policy is None:
                self._tenant_policy = await self._read_tenant_guest_policy()
            return self._tenant_policy

    async def _read_tenant_guest_policy(self) -> tuple[bool | None, list[str]]:
        try:
            raw = await self.http.get_json("groupSettings")
        except HttpStatusError as exc:
            if exc.status != 403:
                raise
            return None, [
                "tenant group settings unreadable (needs Directory.Read.All): guest policy unknown"
            ]
        notes: list[str] = []
        for setting in self.parse(GroupSettingsPage, raw, "tenant group settings").value:
            for name in ("AllowToAddGuests", "AllowGuestsToAccessGroups"):
                value = setting.get(name)
                if value is not None and map_enum(name, value.lower(), BOOL, notes) is False:
                    return False, notes
        return True, notes  # Microsoft's default when no setting object says otherwise

    async def _posts(
        self, gid: str, cutoff: datetime, unavailable: dict[str, str], limits: dict[str, str]
    ) -> list[Post] | None:
        """Every channel's posts since ``cutoff``; None (with the reason) when refused."""
        try:
            channels: list[Channel] = []
            async for raw in self.http.pages_next_link(f"teams/{gid}/channels"):
                channels.extend(self.parse(ChannelsPage, raw, "channels").value)
            posts: list[Post] = []
            for channel in channels:
                posts.extend(await self._channel_posts(gid, channel, cutoff, limits))
        except HttpStatusError as exc:
            if exc.status != 403:
                raise
            unavailable["posts"] = (
                "Microsoft Graph refused to list the team's channels or read their messages "
                "(HTTP 403): grant the app Channel.ReadBasic.All and ChannelMessage.Read.All "
                "(or resource-specific consent)."
            )
            return None
        return posts

    async def _channel_posts(
        self, gid: str, channel: Channel, cutoff: datetime, limits: dict[str, str]
    ) -> list[Post]:
        """The channel's threads posted or changed since ``cutoff``, the newest
        ``max_messages_per_channel`` (a cut is recorded in ``limits``), with their replies
        of the window. Graph lists the most recently changed first and cannot filter by
        date, so paging stops at a page of older threads."""
        base = f"teams/{gid}/channels/{quote(channel.id, safe='')}/messages"
        cap = self.settings.max_messages_per_channel
        threads: list[ChatMessage] = []
        listing = {"$top": min(MESSAGES_PAGE, cap), "$expand": "replies"}
        async for raw in self.http.pages_next_link(base, listing):
            page = self.parse(MessagesPage, raw, "channel messages").value
            listed = [m for m in page if is_thread(m)]
            recent = [m for m in listed if within(m, cutoff)]
            if len(threads) + len(recent) > cap:
                threads += recent[: cap - len(threads)]
                note_limit(
                    limits,
                    "posts",
                    f"channel {channel.display_name or channel.id}: only the newest {cap} of "
                    "its messages were read (max_messages_per_channel)",
                )
                break
            threads += recent
            if listed and not recent:
                break
        posts: list[Post] = []
        for message in threads:
            if is_post(message):  # a deleted root has no body, but its replies stay readable
                posts.append(to_post(message, None))
            async for replies in self._replies(base, message):
                posts.extend(
                    to_post(r, message.id) for r in replies if is_post(r) and within(r, cutoff)
                )
        return posts

    async def _replies(self, base: str, message: ChatMessage) -> AsyncIterator[list[ChatMessage]]:
        """A thread's replies: those Graph put inline ($expand=replies) and, past its
        1,000, the rest from ``replies@odata.nextLink``; where Graph did not expand them,
        from the thread's replies listing."""
        if message.replies is not None:
            yield message.replies
            if message.replies_next is None:
                return
            path, params = message.replies_next, None
        else:
            path, params = f"{base}/{quote(message.id, safe='')}/replies", {"$top": MESSAGES_PAGE}
        async for raw in self.http.pages_next_link(path, params):
            yield self.parse(MessagesPage, raw, "message replies").value

    async def discover(self) -> AsyncIterator[DiscoveredGroup]:
        params = {
            "$filter": "groupTypes/any(c:c eq 'Unified')",
            "$select": "id,displayName,mail,visibility",
            "$top": 999,
        }
        async for raw in self.http.pages_next_link("groups", params):
            for g in self.parse(GraphGroupsPage, raw, "groups list").value:
                extra = {"mail": g.mail} if g.mail else {}
                yield DiscoveredGroup(g.id, g.display_name or g.mail or g.id, None, extra)


def team_warnings(team: Team) -> list[str]:
    """Team settings that matter to the policy but have no snapshot field."""
    out: list[str] = []
    if team.member_settings and team.member_settings.allow_create_private_channels:
        out.append(
            "memberSettings.allowCreatePrivateChannels is true: members can create private "
            "channels the owner and supervisor cannot read"
        )
    if team.guest_settings and team.guest_settings.allow_create_update_channels:
        out.append("guestSettings.allowCreateUpdateChannels is true: guests can create channels")
    if team.messaging_settings and team.messaging_settings.allow_owner_delete_messages is False:
        out.append(
            "messagingSettings.allowOwnerDeleteMessages is false: owners cannot remove "
            "members' messages"
        )
    if team.is_archived:
        out.append("the team is archived (read-only)")
    return out


def merge_members(
    owners: list[DirectoryObject],
    members: list[DirectoryObject],
    warnings: list[str],
    limits: dict[str, str],
) -> list[Member]:
    """Owners (role owner) then the other members; a member group (whose people are not
    listed) is a limit of ``members``, other non-user objects are warned about."""
    out: dict[str, Member] = {}
    for role, objects in (("owner", owners), ("member", members)):
        for obj in objects:
            if obj.id in out:
                continue
            who = obj.display_name or obj.id
            if obj.odata_type == GROUP_TYPE:
                note_limit(
                    limits, "members", f"{role} {who} is a group whose members are not listed"
                )
            elif obj.odata_type not in (None, USER_TYPE):
                kind = obj.odata_type.rsplit(".", 1)[-1]
                warnings.append(f"{role} {who} is a {kind}, not a person")
            out[obj.id] = Member(
                id=obj.id,
                name=obj.display_name,
                email=obj.mail or usable_upn(obj.user_principal_name),
                role="owner" if role == "owner" else "member",
                state="active",
            )
    return list(out.values())


def usable_upn(upn: str | None) -> str | None:
    """A user principal name that is a real address: a guest's ``name_domain#EXT#@tenant``
    alias is not (it would look like an account of the district's own tenant)."""
    return None if upn is None or "#EXT#" in upn.upper() else upn


def within(message: ChatMessage, cutoff: datetime) -> bool:
    """Posted or last changed since ``cutoff`` (undated: yes, so nothing is left out
    unseen)."""
    dates = [d for d in (message.created, message.modified) if d is not None]
    return not dates or max(dates) >= cutoff


def is_thread(message: ChatMessage) -> bool:
    """A user message (not a system event), deleted or not: its replies are people's posts."""
    return message.message_type in (None, "message")


def is_post(message: ChatMessage) -> bool:
    """A real, undeleted user message (not a system event)."""
    return is_thread(message) and message.deleted is None


def to_post(message: ChatMessage, parent_id: str | None) -> Post:
    """A Graph chat message as a snapshot post; HTML is reduced to text and links."""
    body = message.body or ItemBody()
    content = body.content or ""
    if (body.content_type or "").lower() == "html":
        text, links = html_text(content)
    else:
        text, links = content, with_urls(content)
    sender = message.sender
    author = sender.user.id if sender and sender.user else None
    return Post(
        id=message.id,
        author_id=author,
        created_at=message.created,
        text=text.strip(),
        links=links,
        parent_id=parent_id or message.reply_to_id,
    )
