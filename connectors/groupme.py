"""The ``groupme`` connector: GroupMe groups through the public v3 API, with a user's
access token.

GroupMe has no app or admin credentials: the token belongs to a GroupMe user (a district
auditing account) and sees exactly the groups that user is in. It is sent in the
``X-Access-Token`` header (never the ``token`` query parameter, so it cannot end up in a
logged URL). Every answer is wrapped as ``{"response": ..., "meta": {"code": ...,
"errors": [...]}}``; errors name GroupMe's ``meta.errors``.

Reads the group (``GET /groups/:id``: settings and members with roles), its pending join
requests (``GET /groups/:id/pending_memberships``) and its messages, newest first, paged
back with ``before_id`` until the look-back window (``lookback_days``) or ``max_messages``
ends them, or GroupMe answers ``304 Not Modified`` (no more messages).

Mapping (also in docs/connectors/groupme.md):

========================  ===============================================================
snapshot field            GroupMe value
========================  ===============================================================
visibility                ``visibility`` searchable -> ``closed``, hidden -> ``secret``;
                          absent -> ``closed`` (GroupMe has no public groups: only members
                          read messages)
join_policy               ``requires_approval`` true -> ``request``; otherwise
                          ``visibility`` hidden -> ``invite``, searchable (approval
                          false) -> ``open``; anything else unknown (null, with reason)
post_moderation           ``type`` announcement -> ``moderators-only`` (only admins post);
                          closed, private -> ``none`` (GroupMe has no post approval)
invite_links              an active ``share_url`` -> one link, no expiry, unlimited uses
external_members_allowed  ``true``: anyone with a GroupMe account (or a phone number or
                          email address) can be added
members                   ``members[]``: ``user_id`` as id, ``name`` (else ``nickname``);
                          ``roles`` owner -> ``owner``, admin -> ``manager``, user ->
                          ``member``; without ``roles`` the ``creator_user_id`` is the
                          owner; pending join requests -> state ``requested``
posts                     messages in the look-back window, not system messages; a
                          ``reply`` attachment gives ``parent_id``; ``pinned_at`` ->
                          pinned; a location's name is added to the text
coverage ``posts``        the look-back window
limits                    ``posts``: messages cut by ``max_messages``; ``members``:
                          pending join requests GroupMe would not show
warnings                  ``type`` private (every member manages settings and roster),
                          ``message_deletion_mode`` without admin, ``autokicked``
                          members, unexamined image/video/file attachments
========================  ===============================================================
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import httpx
from pydantic import AwareDatetime, Field, PositiveInt

from auditor.config import EnvName
from auditor.connectors.base import (
    ConnectorError,
    DiscoveredGroup,
    PageNotes,
    PageRef,
    note_limit,
    shipped_remediation,
)
from auditor.connectors.cloud import (
    CloudConnector,
    CloudConnectorSettings,
    PlatformModel,
    map_enum,
    read_secret,
)
from auditor.connectors.html_text import with_urls
from auditor.connectors.http import MAX_PAGES, HttpStatusError, safe_url, status_hint
from auditor.logs import redact
from auditor.snapshot import (
    InviteLink,
    JoinPolicy,
    Member,
    MemberRole,
    PageSnapshot,
    Post,
    PostModeration,
    Settings,
    Visibility,
)

PLATFORM = "groupme"
TOKEN_HEADER = "X-Access-Token"
MESSAGES_PER_PAGE = 100
"""GroupMe's largest ``limit`` for messages."""
GROUPS_PER_PAGE = 100
"""``per_page`` when listing groups (GroupMe's default is 10)."""
NOT_MODIFIED = 304
"""GroupMe's answer when there are no (more) messages to return."""
VISIBILITY: dict[str, Visibility] = {"searchable": "closed", "hidden": "secret"}
GROUP_TYPES: dict[str, PostModeration] = {
    "closed": "none",
    "private": "none",
    "announcement": "moderators-only",
}
ROLES: dict[str, MemberRole] = {"owner": "owner", "admin": "manager", "user": "member"}
ADMIN_ORDER: tuple[MemberRole, ...] = ("owner", "manager")
"""A member with several GroupMe roles gets the first of these they hold."""
UNEXAMINED_ATTACHMENTS = {"image", "video", "file"}
ERROR_CHARS = 120
"""How much of one of GroupMe's ``meta.errors`` strings an error message repeats."""
NO_MODERATION = "GroupMe reports no moderator activity or reported messages."
STATUS_HINTS = {
    401: "the access token was refused: check the variable named by token_env",
    403: "refused by GroupMe",
    404: "not found: check the page's external_id and that the token's user is a member",
}


