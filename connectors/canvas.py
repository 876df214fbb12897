"""The ``canvas`` connector: Canvas LMS groups through the district instance's REST API.

A page is a Canvas group (``external_id`` = the group id, or ``sis_group_id:...``). The
connector reads the group and its group set (category), its memberships and users, the
teachers, TAs and observers of the group's course, and the group's discussion topics,
announcements and their entries within the look-back window. Every listing follows the
``Link: <...>; rel="next"`` header with ``per_page=100``. The access token is sent as
``Authorization: Bearer``; Canvas cannot refresh it, so a refused token fails the page.

Mapping (also in docs/connectors/canvas.md):

========================  ===============================================================
snapshot field            Canvas value
========================  ===============================================================
visibility                ``is_public`` true -> ``public``; false -> ``closed`` (content
                          for members; the group's name is listed to its course/account)
join_policy               community and student-organized groups (category ``role``
                          ``communities``/``student_organized``): ``join_level``
                          parent_context_auto_join -> ``open``, parent_context_request ->
                          ``request``, invitation_only -> ``invite``; teacher-made group
                          sets: category ``self_signup`` enabled/restricted -> ``open``,
                          null -> ``invite``
post_moderation           null: Canvas holds no discussion posts for approval
external_members_allowed  null: who may hold an account is the instance's login setup
invite_links              ``[]``: Canvas groups have no join links
members                   memberships: ``workflow_state`` accepted/invited/requested ->
                          active/invited/requested; the group ``leader`` -> ``manager``;
                          ``moderator`` -> ``moderator``; course TeacherEnrollment ->
                          ``owner``, TaEnrollment -> ``manager`` (they read every group of
                          the course); names and emails from the users listings
posts                     topics and announcements posted, and entries and replies
                          created, within ``lookback_days``; HTML reduced to text and links
coverage ``posts``        the look-back window
limits                    ``members``: the course's teachers, TAs and observers
                          unreadable; ``posts``: a topic's entries unreadable
warnings                  observers (guardians) of members, a concluded course,
                          non-collaborative groups, missing emails, unreadable group users
========================  ===============================================================
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from pydantic import AwareDatetime, BaseModel, Field, PositiveInt, RootModel, field_validator

from auditor.config import EnvName
from auditor.connectors.base import (
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
from auditor.connectors.html_text import html_text
from auditor.connectors.http import HttpStatusError, Params, check_api_url
from auditor.snapshot import (
    JoinPolicy,
    Member,
    MemberRole,
    MemberState,
    PageSnapshot,
    Post,
    Settings,
)

PLATFORM = "canvas"
API_PREFIX = "/api/v1"
PER_PAGE = 100
JOIN_LEVEL: dict[str, JoinPolicy] = {
    "parent_context_auto_join": "open",
    "parent_context_request": "request",
    "invitation_only": "invite",
}
SELF_SIGNUP: dict[str, JoinPolicy] = {"enabled": "open", "restricted": "open"}
SELF_ORGANIZED_ROLES = frozenset({"communities", "student_organized"})
MEMBERSHIP_STATE: dict[str, MemberState] = {
    "accepted": "active",
    "invited": "invited",
    "requested": "requested",
}
COURSE_ROLE: dict[str, MemberRole] = {"TeacherEnrollment": "owner", "TaEnrollment": "manager"}
ENROLLMENT_STATE: dict[str, MemberState] = {"active": "active", "invited": "invited"}
ROLE_RANK: dict[str, int] = {"owner": 3, "manager": 2, "moderator": 1, "member": 0}
MAX_DETAIL = 200
NO_MODERATION_SETTING = (
    "Canvas holds no group discussion posts for approval: entries appear at once and "
    "teachers or group moderators can only delete them afterwards."
)
NO_MODERATION = "Canvas reports no moderator activity or reported posts through its REST API."
NO_EXTERNAL = (
    "Canvas group members must be users of the district's Canvas instance; whether people "
    "outside the district can get such an account depends on the instance's login setup, "
    "which the groups API does not show."
)

M = TypeVar("M", bound=BaseModel)


def _utc_now() -> datetime:
    """The current time in UTC."""
    return datetime.now(UTC)


clock: Callable[[], datetime] = _utc_now
"""The current time (look-back window, ``fetched_at``); tests and sample builds replace it."""


class CanvasSettings(CloudConnectorSettings):
    """Settings of the ``canvas`` connector."""

    base_url: str = Field(
        description="The district's Canvas address, e.g. https://danbury.instructure.com "
        "(the REST API is under /api/v1)."
    )
    token_url: str | None = Field(
        None, description="Not used: Canvas takes the access token as is (leave unset)."
    )
    token_env: EnvName = Field(
        description="Environment variable holding the Canvas API access token."
    )
    account_id: str | None = Field(
        None,
        description="Account whose groups discover() lists (default: the groups of the "
        "token's own user).",
    )
    lookback_days: PositiveInt = Field(
        30, description="Posts older than this many days are not read."
    )

    @field_validator("base_url")
    @classmethod
    def _site_root(cls, value: str) -> str:
        """The address (https, http only on loopback) without a trailing ``/api/v1``."""
        return check_api_url(value).removesuffix(API_PREFIX)

    @field_validator("token_url")
    @classmethod
    def _no_token_url(cls, value: str | None) -> None:
        """Canvas API access tokens need no token endpoint."""
        if value is not None:
            raise ValueError("Canvas has no token endpoint for API access tokens; remove it")
        return None


class UserDisplay(PlatformModel):
    """Canvas's short user object (``leader``, topic ``author``); ``{}`` when unknown."""

    id: int | None = None
    display_name: str | None = None


