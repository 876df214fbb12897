"""The ``discord`` connector: Discord servers ("guilds") through the Discord HTTP API v10,
with a bot token (``Authorization: Bot <token>``).

A page is a guild (``external_id`` = the guild id). The connector reads the guild (its
roles and their permission bit sets), the bot's own member record (to know which calls
and channels its permissions allow, so it makes no request Discord would refuse), the
member list (``after`` paging; needs the GUILD_MEMBERS privileged intent), bans (needs
BAN_MEMBERS), invites with their metadata (needs MANAGE_GUILD), the channels, active and
archived threads and their messages within ``lookback_days`` (``before`` paging; the
content needs the MESSAGE_CONTENT privileged intent), and the audit log (needs
VIEW_AUDIT_LOG) for the last moderator action. Whatever the bot may not read stays
``null`` with the reason in ``unavailable``; a partial read of the posts (channels the
bot may not read, a channel cut at ``max_messages_per_channel``) is named in ``limits``,
and the look-back window in ``coverage``.

Mapping (also in docs/connectors/discord.md):

========================  ===============================================================
snapshot field            Discord value
========================  ===============================================================
visibility                ``public`` when the guild has ``vanity_url_code`` or the
                          DISCOVERABLE feature and @everyone can view a channel (its
                          VIEW_CHANNEL bit, not denied by the channel's @everyone
                          overwrite); otherwise ``closed``
join_policy               ``open`` with a vanity URL or DISCOVERABLE; otherwise ``invite``
post_moderation           null: Discord has no approval of posts
invite_links              ``GET /guilds/{id}/invites`` (``expires_at``, else ``created_at``
                          + ``max_age``; ``max_age`` 0 = never; ``max_uses`` 0 =
                          unlimited) and the vanity URL (never expires, unlimited)
external_members_allowed  ``true``: any Discord account can be admitted
members[].role            ``owner_id`` -> owner; ADMINISTRATOR or MANAGE_GUILD (from
                          @everyone and the member's roles) -> manager; MANAGE_MESSAGES
                          -> moderator; else member
members[].state           listed members ``active``; bans ``banned``
posts                     messages (DEFAULT, REPLY and command replies) of text,
                          announcement and voice channels and of threads, newest
                          ``max_messages_per_channel`` within ``lookback_days``; text
                          from ``content``, rich embeds and forwarded snapshots; links
                          from the text and embed ``url``s; ``parent_id`` = the thread's
                          starter message, or the replied-to message, when read too
moderation                newest moderator action in the audit log (kick, ban, timeout,
                          role change, message delete/pin, ...) by a person on someone
                          else; ``pending_reports`` null (no API)
coverage ``posts``        the look-back window
limits ``posts``          channels and threads the bot cannot read, archived private
                          threads it cannot list, a channel cut at
                          ``max_messages_per_channel`` or refusing its messages
warnings                  verification_level, default_message_notifications and
                          explicit_content_filter (no snapshot field), paused invites,
                          pending members, bot members
========================  ===============================================================
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import UTC, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import AwareDatetime, Field, PositiveFloat, PositiveInt, RootModel

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
from auditor.connectors.http import HttpStatusError, safe_url
from auditor.snapshot import (
    InviteLink,
    Member,
    MemberRole,
    Moderation,
    PageSnapshot,
    Post,
    Settings,
)

PLATFORM = "discord"
DISCORD_EPOCH_MS = 1_420_070_400_000
USER_AGENT = f"DiscordBot (page-auditor, {version('page-auditor')})"
MAX_PAGES = 10_000

# Page sizes: each listing's documented maximum ("limit").
MEMBERS_PAGE = 1000
BANS_PAGE = 1000
GUILDS_PAGE = 200
MESSAGES_PAGE = 100
AUDIT_PAGE = 100
THREADS_PAGE = 100

# Permission bits (topics/permissions, "Bitwise Permission Flags").
KICK_MEMBERS = 1 << 1
BAN_MEMBERS = 1 << 2
ADMINISTRATOR = 1 << 3
MANAGE_GUILD = 1 << 5
VIEW_AUDIT_LOG = 1 << 7
VIEW_CHANNEL = 1 << 10
MANAGE_MESSAGES = 1 << 13
READ_MESSAGE_HISTORY = 1 << 16
CONNECT = 1 << 20
MANAGE_THREADS = 1 << 34
ALL_PERMISSIONS = -1
"""Every bit set (Python integers are unbounded), as the owner and administrators have."""

# Channel types (resources/channel, "Channel Types").
GUILD_TEXT, GUILD_VOICE, GUILD_ANNOUNCEMENT, GUILD_STAGE_VOICE = 0, 2, 5, 13
GUILD_FORUM, GUILD_MEDIA = 15, 16
ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD = 10, 11, 12
MESSAGE_CHANNELS = {GUILD_TEXT, GUILD_VOICE, GUILD_ANNOUNCEMENT, GUILD_STAGE_VOICE}
VOICE_CHANNELS = {GUILD_VOICE, GUILD_STAGE_VOICE}
THREAD_PARENTS = {GUILD_TEXT, GUILD_ANNOUNCEMENT, GUILD_FORUM, GUILD_MEDIA}
THREADS = {ANNOUNCEMENT_THREAD, PUBLIC_THREAD, PRIVATE_THREAD}
CONTENT_CHANNELS = MESSAGE_CHANNELS | {GUILD_FORUM, GUILD_MEDIA}

# Message types that carry what someone wrote (resources/message, "Message Types"):
# DEFAULT, REPLY, CHAT_INPUT_COMMAND, CONTEXT_MENU_COMMAND; the rest are system notices.
POST_TYPES = {0, 19, 20, 23}
REPLY = 19

# Audit log events a moderator makes on someone else (resources/audit-log, "Audit Log
# Events"): kick, prune, ban and unban, member update (timeouts, nicknames, mute), role
# change, voice move and disconnect, invite delete, message delete/bulk delete/pin/unpin,
# thread delete. Changes a member makes to themself (their nickname) do not count.
MODERATOR_ACTIONS = {20, 21, 22, 23, 24, 25, 26, 27, 42, 72, 73, 74, 75, 112}

VERIFICATION = {
    "0": "NONE (unrestricted)",
    "1": "LOW (verified email)",
    "2": "MEDIUM (registered on Discord for longer than 5 minutes)",
    "3": "HIGH (a member of the server for longer than 10 minutes)",
    "4": "VERY_HIGH (verified phone number)",
}
NOTIFICATIONS = {"0": "ALL_MESSAGES", "1": "ONLY_MENTIONS"}
CONTENT_FILTER = {"0": "DISABLED", "1": "MEMBERS_WITHOUT_ROLES", "2": "ALL_MEMBERS"}

URL_RE = re.compile(r"https?://[^\s<>\"')\]]+")
SNOWFLAKE_RE = re.compile(r"[0-9]{1,20}")

NO_POST_MODERATION = (
    "Discord has no approval of posts: a message appears as soon as it is sent (AutoMod "
    "filters and channel permissions are not post moderation)."
)
MEMBERS_REFUSED = (
    "Discord refused to list the server's members (HTTP 403): turn on the Server Members "
    "privileged intent (GUILD_MEMBERS) on the bot's page in the Developer Portal."
)
NO_MESSAGE_CONTENT = (
    "Discord returned every message without its content: the bot lacks the Message "
    "Content privileged intent (MESSAGE_CONTENT); turn it on in the Developer Portal "
    "(bots in 100 or more servers need Discord's approval)."
)

T = TypeVar("T")


def utcnow() -> datetime:
    """The current time (tests replace it to keep the look-back window on their fixtures)."""
    return datetime.now(UTC)


def snowflake_time(snowflake: str) -> datetime:
    """When a Discord id was made: ``(id >> 22) + 1420070400000`` ms (reference,
    "Snowflakes")."""
    return datetime.fromtimestamp(((int(snowflake) >> 22) + DISCORD_EPOCH_MS) / 1000, UTC)


class DiscordSettings(CloudConnectorSettings):
    """Settings of the ``discord`` connector."""

    base_url: str = Field("https://discord.com/api/v10", description="Discord API base URL.")
    token_url: None = Field(
        None, description="Not used: a bot token is sent as is, no token endpoint."
    )
    token_env: EnvName = Field(description="Environment variable holding the bot token.")
    requests_per_second: PositiveFloat | None = Field(
        25.0, description="Upper bound on API requests per second (Discord allows 50 a bot)."
    )
    lookback_days: PositiveInt = Field(30, description="Read messages of the last N days.")
    read_messages: bool = Field(
        True, description="Read channel and thread messages (needs MESSAGE_CONTENT)."
    )
    max_messages_per_channel: PositiveInt = Field(
        1000, description="Most recent messages read per channel or thread in the window."
    )


class User(PlatformModel):
    """A Discord user (the fields used)."""

    id: str
    username: str
    bot: bool = False


class Role(PlatformModel):
    """A role; ``permissions`` is a bit set serialized as a string of digits."""

    id: str
    permissions: int


class Overwrite(PlatformModel):
    """A channel permission overwrite: ``type`` 0 role, 1 member."""

    id: str
    type: int
    allow: int
    deny: int


class Guild(PlatformModel):
    """``GET /guilds/{id}`` (the fields used)."""

    id: str
    name: str
    description: str | None = None
    owner_id: str
    verification_level: int
    default_message_notifications: int
    explicit_content_filter: int
    features: list[str]
    vanity_url_code: str | None = None
    roles: list[Role]
    approximate_member_count: int | None = None


class GuildMember(PlatformModel):
    """A guild member."""

    user: User
    roles: list[str]
    joined_at: AwareDatetime | None = None
    pending: bool = False


class MemberList(RootModel[list[GuildMember]]):
    """``GET /guilds/{id}/members``: an array of guild members."""


class Ban(PlatformModel):
    """A ban."""

    user: User


class BanList(RootModel[list[Ban]]):
    """``GET /guilds/{id}/bans``: an array of bans."""


class Invite(PlatformModel):
    """An invite with its metadata (present with MANAGE_GUILD)."""

    code: str
    inviter: User | None = None
    expires_at: AwareDatetime | None = None
    created_at: AwareDatetime | None = None
    max_age: int | None = Field(None, ge=0)
    max_uses: int | None = Field(None, ge=0)
    uses: int | None = Field(None, ge=0)


class InviteList(RootModel[list[Invite]]):
    """``GET /guilds/{id}/invites``: an array of invites."""


class ThreadMetadata(PlatformModel):
    """A thread's archive state."""

    archive_timestamp: AwareDatetime