def _utc_now() -> datetime:
    """The current time, timezone-aware."""
    return datetime.now(UTC)


clock: Callable[[], datetime] = _utc_now
"""Where the connector reads the time; tests replace it to pin the look-back window."""


class GroupMeSettings(CloudConnectorSettings):
    """Settings of the ``groupme`` connector."""

    base_url: str = Field("https://api.groupme.com/v3", description="GroupMe API base URL.")
    token_url: None = Field(
        None, description="Not used: GroupMe access tokens are fixed (no token endpoint)."
    )
    token_env: EnvName = Field(
        description="Environment variable holding the GroupMe access token of the auditing "
        "account (a member of every audited group)."
    )
    lookback_days: PositiveInt = Field(
        30, description="Read messages posted in this many days before the audit."
    )
    max_messages: PositiveInt = Field(
        1000, description="Most recent messages read per group within the look-back window."
    )


class Meta(PlatformModel):
    """The envelope's ``meta``: a status code and, on errors, messages."""

    code: int | None = None
    errors: list[str] | None = None


class GroupMember(PlatformModel):
    """A membership inside a group object."""

    id: str | None = None
    user_id: str
    nickname: str | None = None
    name: str | None = None
    roles: list[str] | None = None
    autokicked: bool | None = None


class Group(PlatformModel):
    """``GET /groups/:id`` (the fields used)."""

    id: str
    name: str | None = None
    type: str | None = None
    description: str | None = None
    creator_user_id: str | None = None
    created_at: AwareDatetime | None = None
    members: list[GroupMember] | None = None
    share_url: str | None = None
    requires_approval: bool | None = None
    visibility: str | None = None
    message_deletion_mode: list[str] | None = None


class GroupEnvelope(PlatformModel):
    """The wrapped answer of ``GET /groups/:id``."""

    response: Group | None = None
    meta: Meta | None = None


class GroupSummary(PlatformModel):
    """One group of ``GET /groups`` (listed with ``omit=memberships``)."""

    id: str
    name: str | None = None


class GroupsEnvelope(PlatformModel):
    """The wrapped answer of ``GET /groups``: a page of groups."""

    response: list[GroupSummary] | None = None
    meta: Meta | None = None


class PendingMembership(PlatformModel):
    """One join request of ``GET /groups/:id/pending_memberships``."""

    id: str | None = None
    user_id: str
    nickname: str | None = None
    timestamp: AwareDatetime | None = None
    state: str | None = None


class PendingEnvelope(PlatformModel):
    """The wrapped answer of ``GET /groups/:id/pending_memberships``."""

    response: list[PendingMembership] | None = None
    meta: Meta | None = None


class Attachment(PlatformModel):
    """A message attachment (an open set of types; the fields used)."""

    type: str
    name: str | None = None
    reply_id: str | None = None
    base_reply_id: str | None = None


class Message(PlatformModel):
    """A group message (the fields used)."""

    id: str
    user_id: str | None = None
    sender_id: str | None = None
    sender_type: str | None = None
    created_at: AwareDatetime
    text: str | None = None
    system: bool | None = None
    pinned_at: AwareDatetime | None = None
    attachments: list[Attachment] = []


