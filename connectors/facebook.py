"""The ``facebook`` connector: Facebook groups audited from their admin's attestation.

Meta removed the Graph API's Groups API (its permissions and features) from every API
version on 22 April 2024 (Graph API v19.0 changelog), so no app can read a group's
settings, members or posts any more. Instead the group's admin fills in an attestation:
one TOML file per page, ``<folder>/<external_id>.toml``, started from
:func:`attestation_template`. The connector reads it, and every snapshot says so in
``source`` ("attestation by <who> on <date>").

Mapping (also in docs/connectors/facebook.md):

========================  ===============================================================
snapshot field            attestation value (Facebook's own option names)
========================  ===============================================================
visibility                ``privacy`` Public -> ``public``; Private + ``hide_group``
                          Visible -> ``closed``; Private + Hidden -> ``secret``
join_policy               Public -> ``open``; Private + Visible -> ``request``; Private +
                          Hidden -> ``invite`` when only admins and moderators approve
                          member requests, else ``request`` (warned)
post_moderation           ``who_can_post`` admins -> ``moderators-only``; Anyone in the
                          group + ``post_approval`` true -> ``all``, false -> ``none``
external_members_allowed  ``true``: any Facebook account can be a member
invite_links              null (not attested)
members                   ``[[members]]``: role Admin -> ``owner``, Moderator ->
                          ``moderator``, Member -> ``member``; status Joined / Invited /
                          Member request / Blocked -> active / invited / requested / banned
posts                     ``[[posts]]`` within ``lookback_days`` before the attestation
                          date; none attested -> null with the reason
coverage ``posts``        that window (and how many older attested posts were left out)
limits ``members``        ``member_count`` higher than the members listed as joined
moderation                ``last_moderator_action_at`` = the attestation date (the admin's
                          review); an attestation older than ``max_age_days`` is warned
source                    "attestation by <name> <email> on <date>"
========================  ===============================================================
"""

from __future__ import annotations

import asyncio
import json
import re
import tomllib
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, Protocol

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    ValidationError,
    ValidationInfo,
    field_validator,
)

from auditor.config import Email
from auditor.connectors.base import (
    Connector,
    ConnectorError,
    ConnectorSettings,
    PageNotes,
    PageRef,
    existing_folder,
    note_limit,
    shipped_remediation,
)
from auditor.snapshot import Member, MemberRole, MemberState, Moderation, PageSnapshot, Post
from auditor.snapshot import Settings as PageSettings
from auditor.validation import dotted

PLATFORM = "facebook"
FORMAT = "facebook-attestation/1"
TEMPLATE = "facebook_attestation.template.toml"
GROUP_URL = "https://www.facebook.com/groups/"
GROUP_URL_RE = re.compile(r"https://(www\.|m\.|web\.)?facebook\.com/groups/[^/?#\s]+/?")
ADMINS_ONLY = "Only admins and moderators"
ANYONE = "Anyone in the group"
ROLES: dict[str, MemberRole] = {"Admin": "owner", "Moderator": "moderator", "Member": "member"}
STATES: dict[str, MemberState] = {
    "Joined": "active",
    "Invited": "invited",
    "Member request": "requested",
    "Blocked": "banned",
}
WHO_CAN_POST = (ANYONE, "Admins and moderators", "Only admins")
NO_POSTS = (
    "The attestation of {when} lists no posts (Facebook has no API for group posts since "
    "April 2024; the admin may export them into [[posts]])."
)
NO_INVITE_LINKS = "Facebook's invite links are not part of the attestation."
BLANK = "not filled in"
SHOWN_MAX = 40


def utc_now() -> datetime:
    """The current time (one place, so tests can fix the clock)."""
    return datetime.now(UTC)


# --- settings -------------------------------------------------------------------------


class FacebookSettings(ConnectorSettings):
    """Settings of the ``facebook`` connector."""

    folder: Path = Field(
        description="Folder of attestation files, <external_id>.toml (relative to the config)."
    )
    max_age_days: PositiveInt = Field(
        90, description="An attestation older than this many days is stale (DS2.monitoring)."
    )
    lookback_days: PositiveInt = Field(
        30,
        description="Attested posts older than this many days before the attestation "
        "date are not audited.",
    )

    @field_validator("folder")
    @classmethod
    def _existing_folder(cls, value: Path, info: ValidationInfo) -> Path:
        """The folder, relative to the config file's folder, must exist."""
        return existing_folder(value, info)