class Channel(PlatformModel):
    """A guild channel or thread (the fields used)."""

    id: str
    type: int
    name: str | None = None
    topic: str | None = None
    parent_id: str | None = None
    last_message_id: str | None = None
    permission_overwrites: list[Overwrite] = []
    thread_metadata: ThreadMetadata | None = None

    def label(self) -> str:
        """How the channel is named in warnings."""
        return f"#{self.name}" if self.name else f"channel {self.id}"


class ChannelList(RootModel[list[Channel]]):
    """``GET /guilds/{id}/channels``: an array of channels."""


class ThreadMember(PlatformModel):
    """The bot's membership of a thread."""

    id: str | None = None


class ThreadList(PlatformModel):
    """Active or archived threads (``has_more`` only on archived listings)."""

    threads: list[Channel]
    members: list[ThreadMember] = []
    has_more: bool = False


class Embed(PlatformModel):
    """A message embed."""

    type: str | None = None
    title: str | None = None
    description: str | None = None
    url: str | None = None


class Attachment(PlatformModel):
    """A file attached to a message."""

    id: str


class MessageReference(PlatformModel):
    """What a reply, forward or thread starter points at."""

    message_id: str | None = None
    channel_id: str | None = None


class SnapshotContent(PlatformModel):
    """The copied message of a forward."""

    content: str = ""
    embeds: list[Embed] = []


