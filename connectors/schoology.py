"""The ``schoology`` connector: Schoology groups through the REST API v1, signed with
two-legged OAuth 1.0a (consumer key and secret, no token; oauthlib signs every request).

Reads the group (``GET /groups/{id}``: privacy level, join type, member options, access
code, website), its enrollments (``GET /groups/{id}/enrollments``, with each member's
``primary_email`` from ``GET /users/{uid}``), and its updates within the look-back window
with their comments (``GET /groups/{id}/updates``, ``.../updates/{id}/comments``). Every
listing is paged with ``start``/``limit`` and followed through ``links.next``.

Mapping (also in docs/connectors/schoology.md):

========================  ===============================================================
snapshot field            Schoology value
========================  ===============================================================
visibility                ``privacy_level``: everyone, school, building -> ``public``
                          (people who are not members can see the group); group ->
                          ``secret``; custom -> null (per-item privacy is not in the API)
join_policy               ``options.invite_type``: 0 -> ``invite``, 1 -> ``request``,
                          2 -> ``open``
post_moderation           members may post updates (``options.member_post``) or start
                          discussions (``options.create_discussion``) -> ``none``;
                          neither -> ``moderators-only``
invite_links              an active ``access_code`` -> one link that never expires and has
                          no use limit; empty/null -> ``[]``; field absent (only group
                          admins see it) -> null
external_members_allowed  null: the API has no such setting
members                   enrollments: ``admin`` 1 -> ``owner``, 0 -> ``member``;
                          ``status`` 1 -> ``active``, 3 -> ``invited``, 4 ->
                          ``requested``; 2 (expired) and 5 (archived) left out, warned
posts                     updates (``created``/``last_updated`` within ``lookback_days``,
                          newest ``max_updates``) and their comments (``parent_id`` set;
                          deleted and pending comments skipped); links from the text,
                          HTML hrefs and link/video attachments
links, url                ``website``; ``site_url``/group/{id}
moderation                null: the API reports no moderator activity
coverage ``posts``        the look-back window (updates and their comments)
limits ``posts``          ``max_updates`` reached
========================  ===============================================================
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable, Generator, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar
from urllib.parse import quote

import httpx
from pydantic import BeforeValidator, Field, PositiveInt, field_validator

from auditor.config import EnvName
from auditor.connectors.base import (
    ConnectorError,
    DiscoveredGroup,
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
from auditor.connectors.http import HttpStatusError, Params, check_api_url
from auditor.snapshot import (
    InviteLink,
    JoinPolicy,
    Member,
    MemberRole,
    MemberState,
    PageSnapshot,
    Post,
    PostModeration,
    Settings,
    Visibility,
)

PLATFORM = "schoology"
REALM = "Schoology API"
clock: Callable[[], datetime] = partial(datetime.now, UTC)
"""The current time (look-back window, ``fetched_at``); tests and sample runs replace it."""

VISIBILITY: dict[str, Visibility] = {
    "everyone": "public",
    "school": "public",
    "building": "public",
    "group": "secret",
}
JOIN_POLICY: dict[str, JoinPolicy] = {"0": "invite", "1": "request", "2": "open"}
FLAG = {"0": False, "1": True}
ROLE: dict[str, MemberRole] = {"1": "owner", "0": "member"}
STATE: dict[str, MemberState] = {"1": "active", "3": "invited", "4": "requested"}
GONE = {"2": "expired", "5": "archived"}
HIDDEN_COMMENTS = {"0", "3"}  # deleted; pending approval
ALL_STATUSES = "1,2,3,4,5"
NO_MODERATION = "Schoology's API reports no moderator activity or reported posts."
NO_EXTERNAL = (
    "Schoology's API has no setting for whether accounts from outside the school may join."
)
CUSTOM_PRIVACY = (
    "Schoology: privacy_level is 'custom' (per-item privacy), which the API does not "
    "expose; check Group > Edit Privacy/Group Settings."
)
NO_OPTIONS = "Schoology returned no member options for the group."
NO_ACCESS_CODE = (
    "Schoology returned no access_code: only group admins can see it, so whether a join "
    "code is active is unknown."
)
TAG_RE = re.compile(r"<[a-zA-Z/][^>]*>")
"""Something shaped like an HTML tag: the body is rich text (HTML), not plain text."""


def _text(value: Any) -> Any:
    """Schoology sends ids, flags and counts as JSON numbers or numeric strings: unify."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


