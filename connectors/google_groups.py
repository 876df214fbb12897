"""The ``google-groups`` connector: Google Workspace groups through the Admin SDK Directory
API (group, members with roles) and the Groups Settings API (join, view, post settings).

Posts: no Groups API exposes a group's messages, so they are read from an audit mailbox
that is a member of the group (``audit_mailbox``), through the Gmail API: ``list:<group>
after:<look-back>`` finds them, ``format=full`` reads each, and only messages whose
``List-Id`` names the group are kept. Without such a mailbox (or when it is not an
active member receiving each message) ``posts`` stays ``null`` with the reason in
``unavailable`` and the content rules say ``not-applicable``. Google has no API for join
requests or moderator activity: ``moderation`` stays ``null`` the same way. ``auditor run``
fetches incrementally: the group's Gmail messages read on the last run are kept and not
read again (docs/connectors/google-groups.md, *Incremental runs*).

Authentication: a service-account key; google-auth signs the JWT assertions and the
shared HTTP client exchanges them for access tokens at ``token_url``: one for the Admin
SDK (``sub`` = a delegated admin when domain-wide delegation is used) and, for posts, a
second one acting as the audit mailbox (``sub`` = the mailbox, scope ``gmail.readonly``).

Mapping (also in docs/connectors/google-groups.md):

=============================  ==========================================================
snapshot field                 Groups Settings value
=============================  ==========================================================
visibility ``public``          whoCanViewGroup ANYONE_CAN_VIEW or ALL_IN_DOMAIN_CAN_VIEW
visibility ``closed``          members/managers/owners view; whoCanDiscoverGroup
                               ANYONE_CAN_DISCOVER or ALL_IN_DOMAIN_CAN_DISCOVER (or, when
                               absent, showInGroupDirectory "true")
visibility ``secret``          members/managers/owners view; ALL_MEMBERS_CAN_DISCOVER
                               (or showInGroupDirectory "false")
join_policy                    whoCanJoin ANYONE_CAN_JOIN, ALL_IN_DOMAIN_CAN_JOIN ->
                               ``open``; CAN_REQUEST_TO_JOIN -> ``request``;
                               INVITED_CAN_JOIN -> ``invite``
post_moderation                whoCanPostMessage NONE_CAN_POST, ALL_MANAGERS_CAN_POST,
                               ALL_OWNERS_CAN_POST -> ``moderators-only``; otherwise
                               messageModerationLevel MODERATE_ALL_MESSAGES -> ``all``,
                               MODERATE_NEW_MEMBERS -> ``new-members``,
                               MODERATE_NON_MEMBERS / MODERATE_NONE -> ``none``
external_members_allowed       allowExternalMembers "true"/"false"
invite_links                   ``[]``: Google Groups has no join links
members[].role                 OWNER -> owner, MANAGER -> manager, MEMBER -> member;
                               members of a nested group (type GROUP) -> member
members[].state                ``active`` (status ACTIVE or UNKNOWN); SUSPENDED and
                               ARCHIVED accounts cannot sign in: left out, with a warning
posts                          Gmail messages of the audit mailbox with the group's
                               ``List-Id``: id, author (``X-Original-From``, else
                               ``From``, as the member's id), ``internalDate``, the
                               text/plain body (else text/html as text) without quoted
                               replies and the Google Groups footer, links; a reply's
                               parent is the message its ``In-Reply-To`` names, else its
                               ``threadId``
coverage ``posts``             the look-back window, as the audit mailbox received it
limits ``posts``               ``max_posts`` reached; a body part stored as an attachment
limits ``members``             a nested group that cannot be listed or is nested deeper
                               than five levels (its people are not listed)
=============================  ==========================================================
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import dataclasses
import json
import re
import time
import typing
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal
from urllib.parse import quote

from pydantic import Field, PositiveInt, ValidationError, field_validator

from auditor.config import Email, EnvName
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
from auditor.connectors.html_text import html_text, with_urls
from auditor.connectors.http import HttpClient, HttpStatusError, OAuth2, check_api_url
from auditor.logs import register_secret
from auditor.snapshot import Member, MemberRole, PageSnapshot, Post, Settings

PLATFORM = "google-groups"
SCOPES = (
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
    "https://www.googleapis.com/auth/apps.groups.settings",
)
GMAIL_SCOPES = ("https://www.googleapis.com/auth/gmail.readonly",)
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
PAGE_SIZE = 200
GMAIL_PAGE_SIZE = 500
"""Largest ``maxResults`` Gmail's messages.list accepts."""
NO_MAILBOX = (
    "Google Groups: no Google API reads a group's posts, and no audit mailbox is set "
    "(audit_mailbox) to read them from; see docs/connectors/google-groups.md."
)
NO_MODERATION = (
    "Google Groups: no Google API reports moderator activity, reported posts or pending "
    "join requests."
)

