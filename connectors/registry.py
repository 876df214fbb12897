"""Finds installed connectors through the ``page_auditor.connectors`` entry-point group."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from functools import cache
from importlib.metadata import entry_points

from auditor.connectors.base import Connector

ENTRY_POINT_GROUP = "page_auditor.connectors"
log = logging.getLogger(__name__)


@cache
def available_connectors() -> dict[str, type[Connector]]:
    """Connector classes by ``type``; a plugin that fails to load is logged and skipped."""
    found: dict[str, type[Connector]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = ep.load()
        except Exception as exc:  # a broken third-party plugin must not stop the auditor
            log.warning("connector plugin %r could not be loaded: %s", ep.name, exc)
            continue
        if not (isinstance(cls, type) and issubclass(cls, Connector)):
            log.warning("connector plugin %r is not a Connector subclass; skipped", ep.name)
            continue
        found[cls.type] = cls
    return dict(sorted(found.items()))


def platform_remediation() -> dict[str, Mapping[str, str]]:
    """Per snapshot platform, the remediation steps its installed connector declares."""
    return {
        cls.platform: cls.remediation
        for cls in available_connectors().values()
        if cls.platform is not None
    }