def _unix_time(value: Any) -> Any:
    """A Unix timestamp (number or numeric string) as an aware UTC datetime; ``""``, 0 and
    null mean "not given"."""
    if value is None or value in ("", 0, "0"):
        return None
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, UTC)
    raise ValueError("must be a Unix timestamp")


Text = Annotated[str, BeforeValidator(_text)]
UnixTime = Annotated[datetime | None, BeforeValidator(_unix_time)]


class SchoologySettings(CloudConnectorSettings):
    """Settings of the ``schoology`` connector."""

    base_url: str = Field("https://api.schoology.com/v1", description="Schoology API base URL.")
    token_url: None = Field(
        None, description="Unused: Schoology signs each request (OAuth 1.0a), no token endpoint."
    )
    site_url: str = Field(
        "https://app.schoology.com",
        description="The district's Schoology web address, for links to groups.",
    )
    consumer_key_env: EnvName = Field(
        description="Environment variable holding the API consumer key."
    )
    consumer_secret_env: EnvName = Field(
        description="Environment variable holding the API consumer secret."
    )
    signature_method: Literal["HMAC-SHA1", "PLAINTEXT"] = Field(
        "HMAC-SHA1", description="OAuth 1.0a signature method (Schoology recommends HMAC-SHA1)."
    )
    page_size: PositiveInt = Field(
        100, description="Records asked for per page (`limit`); links.next is always followed."
    )
    read_posts: bool = Field(True, description="Read the group's updates and their comments.")
    lookback_days: PositiveInt = Field(
        30, description="Read updates created or edited in the last this many days."
    )
    max_updates: PositiveInt = Field(
        200, description="Most recent updates read per group within the look-back window."
    )
    read_member_emails: bool = Field(
        True, description="Look up each member's primary_email (GET /users/{uid})."
    )

    @field_validator("site_url")
    @classmethod
    def _site(cls, value: str) -> str:
        """https only (http just for loopback simulators), without a trailing slash."""
        return check_api_url(value)


class Links(PlatformModel):
    """A listing's ``links``: ``next`` is the URL of the following page, when there is one."""

    next: str | None = None


class Listing(PlatformModel):
    """A page of a Schoology listing."""

    links: Links | None = None

    def rows(self) -> Sequence[object]:
        """The records on this page."""
        raise NotImplementedError


class GroupOptions(PlatformModel):
    """A group's ``options`` (who may join and what members may do)."""

    invite_type: Text | None = None
    member_post: Text | None = None
    member_post_comment: Text | None = None
    create_discussion: Text | None = None
    create_files: Text | None = None


class SchoologyGroup(PlatformModel):
    """Schoology ``group`` object (the fields used)."""

    id: Text
    title: str | None = None
    description: str | None = None
    website: str | None = None
    access_code: str | None = None
    privacy_level: str | None = None
    category: str | None = None
    group_code: str | None = None
    options: GroupOptions | None = None


class GroupsPage(Listing):
    """A page of ``GET /groups``."""

    group: list[SchoologyGroup] = []

    def rows(self) -> Sequence[object]:
        """The records on this page."""
        return self.group


class Enrollment(PlatformModel):
    """An enrollment: a user's membership of the group."""

    uid: Text
    name_display: str | None = None
    admin: Text | None = None
    status: Text | None = None