class MessageSnapshot(PlatformModel):
    """A forwarded message's snapshot."""

    message: SnapshotContent


class Message(PlatformModel):
    """A message (the fields used)."""

    id: str
    channel_id: str
    author: User
    content: str
    timestamp: AwareDatetime
    type: int
    pinned: bool = False
    mentions: list[User] = []
    embeds: list[Embed] = []
    attachments: list[Attachment] = []
    sticker_items: list[dict[str, Any]] = []
    poll: dict[str, Any] | None = None
    message_reference: MessageReference | None = None
    message_snapshots: list[MessageSnapshot] = []

    def is_blank(self) -> bool:
        """Nothing readable: what a bot without MESSAGE_CONTENT receives."""
        return not (
            self.content
            or self.embeds
            or self.attachments
            or self.sticker_items
            or self.poll
            or any(s.message.content or s.message.embeds for s in self.message_snapshots)
        )


class MessageList(RootModel[list[Message]]):
    """``GET /channels/{id}/messages``: an array of messages, newest first."""


class AuditEntry(PlatformModel):
    """An audit log entry (its time is its id's snowflake time)."""

    id: str
    user_id: str | None = None
    target_id: str | None = None
    action_type: int


class AuditLog(PlatformModel):
    """``GET /guilds/{id}/audit-logs``."""

    audit_log_entries: list[AuditEntry]
    users: list[User] = []


class PartialGuild(PlatformModel):
    """An entry of ``GET /users/@me/guilds``."""

    id: str
    name: str


class PartialGuildList(RootModel[list[PartialGuild]]):
    """``GET /users/@me/guilds``: an array of partial guilds."""


def body_retry_after(response: httpx.Response) -> float | None:
    """``retry_after`` of a 429's JSON body (topics/rate-limits), if it has one."""
    if response.status_code != 429:
        return None
    try:
        body = response.json()
    except ValueError:
        return None
    value = body.get("retry_after") if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return max(0.0, float(value))


def is_global_limit(response: httpx.Response) -> bool:
    """Whether a 429 is the bot's global limit rather than one route's."""
    headers = response.headers
    if headers.get("x-ratelimit-global", "").lower() == "true":
        return True
    if headers.get("x-ratelimit-scope", "").lower() == "global":
        return True
    try:
        body = response.json()
    except ValueError:
        return False
    return isinstance(body, dict) and body.get("global") is True