# --- the attestation form ---------------------------------------------------------------


def _shown(value: object) -> str:
    """A short, quoted rendering of a mistyped option (never long free text)."""
    text = str(value)
    return repr(text if len(text) <= SHOWN_MAX else text[: SHOWN_MAX - 3] + "...")


def _choice(*options: str) -> Callable[[object], str]:
    """A validator accepting one of Facebook's option names, ignoring case and spacing."""
    quoted = [f'"{o}"' for o in options]
    listed = ", ".join(quoted[:-1]) + " or " + quoted[-1]

    def check(value: object) -> str:
        """The canonical spelling of ``value``, or an error listing the options."""
        if not isinstance(value, str):
            raise ValueError(f"must be a quoted text: {listed}")
        if not value.strip():
            raise ValueError(f"{BLANK}: write {listed}")
        key = " ".join(value.split()).casefold()
        for option in options:
            if option.casefold() == key:
                return option
        raise ValueError(f"unknown value {_shown(value)}; write {listed}")

    return check


def _filled(value: object) -> object:
    """Refuse a blank left empty in the template."""
    if isinstance(value, str) and not value.strip():
        raise ValueError(BLANK)
    return value


def _optional(value: object) -> object:
    """An empty string means "not known"."""
    return None if isinstance(value, str) and not value.strip() else value


def _boolean(value: object) -> object:
    """true/false, or Facebook's "On"/"Off"."""
    if isinstance(value, str):
        key = value.strip().casefold()
        if not key:
            raise ValueError(f"{BLANK}: write true or false")
        if key in ("on", "off"):
            return key == "on"
    if not isinstance(value, bool):
        raise ValueError("write true or false (without quotes)")
    return value


def _day(value: object) -> date:
    """A TOML date (``2026-11-15``, no quotes); a quoted ISO date is accepted too."""
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str) and not value.strip():
        raise ValueError(f"{BLANK}: write the date as YYYY-MM-DD (no quotes)")
    try:
        return date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValueError("not a date: write it as YYYY-MM-DD (no quotes)") from None


def _moment(value: object) -> datetime:
    """A date or a date and time as an aware datetime (UTC when no offset is given)."""
    if isinstance(value, str):
        if not value.strip():
            raise ValueError(f"{BLANK}: write the date as YYYY-MM-DD (no quotes)")
        try:
            value = datetime.fromisoformat(value.strip())
        except ValueError:
            raise ValueError(
                "not a date: write YYYY-MM-DD or YYYY-MM-DDTHH:MM:SS-05:00 (no quotes)"
            ) from None
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(), UTC)
    raise ValueError("not a date: write YYYY-MM-DD (no quotes)")


Text = Annotated[str, BeforeValidator(_filled)]
Privacy = Annotated[str, BeforeValidator(_choice("Public", "Private"))]
HideGroup = Annotated[str, BeforeValidator(_choice("Visible", "Hidden"))]
Approvers = Annotated[str, BeforeValidator(_choice(ADMINS_ONLY, ANYONE))]
Posters = Annotated[str, BeforeValidator(_choice(*WHO_CAN_POST))]
Role = Annotated[str, BeforeValidator(_choice(*ROLES))]
Status = Annotated[str, BeforeValidator(_choice(*STATES))]
Switch = Annotated[bool, BeforeValidator(_boolean)]
Day = Annotated[date, BeforeValidator(_day)]
Moment = Annotated[datetime, BeforeValidator(_moment)]
OptionalEmail = Annotated[Email | None, BeforeValidator(_optional)]