class EnrollmentsPage(Listing):
    """A page of ``GET /groups/{id}/enrollments``."""

    enrollment: list[Enrollment] = []

    def rows(self) -> Sequence[object]:
        """The records on this page."""
        return self.enrollment


class SchoologyUser(PlatformModel):
    """Schoology ``user`` object (the field used)."""

    primary_email: str | None = None


class AttachmentLink(PlatformModel):
    """A link or video attachment."""

    url: str | None = None


class LinkList(PlatformModel):
    """``attachments.links``."""

    link: list[AttachmentLink] = []


class VideoList(PlatformModel):
    """``attachments.videos``."""

    video: list[AttachmentLink] = []


class Attachments(PlatformModel):
    """An update's ``attachments`` (asked for with ``with_attachments=1``)."""

    links: LinkList | None = None
    videos: VideoList | None = None

    def urls(self) -> list[str]:
        """The URLs of the link and video attachments."""
        found = [a.url for a in (self.links.link if self.links else [])]
        found += [v.url for v in (self.videos.video if self.videos else [])]
        return [u for u in found if u]


class Update(PlatformModel):
    """A group update (post)."""

    id: Text
    body: str = ""
    uid: Text | None = None
    created: UnixTime = None
    last_updated: UnixTime = None
    num_comments: Text | None = None
    attachments: Attachments | None = None

    def changed_at(self) -> datetime | None:
        """When the update was created or last edited, whichever is later."""
        times = [t for t in (self.created, self.last_updated) if t is not None]
        return max(times) if times else None


class UpdatesPage(Listing):
    """A page of ``GET /groups/{id}/updates``."""

    update: list[Update] = []

    def rows(self) -> Sequence[object]:
        """The records on this page."""
        return self.update


class Comment(PlatformModel):
    """A comment on an update."""

    id: Text
    uid: Text | None = None
    comment: str = ""
    created: UnixTime = None
    parent_id: Text | None = None
    status: Text | None = None


class CommentsPage(Listing):
    """A page of ``GET /groups/{id}/updates/{update_id}/comments``."""

    comment: list[Comment] = []

    def rows(self) -> Sequence[object]:
        """The records on this page."""
        return self.comment


L = TypeVar("L", bound=Listing)


class OAuth1Signer(httpx.Auth):
    """Signs every request, each retry afresh (new nonce and timestamp), with two-legged
    OAuth 1.0a as Schoology requires: consumer key and secret, no token."""

    def __init__(self, key: str, secret: str, method: str) -> None:
        """A signer for the consumer ``key``/``secret`` with signature ``method``."""
        from oauthlib import oauth1  # imported by the runs that sign only

        self._oauth = oauth1.Client(key, client_secret=secret, signature_method=method, realm=REALM)

    def auth_flow(self, request: httpx.Request) -> Generator[httpx.Request, httpx.Response, None]:
        """Add the ``Authorization: OAuth ...`` header for this method and URL."""
        _, headers, _ = self._oauth.sign(str(request.url), http_method=request.method)
        request.headers["Authorization"] = headers["Authorization"]
        yield request