class Permissions:
    """Discord's documented permission computation (topics/permissions, "Permission
    Overwrites") for one guild."""

    def __init__(self, guild: Guild) -> None:
        self.guild = guild
        self.roles = {role.id: role.permissions for role in guild.roles}
        self.everyone = self.roles.get(guild.id, 0)

    def unknown_roles(self, role_ids: Iterable[str]) -> list[str]:
        """Role ids the guild does not list (their permissions cannot be counted)."""
        return [rid for rid in role_ids if rid not in self.roles]

    def base(self, user_id: str | None, role_ids: Iterable[str]) -> int:
        """Guild-level permissions: the owner and administrators have every one."""
        if user_id is not None and user_id == self.guild.owner_id:
            return ALL_PERMISSIONS
        perms = self.everyone
        for rid in role_ids:
            perms |= self.roles.get(rid, 0)
        return ALL_PERMISSIONS if perms & ADMINISTRATOR else perms

    def in_channel(
        self, base: int, user_id: str | None, role_ids: Iterable[str], channel: Channel
    ) -> int:
        """``base`` after the channel's @everyone, role and member overwrites."""
        if base & ADMINISTRATOR:
            return ALL_PERMISSIONS
        overwrites = {o.id: o for o in channel.permission_overwrites}
        perms = base
        everyone = overwrites.get(self.guild.id)
        if everyone is not None:
            perms = (perms & ~everyone.deny) | everyone.allow
        allow = deny = 0
        for rid in role_ids:
            role = overwrites.get(rid)
            if role is not None and role.type == 0:
                allow |= role.allow
                deny |= role.deny
        perms = (perms & ~deny) | allow
        member = overwrites.get(user_id) if user_id is not None else None
        if member is not None and member.type == 1:
            perms = (perms & ~member.deny) | member.allow
        return perms

    def everyone_in(self, channel: Channel) -> int:
        """What any member (@everyone, no other role) may do in ``channel``."""
        return self.in_channel(self.base(None, ()), None, (), channel)


class Bot:
    """The bot's identity and permissions in one guild."""

    def __init__(self, me: User, member: GuildMember, perms: Permissions) -> None:
        self.id = me.id
        self.roles = member.roles
        self.perms = perms
        self.base = perms.base(me.id, member.roles)

    def has(self, bits: int) -> bool:
        """Whether the bot holds every permission in ``bits`` guild-wide."""
        return self.base & bits == bits

    def in_channel(self, channel: Channel) -> int:
        """The bot's permissions in ``channel``."""
        return self.perms.in_channel(self.base, self.id, self.roles, channel)