class _Form(BaseModel):
    """Base of the attestation's tables: unknown keys are errors (they are typos)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class GroupForm(_Form):
    """``[group]``: which Facebook group this is."""

    id: Text
    name: Text
    url: Annotated[str | None, BeforeValidator(_optional)] = None
    about: str = ""
    member_count: Annotated[NonNegativeInt | None, BeforeValidator(_optional)] = None

    @field_validator("url")
    @classmethod
    def _group_url(cls, value: str | None) -> str | None:
        """Only a Facebook group's address is accepted."""
        if value is not None and not GROUP_URL_RE.fullmatch(value.strip()):
            raise ValueError(f"must be the group's address, {GROUP_URL}<group>")
        return value.strip() if value else None


class AttestationForm(_Form):
    """``[attestation]``: when and by whom."""

    date: Day
    name: Text
    email: Email


class SettingsForm(_Form):
    """``[settings]``: the group's settings, with Facebook's option names."""

    privacy: Privacy
    hide_group: HideGroup
    who_can_approve_member_requests: Approvers | None = None
    membership_questions: list[str] = []
    who_can_post: Posters
    post_approval: Switch


class MemberForm(_Form):
    """One ``[[members]]`` entry: a person on the group's Members, Invited, Member
    requests or Blocked list."""

    name: Text
    email: OptionalEmail = None
    role: Role = "Member"
    status: Status = "Joined"
    since: Annotated[Day | None, BeforeValidator(_optional)] = None


class PostForm(_Form):
    """One ``[[posts]]`` entry: a post the admin copied from the group."""

    date: Moment
    author: Text
    text: Text


class Attestation(_Form):
    """A whole attestation file."""

    format: Literal["facebook-attestation/1"] = FORMAT
    group: GroupForm
    attestation: AttestationForm
    settings: SettingsForm
    members: list[MemberForm] = Field(min_length=1)
    posts: list[PostForm] = []


# --- reading a file ---------------------------------------------------------------------


class FacebookConnector(Connector):
    """Facebook groups, from the admin's attestation files."""

    type = PLATFORM
    platform = PLATFORM
    remediation = shipped_remediation(PLATFORM)
    summary = "Facebook groups, from an admin's attestation file (no API since April 2024)"
    Settings = FacebookSettings
    settings: FacebookSettings

    async def fetch_page(self, ref: PageRef) -> PageSnapshot:
        """The snapshot of ``<folder>/<external_id>.toml``, read now."""
        path = attestation_path(self.settings.folder, ref.external_id)
        raw = await asyncio.to_thread(_read, path, ref.external_id)
        return read_attestation(f"{ref.external_id}.toml", raw, ref, self.settings, utc_now())


def attestation_path(folder: Path, external_id: str) -> Path:
    """The real path of ``<folder>/<external_id>.toml``, refusing an id or a symlink that
    leads out of the folder (nothing is read from such a file)."""
    bad_id = not external_id or external_id in (".", "..") or any(c in external_id for c in "/\\\0")
    path = None if bad_id else (folder / f"{external_id}.toml").resolve()
    if path is None or not path.is_relative_to(folder.resolve()):
        raise ConnectorError(
            f"{PLATFORM}: the attestation of external_id {external_id!r} would be read from "
            f"outside the folder {folder}: refused"
        )
    return path


def _read(path: Path, external_id: str) -> bytes:
    """The file's bytes; a missing file says where the attestation was expected."""
    if not path.is_file():
        raise ConnectorError(
            f"{PLATFORM}: no attestation for external_id {external_id!r}: {path} not found "
            "(the group's admin fills one in from the template)"
        )
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ConnectorError(f"{PLATFORM}: {path.name}: cannot be read ({exc.strerror})") from None