class SchoologyConnector(CloudConnector):
    """Schoology groups through the REST API v1 (two-legged OAuth 1.0a)."""

    type = PLATFORM
    platform = PLATFORM
    remediation = shipped_remediation(PLATFORM)
    summary = "Schoology groups (REST API v1, two-legged OAuth 1.0a)"
    Settings = SchoologySettings
    settings: SchoologySettings

    def __init__(
        self, name: str, settings: SchoologySettings, base_dir: Path | None = None
    ) -> None:
        """The shared client, its requests signed with the consumer key and secret."""
        super().__init__(name, settings, base_dir)
        self._emails: dict[str, str | None] = {}

    def request_auth(self) -> OAuth1Signer:
        """Every request signed with the consumer key and secret (two-legged OAuth 1.0a)."""
        s = self.settings
        key = read_secret(PLATFORM, "consumer_key_env", s.consumer_key_env)
        secret = read_secret(PLATFORM, "consumer_secret_env", s.consumer_secret_env)
        return OAuth1Signer(key, secret, s.signature_method)

    async def fetch_page(self, ref: PageRef) -> PageSnapshot:
        """The group's settings, members and recent updates as a snapshot."""
        gid = quote(ref.external_id, safe="")
        group = self.parse(SchoologyGroup, await self.http.get_json(f"groups/{gid}"), "group")
        warnings: list[str] = []
        unavailable: dict[str, str] = {
            "moderation": NO_MODERATION,
            "external_members_allowed": NO_EXTERNAL,
        }
        limits: dict[str, str] = {}
        coverage: dict[str, str] = {}
        settings = map_group(group, warnings, unavailable)
        members = await self._members(gid, warnings)
        posts = await self._posts(gid, limits, unavailable)
        if posts is not None:
            coverage["posts"] = (
                f"posts of the last {self.settings.lookback_days} days (group updates and "
                "their comments)"
            )
        website = (group.website or "").strip()
        return PageSnapshot(
            platform=PLATFORM,
            external_id=ref.external_id,
            name=group.title,
            url=f"{self.settings.site_url}/group/{quote(group.id, safe='')}",
            description=group.description or None,
            kind="group",
            fetched_at=clock(),
            links=[website] if website else [],
            settings=settings,
            members=members,
            posts=posts,
            moderation=None,
            unavailable=unavailable,
            coverage=coverage,
            limits=limits,
            warnings=warnings,
        )

    async def _listing(
        self, path: str, model: type[L], what: str, params: Params = None
    ) -> AsyncIterator[L]:
        """Each page of a listing, from ``start=0`` following ``links.next`` to the end (or
        to an empty page)."""
        query: Params = {**dict(params or {}), "start": 0, "limit": self.settings.page_size}
        async for raw in self.http.pages_next_link(path, query, next_key=("links", "next")):
            page = self.parse(model, raw, what)
            yield page
            if not page.rows():
                return

    async def _members(self, gid: str, warnings: list[str]) -> list[Member]:
        """Every enrollment (all statuses, all pages) as members, with their emails."""
        enrollments: list[Enrollment] = []
        params = {"enrollment_status": ALL_STATUSES}
        async for page in self._listing(
            f"groups/{gid}/enrollments", EnrollmentsPage, "enrollments", params
        ):
            enrollments.extend(page.enrollment)
        members = map_members(enrollments, warnings)
        if not self.settings.read_member_emails:
            warnings.append(
                "member emails were not looked up (read_member_emails = false): members are "
                "matched by Schoology user id only"
            )
            return members
        emails = await self._emails_of([m.id for m in members], warnings)
        return [m.model_copy(update={"email": emails.get(m.id)}) for m in members]

    async def _emails_of(self, uids: list[str], warnings: list[str]) -> dict[str, str | None]:
        """Each user's ``primary_email`` (read once per connector); users Schoology does not
        find are warned about and keep no email."""
        missing = [u for u in dict.fromkeys(uids) if u not in self._emails]
        found = await asyncio.gather(*(self._email(u) for u in missing))
        unknown: list[str] = []
        for uid, email in zip(missing, found, strict=True):
            if email is False:
                unknown.append(uid)
            else:
                self._emails[uid] = email
        if unknown:
            warnings.append(
                f"{len(unknown)} member account(s) not found by GET /users/{{uid}} "
                f"({', '.join(unknown[:5])}{', ...' if len(unknown) > 5 else ''}): no email"
            )
        return {u: self._emails.get(u) for u in uids}

    async def _email(self, uid: str) -> str | Literal[False] | None:
        """The user's primary email (None when blank); False when the user is not found."""
        try:
            raw = await self.http.get_json(f"users/{quote(uid, safe='')}")
        except HttpStatusError as exc:
            if exc.status == 404:
                return False
            if exc.status in (401, 403):
                raise ConnectorError(
                    f"{PLATFORM}: reading member accounts (GET /users/{{uid}}) was refused "
                    f"(HTTP {exc.status}): the API user needs permission to view users, or "
                    "set read_member_emails = false"
                ) from None
            raise
        email = (self.parse(SchoologyUser, raw, "user").primary_email or "").strip()
        return email or None

    async def _posts(
        self, gid: str, limits: dict[str, str], unavailable: dict[str, str]
    ) -> list[Post] | None:
        """Recent updates, each followed by its comments; None (with the reason) when
        turned off or refused."""
        if not self.settings.read_posts:
            unavailable["posts"] = "Reading group updates is turned off (read_posts = false)."
            return None
        try:
            updates = await self._recent_updates(gid, limits)
            threads = await asyncio.gather(*(self._comments(gid, u) for u in updates))
        except HttpStatusError as exc:
            if exc.status != 403:
                raise
            unavailable["posts"] = (
                "Schoology refused to list the group's updates or comments (HTTP 403): the "
                "API user needs access to the group's updates."
            )
            return None
        posts: list[Post] = []
        for update, comments in zip(updates, threads, strict=True):
            posts.append(update_post(update))
            posts.extend(comments)
        return posts

    async def _recent_updates(self, gid: str, limits: dict[str, str]) -> list[Update]:
        """Updates created or edited within the look-back window, newest ``max_updates``
        (a cut is recorded in ``limits``).

        Schoology lists updates newest first, so paging stops at the first page whose
        updates all fall before the window."""
        s = self.settings
        cutoff = clock() - timedelta(days=s.lookback_days)
        kept: list[Update] = []
        capped = False
        async for page in self._listing(
            f"groups/{gid}/updates", UpdatesPage, "updates", {"with_attachments": 1}
        ):
            old_here = 0
            for update in page.update:
                when = update.changed_at()
                if when is not None and when < cutoff:
                    old_here += 1
                elif len(kept) < s.max_updates:
                    kept.append(update)
                else:
                    capped = True
            if capped or (page.update and old_here == len(page.update)):
                break
        if capped:
            note_limit(
                limits,
                "posts",
                f"only the {s.max_updates} most recent updates of the look-back window were "
                "read (max_updates)",
            )
        return kept

    async def _comments(self, gid: str, update: Update) -> list[Post]:
        """An update's visible comments (every page) as posts."""
        if update.num_comments == "0":
            return []
        path = f"groups/{gid}/updates/{quote(update.id, safe='')}/comments"
        posts: list[Post] = []
        async for page in self._listing(path, CommentsPage, "update comments"):
            posts.extend(
                comment_post(update.id, c) for c in page.comment if c.status not in HIDDEN_COMMENTS
            )
        return posts

    async def discover(self) -> AsyncIterator[DiscoveredGroup]:
        """Every group ``GET /groups`` lists (the API user's school), with its group_code."""
        async for page in self._listing("groups", GroupsPage, "groups list"):
            for g in page.group:
                extra = {"group_code": g.group_code} if g.group_code else {}
                url = f"{self.settings.site_url}/group/{quote(g.id, safe='')}"
                yield DiscoveredGroup(g.id, g.title or g.id, url, extra)