class MessagesPage(PlatformModel):
    """A page of ``GET /groups/:id/messages``."""

    count: int | None = None
    messages: list[Message] = []


class MessagesEnvelope(PlatformModel):
    """The wrapped answer of ``GET /groups/:id/messages``."""

    response: MessagesPage | None = None
    meta: Meta | None = None


def envelope_errors(response: httpx.Response) -> str:
    """``meta.errors`` of an error body, shortened and with secrets masked ("" if none)."""
    try:
        body = response.json()
    except ValueError:
        return ""
    meta = body.get("meta") if isinstance(body, dict) else None
    errors = meta.get("errors") if isinstance(meta, dict) else None
    if not isinstance(errors, list):
        return ""
    said = [redact(" ".join(e.split()))[:ERROR_CHARS] for e in errors if isinstance(e, str)]
    return "; ".join(s for s in said if s)


class GroupMeConnector(CloudConnector):
    """GroupMe groups the auditing account belongs to (public API v3)."""

    type = PLATFORM
    platform = PLATFORM
    remediation = shipped_remediation(PLATFORM)
    summary = "GroupMe groups (public API v3, a member's access token)"
    Settings = GroupMeSettings
    settings: GroupMeSettings

    def headers(self) -> dict[str, str]:
        """The access token in its header (never the ``token`` query parameter)."""
        return {TOKEN_HEADER: read_secret(PLATFORM, "token_env", self.settings.token_env)}

    def error_detail(self, response: httpx.Response) -> str:
        """What the status means on GroupMe, with GroupMe's ``meta.errors``."""
        hint = STATUS_HINTS.get(response.status_code, status_hint(response))
        said = envelope_errors(response)
        return f"{hint} (GroupMe: {said})" if said else hint

    async def fetch_page(self, ref: PageRef) -> PageSnapshot:
        """The group's settings, members, join requests and recent messages."""
        gid = quote(ref.external_id, safe="")
        path = f"groups/{gid}"
        group = self.parse(GroupEnvelope, await self.http.get_json(path), "group").response
        if group is None:
            where = safe_url(self.http.url(path))
            raise ConnectorError(f"{PLATFORM}: GET {where}: the response holds no group")
        notes = PageNotes(unavailable={"moderation": NO_MODERATION})
        warnings, unavailable = notes.warnings, notes.unavailable
        settings = map_settings(group, warnings, unavailable)
        members: list[Member] | None = None
        if group.members is None:
            unavailable["members"] = "GroupMe returned the group without its member list."
        else:
            members = map_members(group, warnings)
            members += await self._join_requests(gid, {m.id for m in members}, notes.limits)
        posts = await self._posts(gid, notes)
        return PageSnapshot(
            platform=PLATFORM,
            external_id=ref.external_id,
            name=group.name,
            description=group.description or None,
            kind="group",
            created_at=group.created_at,
            fetched_at=clock(),
            settings=settings,
            members=members,
            posts=posts,
            moderation=None,
            unavailable=unavailable,
            coverage=notes.coverage,
            limits=notes.limits,
            warnings=warnings,
        )

    async def _join_requests(
        self, gid: str, known: set[str], limits: dict[str, str]
    ) -> list[Member]:
        """Pending join requests as members in state ``requested`` (a limit of ``members``
        if unreadable)."""
        try:
            raw = await self.http.get_json(f"groups/{gid}/pending_memberships")
        except HttpStatusError as exc:
            if exc.status not in (401, 403, 404):
                raise
            note_limit(
                limits,
                "members",
                f"pending join requests could not be read (HTTP {exc.status}): people waiting "
                "to join are not listed",
            )
            return []
        pending = self.parse(PendingEnvelope, raw, "pending memberships").response or []
        return [
            Member(
                id=p.user_id,
                name=p.nickname,
                role="member",
                state="requested",
                joined_at=p.timestamp,
            )
            for p in pending
            if p.user_id not in known
        ]

    async def _messages(self, gid: str, before_id: str | None) -> list[Message]:
        """One page of messages, newest first; empty when GroupMe has no (more)."""
        params: dict[str, str | int] = {"limit": MESSAGES_PER_PAGE, "acceptFiles": 1}
        if before_id is not None:
            params["before_id"] = before_id
        try:
            raw = await self.http.get_json(f"groups/{gid}/messages", params)
        except HttpStatusError as exc:
            if exc.status == NOT_MODIFIED:
                return []
            raise
        page = self.parse(MessagesEnvelope, raw, "messages").response
        return page.messages if page is not None else []

    async def _posts(self, gid: str, notes: PageNotes) -> list[Post]:
        """Messages of the look-back window, paged back with ``before_id``; a cut at
        ``max_messages`` is a limit of ``posts``."""
        days = self.settings.lookback_days
        cutoff = clock() - timedelta(days=days)
        limit = self.settings.max_messages
        kept: list[Message] = []
        before_id: str | None = None
        seen: set[str] = set()
        for _ in range(MAX_PAGES):
            page = await self._messages(gid, before_id)
            in_window = [m for m in page if m.created_at >= cutoff and not is_system(m)]
            if len(kept) + len(in_window) > limit:
                kept += in_window[: limit - len(kept)]
                note_limit(
                    notes.limits,
                    "posts",
                    f"only the newest {limit} messages of the last {days} days were read "
                    "(max_messages)",
                )
                break
            kept += in_window
            if not page or any(m.created_at < cutoff for m in page):
                break
            before_id = page[-1].id
            if before_id in seen:
                raise ConnectorError(f"{self._where(gid)}: before_id paging repeats; stopped")
            seen.add(before_id)
        else:
            raise ConnectorError(f"{self._where(gid)}: over {MAX_PAGES} pages")
        notes.coverage["posts"] = f"posts of the last {days} days"
        unexamined = sum(a.type in UNEXAMINED_ATTACHMENTS for m in kept for a in m.attachments)
        if unexamined:
            notes.warnings.append(
                f"{unexamined} image, video or file attachment(s) were not examined: only "
                "message text is checked"
            )
        return [to_post(m) for m in kept]

    def _where(self, gid: str) -> str:
        """``groupme: <messages URL>`` for paging errors (no query string)."""
        return f"{PLATFORM}: {safe_url(self.http.url(f'groups/{gid}/messages'))}"

    async def discover(self) -> AsyncIterator[DiscoveredGroup]:
        """Every group the token's user is in (``GET /groups``; former groups are not)."""
        seen: set[str] = set()
        for page_number in range(1, MAX_PAGES + 1):
            groups = await self._groups_page(page_number)
            if not groups:
                return
            fresh = [g for g in groups if g.id not in seen]
            if not fresh:
                raise ConnectorError(
                    f"{PLATFORM}: {safe_url(self.http.url('groups'))}: page {page_number} "
                    "repeats earlier groups; stopped"
                )
            for g in fresh:
                seen.add(g.id)
                yield DiscoveredGroup(external_id=g.id, name=g.name or g.id)
        raise ConnectorError(
            f"{PLATFORM}: {safe_url(self.http.url('groups'))}: over {MAX_PAGES} pages"
        )

    async def _groups_page(self, page_number: int) -> list[GroupSummary]:
        """One page of the user's groups, without member lists; empty after the last."""
        params = {"page": page_number, "per_page": GROUPS_PER_PAGE, "omit": "memberships"}
        try:
            raw = await self.http.get_json("groups", params)
        except HttpStatusError as exc:
            if exc.status == NOT_MODIFIED:
                return []
            raise
        return self.parse(GroupsEnvelope, raw, "groups list").response or []


