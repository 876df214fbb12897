"""The connector registry: entry points named by their connector's type, each connector
imported only when a run asks for it, broken plugins logged and left out."""

from __future__ import annotations

import logging
import subprocess
import sys
import threading
import time
from importlib.metadata import EntryPoint
from types import MappingProxyType

import pytest

from auditor.connectors.file import FileConnector
from auditor.connectors.microsoft365 import Microsoft365Connector
from auditor.connectors.registry import (
    ENTRY_POINT_GROUP,
    InstalledConnectors,
    available_connectors,
    platform_remediation,
    shipped_steps,
)


def point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=ENTRY_POINT_GROUP)


def connector_modules_after(code: str, shown: str) -> list[str]:
    """In a new process, run ``code``, then print ``shown`` and the connector modules
    imported by then: the printed words."""
    script = (
        f"import sys\n{code}\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('auditor.connectors.'))\n"
        f"print({shown}, *loaded)\n"
    )
    return subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    ).stdout.split()


def test_a_run_imports_only_the_connector_it_asks_for() -> None:
    out = connector_modules_after(
        "from auditor.connectors.registry import available_connectors\n"
        "cls = available_connectors()['microsoft365']",
        "cls.__name__",
    )
    assert out[0] == "Microsoft365Connector"
    assert "auditor.connectors.microsoft365" in out
    assert not {"auditor.connectors.google_groups", "auditor.connectors.discord"} & set(out)


def test_listing_gives_every_installed_connector_by_type() -> None:
    installed = available_connectors()
    assert installed["microsoft365"] is Microsoft365Connector
    assert "google-groups" in installed
    assert list(installed) == sorted(installed)
    assert all(installed[kind].type == kind for kind in installed)


class Typeless(FileConnector):
    """A plugin whose class says no type."""

    type = ""  # type: ignore[assignment]


def test_broken_plugins_are_logged_once_and_left_out(caplog: pytest.LogCaptureFixture) -> None:
    installed = InstalledConnectors(
        [
            point("file", "auditor.connectors.file:FileConnector"),
            point("missing", "no_such_module_for_page_auditor:Connector"),
            point("not-a-connector", "auditor.connectors.registry:platform_remediation"),
            point("typeless", "tests.unit.test_registry:Typeless"),
        ]
    )
    with caplog.at_level(logging.WARNING, logger="auditor.connectors.registry"):
        assert list(installed) == ["file"]
        assert installed["file"] is FileConnector
        for kind in ("missing", "not-a-connector", "typeless"):
            assert kind not in installed
            with pytest.raises(KeyError):
                installed[kind]
    warnings = [r.getMessage() for r in caplog.records]
    assert len(warnings) == 3  # each once, however often asked
    assert any("'missing' could not be loaded" in w for w in warnings)
    assert any("'not-a-connector' is not a Connector subclass" in w for w in warnings)
    assert any("'typeless' has no type" in w for w in warnings)


def test_a_plugin_named_otherwise_than_its_type_is_found_by_its_type(
    caplog: pytest.LogCaptureFixture,
) -> None:
    installed = InstalledConnectors(
        [
            point("microsoft365", "auditor.connectors.microsoft365:Microsoft365Connector"),
            point("clubhouse_connector", "auditor.connectors.file:FileConnector"),
        ]
    )
    with caplog.at_level(logging.WARNING, logger="auditor.connectors.registry"):
        assert installed["file"] is FileConnector
        assert "clubhouse_connector" not in installed
    assert list(installed) == ["file", "microsoft365"]
    assert any("'clubhouse_connector' gives type 'file'" in r.getMessage() for r in caplog.records)


def test_a_broken_plugin_of_the_same_name_leaves_the_working_one() -> None:
    installed = InstalledConnectors(
        [
            point("file", "auditor.connectors.file:FileConnector"),
            point("file", "no_such_module_for_page_auditor:FileConnector"),
        ]
    )
    assert installed["file"] is FileConnector


def test_of_two_plugins_giving_one_type_the_later_wins() -> None:
    installed = InstalledConnectors(
        [
            point("file", "auditor.connectors.file:FileConnector"),
            point("file", "tests.unit.test_registry:LaterFile"),
        ]
    )
    # the entry point imports this file as a module of its own: its own LaterFile
    assert installed["file"].__qualname__ == "LaterFile"