def map_group(group: SchoologyGroup, warnings: list[str], unavailable: dict[str, str]) -> Settings:
    """The group's settings as snapshot settings; unknown values are warned, never guessed."""
    visibility: Visibility | None = None
    if group.privacy_level == "custom":
        unavailable["visibility"] = CUSTOM_PRIVACY
    else:
        visibility = map_enum("privacy_level", group.privacy_level, VISIBILITY, warnings)
    options = group.options
    if options is None:
        unavailable["join_policy"] = NO_OPTIONS
        unavailable["post_moderation"] = NO_OPTIONS
        join: JoinPolicy | None = None
        moderation: PostModeration | None = None
    else:
        join = map_enum("options.invite_type", options.invite_type, JOIN_POLICY, warnings)
        moderation = post_moderation(options, warnings)
    links: list[InviteLink] | None = None
    if "access_code" not in group.model_fields_set:
        unavailable["invite_links"] = NO_ACCESS_CODE
    else:
        links = access_code_links(group.access_code)
    return Settings(
        visibility=visibility,
        join_policy=join,
        post_moderation=moderation,
        invite_links=links,
        external_members_allowed=None,
    )


def post_moderation(options: GroupOptions, warnings: list[str]) -> PostModeration | None:
    """``none`` when members may start updates or discussions, else ``moderators-only``;
    member comments and resources are warned about (Schoology holds none for approval)."""
    post = map_enum("options.member_post", options.member_post, FLAG, warnings)
    discuss = map_enum("options.create_discussion", options.create_discussion, FLAG, warnings)
    comment = map_enum("options.member_post_comment", options.member_post_comment, FLAG, warnings)
    files = map_enum("options.create_files", options.create_files, FLAG, warnings)
    if discuss:
        warnings.append(
            "members may start discussion threads (options.create_discussion = 1); "
            "discussions are not read, only updates and their comments"
        )
    if files:
        warnings.append("members may add resources (options.create_files = 1); not read")
    if post or discuss:
        return "none"
    if post is None or discuss is None:
        return None
    if comment:
        warnings.append(
            "members may comment on updates without approval (options.member_post_comment = 1)"
        )
    return "moderators-only"


