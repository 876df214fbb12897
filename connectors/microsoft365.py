"""The ``microsoft365`` connector: Microsoft 365 groups and their Teams through Microsoft
Graph, with an app's client-credentials token.

Reads the group (visibility), its owners and members (``@odata.nextLink`` paging), the
group's guest setting (falling back to the tenant's), the team's member, guest and
messaging settings, and channel messages with replies of the last ``lookback_days`` when
the tenant granted ``ChannelMessage.Read.All`` (otherwise ``posts`` is null with the
reason). National clouds (GCC High, DoD) and simulators set ``base_url`` and ``token_url``.

``auditor run`` fetches incrementally (:meth:`Microsoft365Connector.fetch_page_changed`):
the group's reads in the ``$batch`` calls the pages fetched at the same time share,
channel messages through Graph delta links, merged into the reply chains kept from the
last run; a page whose answers prove it unchanged is not even built
(docs/connectors/microsoft365.md, *Requests and incremental runs*).

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
import hashlib
import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, Literal
from urllib.parse import parse_qsl, quote, urlencode, urlsplit, urlunsplit

from pydantic import AwareDatetime, Field, PositiveInt, ValidationError, field_validator
from pydantic_core import to_json

from auditor.config import EnvName
from auditor.connectors.base import (
    ConnectorError,
    DiscoveredGroup,
    Fetched,
    PageRef,
    note_limit,
    shipped_remediation,
    snapshot_digest,
)
from auditor.connectors.cloud import (
    CloudConnector,
    CloudConnectorSettings,
    PlatformModel,
    map_enum,
    read_secret,
)
from auditor.connectors.graph_batch import Answer, BatchItem, BatchQueue, answer_json
from auditor.connectors.html_text import html_text, with_urls
from auditor.connectors.http import HttpStatusError, OAuth2, safe_url
from auditor.snapshot import Member, PageSnapshot, Post, Settings

log = logging.getLogger(__name__)

PLATFORM = "microsoft365"
USER_FIELDS = "id,displayName,mail,userPrincipalName,userType"
GROUP_FIELDS = (
    "id,displayName,description,visibility,mail,createdDateTime,resourceProvisioningOptions"
)
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
REFUSED = (
    "Microsoft Graph refused to list the team's channels or read their messages "
    "(HTTP 403): grant the app Channel.ReadBasic.All and ChannelMessage.Read.All "
    "(or resource-specific consent)."
)
STATE_VERSION = 1
PAGES_PER_SLOT = 8
"""Pages fetched at the same time per request slot: a page's round of reads (six, and one
a channel) leaves room in a 20-read ``$batch``, so more pages than slots fill them."""
MOST_PAGES_IN_FLIGHT = 128
"""But no more pages at a time than this: each one waiting for its evaluation holds its
snapshot (128 fill 20-read batches faster than the rules evaluate them)."""
EXPIRED_STATE = re.compile(r"syncStateNotFound|resyncRequired|sync state|delta ?token", re.I)
LINK_SECRETS = re.compile(r"access_token|sig|code|client_secret|(?<!\$delta)(?<!\$skip)token", re.I)

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

    @property
    def pages_in_flight(self) -> int:
        """Pages fetched at the same time: :data:`PAGES_PER_SLOT` per request slot, so
        that their reads fill the shared ``$batch`` calls, up to
        :data:`MOST_PAGES_IN_FLIGHT` (never fewer than the slots; those still bound the
        requests in flight). With ``requests_per_second`` set, one page per slot: each
        read takes one request of that rate however it is batched, so more pages would
        only wait longer for it within their ``page_deadline_s``."""
        slots = super().pages_in_flight
        if self.requests_per_second is not None:
            return slots
        return max(slots, min(slots * PAGES_PER_SLOT, MOST_PAGES_IN_FLIGHT))


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
    web_url: str | None = Field(None, alias="webUrl")
    # With $expand=replies: up to 1,000 replies inline, and a link to the rest.
    replies: list[ChatMessage] | None = None
    replies_next: str | None = Field(None, alias="replies@odata.nextLink")
    # In a delta answer: the message left the collection (its reply chain is dropped).
    removed: dict[str, Any] | None = Field(None, alias="@removed")


class MessagesPage(PlatformModel):
    """A page of channel messages or replies."""

    value: list[ChatMessage]


class StoredChannel(PlatformModel):
    """What is kept of a channel between runs: its delta link and its reply chains
    inside the look-back window (see :func:`kept_message`)."""

    delta: str
    threads: list[ChatMessage] = []


class StoredPage(PlatformModel):
    """The sync state this connector keeps of a page (opaque to the rest of the tool)."""

    v: Literal[1]
    settings: dict[str, Any]
    channels: dict[str, StoredChannel] = {}


class KeptLink(PlatformModel):
    """A channel's kept delta link (its reply chains are not read)."""

    delta: str