def map_settings(group: Group, warnings: list[str], unavailable: dict[str, str]) -> Settings:
    """GroupMe group settings mapped onto the snapshot's (table in the module doc)."""
    visibility: Visibility | None = "closed"
    if group.visibility is not None:
        visibility = map_enum("visibility", group.visibility, VISIBILITY, warnings)
        if visibility is None:
            unavailable["visibility"] = (
                "GroupMe reported a visibility this connector does not know."
            )
    moderation = map_enum("type", group.type, GROUP_TYPES, warnings)
    if moderation is None:
        unavailable["post_moderation"] = (
            "GroupMe did not report a known group type (type), which says whether only "
            "admins may post."
        )
    if group.type == "private":
        warnings.append(
            "type is private: every member can change the group's settings and add or "
            "remove members (a closed or announcement group limits that to admins)"
        )
    if group.message_deletion_mode is not None and "admin" not in group.message_deletion_mode:
        warnings.append(
            "message_deletion_mode does not include admin: admins cannot remove members' messages"
        )
    links = [InviteLink(url=group.share_url)] if group.share_url else []
    return Settings(
        visibility=visibility,
        join_policy=join_policy(group, unavailable),
        post_moderation=moderation,
        invite_links=links,
        external_members_allowed=True,
    )


def join_policy(group: Group, unavailable: dict[str, str]) -> JoinPolicy | None:
    """How people join: by approved request, only when added (hidden), or by finding it."""
    if group.requires_approval is True:
        return "request"
    if group.visibility == "hidden":
        return "invite"  # only the share link finds it, and that link is in invite_links
    if group.visibility == "searchable" and group.requires_approval is False:
        return "open"
    unknown = []
    if group.visibility not in VISIBILITY:
        unknown.append("whether the group can be found in search (visibility)")
    if group.requires_approval is None:
        unknown.append("whether joining needs an admin's approval (requires_approval)")
    unavailable["join_policy"] = "GroupMe did not say " + " or ".join(unknown) + "."
    return None