class Group(PlatformModel):
    """The Group object (the fields used)."""

    id: int
    name: str | None = None
    description: str | None = None
    is_public: bool | None = None
    join_level: str | None = None
    group_category_id: int | None = None
    role: str | None = None
    created_at: AwareDatetime | None = None
    context_type: str | None = None
    course_id: int | None = None
    account_id: int | None = None
    leader: UserDisplay | None = None
    concluded: bool | None = None
    non_collaborative: bool | None = None
    sis_group_id: str | None = None


class GroupsPage(RootModel[list[Group]]):
    """A page of groups (``/users/self/groups``, ``/accounts/:id/groups``)."""


class GroupCategory(PlatformModel):
    """The GroupCategory object (the fields used)."""

    id: int
    name: str | None = None
    role: str | None = None
    self_signup: str | None = None


class Membership(PlatformModel):
    """The GroupMembership object."""

    id: int
    user_id: int
    workflow_state: str
    moderator: bool | None = None
    created_at: AwareDatetime | None = None


class MembershipsPage(RootModel[list[Membership]]):
    """A page of ``/groups/:id/memberships``."""


class Enrollment(PlatformModel):
    """An Enrollment object, as included with a course user (the fields used)."""

    type: str
    enrollment_state: str | None = None
    associated_user_id: int | None = None


class User(PlatformModel):
    """The User object (the fields used); ``email`` only where the token may read it."""

    id: int
    name: str | None = None
    email: str | None = None
    enrollments: list[Enrollment] = []


class UsersPage(RootModel[list[User]]):
    """A page of ``/groups/:id/users`` or ``/courses/:id/users``."""


class Topic(PlatformModel):
    """The DiscussionTopic object (the fields used); announcements are topics too."""

    id: int
    title: str | None = None
    message: str | None = None
    posted_at: AwareDatetime | None = None
    created_at: AwareDatetime | None = None
    last_reply_at: AwareDatetime | None = None
    pinned: bool | None = None
    author: UserDisplay | None = None
    discussion_subentry_count: int | None = None

    @property
    def posted(self) -> datetime | None:
        """When members could first read the topic (``posted_at``, else ``created_at``)."""
        return self.posted_at or self.created_at


class TopicsPage(RootModel[list[Topic]]):
    """A page of ``/groups/:id/discussion_topics``."""


class Entry(PlatformModel):
    """A discussion entry or reply; deleted ones carry ``deleted`` and no message."""

    id: int
    user_id: int | None = None
    parent_id: int | None = None
    created_at: AwareDatetime | None = None
    message: str | None = None
    deleted: bool | None = None
    recent_replies: list[Entry] = []
    has_more_replies: bool | None = None