class KeptSeen(PlatformModel):
    """What the snapshot built from a kept state was made of: the digest of the answers
    and tenant policy it was read from (``inputs``), its own digest (``content``), when it
    was read (``at``) and when the first kept message leaves the look-back window
    (``until``; None: none ever does)."""

    inputs: str
    content: str
    at: AwareDatetime
    until: AwareDatetime | None = None

    def holds(self, seen: str | None, inputs: str, now: datetime) -> bool:
        """Whether a page read at ``now`` from the answers digested as ``inputs`` (and no
        channel changed) has the content ``seen``: the same answers, the same content,
        and the clock between the read and the first message leaving the window."""
        return (
            seen == self.content
            and inputs == self.inputs
            and self.at <= now
            and (self.until is None or now < self.until)
        )


class StoredHead(PlatformModel):
    """The parts of a kept state the unchanged check reads (the reply chains are left
    unread: they are validated only when a snapshot is built)."""

    v: Literal[1]
    settings: dict[str, Any]
    channels: dict[str, KeptLink] = {}
    seen: KeptSeen | None = None


@dataclass(frozen=True)
class DeltaRound:
    """Where a channel's delta round starts: ``path`` (relative to the API base, query
    included), ``anew`` (the first request of a new round, if Graph refuses ``path``),
    the channel's ``name``, its ``messages`` path and the chains kept of it (``stored``)."""

    name: str
    messages: str
    path: str
    anew: str
    stored: StoredChannel | None


@dataclass(frozen=True)
class GroupAnswers:
    """The answers of a page's first ``$batch``, read to their last page: the group
    (parsed, and as ``raw`` JSON), the raw owners' and members' pages, guest setting and
    team (None for a group without one), and the channels' answer, unread."""

    group: GraphGroup
    raw: Any
    owners: list[Any]
    members: list[Any]
    settings: Any
    team: Any | None
    channels: BatchItem | None


@dataclass
class GroupReads:
    """The group's own reads: the group, its owners and members, team and guest setting."""

    group: GraphGroup
    owners: list[DirectoryObject]
    members: list[DirectoryObject]
    team: Team | None
    settings: GroupSettingsPage


@dataclass
class Found:
    """What a page's fetch found besides its reads: posts and notes for the snapshot, and
    the sync state to keep (``state``)."""

    now: datetime
    posts: list[Post] | None = None
    unavailable: dict[str, str] = field(
        default_factory=lambda: {
            "post_moderation": NO_MODERATION_SETTING,
            "moderation": NO_MODERATION,
            "invite_links": NO_INVITES,
        }
    )
    coverage: dict[str, str] = field(default_factory=dict)
    limits: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    state: dict[str, Any] = field(default_factory=dict)
    until: datetime | None = None  # when the first kept message leaves the window
    fell_back: bool = False  # a kept state or link was not used (said in warnings)

    def fall_back(self, warning: str) -> None:
        """Say that part of the kept state was not used: the snapshot then depends on
        this fetch's circumstances, so no later fetch may claim to have its content."""
        self.warnings.append(warning)
        self.fell_back = True

    def cutoff(self, settings: Microsoft365Settings) -> datetime:
        """The start of the look-back window."""
        return self.now - timedelta(days=settings.lookback_days)