def read_attestation(
    name: str, raw: bytes, ref: PageRef, settings: FacebookSettings, now: datetime
) -> PageSnapshot:
    """Parse one attestation file into a snapshot; every error is one line naming the file
    ``name``, the field and, where it can be found, the line."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConnectorError(f"{PLATFORM}: {name}: not UTF-8 text") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConnectorError(f"{PLATFORM}: {name}: {_toml_error(str(exc))}") from None
    try:
        form = Attestation.model_validate(data)
    except ValidationError as exc:
        raise ConnectorError(f"{PLATFORM}: {name}: {_form_errors(exc, text)}") from None
    try:
        return to_snapshot(form, ref, settings, now)
    except _Problem as exc:
        line = KeyLines(text).line_of(exc.loc)
        where = f"line {line}: " if line else ""
        raise ConnectorError(f"{PLATFORM}: {name}: {where}{dotted(exc.loc)}: {exc}") from None


class _Problem(ValueError):
    """A value that is well-formed but contradicts the rest of the attestation."""

    def __init__(self, loc: tuple[str | int, ...], message: str) -> None:
        super().__init__(message)
        self.loc = loc


def _toml_error(message: str) -> str:
    """tomllib's "Invalid value (at line 3, column 8)" as "line 3: not valid TOML (...)"."""
    found = re.search(r"\s*\(at line (\d+), column (\d+)\)$", message)
    if found is None:
        return f"not valid TOML ({message})"
    what = message[: found.start()]
    return f"line {found.group(1)}: not valid TOML ({what} at column {found.group(2)})"


def _form_errors(exc: ValidationError, text: str) -> str:
    """Up to three validation errors, each with its line and field; values never echoed
    except the short option names that our own validators quote."""
    lines = KeyLines(text)
    out: list[str] = []
    errors = exc.errors(include_url=False)
    for err in errors[:3]:
        loc = tuple(err["loc"])
        message = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            message = "unknown key (check its spelling against the template)"
        elif err["type"] == "missing":
            message = "missing (it is required)"
        elif err["type"] == "literal_error":
            message = f'must be "{FORMAT}"'
        line = lines.line_of(loc)
        out.append(f"{f'line {line}: ' if line else ''}{dotted(loc)}: {message}")
    more = f" (and {len(errors) - 3} more)" if len(errors) > 3 else ""
    return "; ".join(out) + more


class KeyLines:
    """Where each key and table header of a TOML text is (1-based line numbers), so that
    errors can point at the line to fix; ``[[name]]`` tables are counted from 0."""

    HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\- \"']+?)\s*\]\]?\s*(#.*)?$")
    KEY = re.compile(r"^\s*([A-Za-z0-9_\-\"'. ]+?)\s*=")

    def __init__(self, text: str) -> None:
        self.lines: dict[tuple[str | int, ...], int] = {}
        table: tuple[str | int, ...] = ()
        counts: dict[tuple[str, ...], int] = {}
        closing: str | None = None
        for number, line in enumerate(text.splitlines(), 1):
            if closing is not None:  # inside a multi-line string
                if closing in line:
                    closing = None
                continue
            header = self.HEADER.match(line)
            if header:
                path = _key_path(header.group(2))
                if header.group(1) == "[[":
                    counts[path] = counts.get(path, -1) + 1
                    table = (*path, counts[path])
                else:
                    table = path
                self.lines.setdefault(table, number)
                continue
            key = self.KEY.match(line)
            if key:
                self.lines.setdefault((*table, *_key_path(key.group(1))), number)
                rest = line[key.end() :]
                for quote in ('"""', "'''"):
                    if rest.count(quote) == 1:
                        closing = quote

    def line_of(self, loc: tuple[str | int, ...]) -> int | None:
        """The line of ``loc``, else of its nearest enclosing table (None: not found)."""
        for end in range(len(loc), 0, -1):
            if loc[:end] in self.lines:
                return self.lines[loc[:end]]
        return None


def _key_path(key: str) -> tuple[str, ...]:
    """``a."b c".d`` -> ``("a", "b c", "d")``."""
    return tuple(part.strip().strip("\"'") for part in key.split("."))


# --- mapping ----------------------------------------------------------------------------