class DiscordConnector(CloudConnector):
    """Discord servers (guilds) through the Discord HTTP API, with a bot token."""

    type = PLATFORM
    platform = PLATFORM
    remediation = shipped_remediation(PLATFORM)
    summary = "Discord servers (HTTP API v10, bot token)"
    Settings = DiscordSettings
    settings: DiscordSettings

    def __init__(self, name: str, settings: DiscordSettings, base_dir: Path | None = None) -> None:
        """The shared client with the bot token; the bot's own user is read on first use."""
        super().__init__(name, settings, base_dir)
        self._me_lock = asyncio.Lock()
        self._me: User | None = None

    def headers(self) -> dict[str, str]:
        """The bot token (``Authorization: Bot <token>``) and the User-Agent Discord asks
        bots to send."""
        token = read_secret(PLATFORM, "token_env", self.settings.token_env)
        return {
            "Authorization": f"Bot {token.strip().removeprefix('Bot ')}",
            "User-Agent": USER_AGENT,
        }

    def rate_limit_wait(self, response: httpx.Response) -> float | None:
        """The 429 body's ``retry_after`` (seconds, with decimals; more exact than the
        rounded ``Retry-After``); a global rate limit holds every request that long (a
        longer wait than ``max_retry_after_s`` fails the request instead, holding none)."""
        wait = body_retry_after(response)
        if wait is not None and wait <= self.http.max_retry_after_s and is_global_limit(response):
            self.http.pause(wait)
        return wait

    async def _current_user(self) -> User:
        """The bot's own user (``GET /users/@me``), read once per connector."""
        async with self._me_lock:
            if self._me is None:
                self._me = self.parse(User, await self.http.get_json("users/@me"), "current user")
            return self._me

    async def fetch_page(self, ref: PageRef) -> PageSnapshot:
        """The guild ``ref.external_id``: settings, members, bans, invites, posts, audit log."""
        if not SNOWFLAKE_RE.fullmatch(ref.external_id):
            raise ConnectorError(
                f"{PLATFORM}: page external_id {ref.external_id[:40]!r} is not a Discord "
                "server id (digits only)"
            )
        gid = ref.external_id
        me = await self._current_user()
        guild = await self._guild(gid)
        perms = Permissions(guild)
        raw = await self.http.get_json(f"guilds/{gid}/members/{quote(me.id, safe='')}")
        bot = Bot(me, self.parse(GuildMember, raw, "bot member"), perms)
        warnings: list[str] = guild_warnings(guild)
        unavailable: dict[str, str] = {"post_moderation": NO_POST_MODERATION}
        notes = PageNotes(unavailable=unavailable, warnings=warnings)
        channels = self.parse(
            ChannelList, await self.http.get_json(f"guilds/{gid}/channels"), "channels"
        ).root
        members = await self._members(guild, bot, perms, warnings, unavailable)
        open_join = bool(guild.vanity_url_code) or "DISCOVERABLE" in guild.features
        everyone_reads = any(
            perms.everyone_in(c) & VIEW_CHANNEL for c in channels if c.type in CONTENT_CHANNELS
        )
        now = utcnow()
        posts = await self._posts(guild, bot, channels, now, notes)
        invites = await self._invites(guild, bot, unavailable)
        moderation = await self._moderation(guild, bot, unavailable)
        return PageSnapshot(
            platform=PLATFORM,
            external_id=gid,
            name=guild.name,
            url=f"https://discord.com/channels/{gid}",
            description=guild.description or None,
            kind="group",
            created_at=snowflake_time(guild.id),
            fetched_at=now,
            links=topic_links(channels),
            settings=Settings(
                visibility="public" if open_join and everyone_reads else "closed",
                join_policy="open" if open_join else "invite",
                post_moderation=None,
                invite_links=invites,
                external_members_allowed=True,
            ),
            members=members,
            posts=posts,
            moderation=moderation,
            unavailable=unavailable,
            coverage=notes.coverage,
            limits=notes.limits,
            warnings=warnings,
        )

    async def _guild(self, gid: str) -> Guild:
        """The guild with its roles and approximate member count."""
        try:
            raw = await self.http.get_json(f"guilds/{gid}", {"with_counts": "true"})
        except HttpStatusError as exc:
            if exc.status not in (403, 404):
                raise
            raise ConnectorError(
                f"{PLATFORM}: server {gid}: HTTP {exc.status}: the bot is not a member of this "
                "server (add it with an OAuth2 invite link) or the id is wrong"
            ) from None
        return self.parse(Guild, raw, "guild")

    async def _pages_by_id(
        self,
        path: str,
        items: Callable[[Any], list[T]],
        item_id: Callable[[T], str],
        cursor: Literal["after", "before"],
        page_size: int,
    ) -> AsyncIterator[list[T]]:
        """Each page of a listing paged by snowflake (reference, "Snowflake IDs in
        Pagination"): ``after`` the highest id seen, or ``before`` the lowest."""
        position: int | None = None
        for _ in range(MAX_PAGES):
            query: dict[str, str | int] = {"limit": page_size}
            if position is not None:
                query[cursor] = str(position)
            page = items(await self.http.get_json(path, query))
            if page:
                yield page
            if len(page) < page_size:
                return
            ids = [int(item_id(item)) for item in page]
            nxt = max(ids) if cursor == "after" else min(ids)
            if position is not None and (nxt <= position if cursor == "after" else nxt >= position):
                raise ConnectorError(
                    f"{PLATFORM}: {safe_url(self.http.url(path))}: paging by {cursor} does not "
                    "advance; stopped"
                )
            position = nxt
        raise ConnectorError(f"{PLATFORM}: {safe_url(self.http.url(path))}: over {MAX_PAGES} pages")

    async def _members(
        self,
        guild: Guild,
        bot: Bot,
        perms: Permissions,
        warnings: list[str],
        unavailable: dict[str, str],
    ) -> list[Member] | None:
        """Members (without the bot itself) with roles, then bans; None when refused."""
        found: list[GuildMember] = []
        try:
            async for page in self._pages_by_id(
                f"guilds/{guild.id}/members",
                lambda raw: self.parse(MemberList, raw, "guild members").root,
                lambda m: m.user.id,
                "after",
                MEMBERS_PAGE,
            ):
                found.extend(page)
        except HttpStatusError as exc:
            if exc.status != 403:
                raise
            count = guild.approximate_member_count
            unavailable["members"] = MEMBERS_REFUSED + (
                f" Discord counts about {count} members." if count is not None else ""
            )
            return None
        members = [map_member(m, guild, perms, warnings) for m in found if m.user.id != bot.id]
        bots = [m.user.username for m in found if m.user.bot and m.user.id != bot.id]
        if bots:
            warnings.append(
                f"{len(bots)} member(s) are bots (apps), not people, and read what their "
                f"permissions allow: {', '.join(sorted(bots))}"
            )
        pending = sum(m.pending for m in found)
        if pending:
            warnings.append(
                f"{pending} member(s) have not yet passed Membership Screening (pending): "
                "they have joined but may not act (post) until they do"
            )
        return members + await self._bans(guild, bot, unavailable)

    async def _bans(self, guild: Guild, bot: Bot, unavailable: dict[str, str]) -> list[Member]:
        """Banned users (state ``banned``); none, with the reason, without BAN_MEMBERS."""
        refused = (
            "The bot lacks the Ban Members permission (BAN_MEMBERS), so banned people (a "
            "banned guardian, say) are not listed."
        )
        if not bot.has(BAN_MEMBERS):
            unavailable["bans"] = refused
            return []
        bans: list[Member] = []
        try:
            async for page in self._pages_by_id(
                f"guilds/{guild.id}/bans",
                lambda raw: self.parse(BanList, raw, "bans").root,
                lambda b: b.user.id,
                "after",
                BANS_PAGE,
            ):
                bans.extend(
                    Member(id=b.user.id, name=b.user.username, role="member", state="banned")
                    for b in page
                )
        except HttpStatusError as exc:
            if exc.status != 403:
                raise
            unavailable["bans"] = refused
            return []
        return bans

    async def _invites(
        self, guild: Guild, bot: Bot, unavailable: dict[str, str]
    ) -> list[InviteLink] | None:
        """Active invites and the vanity URL; None without MANAGE_GUILD (no expiry/uses)."""
        refused = (
            "The bot lacks the Manage Server permission (MANAGE_GUILD), which Discord "
            "requires to show invites with their expiry and use limits."
        )
        if not bot.has(MANAGE_GUILD):
            unavailable["invite_links"] = refused
            return None
        try:
            raw = await self.http.get_json(f"guilds/{guild.id}/invites")
        except HttpStatusError as exc:
            if exc.status != 403:
                raise
            unavailable["invite_links"] = refused
            return None
        links = [invite_link(i) for i in self.parse(InviteList, raw, "invites").root]
        if guild.vanity_url_code:
            links.append(InviteLink(url=f"https://discord.gg/{guild.vanity_url_code}"))
        return links

    async def _posts(
        self,
        guild: Guild,
        bot: Bot,
        channels: list[Channel],
        now: datetime,
        notes: PageNotes,
    ) -> list[Post] | None:
        """Messages of every channel and thread the bot may read, within the window; what
        it may not read is a limit of ``posts``."""
        if not self.settings.read_messages:
            notes.unavailable["posts"] = "Reading messages is turned off (read_messages)."
            return None
        cutoff = now - timedelta(days=self.settings.lookback_days)
        by_id = {c.id: c for c in channels}
        unreadable: list[str] = []
        readable = []
        for channel in channels:
            if channel.type in MESSAGE_CHANNELS:
                if can_read(bot.in_channel(channel), channel):
                    readable.append(channel)
                else:
                    unreadable.append(channel.label())
        threads, joined = await self._threads(guild, bot, channels, cutoff, notes.limits)
        for thread in threads:
            parent = by_id.get(thread.parent_id or "")
            allowed = bot.in_channel(parent) if parent is not None else 0
            private_shut = (
                thread.type == PRIVATE_THREAD
                and thread.id not in joined
                and not allowed & MANAGE_THREADS
            )
            if private_shut:
                unreadable.append(f"private thread {thread.label()} (not joined; Manage Threads)")
            elif parent is not None and can_read(allowed, parent):
                readable.append(thread)
            else:
                unreadable.append(f"thread {thread.label()}")
        if not readable and unreadable:
            notes.unavailable["posts"] = (
                "The bot may read no channel of this server (it needs View Channel and Read "
                "Message History)."
            )
            return None
        if unreadable:
            note_limit(
                notes.limits,
                "posts",
                f"the bot cannot read {len(unreadable)} channel(s) or thread(s) (needs View "
                f"Channel and Read Message History there): {', '.join(unreadable)}",
            )
        messages: list[tuple[Channel, Message]] = []
        for channel in readable:
            if channel.last_message_id is None or snowflake_time(channel.last_message_id) < cutoff:
                continue  # nothing posted in the window
            found = await self._messages(channel, cutoff, notes.limits)
            messages.extend((channel, m) for m in found)
        candidates = [
            m
            for _, m in messages
            if m.type in POST_TYPES and m.author.id != bot.id and bot.id not in mentioned(m)
        ]
        if candidates and all(m.is_blank() for m in candidates):
            notes.unavailable["posts"] = NO_MESSAGE_CONTENT
            notes.limits.pop("posts", None)  # nothing was read: no part of it was cut
            return None
        notes.coverage["posts"] = f"posts of the last {self.settings.lookback_days} days"
        return to_posts(messages, guild.id)

    async def _threads(
        self,
        guild: Guild,
        bot: Bot,
        channels: list[Channel],
        cutoff: datetime,
        limits: dict[str, str],
    ) -> tuple[list[Channel], set[str]]:
        """Active threads and threads archived within the window, with the ids of the
        threads the bot has joined; archived private threads it may not list are a limit
        of ``posts``."""
        raw = await self.http.get_json(f"guilds/{guild.id}/threads/active")
        active = self.parse(ThreadList, raw, "active threads")
        joined = {m.id for m in active.members}  # the bot's own thread memberships
        threads = {t.id: t for t in active.threads}
        no_private: list[str] = []
        for parent in channels:
            if parent.type not in THREAD_PARENTS:
                continue
            allowed = bot.in_channel(parent)
            if not can_read(allowed, parent):
                continue  # its threads are named unreadable with the channel
            for thread in await self._archived(parent, "public", cutoff):
                threads.setdefault(thread.id, thread)
            if parent.type != GUILD_TEXT:
                continue  # private threads exist only in text channels
            if allowed & MANAGE_THREADS:
                for thread in await self._archived(parent, "private", cutoff):
                    threads.setdefault(thread.id, thread)
            else:
                no_private.append(parent.label())
        if no_private:
            note_limit(
                limits,
                "posts",
                "archived private threads were not listed (needs Manage Threads) in: "
                + ", ".join(no_private),
            )
        return list(threads.values()), joined

    async def _archived(
        self, parent: Channel, kind: Literal["public", "private"], cutoff: datetime
    ) -> list[Channel]:
        """Threads of ``parent`` archived after ``cutoff`` (newest archived first; paged
        ``before`` the last archive time while ``has_more``)."""
        path = f"channels/{parent.id}/threads/archived/{kind}"
        found: list[Channel] = []
        before: str | None = None
        for _ in range(MAX_PAGES):
            query: dict[str, str | int] = {"limit": THREADS_PAGE}
            if before is not None:
                query["before"] = before
            page = self.parse(
                ThreadList, await self.http.get_json(path, query), f"archived {kind} threads"
            )
            for thread in page.threads:
                meta = thread.thread_metadata
                if meta is not None and meta.archive_timestamp < cutoff:
                    return found
                found.append(thread)
            last = page.threads[-1].thread_metadata if page.threads else None
            if not page.has_more or last is None:
                return found
            stamp = last.archive_timestamp.isoformat()
            if stamp == before:
                raise ConnectorError(f"{PLATFORM}: {safe_url(self.http.url(path))}: paging stalls")
            before = stamp
        raise ConnectorError(f"{PLATFORM}: {safe_url(self.http.url(path))}: over {MAX_PAGES} pages")

    async def _messages(
        self, channel: Channel, cutoff: datetime, limits: dict[str, str]
    ) -> list[Message]:
        """Messages of ``channel`` newer than ``cutoff``, newest first, up to the cap; a
        cut or a refusal is a limit of ``posts``."""
        cap = self.settings.max_messages_per_channel
        found: list[Message] = []
        try:
            async for page in self._pages_by_id(
                f"channels/{channel.id}/messages",
                lambda raw: self.parse(MessageList, raw, "channel messages").root,
                lambda m: m.id,
                "before",
                MESSAGES_PAGE,
            ):
                for message in page:
                    if message.timestamp < cutoff:
                        return found
                    found.append(message)
                    if len(found) >= cap:
                        note_limit(
                            limits,
                            "posts",
                            f"{channel.label()}: only the newest {cap} messages of the window "
                            "were read (max_messages_per_channel)",
                        )
                        return found
        except HttpStatusError as exc:
            if exc.status not in (403, 404):
                raise
            note_limit(limits, "posts", f"{channel.label()}: messages not read (HTTP {exc.status})")
        return found

    async def _moderation(
        self, guild: Guild, bot: Bot, unavailable: dict[str, str]
    ) -> Moderation | None:
        """The newest moderator action in the audit log (kept 45 days by Discord)."""
        refused = (
            "The bot lacks the View Audit Log permission (VIEW_AUDIT_LOG), so moderator "
            "activity is unknown."
        )
        if not bot.has(VIEW_AUDIT_LOG):
            unavailable["moderation"] = refused
            return None
        try:
            async for page in self._pages_by_id(
                f"guilds/{guild.id}/audit-logs",
                lambda raw: audit_entries(self.parse(AuditLog, raw, "audit log")),
                lambda pair: pair[0].id,
                "before",
                AUDIT_PAGE,
            ):
                for entry, robots in sorted(page, key=lambda p: int(p[0].id), reverse=True):
                    if is_moderator_action(entry, robots):
                        return Moderation(last_moderator_action_at=snowflake_time(entry.id))
        except HttpStatusError as exc:
            if exc.status != 403:
                raise
            unavailable["moderation"] = refused
            return None
        return Moderation(last_moderator_action_at=None)

    async def discover(self) -> AsyncIterator[DiscoveredGroup]:
        """Every guild the bot is in (``GET /users/@me/guilds``, paged ``after``)."""
        async for page in self._pages_by_id(
            "users/@me/guilds",
            lambda raw: self.parse(PartialGuildList, raw, "guilds list").root,
            lambda g: g.id,
            "after",
            GUILDS_PAGE,
        ):
            for g in page:
                yield DiscoveredGroup(g.id, g.name, f"https://discord.com/channels/{g.id}")