class EntriesPage(RootModel[list[Entry]]):
    """A page of topic entries or entry replies."""


def is_denial(response: httpx.Response) -> bool:
    """Whether Canvas's refusal means "this user may not read that": a 403, or a 401 whose
    body says ``"status": "unauthorized"`` (a valid token without the right)."""
    if response.status_code == 403:
        return True
    body = _json_or_text(response)
    return (
        response.status_code == 401
        and isinstance(body, dict)
        and body.get("status") == "unauthorized"
    )


def denied(error: HttpStatusError) -> bool:
    """Whether a page error is Canvas's permission refusal (see :func:`is_denial`)."""
    return error.response is not None and is_denial(error.response)


def _json_or_text(response: httpx.Response) -> Any:
    """The body as JSON, else as text."""
    try:
        return response.json()
    except (ValueError, UnicodeDecodeError):
        return response.text


def canvas_error(body: Any) -> str | None:
    """Canvas's error message from ``{"errors": [{"message": ...}]}`` and its variants,
    on one line and shortened."""
    parts: list[str] = []
    if isinstance(body, dict):
        errors = body.get("errors")
        if isinstance(errors, list):
            parts = [str(e["message"]) for e in errors if isinstance(e, dict) and "message" in e]
        elif isinstance(errors, dict):
            parts = [f"{key}: {value}" for key, value in errors.items()]
        elif isinstance(errors, str):
            parts = [errors]
        for key in ("message", "error"):
            if not parts and isinstance(body.get(key), str):
                parts = [body[key]]
    elif isinstance(body, str) and body.strip() and "<" not in body:
        parts = [body]
    text = " ".join("; ".join(parts).split())
    if not text:
        return None
    return text if len(text) <= MAX_DETAIL else text[: MAX_DETAIL - 3] + "..."