def map_members(group: Group, warnings: list[str]) -> list[Member]:
    """The group's memberships; roles decide, else the creator is the owner."""
    if any(m.roles is None for m in group.members or []):
        warnings.append(
            "GroupMe did not report every member's roles: only the group's creator is taken "
            "as owner and admins without roles are shown as members"
        )
    out: list[Member] = []
    for m in group.members or []:
        if m.autokicked:
            warnings.append(
                f"member {m.name or m.nickname or m.user_id} is marked autokicked by GroupMe; "
                "listed as an active member"
            )
        role = member_role(m, group.creator_user_id, warnings)
        out.append(Member(id=m.user_id, name=m.name or m.nickname, role=role, state="active"))
    return out


def member_role(m: GroupMember, creator: str | None, warnings: list[str]) -> MemberRole:
    """The strongest of a member's GroupMe roles; unknown roles are warned about."""
    if m.roles is None:
        return "owner" if m.user_id == creator else "member"
    found = {map_enum(f"member {m.user_id} role", role, ROLES, warnings) for role in m.roles}
    return next((role for role in ADMIN_ORDER if role in found), "member")


def is_system(message: Message) -> bool:
    """GroupMe's own notices (member added, topic changed...), not anyone's post."""
    return bool(message.system) or message.sender_type == "system"


def to_post(message: Message) -> Post:
    """A GroupMe message as a snapshot post: text with links, reply parent, pin."""
    text = (message.text or "").strip()
    parent: str | None = None
    for a in message.attachments:
        if a.type == "reply":
            parent = a.reply_id or a.base_reply_id
        elif a.type == "location" and a.name:
            text = f"{text}\n[location: {a.name}]".strip()
    return Post(
        id=message.id,
        author_id=message.user_id or message.sender_id,
        created_at=message.created_at,
        text=text,
        links=with_urls(text),
        pinned=message.pinned_at is not None,
        parent_id=parent,
    )
