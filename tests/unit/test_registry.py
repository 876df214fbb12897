"""The connector registry: entry points named by their connector's type, each connector
imported only when a run asks for it, broken plugins logged and left out."""

from __future__ import annotations

import logging
import subprocess
import sys
from importlib.metadata import EntryPoint

import pytest

from auditor.connectors.file import FileConnector
from auditor.connectors.microsoft365 import Microsoft365Connector
from auditor.connectors.registry import (
    ENTRY_POINT_GROUP,
    InstalledConnectors,
    available_connectors,
    platform_remediation,
)


def point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def test_a_run_imports_only_the_connector_it_asks_for() -> None:
    code = (
        "import sys\n"
        "from auditor.connectors.registry import available_connectors\n"
        "cls = available_connectors()['microsoft365']\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('auditor.connectors.'))\n"
        "print(cls.__name__, *loaded)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()
    assert out[0] == "Microsoft365Connector"
    assert "auditor.connectors.microsoft365" in out
    assert not {"auditor.connectors.google_groups", "auditor.connectors.discord"} & set(out)


def test_listing_gives_every_installed_connector_by_type() -> None:
    installed = available_connectors()
    assert installed["microsoft365"] is Microsoft365Connector
    assert "google-groups" in installed
    assert list(installed) == sorted(installed)
    assert all(installed[kind].type == kind for kind in installed)


def test_broken_and_misnamed_plugins_are_logged_and_left_out(
    caplog: pytest.LogCaptureFixture,
) -> None:
    installed = InstalledConnectors(
        [
            point("file", "auditor.connectors.file:FileConnector"),
            point("missing", "no_such_module_for_page_auditor:Connector"),
            point("not-a-connector", "auditor.connectors.registry:platform_remediation"),
            point("clubhouse", "auditor.connectors.file:FileConnector"),  # its type is "file"
        ]
    )
    with caplog.at_level(logging.WARNING, logger="auditor.connectors.registry"):
        assert list(installed) == ["file"]
        assert installed["file"] is FileConnector
        assert "clubhouse" not in installed
        with pytest.raises(KeyError):
            installed["missing"]
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 3  # each once, however often asked
    assert any("'missing' could not be loaded" in w for w in warnings)
    assert any("'not-a-connector' is not a Connector subclass" in w for w in warnings)
    assert any("'clubhouse' declares type 'file'" in w for w in warnings)


def test_remediation_of_the_platforms_a_run_reads() -> None:
    graph_only = platform_remediation(["microsoft365"])
    assert set(graph_only) == {"microsoft365"}
    everything = platform_remediation()
    assert {"microsoft365", "google-groups", "facebook"} <= set(everything)
    # a file connector's snapshots may come from any platform
    assert platform_remediation(["file"]) == everything
    assert platform_remediation(["no-such-type"]) == {}