class CanvasConnector(CloudConnector):
    """Canvas LMS groups (REST API, API access token)."""

    type = PLATFORM
    platform = PLATFORM
    remediation = shipped_remediation(PLATFORM)
    summary = "Canvas LMS groups (REST API, access token)"
    Settings = CanvasSettings
    settings: CanvasSettings

    def api_base_url(self) -> str:
        """The REST API under the Canvas address: ``base_url``/api/v1."""
        return self.settings.base_url + API_PREFIX

    def headers(self) -> dict[str, str]:
        """The access token as a Bearer header (Canvas has no token endpoint to refresh it)."""
        token = read_secret(PLATFORM, "token_env", self.settings.token_env)
        return {"Authorization": f"Bearer {token}"}

    def error_detail(self, response: httpx.Response) -> str:
        """What the refusal means, with Canvas's own message (``errors[].message``)."""
        if is_denial(response):
            hint = "permission denied: the token's user may not read this"
        else:
            hint = {
                401: "the access token was refused (expired, revoked or mistyped)",
                404: "not found",
            }.get(response.status_code, response.reason_phrase or "request failed")
        detail = canvas_error(_json_or_text(response))
        return f"{hint}: {detail}" if detail else hint

    def group_url(self, group_id: int | str) -> str:
        """The group's page in the Canvas web interface."""
        return f"{self.settings.base_url}/groups/{group_id}"

    async def fetch_page(self, ref: PageRef) -> PageSnapshot:
        """The group, its settings, members and recent posts as a snapshot."""
        gid = quote(ref.external_id, safe=":")
        group = self.parse(Group, await self.http.get_json(f"groups/{gid}"), "group")
        now = clock()
        notes = PageNotes(
            unavailable={
                "post_moderation": NO_MODERATION_SETTING,
                "external_members_allowed": NO_EXTERNAL,
                "moderation": NO_MODERATION,
            },
            warnings=group_warnings(group),
        )
        warnings, unavailable = notes.warnings, notes.unavailable
        join_policy = await self._join_policy(group, warnings, unavailable)
        members = await self._members(gid, group, notes)
        days = self.settings.lookback_days
        posts = await self._posts(gid, now - timedelta(days=days), notes.limits)
        if posts is None:
            unavailable["posts"] = (
                "Canvas refused to list the group's discussion topics: the token's user "
                "needs to be able to read the group (a teacher of its course, or an admin)."
            )
        else:
            notes.coverage["posts"] = f"posts of the last {days} days"
        visibility = (
            None if group.is_public is None else ("public" if group.is_public else "closed")
        )
        if visibility is None:
            unavailable["visibility"] = "Canvas did not report whether the group is public."
        return PageSnapshot(
            platform=PLATFORM,
            external_id=ref.external_id,
            name=group.name,
            url=self.group_url(group.id),
            description=group.description or None,
            kind="group",
            created_at=group.created_at,
            fetched_at=now,
            settings=Settings(
                visibility=visibility,
                join_policy=join_policy,
                post_moderation=None,
                invite_links=[],
                external_members_allowed=None,
            ),
            members=members,
            posts=posts,
            moderation=None,
            unavailable=unavailable,
            coverage=notes.coverage,
            limits=notes.limits,
            warnings=warnings,
        )

    # --- listings ----------------------------------------------------------------------

    async def _list(
        self, path: str, model: type[RootModel[list[M]]], what: str, params: Params = None
    ) -> list[M]:
        """Every item of a Canvas listing, following the Link header page by page."""
        found: list[M] = []
        query = {"per_page": PER_PAGE, **dict(params or {})}
        async for raw in self.http.pages_link_header(path, query):
            found.extend(self.parse(model, raw, what).root)
        return found

    async def _optional_list(
        self,
        path: str,
        model: type[RootModel[list[M]]],
        what: str,
        params: Params,
        refused: Callable[[str], None],
    ) -> list[M] | None:
        """Like :meth:`_list`, but a permission refusal is ``None``, its words handed to
        ``refused`` (which records them as a warning or as a limit)."""
        try:
            return await self._list(path, model, what, params)
        except HttpStatusError as exc:
            if not denied(exc):
                raise
            refused(f"{what} not readable: {exc}")
            return None

    # --- settings ----------------------------------------------------------------------

    async def _join_policy(
        self, group: Group, warnings: list[str], unavailable: dict[str, str]
    ) -> JoinPolicy | None:
        """How people join: ``join_level`` for self-organized groups, else the group set's
        ``self_signup`` (Canvas ignores ``join_level`` there)."""
        if group.group_category_id is None or group.role in SELF_ORGANIZED_ROLES:
            policy = map_enum("join_level", group.join_level, JOIN_LEVEL, warnings)
            if policy is None:
                unavailable["join_policy"] = "Canvas did not report a known join_level."
            return policy
        try:
            raw = await self.http.get_json(f"group_categories/{group.group_category_id}")
        except HttpStatusError as exc:
            if not denied(exc):
                raise
            unavailable["join_policy"] = (
                "Canvas refused to show the group set (needs the permission to manage groups "
                f"in the course or account), so self sign-up is unknown: {exc}"
            )
            return None
        category = self.parse(GroupCategory, raw, "group category")
        if category.self_signup is None:
            return "invite"
        return map_enum("self_signup", category.self_signup, SELF_SIGNUP, warnings)

    # --- members -----------------------------------------------------------------------

    async def _members(self, gid: str, group: Group, notes: PageNotes) -> list[Member]:
        """Memberships with names and emails, then the course's teachers and TAs; the
        course's observers of members are recorded in ``warnings``."""
        warnings = notes.warnings
        memberships = await self._list(
            f"groups/{gid}/memberships", MembershipsPage, "group memberships"
        )
        users = await self._optional_list(
            f"groups/{gid}/users",
            UsersPage,
            "group users",
            {"include[]": ["email"]},
            warnings.append,
        )
        known = {u.id: u for u in users or []}
        if users and not any(u.email for u in users):
            warnings.append(
                "Canvas returned no email addresses for the group's users (the token's user "
                "may not read them): members are identified by Canvas user id only"
            )
        leader = group.leader.id if group.leader else None
        found: dict[int, Member] = {}
        for m in memberships:
            state = map_enum(
                f"membership {m.id} workflow_state", m.workflow_state, MEMBERSHIP_STATE, warnings
            )
            if state is None:
                continue
            user = known.get(m.user_id)
            role: MemberRole = (
                "manager" if m.user_id == leader else ("moderator" if m.moderator else "member")
            )
            found[m.user_id] = Member(
                id=str(m.user_id),
                name=user.name if user else None,
                email=user.email if user else None,
                role=role,
                state=state,
                joined_at=m.created_at,
            )
        if leader is not None and leader not in found:
            warnings.append(f"the group leader (Canvas user {leader}) has no membership listed")
        if group.context_type == "Course" and group.course_id is not None:
            await self._course_people(group.course_id, found, notes)
        elif group.context_type == "Account":
            warnings.append(
                "the group belongs to an account, not a course: its administrators can read it "
                "but are not listed, and no observers (guardians) are linked to its members"
            )
        return list(found.values())

    async def _course_people(
        self, course_id: int, found: dict[int, Member], notes: PageNotes
    ) -> None:
        """Add the course's teachers (owner) and TAs (manager), who read every group of the
        course, and record which observers (guardians) observe which members; a roster
        Canvas will not show is a limit of ``members``."""
        warnings = notes.warnings
        people = await self._optional_list(
            f"courses/{course_id}/users",
            UsersPage,
            f"course {course_id} teachers, TAs and observers",
            {
                "enrollment_type[]": ["teacher", "ta", "observer"],
                "include[]": ["enrollments", "email"],
            },
            lambda said: note_limit(notes.limits, "members", said),
        )
        if people is None:
            return
        member_ids = set(found)
        links: list[str] = []
        observed: set[int] = set()
        for person in people:
            for enrollment in person.enrollments:
                state = ENROLLMENT_STATE.get(enrollment.enrollment_state or "")
                if state is None:
                    continue
                role = COURSE_ROLE.get(enrollment.type)
                if role is not None:
                    _add_course_staff(found, person, role, state)
                elif enrollment.type == "ObserverEnrollment":
                    target = enrollment.associated_user_id
                    if target in member_ids and target is not None:
                        observed.add(target)
                        links.append(f"{_who(person)} observes {_label(found[target])}")
        if links:
            warnings.append(
                "observers (guardians) in the course linked to members; they are course "
                "enrollments, not group members, and page-snapshot/1 has no field for the link: "
                + "; ".join(links)
            )
        plain = [m for uid, m in found.items() if uid in member_ids and m.role == "member"]
        missing = [m for m in plain if int(m.id) not in observed]
        if missing:
            warnings.append(
                f"{len(missing)} of {len(plain)} members have no observer (guardian) "
                "linked in the course: " + ", ".join(_label(m) for m in missing)
            )

    # --- posts -------------------------------------------------------------------------

    async def _posts(self, gid: str, cutoff: datetime, limits: dict[str, str]) -> list[Post] | None:
        """Topics and announcements posted, and entries created, since ``cutoff``;
        ``None`` when Canvas refuses to list topics (a topic whose entries it refuses is a
        limit of ``posts``)."""
        base = f"groups/{gid}/discussion_topics"
        try:
            topics = await self._list(base, TopicsPage, "discussion topics")
            topics += await self._list(
                base, TopicsPage, "announcements", {"only_announcements": "true"}
            )
        except HttpStatusError as exc:
            if not denied(exc):
                raise
            return None
        posts: list[Post] = []
        for topic in topics:
            if within(topic.posted, cutoff):
                posts.append(topic_post(topic))
            dates = [t for t in (topic.posted, topic.last_reply_at) if t is not None]
            if topic.discussion_subentry_count == 0 or not within(max(dates, default=None), cutoff):
                continue
            posts.extend(await self._entries(f"{base}/{topic.id}", topic, cutoff, limits))
        return posts

    async def _entries(
        self, path: str, topic: Topic, cutoff: datetime, limits: dict[str, str]
    ) -> list[Post]:
        """A topic's entries and their replies created since ``cutoff``."""
        entries = await self._optional_list(
            f"{path}/entries",
            EntriesPage,
            f"entries of topic {topic.id}",
            None,
            lambda said: note_limit(limits, "posts", said),
        )
        posts: list[Post] = []
        for entry in entries or []:
            parent = f"topic-{topic.id}"
            if within(entry.created_at, cutoff):
                posts.extend(entry_posts([entry], parent))
            if entry.has_more_replies:
                replies = await self._replies(f"{path}/entries/{entry.id}/replies", cutoff)
            else:
                replies = entry.recent_replies
            posts.extend(
                entry_posts(
                    [r for r in replies if within(r.created_at, cutoff)], f"entry-{entry.id}"
                )
            )
        return posts

    async def _replies(self, path: str, cutoff: datetime) -> list[Entry]:
        """An entry's replies (newest first) down to ``cutoff``."""
        found: list[Entry] = []
        async for raw in self.http.pages_link_header(path, {"per_page": PER_PAGE}):
            page = self.parse(EntriesPage, raw, "entry replies").root
            found.extend(page)
            if not all(within(r.created_at, cutoff) for r in page):
                break
        return found

    # --- discovery ---------------------------------------------------------------------

    async def discover(self) -> AsyncIterator[DiscoveredGroup]:
        """The account's groups (``account_id``), else the groups of the token's user."""
        account = self.settings.account_id
        path = f"accounts/{quote(account, safe=':')}/groups" if account else "users/self/groups"
        async for raw in self.http.pages_link_header(path, {"per_page": PER_PAGE}):
            for g in self.parse(GroupsPage, raw, "groups list").root:
                extra = {"sis_group_id": g.sis_group_id} if g.sis_group_id else {}
                yield DiscoveredGroup(str(g.id), g.name or str(g.id), self.group_url(g.id), extra)


