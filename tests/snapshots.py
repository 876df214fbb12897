"""A page snapshot that passes every structural rule, shared by the tests' configs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any


def passing_snapshot(
    external_id: str,
    name: str,
    owner: str = "owner@district.org",
    supervisor: str = "boss@district.org",
    moderated_at: str | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Snapshot data (as JSON would hold it) that passes DS 1-2 unless ``overrides`` break one.
    The moderator was last active a day before now, so it passes on any day it runs."""
    if moderated_at is None:
        moderated_at = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    data: dict[str, Any] = {
        "format": "page-snapshot/1",
        "platform": "file",
        "external_id": external_id,
        "name": name,
        "kind": "group",
        "created_at": "2026-09-01T10:00:00+00:00",
        "settings": {
            "visibility": "secret",
            "join_policy": "invite",
            "post_moderation": "all",
            "invite_links": [],
        },
        "members": [
            {"id": "o", "email": owner, "role": "owner"},
            {"id": "s", "email": supervisor, "role": "member"},
        ],
        "posts": [],
        "moderation": {"last_moderator_action_at": moderated_at, "pending_reports": 0},
    }
    return data | overrides