VIEW_PUBLIC = {"ANYONE_CAN_VIEW": True, "ALL_IN_DOMAIN_CAN_VIEW": True}
VIEW_MEMBERS = {
    "ALL_MEMBERS_CAN_VIEW": False,
    "ALL_MANAGERS_CAN_VIEW": False,
    "ALL_OWNERS_CAN_VIEW": False,
}
DISCOVER = {
    "ANYONE_CAN_DISCOVER": "closed",
    "ALL_IN_DOMAIN_CAN_DISCOVER": "closed",
    "ALL_MEMBERS_CAN_DISCOVER": "secret",
}
JOIN = {
    "ANYONE_CAN_JOIN": "open",
    "ALL_IN_DOMAIN_CAN_JOIN": "open",
    "CAN_REQUEST_TO_JOIN": "request",
    "INVITED_CAN_JOIN": "invite",
}
POSTERS_RESTRICTED = {"NONE_CAN_POST", "ALL_MANAGERS_CAN_POST", "ALL_OWNERS_CAN_POST"}
POSTERS_OPEN = {"ALL_MEMBERS_CAN_POST", "ALL_IN_DOMAIN_CAN_POST", "ANYONE_CAN_POST"}
MODERATION = {
    "MODERATE_ALL_MESSAGES": "all",
    "MODERATE_NEW_MEMBERS": "new-members",
    "MODERATE_NON_MEMBERS": "none",
    "MODERATE_NONE": "none",
}
BOOL = {"true": True, "false": False}
ROLES: dict[str, MemberRole] = {"OWNER": "owner", "MANAGER": "manager", "MEMBER": "member"}
DELIVERY = {"ALL_MAIL": True, "DAILY": False, "DIGEST": False, "NONE": False, "DISABLED": False}
"""Member delivery settings: only ALL_MAIL puts each message in the mailbox."""
GMAIL_REFUSALS = {400, 403, 404}
"""Gmail answers: 400 mailbox without Gmail, 403 API disabled or delegation denied, 404."""
SIGNED_IN_STATUSES = {"ACTIVE", "UNKNOWN"}
"""Member statuses of accounts that can use the group (UNKNOWN: an account outside Workspace)."""
LOCKED_OUT_STATUSES = {"SUSPENDED", "ARCHIVED"}
"""Member statuses of Workspace accounts that cannot sign in, so cannot open the group."""
MAX_NESTING = 5
"""How deep nested groups are expanded (Google refuses cycles; this bounds the calls)."""
FOOTER_RE = re.compile(
    r"^(?:--\s*\n)?You received this message because you are subscribed to the Google Groups",
    re.M,
)
"""Start of the footer Google Groups appends to each message it sends out."""


class GoogleGroupsSettings(CloudConnectorSettings):
    """Settings of the ``google-groups`` connector."""

    base_url: str = Field(
        "https://admin.googleapis.com/admin/directory/v1",
        description="Admin SDK Directory API base URL.",
    )
    settings_url: str = Field(
        "https://www.googleapis.com/groups/v1/groups",
        description="Groups Settings API groups URL.",
    )
    token_url: str = Field(
        "https://oauth2.googleapis.com/token", description="OAuth2 token endpoint."
    )
    credentials_file_env: EnvName = Field(
        description="Environment variable holding the path of the service-account key JSON."
    )
    delegated_admin: Email | None = Field(
        None,
        description="Admin the service account acts as (domain-wide delegation); omit when "
        "the service account itself holds the Groups Reader admin role.",
    )
    customer: str = Field("my_customer", description="Workspace customer id for discovery.")
    domain: str | None = Field(None, description="Only discover groups of this domain.")
    audit_mailbox: Email | None = Field(
        None,
        description="Mailbox that is a member of each audited group (delivery: each email); "
        "posts are read from its Gmail. Omit: posts are not read (content rules "
        "not-applicable).",
    )
    gmail_url: str = Field(
        "https://gmail.googleapis.com/gmail/v1", description="Gmail API base URL."
    )
    lookback_days: PositiveInt = Field(30, description="Posts of the last N days are read.")
    max_posts: PositiveInt = Field(500, description="Most messages read per group; more is warned.")

    @field_validator("settings_url", "gmail_url")
    @classmethod
    def _extra_api_urls(cls, value: str) -> str:
        """The other API hosts obey the same https rule as ``base_url``."""
        return check_api_url(value)


class DirectoryGroup(PlatformModel):
    """Directory API group resource (the fields used)."""

    id: str
    email: str
    name: str | None = None
    description: str | None = None


class GroupsPage(PlatformModel):
    """Directory API ``groups.list`` response."""

    groups: list[DirectoryGroup] = []
    next_page_token: str | None = Field(None, alias="nextPageToken")


class DirectoryMember(PlatformModel):
    """Directory API member resource."""

    id: str | None = None
    email: str | None = None
    role: str | None = None
    type: str | None = None
    status: str | None = None
    delivery_settings: str | None = None
    """Returned by members.get only (not members.list)."""


class MembersPage(PlatformModel):
    """Directory API ``members.list`` response."""

    members: list[DirectoryMember] = []
    next_page_token: str | None = Field(None, alias="nextPageToken")


class GroupSettingsResource(PlatformModel):
    """Groups Settings API resource; every value is a string, booleans too."""

    who_can_join: str | None = Field(None, alias="whoCanJoin")
    who_can_view_group: str | None = Field(None, alias="whoCanViewGroup")
    who_can_discover_group: str | None = Field(None, alias="whoCanDiscoverGroup")
    show_in_group_directory: str | None = Field(None, alias="showInGroupDirectory")
    who_can_post_message: str | None = Field(None, alias="whoCanPostMessage")
    message_moderation_level: str | None = Field(None, alias="messageModerationLevel")
    members_can_post_as_the_group: str | None = Field(None, alias="membersCanPostAsTheGroup")
    allow_external_members: str | None = Field(None, alias="allowExternalMembers")