def guild_warnings(guild: Guild) -> list[str]:
    """Guild settings the policy cares about that have no snapshot field."""
    notes: list[str] = []
    shown = []
    for setting, value, table in (
        ("verification_level", guild.verification_level, VERIFICATION),
        ("default_message_notifications", guild.default_message_notifications, NOTIFICATIONS),
        ("explicit_content_filter", guild.explicit_content_filter, CONTENT_FILTER),
    ):
        name = map_enum(setting, str(value), table, notes)
        if name is not None:
            shown.append(f"{setting} {value} = {name}")
    if shown:
        notes.insert(0, "recorded, no snapshot field: " + "; ".join(shown))
    if "INVITES_DISABLED" in guild.features:
        notes.append("invites are paused (INVITES_DISABLED): nobody can join until resumed")
    return notes


def map_member(m: GuildMember, guild: Guild, perms: Permissions, warnings: list[str]) -> Member:
    """A listed member with the role its permissions give it."""
    unknown = perms.unknown_roles(m.roles)
    if unknown:
        warnings.append(
            f"member {m.user.username} has {len(unknown)} role(s) the server does not list; "
            "their permissions are not counted"
        )
    return Member(
        id=m.user.id,
        name=m.user.username,
        role=member_role(m.user.id, m.roles, guild, perms),
        state="active",
        joined_at=m.joined_at,
    )