def to_snapshot(
    form: Attestation, ref: PageRef, settings: FacebookSettings, now: datetime
) -> PageSnapshot:
    """The snapshot an attestation supports, and nothing more."""
    if form.group.id != ref.external_id:
        raise _Problem(
            ("group", "id"),
            f"is not this page's external_id {ref.external_id!r} (a copy of another "
            "group's attestation?)",
        )
    attested = form.attestation
    if attested.date > (now + timedelta(days=1)).date():  # a day's grace for time zones
        raise _Problem(("attestation", "date"), "is in the future")
    attested_at = datetime.combine(attested.date, time(), UTC)
    notes = PageNotes(unavailable={"invite_links": NO_INVITE_LINKS})
    warnings = notes.warnings
    page_settings = map_settings(form.settings, warnings)
    members = map_members(form.members)
    _check_attestor(form, members, warnings)
    _check_member_count(form, members, notes)
    when = f"{attested.date.isoformat()} by {attested.name} <{attested.email}>"
    posts = map_posts(form, members, settings.lookback_days, notes)
    if posts is None:
        notes.unavailable["posts"] = NO_POSTS.format(when=when)
    age = (now.date() - attested.date).days
    if age > settings.max_age_days:
        warnings.append(
            f"The attestation is {age} days old (max_age_days is {settings.max_age_days}): "
            "ask the group's admin for a new one; its settings and members may have changed."
        )
    return PageSnapshot(
        platform=PLATFORM,
        external_id=ref.external_id,
        name=form.group.name,
        url=form.group.url or GROUP_URL + ref.external_id,
        description=form.group.about.strip() or None,
        kind="group",
        fetched_at=now,
        settings=page_settings,
        members=list(members.values()),
        posts=posts,
        moderation=Moderation(last_moderator_action_at=attested_at),
        unavailable=notes.unavailable,
        coverage=notes.coverage,
        limits=notes.limits,
        source=f"attestation by {attested.name} <{attested.email}> on {attested.date.isoformat()}",
        source_as_of=attested_at,
        source_renew_days=settings.max_age_days,
        warnings=warnings,
    )


def map_settings(form: SettingsForm, warnings: list[str]) -> PageSettings:
    """Facebook's privacy, membership and discussion settings as snapshot settings."""
    approvers = form.who_can_approve_member_requests
    if form.privacy == "Public":
        if form.hide_group == "Hidden":
            raise _Problem(("settings", "hide_group"), 'a "Public" group is always "Visible"')
        visibility, join = "public", "open"
    else:
        if approvers is None:
            raise _Problem(
                ("settings", "who_can_approve_member_requests"),
                f'required for a "Private" group: write "{ADMINS_ONLY}" or "{ANYONE}"',
            )
        hidden = form.hide_group == "Hidden"
        visibility = "secret" if hidden else "closed"
        join = "invite" if hidden and approvers == ADMINS_ONLY else "request"
        if approvers == ANYONE:
            warnings.append(
                f'Who can approve member requests is "{ANYONE}": any member can let people '
                "in without the employee, so joining is not by the employee's invitation."
            )
    if form.who_can_post != ANYONE:
        moderation = "moderators-only"
    else:
        moderation = "all" if form.post_approval else "none"
    return PageSettings(
        visibility=visibility,
        join_policy=join,
        post_moderation=moderation,
        invite_links=None,
        external_members_allowed=True,
    )


def member_id(form: MemberForm) -> str:
    """A member's id: their email when known, else their name as shown on Facebook."""
    return form.email or f"name:{' '.join(form.name.split())}"


def map_members(forms: list[MemberForm]) -> dict[str, Member]:
    """``[[members]]`` by id; the same person twice is an error naming both entries."""
    members: dict[str, Member] = {}
    first: dict[str, int] = {}
    for i, form in enumerate(forms):
        mid = member_id(form)
        if mid in members:
            raise _Problem(
                ("members", i),
                f"the same person as members[{first[mid]}] (same "
                f"{'email' if form.email else 'name; add their email'})",
            )
        first[mid] = i
        since = datetime.combine(form.since, time(), UTC) if form.since else None
        members[mid] = Member(
            id=mid,
            name=form.name.strip(),
            email=form.email,
            role=ROLES[form.role],
            state=STATES[form.status],
            joined_at=since,
        )
    return members


def _check_attestor(form: Attestation, members: dict[str, Member], warnings: list[str]) -> None:
    """Warn when whoever attested is not listed as an admin or moderator of the group."""
    email = form.attestation.email
    if not any(
        m.email == email and m.role in ("owner", "moderator") and m.state == "active"
        for m in members.values()
    ):
        warnings.append(
            "The attestation is by someone not listed in [[members]] as an Admin or Moderator "
            "of the group (attestation.email): its settings could not be checked by an admin."
        )