class Microsoft365Connector(CloudConnector):
    """Microsoft 365 groups and Teams through Microsoft Graph."""

    type = PLATFORM
    platform = PLATFORM
    remediation = shipped_remediation(PLATFORM)
    summary = "Microsoft 365 groups and Teams (Microsoft Graph, client credentials)"
    Settings = Microsoft365Settings
    settings: Microsoft365Settings

    def __init__(
        self, name: str, settings: Microsoft365Settings, base_dir: Path | None = None
    ) -> None:
        super().__init__(name, settings, base_dir)
        self._tenant_lock = asyncio.Lock()
        self._tenant_policy: tuple[bool | None, list[str]] | None = None
        self.batches = BatchQueue(self.http)

    async def aclose(self) -> None:
        """Stop the batch queue, log what it sent and close the client."""
        self.batches.close()
        if self.batches.batches:
            log.info(
                "%s connector %r: %d $batch request(s) carried %d read(s)",
                PLATFORM,
                self.name,
                self.batches.batches,
                self.batches.reads,
            )
        await super().aclose()

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
        raw = await self.http.get_json(f"groups/{gid}", {"$select": GROUP_FIELDS})
        group = self.parse(GraphGroup, raw, "group")
        reads = GroupReads(
            group=group,
            owners=await self._objects(f"groups/{gid}/owners", "group owners"),
            members=await self._objects(f"groups/{gid}/members", "group members"),
            team=await self._team(gid) if "Team" in group.provisioning else None,
            settings=self.parse(
                GroupSettingsPage,
                await self.http.get_json(f"groups/{gid}/settings"),
                "group settings",
            ),
        )
        now = clock()
        found = Found(now)
        if self._reads_posts(reads.team, found):
            found.posts = await self._posts(gid, found.cutoff(self.settings), found)
        return await self._snapshot(ref, reads, found)

    async def fetch_page_incremental(
        self, ref: PageRef, state: Mapping[str, Any] | None
    ) -> tuple[PageSnapshot, dict[str, Any] | None]:
        """The page with the fewest requests (see :meth:`fetch_page_changed`), always
        built."""
        fetched = await self.fetch_page_changed(ref, state, None)
        assert fetched.snapshot is not None  # nothing was seen: it is always built
        return fetched.snapshot, fetched.state

    async def fetch_page_changed(
        self, ref: PageRef, state: Mapping[str, Any] | None, seen: str | None
    ) -> Fetched:
        """The page with the fewest requests: the group, its owners, members, guest
        setting, team and channels in one round of the shared ``$batch`` queue (with each
        kept channel's delta link), then the first delta request of each channel not
        asked yet; every channel's changes since the last run (new, edited or deleted
        reply chains) are merged into the threads kept in ``state``. No ``state``, or one
        that cannot be used, reads every channel's window anew (``state`` unreadable or a
        delta link Graph no longer honours is said in the snapshot's warnings). With the
        snapshot: its digest, and the state to keep.

        Not built at all when it is provably the one whose digest is ``seen`` (see
        :meth:`_unchanged`): then the answer is no snapshot and ``seen``."""
        gid = quote(ref.external_id, safe="")
        found = Found(clock())
        head = self._head(state)
        answers, firsts = await self._read_group(gid, self._kept_links(head))
        inputs = await self._inputs_digest(ref, answers)
        if state is not None and head is not None and inputs is not None:
            unchanged = self._unchanged(state, head, answers, firsts, (inputs, seen, found.now))
            if unchanged is not None:
                return Fetched(None, unchanged, seen)
        kept = self._stored(state, found)
        reads = self._reads(answers)
        if self._reads_posts(reads.team, found):
            found.posts = await self._posts_delta(gid, answers.channels, kept, found, firsts)
        snapshot = await self._snapshot(ref, reads, found)
        content = snapshot_digest(snapshot)
        keep = {"v": STATE_VERSION, "settings": self._fingerprint(), **found.state}
        if inputs is not None and not found.fell_back:
            made = KeptSeen(inputs=inputs, content=content, at=found.now, until=found.until)
            keep["seen"] = made.model_dump(mode="json")
        return Fetched(snapshot, keep, content)

    def _unchanged(
        self,
        state: Mapping[str, Any],
        head: StoredHead,
        answers: GroupAnswers,
        firsts: Mapping[str, tuple[str, BatchItem]],
        read: tuple[str, str | None, datetime],
    ) -> dict[str, Any] | None:
        """The state to keep when the page's content is provably ``seen``, else None
        (``read``: the digest of the answers and tenant policy read now, ``seen`` and
        the instant of the read).

        Provably: ``state`` was kept by a fetch whose snapshot had the digest ``seen`` and
        which fell back on nothing; that snapshot was read from answers and a tenant
        policy with the same digest (the same bytes now); no kept message has left the
        look-back window since (nor has the clock gone back); the team's channels are
        those kept; and every channel's delta round, from its kept link, answered at once
        that nothing changed (an empty first page with its next link: no error, nothing
        cut). The snapshot would then be built of the same answers and kept chains, so it
        would be the same."""
        inputs, seen, now = read
        if head.seen is None or not head.seen.holds(seen, inputs, now):
            return None
        if answers.team is None or not self.settings.read_messages:
            return None if head.channels else dict(state)
        listed = channel_ids(answers.channels)
        if listed is None or len(listed) != len(head.channels) or set(listed) != set(firsts):
            return None
        fresh = {cid: delta_unchanged(firsts[cid][1]) for cid in listed}
        if any(link is None for link in fresh.values()):
            return None
        channels = {
            cid: {**state["channels"][cid], "delta": state_link(str(link))}
            for cid, link in fresh.items()
        }
        return {**state, "channels": channels} if channels else dict(state)

    def _head(self, state: Mapping[str, Any] | None) -> StoredHead | None:
        """The parts of ``state`` the unchanged check reads; None when there are none,
        they cannot be read, or they were kept under other settings."""
        if state is None:
            return None
        try:
            head = StoredHead.model_validate(state)
        except ValidationError:
            return None  # a snapshot is built, and its warning says why
        return head if head.settings == self._fingerprint() else None

    def _kept_links(self, head: StoredHead | None) -> dict[str, str]:
        """The kept delta links on the API host (relative to it), by channel: asked with
        the group's reads, as the channels are likely those kept."""
        if head is None or not self.settings.read_messages:
            return {}
        base = self.http.base_url + "/"
        return {
            cid: kept.delta.removeprefix(base)
            for cid, kept in head.channels.items()
            if kept.delta.startswith(base)
        }

    def _fingerprint(self) -> dict[str, Any]:
        """The settings a stored state depends on: another value makes it unusable."""
        s = self.settings
        return {
            "read_messages": s.read_messages,
            "lookback_days": s.lookback_days,
            "max_messages_per_channel": s.max_messages_per_channel,
        }

    def _stored(self, state: Mapping[str, Any] | None, found: Found) -> StoredPage | None:
        """``state`` read back; one from other settings is ignored, one that cannot be read
        is ignored with a warning (the page is then fetched in full)."""
        if state is None:
            return None
        try:
            kept = StoredPage.model_validate(state)
        except ValidationError as exc:
            where = ".".join(str(part) for part in exc.errors(include_url=False)[0]["loc"])
            found.fall_back(
                f"stored sync state unusable (field {where or 'state'}): channels read in full"
            )
            return None
        return kept if kept.settings == self._fingerprint() else None

    async def _read_group(
        self, gid: str, deltas: Mapping[str, str]
    ) -> tuple[GroupAnswers, dict[str, tuple[str, BatchItem]]]:
        """Group, owners, members, guest setting and team in one round of the ``$batch``
        queue (and the team's channels, when messages are read, and the ``deltas``: a
        path by channel); owners and members past their first page are read with the
        next links. An error answer is the page's error, worded as the request alone
        would be; the channels' and the deltas' answers are not read (the deltas' are
        returned with their paths, by channel)."""
        people = urlencode({"$select": USER_FIELDS, "$top": 999}, safe="$,")
        paths = {
            "group": f"groups/{gid}?{urlencode({'$select': GROUP_FIELDS}, safe='$,')}",
            "owners": f"groups/{gid}/owners?{people}",
            "members": f"groups/{gid}/members?{people}",
            "settings": f"groups/{gid}/settings",
            "team": f"teams/{gid}",
        }
        if self.settings.read_messages:
            paths["channels"] = f"teams/{gid}/channels"
        paths.update({f"delta {cid}": path for cid, path in deltas.items()})
        answers = await self.batches.get(paths)
        firsts = {cid: (path, answers[f"delta {cid}"]) for cid, path in deltas.items()}
        raw = answer_json(self.http, answers["group"])
        group = self.parse(GraphGroup, raw, "group")
        team: Any | None = None
        if "Team" in group.provisioning:
            item = answers["team"]
            if isinstance(item, Answer) and item.status == 404:
                raise self._no_team(gid)
            team = answer_json(self.http, item)
        read = GroupAnswers(
            group=group,
            raw=raw,
            owners=[page async for page in self._pages_from(answers["owners"])],
            members=[page async for page in self._pages_from(answers["members"])],
            settings=answer_json(self.http, answers["settings"]),
            team=team,
            channels=answers.get("channels"),
        )
        return read, firsts

    def _reads(self, answers: GroupAnswers) -> GroupReads:
        """The group's answers validated (a mismatch names the payload and the field)."""
        return GroupReads(
            group=answers.group,
            owners=[
                o
                for raw in answers.owners
                for o in self.parse(DirectoryObjectsPage, raw, "group owners").value
            ],
            members=[
                m
                for raw in answers.members
                for m in self.parse(DirectoryObjectsPage, raw, "group members").value
            ],
            team=None if answers.team is None else self.parse(Team, answers.team, "team"),
            settings=self.parse(GroupSettingsPage, answers.settings, "group settings"),
        )

    async def _inputs_digest(self, ref: PageRef, answers: GroupAnswers) -> str | None:
        """Digest of everything the page's snapshot is made of besides its channels'
        messages: the page, the API, the group's answers (every page of them; the next
        links, whose tokens may differ, left out), the channels' listing, and the tenant's
        guest policy where the group leaves it to the tenant. None when a part has no
        answer (a snapshot is then built, and says or raises what went wrong)."""
        channels = answers.channels
        if isinstance(channels, ConnectorError):
            return None
        try:
            settings = self.parse(GroupSettingsPage, answers.settings, "group settings")
            tenant = None if group_decides_guests(settings) else await self._tenant_guest_policy()
        except ConnectorError:
            return None
        listing = None
        if channels is not None:
            listing = [channels.status, channels.body if channels.ok else None]
        parts = [
            ref.external_id,
            self.http.base_url,
            answers.raw,
            [without_next(page) for page in answers.owners],
            [without_next(page) for page in answers.members],
            answers.settings,
            answers.team,
            listing,
            tenant,
        ]
        return "graph:" + hashlib.sha256(to_json(parts)).hexdigest()

    async def _pages_from(self, item: BatchItem) -> AsyncIterator[Any]:
        """A batched first page of a listing, then the pages its next link leads to."""
        raw = answer_json(self.http, item)
        yield raw
        link = raw.get("@odata.nextLink") if isinstance(raw, dict) else None
        if isinstance(link, str) and link:
            async for more in self.http.pages_next_link(link):
                yield more

    def _reads_posts(self, team: Team | None, found: Found) -> bool:
        """Whether channel messages are read; if not, why ``posts`` is unavailable."""
        if team is None:
            found.unavailable["posts"] = (
                "This Microsoft 365 group has no team, so no channel messages."
            )
        elif not self.settings.read_messages:
            found.unavailable["posts"] = "Reading channel messages is turned off (read_messages)."
        else:
            return True
        return False

    async def _snapshot(self, ref: PageRef, reads: GroupReads, found: Found) -> PageSnapshot:
        """The page's snapshot from what was read, however it was read."""
        group, team, warnings = reads.group, reads.team, found.warnings
        visibility_raw = (team.visibility if team else None) or group.visibility
        mapped = map_enum(
            "visibility",
            visibility_raw.lower() if visibility_raw else None,
            VISIBILITY,
            warnings,
        )
        if team is not None:
            warnings.extend(team_warnings(team))
        if found.posts is not None:
            found.coverage["posts"] = f"posts of the last {self.settings.lookback_days} days"
        return PageSnapshot(
            platform=PLATFORM,
            external_id=ref.external_id,
            name=group.display_name,
            url=team.web_url if team else None,
            description=group.description or None,
            kind="group",
            created_at=group.created,
            fetched_at=found.now,
            settings=Settings(
                visibility=mapped[0] if mapped else None,
                join_policy=mapped[1] if mapped else None,
                post_moderation=None,
                invite_links=[],
                external_members_allowed=await self._guests_allowed(reads.settings, warnings),
            ),
            members=merge_members(reads.owners, reads.members, warnings, found.limits),
            posts=found.posts,
            moderation=None,
            unavailable=found.unavailable,
            coverage=found.coverage,
            limits=found.limits,
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
            raise self._no_team(gid) from None
        return self.parse(Team, raw, "team")

    def _no_team(self, gid: str) -> ConnectorError:
        """The page's error when the group lists a team Graph does not find."""
        return ConnectorError(
            f"{PLATFORM}: GET {safe_url(self.http.url(f'teams/{gid}'))}: HTTP 404: the "
            "group lists a team (resourceProvisioningOptions) but Microsoft Graph finds "
            "none (deleted, or still being created?); the team's settings and channel "
            "messages could not be read"
        )

    async def _guests_allowed(
        self, settings: GroupSettingsPage, warnings: list[str]
    ) -> bool | None:
        """Whether guests can be added: the group's own setting, then the tenant's."""
        for setting in settings.value:
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

    async def _posts(self, gid: str, cutoff: datetime, found: Found) -> list[Post] | None:
        """Every channel's posts since ``cutoff``; None (with the reason) when refused."""
        try:
            channels: list[Channel] = []
            async for raw in self.http.pages_next_link(f"teams/{gid}/channels"):
                channels.extend(self.parse(ChannelsPage, raw, "channels").value)
            posts: list[Post] = []
            for channel in channels:
                posts.extend(await self._channel_posts(gid, channel, cutoff, found.limits))
        except HttpStatusError as exc:
            if exc.status != 403:
                raise
            found.unavailable["posts"] = REFUSED
            return None
        return posts

    async def _posts_delta(
        self,
        gid: str,
        channels: BatchItem | None,
        kept: StoredPage | None,
        found: Found,
        firsts: Mapping[str, tuple[str, BatchItem]],
    ) -> list[Post] | None:
        """Every channel's posts since the cutoff, from its delta link and the threads kept
        of it (see :meth:`fetch_page_changed`); None (with the reason) when refused. Each
        channel's first delta request goes in one round of the ``$batch`` queue, unless
        ``firsts`` holds its answer already (the path asked, and the answer); what to keep
        of each channel goes in ``found.state``, and when its first kept message leaves
        the window in ``found.until``."""
        cutoff = found.cutoff(self.settings)
        assert channels is not None  # asked for whenever messages are read
        keep: dict[str, Any] = {}
        posts: list[Post] = []
        try:
            listed = [
                c
                async for raw in self._pages_from(channels)
                for c in self.parse(ChannelsPage, raw, "channels").value
            ]
            rounds = {c.id: self._delta_start(gid, c, kept, cutoff, found) for c in listed}
            asked = {c: r.path for c, r in rounds.items() if firsts.get(c, ("",))[0] != r.path}
            answers = await self.batches.get(asked)
            for channel in listed:
                first = answers[channel.id] if channel.id in asked else firsts[channel.id][1]
                threads, link = await self._channel_delta(rounds[channel.id], first, cutoff, found)
                threads, cut = newest_threads(threads, channel, cutoff, self.settings, found.limits)
                posts.extend(thread_posts(threads, cutoff))
                if cut:  # kept state would forget the cut: the next run reads it anew
                    continue
                keep[channel.id] = {
                    "delta": state_link(link),
                    "threads": [kept_message(m, cutoff) for m in threads],
                }
                ends = [window_end(m, cutoff, self.settings.lookback_days) for m in threads]
                found.until = min((e for e in [found.until, *ends] if e is not None), default=None)
        except HttpStatusError as exc:
            if exc.status != 403:
                raise
            found.unavailable["posts"] = REFUSED
            return None
        found.state["channels"] = keep
        return posts

    def _delta_start(
        self,
        gid: str,
        channel: Channel,
        kept: StoredPage | None,
        cutoff: datetime,
        found: Found,
    ) -> DeltaRound:
        """Where the channel's delta round starts: its kept delta link, or (none kept, or
        one not on the API host: a warning) a new round of the look-back window."""
        messages = f"teams/{gid}/channels/{quote(channel.id, safe='')}/messages"
        since = cutoff.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
        query = {
            "$filter": f"lastModifiedDateTime gt {since}",
            "$expand": "replies",
            "$top": MESSAGES_PAGE,
        }
        anew = f"{messages}/delta?{urlencode(query, safe='$,:', quote_via=quote)}"
        name = channel.display_name or channel.id
        stored = kept.channels.get(channel.id) if kept else None
        if stored is None:
            return DeltaRound(name, messages, anew, anew, None)
        base = self.http.base_url + "/"
        if not stored.delta.startswith(base):
            found.fall_back(
                f"channel {name}: the stored delta link is not on the API host; its "
                "messages were read in full"
            )
            return DeltaRound(name, messages, anew, anew, None)
        return DeltaRound(name, messages, stored.delta.removeprefix(base), anew, stored)

    async def _channel_delta(
        self, start: DeltaRound, first: BatchItem, cutoff: datetime, found: Found
    ) -> tuple[list[ChatMessage], str]:
        """The channel's reply chains: those kept, updated with what its delta round
        returns (``first``: the answer to its first request); without kept ones, or when
        Graph no longer honours the kept link (410 Gone, or an expired sync state), every
        chain changed since ``cutoff``. Also the new delta link."""
        threads: dict[str, ChatMessage] = {}
        try:
            changes, link = await self._delta_round(first)
            if start.stored is not None:
                threads = {m.id: m for m in start.stored.threads}
        except HttpStatusError as exc:
            if start.stored is None or not delta_expired(exc):
                raise
            found.fall_back(
                f"channel {start.name}: Microsoft Graph no longer honours the stored delta "
                f"link (HTTP {exc.status}); its messages were read in full"
            )
            anew = await self.batches.get({"anew": start.anew})
            changes, link = await self._delta_round(anew["anew"])
        for message in changes:
            if message.reply_to_id is not None:
                continue  # delta lists reply chains by their root
            if message.removed is not None or not (is_thread(message) and within(message, cutoff)):
                threads.pop(message.id, None)  # gone, a system event, or older than the window
            else:
                replies = [r async for page in self._replies(start.messages, message) for r in page]
                threads[message.id] = message.model_copy(
                    update={"replies": replies, "replies_next": None}
                )
        return list(threads.values()), link

    async def _delta_round(self, first: BatchItem) -> tuple[list[ChatMessage], str]:
        """One round of a delta query from the answer to its first request: every page's
        messages, then the ``deltaLink`` its last page gives for the next round."""
        changes: list[ChatMessage] = []
        link: Any = None
        async for raw in self._pages_from(first):
            changes.extend(self.parse(MessagesPage, raw, "channel messages delta").value)
            link = raw.get("@odata.deltaLink") if isinstance(raw, dict) else None
        if not isinstance(link, str) or not link:
            where = first.url if isinstance(first, Answer) else "delta"
            raise ConnectorError(
                f"{PLATFORM}: GET {safe_url(where)}: the delta round ended without an "
                "@odata.deltaLink"
            )
        return changes, link

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
        for message in sorted(threads, key=activity_order, reverse=True):  # as delta's are
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


def group_decides_guests(settings: GroupSettingsPage) -> bool:
    """Whether the group's own ``AllowToAddGuests`` decides if guests can be added (any
    value but true: the tenant's setting cannot widen it), so the tenant's is not read."""
    values = (setting.get("AllowToAddGuests") for setting in settings.value)
    return any(value is not None and value.lower() != "true" for value in values)


def without_next(page: Any) -> Any:
    """A listing's page without its next link (its token may differ from one read to
    the next; the pages it leads to are read all the same)."""
    if isinstance(page, dict) and "@odata.nextLink" in page:
        return {k: v for k, v in page.items() if k != "@odata.nextLink"}
    return page


def channel_ids(item: BatchItem | None) -> list[Any] | None:
    """The ids a successful, complete (one page) channels listing gives; else None."""
    if not isinstance(item, Answer) or not item.ok or not isinstance(item.body, dict):
        return None
    listed = item.body.get("value")
    if "@odata.nextLink" in item.body or not isinstance(listed, list):
        return None
    return [c.get("id") if isinstance(c, dict) else None for c in listed]


def delta_unchanged(item: BatchItem) -> str | None:
    """The next delta link, when the first answer of a delta round says that nothing
    changed (a complete, empty round); else None."""
    if not isinstance(item, Answer) or not item.ok or not isinstance(item.body, dict):
        return None
    body = item.body
    link = body.get("@odata.deltaLink")
    if body.get("value") != [] or "@odata.nextLink" in body or not isinstance(link, str):
        return None
    return link or None


def window_end(message: ChatMessage, cutoff: datetime, days: int) -> datetime | None:
    """When a kept reply chain first changes by the clock alone: the soonest its root or
    one of its replies of the window leaves the ``days``-day look-back window (None:
    nothing in it is dated, so nothing ever leaves)."""
    dated = [message, *(r for r in message.replies or [] if is_post(r) and within(r, cutoff))]
    ends = [
        max(d for d in (m.created, m.modified) if d is not None)
        for m in dated
        if m.created is not None or m.modified is not None
    ]
    return min(ends) + timedelta(days=days) if ends else None


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
        url=message.web_url,
    )