def member_role(user_id: str, role_ids: list[str], guild: Guild, perms: Permissions) -> MemberRole:
    """owner (``owner_id``), manager (ADMINISTRATOR or MANAGE_GUILD), moderator
    (MANAGE_MESSAGES) or member, from @everyone's and the member's roles' permissions."""
    if user_id == guild.owner_id:
        return "owner"
    base = perms.base(None, role_ids)
    if base & (ADMINISTRATOR | MANAGE_GUILD):
        return "manager"
    if base & MANAGE_MESSAGES:
        return "moderator"
    return "member"


def invite_link(invite: Invite) -> InviteLink:
    """An invite as a join link: ``max_age`` 0 never expires, ``max_uses`` 0 is unlimited."""
    expires = invite.expires_at
    if expires is None and invite.created_at is not None and invite.max_age:
        expires = invite.created_at + timedelta(seconds=invite.max_age)
    return InviteLink(
        url=f"https://discord.gg/{invite.code}",
        created_by=invite.inviter.id if invite.inviter else None,
        expires_at=expires,
        max_uses=invite.max_uses,
        uses=invite.uses,
    )


def can_read(perms: int, channel: Channel) -> bool:
    """View Channel and Read Message History (and Connect, for voice channels' chat):
    without history Discord returns no messages rather than an error."""
    need = VIEW_CHANNEL | READ_MESSAGE_HISTORY | (CONNECT if channel.type in VOICE_CHANNELS else 0)
    return perms & need == need