def within(when: datetime | None, cutoff: datetime) -> bool:
    """Whether something dated ``when`` is inside the look-back window (undated: yes, so
    nothing is left out unseen)."""
    return when is None or when >= cutoff


def group_warnings(group: Group) -> list[str]:
    """Group facts that matter to the policy but have no snapshot field."""
    out: list[str] = []
    if group.concluded:
        out.append("the group's course or account has concluded: the group is read-only")
    if group.non_collaborative:
        out.append("the group is non-collaborative (a teacher's tag): students cannot see it")
    return out


def _add_course_staff(
    found: dict[int, Member], person: User, role: MemberRole, state: MemberState
) -> None:
    """Add a teacher or TA, or raise a member's role to theirs (the stronger role wins)."""
    current = found.get(person.id)
    if current is None:
        found[person.id] = Member(
            id=str(person.id), name=person.name, email=person.email, role=role, state=state
        )
    elif ROLE_RANK[role] > ROLE_RANK[current.role]:
        found[person.id] = current.model_copy(
            update={"role": role, "email": current.email or person.email}
        )


def _who(person: User) -> str:
    """An observer as shown in a warning: name, email and Canvas id where known."""
    email = f" <{person.email}>" if person.email else ""
    return f"{person.name or 'user'}{email} (Canvas user {person.id})"


def _label(member: Member) -> str:
    """A member as shown in a warning."""
    return f"{member.name} ({member.id})" if member.name else f"Canvas user {member.id}"


def topic_post(topic: Topic) -> Post:
    """A discussion topic or announcement as a post (its title, then its message)."""
    text, links = html_text(topic.message or "")
    title = (topic.title or "").strip()
    return Post(
        id=f"topic-{topic.id}",
        author_id=str(topic.author.id) if topic.author and topic.author.id else None,
        created_at=topic.posted,
        text=f"{title}\n{text}".strip(),
        links=links,
        pinned=bool(topic.pinned),
    )


def entry_posts(entries: list[Entry], parent: str) -> list[Post]:
    """Undeleted entries as posts; a reply's parent is the entry it answers."""
    posts: list[Post] = []
    for entry in entries:
        if entry.deleted:
            continue
        text, links = html_text(entry.message or "")
        posts.append(
            Post(
                id=f"entry-{entry.id}",
                author_id=str(entry.user_id) if entry.user_id is not None else None,
                created_at=entry.created_at,
                text=text,
                links=links,
                parent_id=f"entry-{entry.parent_id}" if entry.parent_id is not None else parent,
            )
        )
    return posts