def last_activity(message: ChatMessage) -> datetime:
    """When a reply chain last changed (undated: now, so that it is never cut unseen)."""
    dates = [d for d in (message.created, message.modified) if d is not None]
    return max(dates) if dates else datetime.max.replace(tzinfo=UTC)


def activity_order(message: ChatMessage) -> tuple[datetime, str]:
    """The order reply chains are given in, newest first when reversed: the same whether
    they were listed or merged from delta links, so that results do not depend on it."""
    return last_activity(message), message.id


def newest_threads(
    threads: list[ChatMessage],
    channel: Channel,
    cutoff: datetime,
    settings: Microsoft365Settings,
    limits: dict[str, str],
) -> tuple[list[ChatMessage], bool]:
    """The channel's reply chains changed since ``cutoff``, the most recently changed
    first (as Graph lists them), at most ``max_messages_per_channel``, and whether some
    were cut (recorded in ``limits`` as the listing records it)."""
    cap = settings.max_messages_per_channel
    recent = sorted(
        (m for m in threads if is_thread(m) and within(m, cutoff)),
        key=activity_order,
        reverse=True,
    )
    if len(recent) > cap:
        note_limit(
            limits,
            "posts",
            f"channel {channel.display_name or channel.id}: only the newest {cap} of "
            "its messages were read (max_messages_per_channel)",
        )
    return recent[:cap], len(recent) > cap