def test_a_plugin_named_by_its_type_wins_over_one_named_otherwise() -> None:
    installed = InstalledConnectors(
        [
            point("file", "auditor.connectors.file:FileConnector"),
            point("other_file", "tests.unit.test_registry:LaterFile"),
        ]
    )
    assert installed["file"] is FileConnector
    assert list(installed) == ["file"]  # every plugin imported now: the same answer
    assert installed["file"] is FileConnector


class LaterFile(FileConnector):
    """A second plugin giving the type ``file``."""


def test_threads_asking_at_once_import_each_plugin_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    installed = InstalledConnectors([point("slow", "tests.unit.test_registry:slow_failure")])
    start = threading.Barrier(4)

    def ask() -> None:
        start.wait()
        assert "slow" not in installed

    with caplog.at_level(logging.WARNING, logger="auditor.connectors.registry"):
        threads = [threading.Thread(target=ask) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(caplog.records) == 1  # one import, one warning


def __getattr__(name: str) -> object:
    """``slow_failure``: an attribute whose import takes a while and then fails (four
    threads asking at once would each import it, unguarded)."""
    if name == "slow_failure":
        time.sleep(0.05)
    raise AttributeError(name)


def test_remediation_of_the_platforms_a_run_reads() -> None:
    graph_only = platform_remediation([Microsoft365Connector])
    assert set(graph_only) == {"microsoft365"}
    everything = platform_remediation()
    assert {"microsoft365", "google-groups", "facebook"} <= set(everything)
    # a file connector's snapshots may come from any platform
    assert platform_remediation([FileConnector]) == everything
    assert platform_remediation([]) == {}


def test_shipped_connectors_fix_steps_are_read_without_importing_them() -> None:
    out = connector_modules_after(
        "from auditor.connectors.registry import platform_remediation\n"
        "from auditor.connectors.file import FileConnector\n"
        "steps = platform_remediation([FileConnector])",
        "len(steps)",
    )
    assert int(out[0]) >= 7
    shipped = {f"auditor.connectors.{p.value.split('.')[2].split(':')[0]}" for p in SHIPPED}
    assert not shipped - {"auditor.connectors.file"} & set(out[1:])


SHIPPED = [p for p in available_connectors()._points if p.value.startswith("auditor.connectors.")]


@pytest.mark.parametrize("entry", SHIPPED, ids=lambda p: p.name)
def test_a_shipped_connector_is_named_for_its_platform_and_reads_its_steps_file(
    entry: EntryPoint,
) -> None:
    cls = entry.load()
    assert cls.type == entry.name
    assert cls.platform in (entry.name, None)
    assert shipped_steps(entry.name) == (cls.remediation if cls.platform else None)


def test_the_steps_read_from_files_are_those_the_classes_hold() -> None:
    installed = InstalledConnectors(SHIPPED)
    read = installed.steps()
    imported = {cls.platform: cls.remediation for cls in installed.values() if cls.platform}
    assert list(read.items()) == list(imported.items())  # the same, in the same order


def test_a_plugin_among_the_connectors_has_every_connector_imported_for_its_steps() -> None:
    installed = InstalledConnectors([*SHIPPED, point("graph-fork", f"{__name__}:ForkedGraph")])
    steps = installed.steps()
    assert steps["graph-fork"] == ForkedGraph.remediation
    assert steps["microsoft365"] == Microsoft365Connector.remediation
    assert list(steps) == sorted(steps)  # by type, as the shipped ones are


class ForkedGraph(Microsoft365Connector):
    """A plugin for a platform of its own, with its own steps."""

    type = "graph-fork"
    platform = "graph-fork"
    remediation = MappingProxyType({"DS2.closed": "Ask the fork's admin."})


def test_a_shipped_class_registered_by_another_distribution_is_imported_for_its_steps() -> None:
    alias = point("teams", "auditor.connectors.microsoft365:Microsoft365Connector")
    assert alias.dist is None  # not the auditor's own: its steps are the class's
    steps = InstalledConnectors([alias]).steps()
    assert steps == {"microsoft365": Microsoft365Connector.remediation}