class GmailMessageRef(PlatformModel):
    """An entry of Gmail's ``messages.list``: only the id and the thread id."""

    id: str
    thread_id: str | None = Field(None, alias="threadId")


class GmailMessageList(PlatformModel):
    """Gmail ``users.messages.list`` response."""

    messages: list[GmailMessageRef] = []
    next_page_token: str | None = Field(None, alias="nextPageToken")
    result_size_estimate: int | None = Field(None, alias="resultSizeEstimate")


class GmailHeader(PlatformModel):
    """One RFC 2822 header of a message part."""

    name: str
    value: str = ""


class GmailPartBody(PlatformModel):
    """A part's body: base64url ``data``, or an ``attachmentId`` to fetch separately."""

    attachment_id: str | None = Field(None, alias="attachmentId")
    data: str | None = None


class GmailPart(PlatformModel):
    """A MIME part of a Gmail message (``payload`` and its ``parts``)."""

    mime_type: str = Field("", alias="mimeType")
    filename: str | None = None
    headers: list[GmailHeader] = []
    body: GmailPartBody | None = None
    parts: list[GmailPart] = []

    def header(self, name: str) -> str | None:
        """The first header called ``name`` (case-insensitive), if any."""
        for h in self.headers:
            if h.name.lower() == name.lower():
                return h.value
        return None


class GmailMessage(PlatformModel):
    """Gmail ``users.messages.get`` response with ``format=full`` (the fields used)."""

    id: str
    thread_id: str | None = Field(None, alias="threadId")
    internal_date: int | None = Field(None, alias="internalDate")
    payload: GmailPart | None = None


class KeptMail(PlatformModel):
    """The sync state this connector keeps of a page: the group's Gmail messages read on
    the last run (inside the look-back window) and the settings they were read with."""

    v: Literal[1]
    settings: dict[str, Any]
    messages: dict[str, GmailMessage] = {}


@dataclass
class MailCache:
    """Gmail messages kept from the last run (``kept``, by id) and those of the group
    read on this one (``read``: what to keep next)."""

    kept: dict[str, GmailMessage] = dataclasses.field(default_factory=dict)
    read: dict[str, GmailMessage] = dataclasses.field(default_factory=dict)


class ServiceAccountKey:
    """A service-account key file, loaded once; signs JWT assertions with google-auth."""

    def __init__(self, env_name: str) -> None:
        path_text = read_secret(PLATFORM, "credentials_file_env", env_name)
        path = Path(path_text).expanduser()
        where = f"{PLATFORM}: the service-account key file (setting credentials_file_env)"
        try:
            info = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConnectorError(f"{where} not found: {path}") from None
        except (OSError, UnicodeDecodeError, ValueError):
            raise ConnectorError(f"{where} is not readable JSON: {path}") from None
        if not isinstance(info, dict) or not all(
            isinstance(info.get(k), str) for k in ("client_email", "private_key")
        ):
            raise ConnectorError(f"{where} lacks client_email or private_key: {path}")
        register_secret(info["private_key"])
        from google.auth import crypt  # cryptography: 45 ms, paid only by runs that sign

        try:
            self._signer = crypt.RSASigner.from_service_account_info(info)
        except ValueError:
            raise ConnectorError(f"{where} has an unusable private_key: {path}") from None
        self.client_email: str = info["client_email"]

    def assertion(self, audience: str, subject: str | None, scopes: tuple[str, ...]) -> str:
        """A signed JWT for the OAuth2 JWT-bearer grant, valid for one hour."""
        now = int(time.time())
        payload: dict[str, Any] = {
            "iss": self.client_email,
            "scope": " ".join(scopes),
            "aud": audience,
            "iat": now,
            "exp": now + 3600,
        }
        if subject:
            payload["sub"] = subject
        from google.auth import jwt

        return jwt.encode(self._signer, payload).decode("ascii")


