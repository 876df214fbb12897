"""The ``google-groups`` connector: Google Workspace groups through the Admin SDK Directory
API (group, members with roles) and the Groups Settings API (join, view, post settings).

Authentication: a service-account key; google-auth signs the JWT assertion (with ``sub``
= a delegated admin when domain-wide delegation is used) and the shared HTTP client
exchanges it for an access token at ``token_url``. Google has no API for group posts,
join requests or moderator activity, so those stay ``null`` with the reason in
``unavailable`` and the content rules say ``not-applicable``.

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
=============================  ==========================================================
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from google.auth import crypt, jwt
from pydantic import Field, field_validator

from auditor.config import Email, EnvName
from auditor.connectors.base import ConnectorError, DiscoveredGroup, PageRef, load_remediation
from auditor.connectors.cloud import (
    CloudConnector,
    CloudConnectorSettings,
    PlatformModel,
    map_enum,
    read_secret,
)
from auditor.connectors.http import HttpStatusError, OAuth2, check_api_url
from auditor.logs import register_secret
from auditor.snapshot import Member, MemberRole, PageSnapshot, Settings

PLATFORM = "google-groups"
SCOPES = (
    "https://www.googleapis.com/auth/admin.directory.group.readonly",
    "https://www.googleapis.com/auth/apps.groups.settings",
)
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
PAGE_SIZE = 200
NO_POSTS = (
    "Google Groups: no Google API reads a group's posts (the Directory and Groups "
    "Settings APIs cover settings and members only)."
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
SIGNED_IN_STATUSES = {"ACTIVE", "UNKNOWN"}
"""Member statuses of accounts that can use the group (UNKNOWN: an account outside Workspace)."""
LOCKED_OUT_STATUSES = {"SUSPENDED", "ARCHIVED"}
"""Member statuses of Workspace accounts that cannot sign in, so cannot open the group."""
MAX_NESTING = 5
"""How deep nested groups are expanded (Google refuses cycles; this bounds the calls)."""


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

    @field_validator("settings_url")
    @classmethod
    def _settings_https(cls, value: str) -> str:
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


class ServiceAccountKey:
    """A service-account key file, loaded once; signs JWT assertions with google-auth."""

    def __init__(self, env_name: str) -> None:
        path_text = read_secret(PLATFORM, "credentials_file_env", env_name)
        path = Path(path_text).expanduser()
        where = f"{PLATFORM}: service-account key file named by {env_name}"
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
        return jwt.encode(self._signer, payload).decode("ascii")


class GoogleGroupsConnector(CloudConnector):
    """Google Workspace groups: Directory API + Groups Settings API."""

    type = PLATFORM
    platform = PLATFORM
    remediation = load_remediation(__package__, "remediation/google-groups.toml")
    summary = "Google Workspace groups (Admin SDK Directory + Groups Settings APIs)"
    Settings = GoogleGroupsSettings
    settings: GoogleGroupsSettings

    def oauth(self) -> OAuth2:
        """JWT-bearer grant: a fresh assertion signed with the service-account key."""
        key = ServiceAccountKey(self.settings.credentials_file_env)
        token_url = self.settings.token_url
        subject = self.settings.delegated_admin

        def form() -> Mapping[str, str]:
            return {"grant_type": JWT_GRANT, "assertion": key.assertion(token_url, subject, SCOPES)}

        return OAuth2(token_url, form)

    def extra_origins(self) -> tuple[str, ...]:
        return (self.settings.settings_url,)

    async def fetch_page(self, ref: PageRef) -> PageSnapshot:
        key = quote(ref.external_id, safe="@")
        group = self.parse(DirectoryGroup, await self.http.get_json(f"groups/{key}"), "group")
        raw = await self.http.get_json(
            f"{self.settings.settings_url}/{quote(group.email, safe='@')}", {"alt": "json"}
        )
        prefs = self.parse(GroupSettingsResource, raw, "group settings")
        warnings: list[str] = []
        members = await self._members(group.email, warnings)
        settings = map_settings(prefs, warnings)
        unavailable = {"posts": NO_POSTS, "moderation": NO_MODERATION}
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
            posts=None,
            moderation=None,
            unavailable=unavailable,
            warnings=warnings,
        )

    async def _directory_members(self, email: str) -> list[DirectoryMember]:
        """Every direct member of the group ``email``, all pages."""
        path = f"groups/{quote(email, safe='@')}/members"
        found: list[DirectoryMember] = []
        async for raw in self.http.pages_token(path, {"maxResults": PAGE_SIZE}):
            found.extend(self.parse(MembersPage, raw, "group members").members)
        return found

    async def _members(self, email: str, warnings: list[str]) -> list[Member]:
        """The group's members, with the members of nested groups expanded (breadth first).

        People reach a group through a nested group, so they are listed (role ``member``;
        a direct membership wins). A nested group that cannot be listed stays one member.
        """
        found: dict[str, Member] = {}
        pending: list[tuple[str, int, str]] = [(email, 0, email)]
        seen = {email.lower()}
        while pending:
            group, depth, group_id = pending.pop(0)
            try:
                listing = await self._directory_members(group)
            except HttpStatusError as exc:
                if depth == 0 or exc.status not in (403, 404):
                    raise
                warnings.append(
                    f"{group} is a nested group whose members could not be listed (HTTP "
                    f"{exc.status}); it is shown as one member"
                )
                found.setdefault(group_id, Member(id=group_id, email=group))
                continue
            for m in listing:
                if m.type == "GROUP" and m.email and depth < MAX_NESTING:
                    if m.email.lower() not in seen:
                        seen.add(m.email.lower())
                        pending.append((m.email, depth + 1, m.id or m.email))
                        warnings.append(nested_group_warning(m, group))
                    continue
                member = map_member(m, warnings, nested=depth > 0)
                if member is not None:
                    found.setdefault(member.id, member)
        return list(found.values())

    async def discover(self) -> AsyncIterator[DiscoveredGroup]:
        params: dict[str, str | int] = {"maxResults": PAGE_SIZE}
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


def map_member(m: DirectoryMember, warnings: list[str], nested: bool = False) -> Member | None:
    """One Directory member, or None when it cannot use the group (suspended, archived).

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
        warnings.append(f"member {who} is a group nested too deep: its members are not listed")
    elif m.type == "CUSTOMER":
        warnings.append("every user of the Workspace domain is a member of this group")
    elif m.type not in (None, "USER"):
        map_enum(f"member {who} type", m.type, {}, warnings)
    return Member(id=ident, email=m.email, role="member" if nested else role, state="active")


def nested_group_warning(m: DirectoryMember, parent: str) -> str:
    """Says that a nested group's members were listed, and flags a nested group that manages."""
    text = f"{m.email} is a nested group in {parent}: its members are listed, as members"
    if m.role in ("OWNER", "MANAGER"):
        text += f" (the group itself has the role {m.role}: check who manages through it)"
    return text


def group_url(email: str) -> str | None:
    """The group's web address in Google Groups for Workspace."""
    local, _, domain = email.partition("@")
    return f"https://groups.google.com/a/{domain}/g/{local}" if domain else None