def _check_member_count(form: Attestation, members: dict[str, Member], notes: PageNotes) -> None:
    """When the listed members do not add up to the count Facebook shows: fewer listed is
    a limit of ``members`` (the member rules see only those), more listed a warning."""
    count = form.group.member_count
    joined = sum(m.state == "active" for m in members.values())
    if count is not None and count > joined:
        note_limit(
            notes.limits,
            "members",
            f"the group shows {count} members but [[members]] lists {joined} who joined",
        )
    elif count is not None and count < joined:
        notes.warnings.append(
            f"The group shows {count} members but [[members]] lists {joined} who joined: "
            "check the attestation's member list."
        )


def map_posts(
    form: Attestation, members: dict[str, Member], lookback_days: int, notes: PageNotes
) -> list[Post] | None:
    """``[[posts]]`` within the look-back window, which is their ``coverage`` (None when
    no post was attested)."""
    if not form.posts:
        return None
    attested = form.attestation.date
    cutoff = datetime.combine(attested - timedelta(days=lookback_days), time(), UTC)
    by_key: dict[str, list[str]] = {}
    for m in members.values():
        for key in {m.email or "", _fold(m.name or "")} - {""}:
            by_key.setdefault(key, []).append(m.id)
    posts: list[Post] = []
    old = 0
    for i, post in enumerate(form.posts):
        created = post.date
        if created.date() > attested:
            raise _Problem(("posts", i, "date"), "is after the attestation date")
        if created < cutoff:
            old += 1
            continue
        found = by_key.get(_fold(post.author), [])
        if len(set(found)) > 1:
            raise _Problem(
                ("posts", i, "author"), "more than one member has that name: write their email"
            )
        if not found:
            notes.warnings.append(
                f"posts[{i}]: the author is not in [[members]]; the post counts as by an "
                "unknown author."
            )
        posts.append(
            Post(
                id=f"post-{i + 1}",
                author_id=found[0] if found else None,
                created_at=created,
                text=post.text.strip(),
            )
        )
    window = f"posts of the {lookback_days} days before the attestation of {attested.isoformat()}"
    left_out = f" ({old} older attested post(s) left out)" if old else ""
    notes.coverage["posts"] = window + left_out
    return posts


def _fold(name: str) -> str:
    """A name compared ignoring case and spacing."""
    return " ".join(name.split()).casefold()


# --- the template -----------------------------------------------------------------------


class PageLike(Protocol):
    """The fields of a registered page (``PageConfig``) that pre-fill a template."""

    id: str
    name: str
    owner: str
    supervisor: str
    external_id: str


def attestation_template(page: PageLike) -> str:
    """The attestation template pre-filled for ``page``: the group's id and name, the
    owner as the one attesting, and the owner and supervisor as members; the admin fills
    in every ``""`` left blank."""
    text = resources.files(__package__).joinpath(TEMPLATE).read_text(encoding="utf-8")
    values = {
        "page_id": page.id,
        "external_id": page.external_id,
        "name": page.name,
        "owner": page.owner,
        "supervisor": page.supervisor,
    }
    for key, value in values.items():
        text = text.replace(f'"{{{{{key}}}}}"', _toml_string(value))
        text = text.replace(f"{{{{{key}}}}}", " ".join(str(value).split()))
    return _block(text, "supervisor", keep=page.owner.lower() != page.supervisor.lower())


def _toml_string(value: str) -> str:
    """``value`` as a TOML basic string (JSON's escapes are valid TOML)."""
    return json.dumps(value, ensure_ascii=False)


def _block(text: str, marker: str, keep: bool) -> str:
    """The template with the lines between ``# >>> marker`` and ``# <<< marker`` kept or
    dropped (the marker lines always go)."""
    out: list[str] = []
    inside = False
    for line in text.splitlines(keepends=True):
        if line.strip() in (f"# >>> {marker}", f"# <<< {marker}"):
            inside = line.strip().startswith("# >>>")
            continue
        if keep or not inside:
            out.append(line)
    return "".join(out)