class GoogleGroupsConnector(CloudConnector):
    """Google Workspace groups: Directory API + Groups Settings API."""

    type = PLATFORM
    platform = PLATFORM
    remediation = shipped_remediation(PLATFORM)
    summary = "Google Workspace groups (Admin SDK Directory + Groups Settings APIs)"
    Settings = GoogleGroupsSettings
    settings: GoogleGroupsSettings
    gmail: HttpClient | None
    """Client of the Gmail API acting as the audit mailbox, with its own token."""

    def __init__(
        self, name: str, settings: GoogleGroupsSettings, base_dir: Path | None = None
    ) -> None:
        self._key = ServiceAccountKey(settings.credentials_file_env)
        super().__init__(name, settings, base_dir)
        self.gmail = self._gmail_client() if settings.audit_mailbox else None

    def oauth(self) -> OAuth2:
        """JWT-bearer grant for the Admin SDK: a fresh assertion signed with the key."""
        return self._jwt_grant(self.settings.delegated_admin, SCOPES)

    def _jwt_grant(self, subject: str | None, scopes: tuple[str, ...]) -> OAuth2:
        """A token endpoint whose form is a fresh JWT for ``subject`` and ``scopes``; a
        refusal names what to check (Google refuses a missing delegation the same way)."""
        key = self._key
        token_url = self.settings.token_url

        def form() -> Mapping[str, str]:
            """The JWT-bearer grant with a newly signed assertion."""
            return {"grant_type": JWT_GRANT, "assertion": key.assertion(token_url, subject, scopes)}

        return OAuth2(token_url, form, grant_hint(key.client_email, subject, scopes))

    def _gmail_client(self) -> HttpClient:
        """A second HTTP client for the Gmail API: same limits, token for the audit mailbox."""
        s = self.settings
        return HttpClient(
            self.type,
            s.gmail_url,
            timeout_s=s.timeout_s,
            max_concurrency=s.max_concurrency,
            requests_per_second=s.requests_per_second,
            max_attempts=s.max_attempts,
            max_retry_after_s=s.max_retry_after_s,
            max_response_mb=s.max_response_mb,
            request_deadline_s=s.request_deadline_s,
            auth=self._jwt_grant(s.audit_mailbox, GMAIL_SCOPES),
        )

    def extra_origins(self) -> tuple[str, ...]:
        return (self.settings.settings_url,)

    async def aclose(self) -> None:
        """Close the Admin SDK client and, if any, the Gmail client."""
        await super().aclose()
        if self.gmail is not None:
            await self.gmail.aclose()

    async def fetch_page(self, ref: PageRef) -> PageSnapshot:
        return await self._fetch(ref, MailCache())

    async def fetch_page_incremental(
        self, ref: PageRef, state: Mapping[str, Any] | None
    ) -> tuple[PageSnapshot, dict[str, Any] | None]:
        """The page, reading in full only the Gmail messages not kept from the last run
        (the Gmail API changes a message's labels, never its content: a message id always
        reads the same); group, settings and members are read every time (Google documents
        no conditional reads for them). An unreadable ``state`` is ignored with a warning."""
        cache = MailCache()
        problem = None
        if state is not None:
            try:
                kept = KeptMail.model_validate(state)
            except ValidationError as exc:
                where = ".".join(str(p) for p in exc.errors(include_url=False)[0]["loc"])
                problem = (
                    f"stored sync state unusable (field {where or 'state'}): posts read in full"
                )
            else:
                if kept.settings == self._fingerprint():
                    cache.kept = kept.messages
        snapshot = await self._fetch(ref, cache)
        if problem is not None:
            snapshot = snapshot.model_copy(update={"warnings": [*snapshot.warnings, problem]})
        messages = {
            ident: m.model_dump(mode="json", by_alias=True, exclude_none=True)
            for ident, m in cache.read.items()
        }
        return snapshot, {"v": 1, "settings": self._fingerprint(), "messages": messages}

    def _fingerprint(self) -> dict[str, Any]:
        """The settings kept messages depend on: other values make them unusable."""
        s = self.settings
        return {"audit_mailbox": s.audit_mailbox, "lookback_days": s.lookback_days}

    async def _fetch(self, ref: PageRef, cache: MailCache) -> PageSnapshot:
        """The page, its Gmail messages read through ``cache``."""
        key = quote(ref.external_id, safe="@")
        group = self.parse(DirectoryGroup, await self.http.get_json(f"groups/{key}"), "group")
        raw = await self.http.get_json(
            f"{self.settings.settings_url}/{quote(group.email, safe='@')}",
            {"alt": "json", "fields": partial(GroupSettingsResource)},
        )
        prefs = self.parse(GroupSettingsResource, raw, "group settings")
        warnings: list[str] = []
        limits: dict[str, str] = {}
        coverage: dict[str, str] = {}
        members, listed_in = await self._members(group.email, warnings, limits)
        settings = map_settings(prefs, warnings)
        unavailable = {"moderation": NO_MODERATION}
        notes = PageNotes(unavailable, coverage, limits, warnings)
        posts = await self._posts(group.email, members, listed_in, notes, cache)
        if settings.visibility is None:
            unavailable["visibility"] = "Google Groups: the group's view settings are unknown."
        return PageSnapshot(
            platform=PLATFORM,
            external_id=ref.external_id,
            name=group.name,
            url=group_url(group.email),
            description=group.description or None,
            kind="group",
            fetched_at=datetime.now(UTC),
            settings=settings,
            members=members,
            posts=posts,
            moderation=None,
            unavailable=unavailable,
            coverage=coverage,
            limits=limits,
            warnings=warnings,
        )

    async def _directory_members(self, email: str) -> list[DirectoryMember]:
        """Every direct member of the group ``email``, all pages."""
        path = f"groups/{quote(email, safe='@')}/members"
        found: list[DirectoryMember] = []
        params = {"maxResults": PAGE_SIZE, "fields": partial(MembersPage)}
        async for raw in self.http.pages_token(path, params):
            found.extend(self.parse(MembersPage, raw, "group members").members)
        return found

    async def _members(
        self, email: str, warnings: list[str], limits: dict[str, str]
    ) -> tuple[list[Member], dict[str, str]]:
        """The group's members, with the members of nested groups expanded (breadth first),
        and for each listed address (lower case) the group whose listing named it.

        People reach a group through a nested group, so they are listed (role ``member``;
        a direct membership wins). A nested group that cannot be listed, or is nested too
        deep, stays one member, and ``limits`` says that its people are not listed.
        """
        found: dict[str, Member] = {}
        listed_in: dict[str, str] = {}
        # (group, depth, its id, its entry in the group that lists it and that group)
        pending: list[tuple[str, int, str, tuple[DirectoryMember, str] | None]] = [
            (email, 0, email, None)
        ]
        seen = {email.lower()}
        while pending:
            group, depth, group_id, entry = pending.pop(0)
            try:
                listing = await self._directory_members(group)
            except HttpStatusError as exc:
                if entry is None or exc.status not in (403, 404):
                    raise
                note_limit(
                    limits,
                    "members",
                    f"{group} is a nested group whose members could not be listed (HTTP "
                    f"{exc.status}), so it is shown as one member{managing(entry[0])}",
                )
                found.setdefault(group_id, Member(id=group_id, email=group))
                continue
            if entry is not None:
                warnings.append(nested_group_warning(*entry))
            for m in listing:
                if m.email:
                    listed_in.setdefault(m.email.lower(), group)
                if m.type == "GROUP" and m.email and depth < MAX_NESTING:
                    if m.email.lower() not in seen:
                        seen.add(m.email.lower())
                        pending.append((m.email, depth + 1, m.id or m.email, (m, group)))
                    continue
                member = map_member(m, warnings, limits, nested=depth > 0)
                if member is not None:
                    found.setdefault(member.id, member)
        return list(found.values()), listed_in

    async def _posts(
        self,
        group: str,
        members: list[Member],
        listed_in: dict[str, str],
        notes: PageNotes,
        cache: MailCache,
    ) -> list[Post] | None:
        """The group's posts as the audit mailbox received them, or None with the reason
        in ``unavailable`` (no mailbox, not an active member, not receiving each message,
        Gmail refusing). Other Gmail failures are page errors naming the mailbox."""
        mailbox = self.settings.audit_mailbox
        if mailbox is None or self.gmail is None:
            notes.unavailable["posts"] = NO_MAILBOX
            return None
        try:
            reason = await self._mailbox_problem(mailbox, members, listed_in, notes.warnings)
            if reason is not None:
                notes.unavailable["posts"] = reason
                return None
            return await self._mailbox_posts(group, mailbox, members, notes, cache)
        except ConnectorError as exc:
            detail = str(exc).removeprefix(f"{PLATFORM}: ")
            raise ConnectorError(
                f"{PLATFORM}: reading posts as audit mailbox {mailbox}: {detail}"
            ) from None

    async def _mailbox_problem(
        self,
        mailbox: str,
        members: list[Member],
        listed_in: dict[str, str],
        warnings: list[str],
    ) -> str | None:
        """Why the audit mailbox cannot show the group's posts, or None when it can: it must
        be an active member (directly or through a nested group) that gets each message."""
        where = listed_in.get(mailbox)
        if where is None:
            return (
                f"Google Groups: the audit mailbox {mailbox} is not a member of this group, so "
                "its posts cannot be read; add it as a member (delivery: each email)."
            )
        if not any((m.email or "").lower() == mailbox for m in members):
            return (
                f"Google Groups: the audit mailbox {mailbox} is not an active member of this "
                "group (its account cannot sign in), so its posts cannot be read."
            )
        raw = await self.http.get_json(
            f"groups/{quote(where, safe='@')}/members/{quote(mailbox, safe='@')}"
        )
        entry = self.parse(DirectoryMember, raw, "audit mailbox membership")
        if entry.delivery_settings is None:
            warnings.append(
                f"audit mailbox {mailbox}: delivery setting not returned; posts it did not "
                "receive as single emails are not seen"
            )
            return None
        setting = f"audit mailbox {mailbox} delivery_settings"
        each = map_enum(setting, entry.delivery_settings, DELIVERY, warnings)
        if each is False:
            return (
                f"Google Groups: the audit mailbox {mailbox} receives this group's mail as "
                f"{entry.delivery_settings}, not each message, so its posts cannot be read; "
                "set its subscription to 'Each email'."
            )
        return None

    async def _mailbox_posts(
        self, group: str, mailbox: str, members: list[Member], notes: PageNotes, cache: MailCache
    ) -> list[Post] | None:
        """Lists the group's messages in the mailbox (look-back window, cap) and reads each."""
        days = self.settings.lookback_days
        after = int((datetime.now(UTC) - timedelta(days=days)).timestamp())
        warnings = notes.warnings
        try:
            refs = await self._message_refs(mailbox, f"list:{group} after:{after}", notes.limits)
        except HttpStatusError as exc:
            if exc.status not in GMAIL_REFUSALS:
                raise
            notes.unavailable["posts"] = (
                f"Google Groups: Gmail refused to list the audit mailbox {mailbox}'s messages "
                f"(HTTP {exc.status}): check that the Gmail API is enabled, that domain-wide "
                "delegation grants gmail.readonly, and that the mailbox has Gmail."
            )
            return None
        read = await self._messages(mailbox, refs, warnings, cache)
        list_id = group.lower().replace("@", ".")
        kept = [m for m in read if message_list_id(m) == list_id]
        ours = {m.id for m in kept}
        cache.read = {m.id: kept_mail(m) if m.id in ours else list_id_only(m) for m in read}
        if len(kept) < len(read):
            warnings.append(
                f"posts: {len(read) - len(kept)} message(s) found by list:{group} carry "
                "another List-Id (sent to another list); left out"
            )
        notes.coverage["posts"] = (
            f"posts of the last {days} days, as received by the audit mailbox {mailbox}"
        )
        member_ids = {m.email.lower(): m.id for m in members if m.email}
        return to_posts(kept, member_ids, notes.limits)

    async def _message_refs(
        self, mailbox: str, query: str, limits: dict[str, str]
    ) -> list[GmailMessageRef]:
        """Ids of the messages matching ``query``, all pages, up to ``max_posts`` (a cut is
        recorded in ``limits``)."""
        assert self.gmail is not None
        cap = self.settings.max_posts
        params: dict[str, str | int] = {
            "q": query,
            "maxResults": min(GMAIL_PAGE_SIZE, cap),
            "fields": partial(GmailMessageList),
        }
        path = f"users/{quote(mailbox, safe='@')}/messages"
        refs: list[GmailMessageRef] = []
        async for raw in self.gmail.pages_token(path, params):
            page = self.parse(GmailMessageList, raw, "Gmail message list")
            refs.extend(page.messages)
            if len(refs) >= cap:
                if len(refs) > cap or page.next_page_token:
                    estimate = page.result_size_estimate
                    about = f" of about {estimate}" if estimate and estimate > cap else ""
                    note_limit(
                        limits,
                        "posts",
                        f"only {cap}{about} messages were read (max_posts)",
                    )
                return refs[:cap]
        return refs

    async def _messages(
        self, mailbox: str, refs: list[GmailMessageRef], warnings: list[str], cache: MailCache
    ) -> list[GmailMessage]:
        """Each listed message in full, read concurrently (the client caps concurrency)
        unless ``cache`` kept it; a message deleted meanwhile (404) is skipped with a
        warning."""
        tasks = [
            asyncio.ensure_future(self._message(mailbox, ref.id, cache.kept.get(ref.id)))
            for ref in refs
        ]
        try:
            found = await asyncio.gather(*tasks)
        except BaseException:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            raise
        gone = found.count(None)
        if gone:
            warnings.append(f"posts: {gone} message(s) left the audit mailbox while being read")
        return [m for m in found if m is not None]

    async def _message(
        self, mailbox: str, ident: str, kept: GmailMessage | None = None
    ) -> GmailMessage | None:
        """One message with ``format=full`` (``kept``, when read on an earlier run); None
        when it no longer exists."""
        if kept is not None:
            return kept
        assert self.gmail is not None
        path = f"users/{quote(mailbox, safe='@')}/messages/{quote(ident, safe='')}"
        try:
            raw = await self.gmail.get_json(path, {"format": "full"})
        except HttpStatusError as exc:
            if exc.status == 404:
                return None
            raise
        return self.parse(GmailMessage, raw, "Gmail message")

    async def discover(self) -> AsyncIterator[DiscoveredGroup]:
        params: dict[str, str | int] = {"maxResults": PAGE_SIZE, "fields": partial(GroupsPage)}
        if self.settings.domain:
            params["domain"] = self.settings.domain
        else:
            params["customer"] = self.settings.customer
        async for raw in self.http.pages_token("groups", params):
            for g in self.parse(GroupsPage, raw, "groups list").groups:
                yield DiscoveredGroup(
                    external_id=g.email,
                    name=g.name or g.email,
                    url=group_url(g.email),
                    extra={"id": g.id},
                )


