"""The page snapshot (``page-snapshot/1``): what every connector returns, normalized.

This is a contract (its JSON Schema: docs/snapshot.schema.json): connectors fill it, the
``file`` connector reads it from disk, and rules read nothing else. ``None`` always means
"the platform did not tell us", never a guessed default; ``unavailable`` says why, so
rules can explain a ``not-applicable`` result.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveInt,
    model_validator,
)

SNAPSHOT_FORMAT = "page-snapshot/1"

Visibility = Literal["public", "closed", "secret"]
JoinPolicy = Literal["open", "request", "invite"]
PostModeration = Literal["none", "new-members", "all", "moderators-only"]
PageKind = Literal["group", "profile", "page"]
MemberRole = Literal["owner", "manager", "moderator", "member"]
MemberState = Literal["active", "invited", "requested", "banned"]

ADMIN_ROLES: frozenset[str] = frozenset({"owner", "manager", "moderator"})


MAX_NAME = 500  # page and group names, as the database stores them
MAX_PLATFORM = 100
CUT = "…"


# Control characters (but tab and line breaks) and Unicode noncharacters: no text has
# them, and HTML, XML and terminals cannot show them.
_UNSHOWABLE = re.compile(
    "[\x01-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ufdd0-\ufdef"
    + "".join(
        f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
    )
    + "]"
)


def clean_text(value: str) -> str:
    """A platform's string made safe to store and show: lone surrogates (valid in JSON,
    not in UTF-8) and unshowable characters become U+FFFD, NULs are dropped; all else
    (letters of every script, emoji, bidi marks) is kept."""
    if "\0" in value:
        value = value.replace("\0", "")
    if not value.isascii():
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # pairs written as two escapes are joined, lone ones replaced
            value = value.encode("utf-16", "surrogatepass").decode("utf-16", "replace")
    if value.isprintable() or _without_breaks(value).isprintable():
        return value  # (every unshowable character is unprintable: no regex needed)
    return _UNSHOWABLE.sub("\ufffd", value)


def _without_breaks(value: str) -> str:
    """``value`` without tabs and line breaks (which are showable, but not printable)."""
    return value.replace("\n", "").replace("\t", "").replace("\r", "")


def _clean(value: Any, depth: int = 1) -> Any:
    """``value`` with its strings cleaned, inside one list or dict (nested models clean
    their own fields when they are validated)."""
    if isinstance(value, str):
        return clean_text(value)
    if depth and isinstance(value, list):
        return [_clean(item, 0) for item in value]
    if depth and isinstance(value, dict):
        return {key: _clean(item, 0) for key, item in value.items()}
    return value


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    @model_validator(mode="before")
    @classmethod
    def _clean_strings(cls, data: Any) -> Any:
        """Every string from a platform is valid Unicode without NULs (see clean_text)."""
        if isinstance(data, dict):
            return {key: _clean(value) for key, value in data.items()}
        return data


class InviteLink(_Model):
    """An active shareable join link; ``max_uses`` of ``None`` or 0 means unlimited."""

    url: str
    created_by: str | None = None
    expires_at: AwareDatetime | None = None
    max_uses: NonNegativeInt | None = None
    uses: NonNegativeInt | None = None


class Settings(_Model):
    """Group settings that the structural rules check."""

    visibility: Visibility | None = None
    join_policy: JoinPolicy | None = None
    post_moderation: PostModeration | None = None
    invite_links: list[InviteLink] | None = None
    external_members_allowed: bool | None = None


class Member(_Model):
    """One member, invitation, join request or ban on the page."""

    id: str
    name: str | None = None
    email: str | None = None
    role: MemberRole = "member"
    state: MemberState = "active"
    joined_at: AwareDatetime | None = None
    invited_by: str | None = None
    last_active_at: AwareDatetime | None = None


class Post(_Model):
    """A post or a comment (``parent_id`` set) on the page."""

    id: str
    author_id: str | None = None
    created_at: AwareDatetime | None = None
    text: str = ""
    links: list[str] = Field(default_factory=list)
    pinned: bool = False
    parent_id: str | None = None
    url: str | None = None  # the post on its platform, where the platform gives a link


class Moderation(_Model):
    """What the platform says about moderator activity."""

    last_moderator_action_at: AwareDatetime | None = None
    pending_reports: NonNegativeInt | None = None


class PageSnapshot(_Model):
    """Everything a connector learned about one page at one moment."""

    format: Literal["page-snapshot/1"] = SNAPSHOT_FORMAT
    platform: str
    external_id: str
    name: str | None = None
    url: str | None = None
    description: str | None = None
    kind: PageKind | None = None
    created_at: AwareDatetime | None = None
    fetched_at: AwareDatetime | None = None
    links: list[str] = Field(default_factory=list)
    settings: Settings = Field(default_factory=Settings)
    members: list[Member] | None = None
    posts: list[Post] | None = None
    moderation: Moderation | None = None
    unavailable: dict[str, str] = Field(
        default_factory=dict,
        description="Why a field is null, by field name (e.g. 'posts': 'API has no posts').",
    )
    coverage: dict[str, str] = Field(
        default_factory=dict,
        description="What part of a field was read by design, by field name (e.g. 'posts': "
        "'posts of the last 30 days'); results that pass say so.",
    )
    limits: dict[str, str] = Field(
        default_factory=dict,
        description="Where a field was cut short, by field name (e.g. 'posts': 'only the "
        "newest 100 messages of channel General were read'); a rule that reads that field "
        "cannot pass: it warns, naming the limit.",
    )
    source: str | None = Field(
        default=None,
        description="Where the data came from when it was not the platform's API "
        "(e.g. 'admin attestation of 2026-09-01').",
    )
    source_as_of: AwareDatetime | None = Field(
        default=None,
        description="When the data from ``source`` was true (e.g. the attestation's date).",
    )
    source_renew_days: PositiveInt | None = Field(
        default=None,
        description="How many days data from ``source`` stays good before it must be renewed.",
    )
    warnings: list[str] = Field(
        default_factory=list,
        description="Things the connector could not map, e.g. unknown setting values.",
    )

    @model_validator(mode="before")
    @classmethod
    def _fit(cls, data: Any) -> Any:
        """Names longer than the database stores are cut, the cut marked and warned of."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        warnings = list(data.get("warnings") or [])
        for field, limit in (("name", MAX_NAME), ("platform", MAX_PLATFORM)):
            value = data.get(field)
            if isinstance(value, str) and len(value) > limit:
                data[field] = value[: limit - 1] + CUT
                warnings.append(f"The {field} was {len(value)} characters; cut to {limit}.")
        if warnings:
            data["warnings"] = warnings
        return data

    def why_missing(self, field: str, default: str) -> str:
        """The connector's reason that ``field`` is unknown, or ``default``."""
        return self.unavailable.get(field, default)