def mentioned(message: Message) -> set[str]:
    """Ids of the users a message mentions."""
    return {u.id for u in message.mentions}


def audit_entries(log: AuditLog) -> list[tuple[AuditEntry, frozenset[str]]]:
    """Each entry of an audit log page with the ids of the page's bot users."""
    robots = frozenset(u.id for u in log.users if u.bot)
    return [(entry, robots) for entry in log.audit_log_entries]


def is_moderator_action(entry: AuditEntry, robots: frozenset[str]) -> bool:
    """A person acting on someone or something else, with a moderator's permission."""
    return (
        entry.action_type in MODERATOR_ACTIONS
        and entry.user_id is not None
        and entry.user_id not in robots
        and entry.target_id != entry.user_id
    )


def topic_links(channels: list[Channel]) -> list[str]:
    """Links in channel topics: the server's own links."""
    found: list[str] = []
    for channel in channels:
        for url in URL_RE.findall(channel.topic or ""):
            if url not in found:
                found.append(url)
    return found


def to_posts(messages: list[tuple[Channel, Message]], guild_id: str) -> list[Post]:
    """Posts in time order, each with its message link; ``parent_id`` only where it names
    a post also read."""
    posts = [(channel, m) for channel, m in messages if m.type in POST_TYPES]
    ids = {m.id for _, m in posts}
    out = []
    for channel, m in sorted(posts, key=lambda cm: (cm[1].timestamp, int(cm[1].id))):
        if channel.type in THREADS and m.id != channel.id:
            parent: str | None = channel.id
        elif m.type == REPLY and m.message_reference is not None:
            parent = m.message_reference.message_id
        else:
            parent = None
        text, links = message_text(m)
        out.append(
            Post(
                id=m.id,
                author_id=m.author.id,
                created_at=m.timestamp,
                text=text,
                links=links,
                pinned=m.pinned,
                parent_id=parent if parent in ids else None,
                url=f"https://discord.com/channels/{guild_id}/{channel.id}/{m.id}",
            )
        )
    return out


def message_text(message: Message) -> tuple[str, list[str]]:
    """The text a member sees (content, rich embeds, forwarded copies) and its links."""
    parts = [message.content]
    embeds = list(message.embeds)
    for snap in message.message_snapshots:
        parts.append(snap.message.content)
        embeds.extend(snap.message.embeds)
    for embed in embeds:
        if embed.type in (None, "rich"):
            parts.extend(p for p in (embed.title, embed.description) if p)
    text = "\n".join(p for p in parts if p).strip()
    links: list[str] = []
    for url in [e.url for e in embeds if e.url] + URL_RE.findall(text):
        if url not in links:
            links.append(url)
    return text, links
