"""The public API for plugin authors: everything a connector or a rule needs, in one module.

Connectors and rules outside this package import only from here; names not listed in
``__all__`` are internal and may change. The test kits need pytest and respx (the ``test``
extra), so they are imported when first used, not with this module.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from auditor.config import Email, EnvName
from auditor.connectors.base import (
    Connector,
    ConnectorError,
    ConnectorSettings,
    DiscoveredGroup,
    PageNotes,
    PageRef,
    load_remediation,
    note_limit,
)
from auditor.connectors.cloud import (
    CloudConnector,
    CloudConnectorSettings,
    PlatformModel,
    map_enum,
    parse,
    read_secret,
)
from auditor.connectors.html_text import html_text, with_urls
from auditor.connectors.http import (
    HttpClient,
    HttpStatusError,
    OAuth2,
    check_api_url,
    status_hint,
)
from auditor.results import Evidence, RuleResult, Severity, Status
from auditor.rules.base import Rule, RuleContext, member_evidence, setting
from auditor.snapshot import (
    SNAPSHOT_FORMAT,
    InviteLink,
    Member,
    MemberRole,
    MemberState,
    Moderation,
    PageSnapshot,
    Post,
    Settings,
)

if TYPE_CHECKING:
    from auditor.testkit.connectors import (
        ConnectorContract,
        FaultInjector,
        HttpConnectorContract,
    )
    from auditor.testkit.rules import RuleContract

__all__ = [
    "SNAPSHOT_FORMAT",
    "CloudConnector",
    "CloudConnectorSettings",
    "Connector",
    "ConnectorContract",
    "ConnectorError",
    "ConnectorSettings",
    "DiscoveredGroup",
    "Email",
    "EnvName",
    "Evidence",
    "FaultInjector",
    "HttpClient",
    "HttpConnectorContract",
    "HttpStatusError",
    "InviteLink",
    "Member",
    "MemberRole",
    "MemberState",
    "Moderation",
    "OAuth2",
    "PageNotes",
    "PageRef",
    "PageSnapshot",
    "PlatformModel",
    "Post",
    "Rule",
    "RuleContext",
    "RuleContract",
    "RuleResult",
    "Settings",
    "Severity",
    "Status",
    "check_api_url",
    "html_text",
    "load_remediation",
    "map_enum",
    "member_evidence",
    "note_limit",
    "parse",
    "read_secret",
    "setting",
    "status_hint",
    "with_urls",
]

_TEST_KITS = {
    "ConnectorContract": "auditor.testkit.connectors",
    "HttpConnectorContract": "auditor.testkit.connectors",
    "FaultInjector": "auditor.testkit.connectors",
    "RuleContract": "auditor.testkit.rules",
}


def __getattr__(name: str) -> Any:
    """The test kits, imported on first use (they need the ``test`` extra)."""
    module = _TEST_KITS.get(name)
    if module is None:
        raise AttributeError(f"module 'auditor.plugin' has no attribute {name!r}")
    from importlib import import_module

    return getattr(import_module(module), name)