def thread_posts(threads: list[ChatMessage], cutoff: datetime) -> list[Post]:
    """The posts of reply chains read whole: each root (unless deleted) and its replies
    of the window."""
    posts: list[Post] = []
    for message in threads:
        if is_post(message):
            posts.append(to_post(message, None))
        posts.extend(
            to_post(r, message.id)
            for r in message.replies or []
            if is_post(r) and within(r, cutoff)
        )
    return posts


def kept_message(message: ChatMessage, cutoff: datetime) -> dict[str, Any]:
    """What is kept of a reply chain between runs: only the fields posts are made from
    (the author's id, not their name) and the replies of the window that are posts."""
    kept: dict[str, Any] = {"id": message.id}
    for key, value in (
        ("replyToId", message.reply_to_id),
        ("messageType", message.message_type),
        ("createdDateTime", message.created),
        ("lastModifiedDateTime", message.modified),
        ("deletedDateTime", message.deleted),
        ("webUrl", message.web_url),
    ):
        if value is not None:
            kept[key] = value.isoformat() if isinstance(value, datetime) else value
    sender = message.sender.user.id if message.sender and message.sender.user else None
    if sender is not None:
        kept["from"] = {"user": {"id": sender}}
    if message.body is not None:
        kept["body"] = {"contentType": message.body.content_type, "content": message.body.content}
    if message.replies is not None:
        kept["replies"] = [
            kept_message(r, cutoff) for r in message.replies if is_post(r) and within(r, cutoff)
        ]
    return kept


def state_link(link: str) -> str:
    """A delta link as kept: its state token stays (it grants nothing by itself), any
    query parameter that could carry a credential is dropped."""
    query = link.partition("?")[2]
    if "#" not in link and "%" not in query and not LINK_SECRETS.search(query):
        return link  # no parameter can be one (the usual link: only $deltatoken)
    parts = urlsplit(link)
    pairs = parse_qsl(parts.query, keep_blank_values=True)
    query = [(k, v) for k, v in pairs if not LINK_SECRETS.search(k)]
    if len(query) == len(pairs) and not parts.fragment:
        return link  # kept exactly as Graph gave it
    return urlunsplit(parts._replace(query=urlencode(query, safe="$,:'"), fragment=""))


def delta_expired(exc: HttpStatusError) -> bool:
    """Whether Graph refused a stored delta link because its sync state is gone (410
    Gone, or 400 with an expired-token code): then the channel is read in full."""
    if exc.status == 410:
        return True
    body = exc.response.text[:2000] if exc.response is not None else ""
    return exc.status == 400 and bool(EXPIRED_STATE.search(body))