def access_code_links(code: str | None) -> list[InviteLink]:
    """An active access code as a join link: anyone who has it joins, it never expires and
    has no use limit. Only its last two characters are shown, to keep the code private."""
    code = (code or "").strip()
    if not code:
        return []
    return [InviteLink(url=f"Schoology access code ending in {code[-2:]}")]


def map_members(enrollments: list[Enrollment], warnings: list[str]) -> list[Member]:
    """Enrollments as members; expired, archived and unknown statuses are left out, warned."""
    out: dict[str, Member] = {}
    gone: dict[str, int] = {}
    for e in enrollments:
        if e.uid in out:
            continue
        state = STATE.get(e.status or "")
        if state is None:
            if e.status in GONE:
                gone[GONE[e.status]] = gone.get(GONE[e.status], 0) + 1
            else:
                warnings.append(
                    f"enrollment of user {e.uid} has unknown status {e.status!r}; left out"
                )
            continue
        role = map_enum("enrollment admin", e.admin, ROLE, warnings) or "member"
        out[e.uid] = Member(id=e.uid, name=e.name_display or None, role=role, state=state)
    for status, count in sorted(gone.items()):
        warnings.append(f"{count} {status} enrollment(s) left out: they are no longer members")
    return list(out.values())


def update_post(update: Update) -> Post:
    """A group update as a snapshot post."""
    text, links = text_and_links(update.body)
    if update.attachments:
        links += [u for u in update.attachments.urls() if u not in links]
    return Post(
        id=update.id, author_id=update.uid, created_at=update.created, text=text, links=links
    )


def comment_post(update_id: str, comment: Comment) -> Post:
    """A comment as a snapshot post: its id and parent read like the API path
    (``update/comment``); a reply to another comment has that comment as parent."""
    text, links = text_and_links(comment.comment)
    parent = update_id
    if comment.parent_id not in (None, "", "0"):
        parent = f"{update_id}/{comment.parent_id}"
    return Post(
        id=f"{update_id}/{comment.id}",
        author_id=comment.uid,
        created_at=comment.created,
        text=text,
        links=links,
        parent_id=parent,
    )


def text_and_links(body: str) -> tuple[str, list[str]]:
    """Plain text and links of a body that may be HTML (rich-text updates) or plain text."""
    if TAG_RE.search(body):
        return html_text(body)
    return body.strip(), with_urls(body)