def partial(model: type[PlatformModel]) -> str:
    """Google's ``fields`` selector asking for exactly what ``model`` reads (a partial
    response: less to send, parse and hold), nested models as ``key(sub,fields)``."""
    parts = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        sub = _model_in(field.annotation)
        parts.append(f"{key}({partial(sub)})" if sub is not None else key)
    return ",".join(parts)


def _model_in(annotation: object) -> type[PlatformModel] | None:
    """The platform model an annotation holds (``list[Member] | None`` -> ``Member``)."""
    if isinstance(annotation, type) and issubclass(annotation, PlatformModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _model_in(arg)
        if found is not None:
            return found
    return None


def map_settings(prefs: GroupSettingsResource, warnings: list[str]) -> Settings:
    """Groups Settings values mapped onto the snapshot's settings (table in module doc)."""
    return Settings(
        visibility=_visibility(prefs, warnings),
        join_policy=map_enum("whoCanJoin", prefs.who_can_join, JOIN, warnings),
        post_moderation=_post_moderation(prefs, warnings),
        invite_links=[],
        external_members_allowed=map_enum(
            "allowExternalMembers", prefs.allow_external_members, BOOL, warnings
        ),
    )


def _visibility(prefs: GroupSettingsResource, warnings: list[str]) -> Any:
    view = prefs.who_can_view_group
    if view in VIEW_PUBLIC:
        return "public"
    if view not in VIEW_MEMBERS:
        return map_enum("whoCanViewGroup", view, {}, warnings)
    if prefs.who_can_discover_group is not None:
        return map_enum("whoCanDiscoverGroup", prefs.who_can_discover_group, DISCOVER, warnings)
    listed = map_enum("showInGroupDirectory", prefs.show_in_group_directory, BOOL, warnings)
    return None if listed is None else ("closed" if listed else "secret")


def _post_moderation(prefs: GroupSettingsResource, warnings: list[str]) -> Any:
    posters = prefs.who_can_post_message
    if posters in POSTERS_RESTRICTED:
        return "moderators-only"
    if posters is not None and posters not in POSTERS_OPEN:
        return map_enum("whoCanPostMessage", posters, {}, warnings)
    level = map_enum("messageModerationLevel", prefs.message_moderation_level, MODERATION, warnings)
    if level in ("all", "new-members") and prefs.members_can_post_as_the_group == "true":
        warnings.append(
            "membersCanPostAsTheGroup is true: posts made as the group bypass moderation"
        )
    return level


def map_member(
    m: DirectoryMember, warnings: list[str], limits: dict[str, str], nested: bool = False
) -> Member | None:
    """One Directory member, or None when it cannot use the group (suspended, archived).
    A group nested too deep to expand is recorded in ``limits``.

    ``nested``: reached through a nested group, so its role there gives no rights here.
    """
    ident = m.id or m.email
    if ident is None:
        warnings.append("a member without id or email was skipped")
        return None
    who = m.email or ident
    if m.status in LOCKED_OUT_STATUSES:
        warnings.append(
            f"member {who}: Workspace account {m.status.lower()} (cannot sign in); left out"
        )
        return None
    if m.status is not None and m.status not in SIGNED_IN_STATUSES:
        map_enum(f"member {who} status", m.status, {}, warnings)
    role = map_enum(f"member {who} role", m.role, ROLES, warnings) or "member"
    if m.type == "GROUP":
        note_limit(
            limits, "members", f"{who} is a group nested too deep: its members are not listed"
        )
    elif m.type == "CUSTOMER":
        warnings.append("every user of the Workspace domain is a member of this group")
    elif m.type not in (None, "USER"):
        map_enum(f"member {who} type", m.type, {}, warnings)
    return Member(id=ident, email=m.email, role="member" if nested else role, state="active")


def nested_group_warning(m: DirectoryMember, parent: str) -> str:
    """Says that a nested group's members were listed, and flags a nested group that manages."""
    return f"{m.email} is a nested group in {parent}: its members are listed, as members" + (
        managing(m)
    )


def managing(m: DirectoryMember) -> str:
    """For a nested group that is an owner or manager, words saying so (else nothing)."""
    if m.role in ("OWNER", "MANAGER"):
        return f" (the group itself has the role {m.role}: check who manages through it)"
    return ""


def group_url(email: str) -> str | None:
    """The group's web address in Google Groups for Workspace."""
    local, _, domain = email.partition("@")
    return f"https://groups.google.com/a/{domain}/g/{local}" if domain else None


KEPT_HEADERS = frozenset(
    h.lower()
    for h in (
        "List-Id",
        "Message-ID",
        "X-Original-From",
        "From",
        "In-Reply-To",
        "References",
        "Content-Type",
        "Content-Disposition",
    )
)
"""The headers posts are made from: all a kept message keeps."""


def kept_mail(message: GmailMessage) -> GmailMessage:
    """What is kept of a group's message between runs: only what its post is made from
    (the headers above; the text/plain parts, or the text/html ones when it has none),
    so that it gives the same post without keeping attachments or other headers."""
    if message.payload is None:
        return message
    plain = bool(text_parts(message.payload, "text/plain"))
    return message.model_copy(update={"payload": _kept_part(message.payload, plain)})


def _kept_part(part: GmailPart, plain: bool) -> GmailPart:
    """``part`` with only the kept headers and the text parts its post is read from."""
    headers = [h for h in part.headers if h.name.lower() in KEPT_HEADERS]
    if part.parts:
        wanted = ("text/plain",) if plain else ("text/html",)
        children = [
            _kept_part(child, plain)
            for child in part.parts
            if child.parts or child.mime_type.lower() in wanted
        ]
        return part.model_copy(update={"headers": headers, "parts": children})
    return part.model_copy(update={"headers": headers})


def list_id_only(message: GmailMessage) -> GmailMessage:
    """What is kept of a message sent to another list: its id and ``List-Id``, so that it
    is left out again without being read, and nothing of its content."""
    list_id = message.payload.header("List-Id") if message.payload else None
    headers = [GmailHeader(name="List-Id", value=list_id)] if list_id is not None else []
    return GmailMessage(id=message.id, payload=GmailPart(headers=headers))


def message_list_id(message: GmailMessage) -> str | None:
    """The list identifier of the message's ``List-Id`` header (``<robotics.district.org>``
    names robotics@district.org), lower case."""
    value = message.payload.header("List-Id") if message.payload else None
    if not value:
        return None
    inside = re.search(r"<([^>]*)>", value)
    return (inside.group(1) if inside else value).strip().lower()


def to_posts(
    messages: list[GmailMessage], member_ids: dict[str, str], limits: dict[str, str]
) -> list[Post]:
    """The messages as snapshot posts; a reply's parent is the message its ``In-Reply-To``
    names when that was read, else its thread (Gmail's ``threadId``). Body parts left
    unread are recorded in ``limits``."""
    by_message_id: dict[str, str] = {}
    for m in messages:
        ident = m.payload.header("Message-ID") if m.payload else None
        if ident:
            by_message_id.setdefault(ident.strip().lower(), m.id)
    return [to_post(m, by_message_id, member_ids, limits) for m in messages]


def to_post(
    message: GmailMessage,
    by_message_id: dict[str, str],
    member_ids: dict[str, str],
    limits: dict[str, str],
) -> Post:
    """One Gmail message as a snapshot post (author as the member's id where known)."""
    payload = message.payload or GmailPart()
    text, links = message_text(payload, message.id, limits)
    sender = payload.header("X-Original-From") or payload.header("From") or ""
    address = parseaddr(sender)[1].lower() or None
    created = (
        datetime.fromtimestamp(message.internal_date / 1000, UTC)
        if message.internal_date is not None
        else None
    )
    return Post(
        id=message.id,
        author_id=member_ids.get(address, address) if address else None,
        created_at=created,
        text=text,
        links=links,
        parent_id=parent_of(message, payload, by_message_id),
    )


def parent_of(
    message: GmailMessage, payload: GmailPart, by_message_id: dict[str, str]
) -> str | None:
    """The post a reply answers: the message ``In-Reply-To`` names if it was read, else
    the thread's id; None for a message that answers nothing."""
    in_reply_to = (payload.header("In-Reply-To") or "").strip().lower()
    if in_reply_to in by_message_id:
        return by_message_id[in_reply_to]
    is_reply = bool(in_reply_to or payload.header("References"))
    if is_reply and message.thread_id and message.thread_id != message.id:
        return message.thread_id
    return None


def message_text(payload: GmailPart, ident: str, limits: dict[str, str]) -> tuple[str, list[str]]:
    """A message's own words and links: its text/plain parts (else text/html reduced to
    text), without quoted replies and the footer Google Groups appends. A part stored as
    an attachment is not read, and ``limits`` says so."""
    for mime_type in ("text/plain", "text/html"):
        parts = text_parts(payload, mime_type)
        if not parts:
            continue
        if any(p.body and p.body.attachment_id and not p.body.data for p in parts):
            note_limit(
                limits, "posts", f"post {ident}: a body part stored as an attachment was not read"
            )
        bodies = [decode_body(p) for p in parts]
        if mime_type == "text/plain":
            text = strip_quoted(cut_footer("\n".join(bodies))).strip()
            return text, with_urls(text)
        return mail_html_text("\n".join(bodies))
    return "", []


def text_parts(part: GmailPart, mime_type: str) -> list[GmailPart]:
    """The parts of type ``mime_type`` that are the message's body, not attachments."""
    if part.parts:
        return [found for child in part.parts for found in text_parts(child, mime_type)]
    disposition = (part.header("Content-Disposition") or "").lower()
    if part.mime_type.lower() != mime_type or part.filename or disposition.startswith("attachment"):
        return []
    return [part]


def decode_body(part: GmailPart) -> str:
    """A part's base64url ``body.data`` (Gmail has already undone the transfer encoding)
    decoded with the charset of its ``Content-Type``."""
    data = part.body.data if part.body else None
    if not data:
        return ""
    try:
        raw = base64.urlsafe_b64decode(data + "=" * (-len(data) % 4))
    except (binascii.Error, ValueError):
        return ""
    header = Message()
    header["Content-Type"] = part.header("Content-Type") or part.mime_type
    charset = header.get_content_charset() or "utf-8"
    try:
        return raw.decode(charset, errors="replace")
    except LookupError:
        return raw.decode("utf-8", errors="replace")


def cut_footer(text: str) -> str:
    """``text`` before the footer Google Groups appends ("You received this message ...")."""
    match = FOOTER_RE.search(text)
    return text[: match.start()] if match else text


def strip_quoted(text: str) -> str:
    """``text`` without quoted lines (``>``) and the "On ... wrote:" line introducing them:
    the quoted post is a post of its own, by someone else."""
    kept: list[str] = []
    for line in text.splitlines():
        if not line.lstrip().startswith(">"):
            kept.append(line)
            continue
        while kept and not kept[-1].strip():
            kept.pop()
        if kept and kept[-1].rstrip().endswith("wrote:"):
            last = kept.pop()
            if not last.startswith("On ") and kept and kept[-1].startswith("On "):
                kept.pop()  # the attribution line was wrapped
    return "\n".join(kept)


def grant_hint(client_email: str, subject: str | None, scopes: tuple[str, ...]) -> str:
    """What to check when Google refuses the service account's JWT grant."""
    if subject is None:
        return (
            f"check that the key of {client_email} is still valid and that this service "
            "account holds the Groups Reader admin role (or set delegated_admin)"
        )
    names = ", ".join(scope.rsplit("/", 1)[-1] for scope in scopes)
    return (
        f"check that the key of {client_email} is still valid, that domain-wide delegation "
        f"grants its client id {names} (Admin console > Security > API controls), and that "
        f"{subject} is an active account"
    )


def mail_html_text(content: str) -> tuple[str, list[str]]:
    """Text and web links of an HTML mail body, without quoted replies (the quoted post is
    a post of its own, by someone else) and the footer Google Groups appends."""
    return html_text(content, skip_quotes=True, cut_at=FOOTER_RE)
