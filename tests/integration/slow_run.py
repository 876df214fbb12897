"""Runs the ``auditor`` CLI with an extra ``slow`` connector, for kill and lock tests.

The ``slow`` connector reads snapshots like ``file`` but waits ``delay_s`` per page, so a
test can stop the process while a run is in flight. Usage: ``python slow_run.py ARGS``.
"""

from __future__ import annotations

import asyncio
import sys
from importlib.metadata import EntryPoint, entry_points

import auditor.connectors.registry
import auditor.loading
import auditor.runner
from auditor.connectors.base import PageRef
from auditor.connectors.file import FileConnector, FileSettings
from auditor.connectors.registry import ENTRY_POINT_GROUP, InstalledConnectors
from auditor.snapshot import PageSnapshot


class SlowSettings(FileSettings):
    """File settings plus a delay."""

    delay_s: float = 1.0


class SlowConnector(FileConnector):
    """A file connector that takes ``delay_s`` seconds per page."""

    type = "slow"
    Settings = SlowSettings
    settings: SlowSettings

    async def fetch_page(self, ref: PageRef) -> PageSnapshot:
        await asyncio.sleep(self.settings.delay_s)
        return await super().fetch_page(ref)


def _with_slow() -> InstalledConnectors:
    """The installed connectors and ``slow``, registered as a plugin would be."""
    slow = EntryPoint(name="slow", value="__main__:SlowConnector", group=ENTRY_POINT_GROUP)
    return InstalledConnectors([*entry_points(group=ENTRY_POINT_GROUP), slow])


if __name__ == "__main__":
    registry = _with_slow()
    auditor.connectors.registry.available_connectors = lambda: registry  # type: ignore[assignment]
    auditor.runner.available_connectors = lambda: registry  # type: ignore[assignment]
    auditor.loading.available_connectors = lambda: registry  # type: ignore[assignment]
    from auditor.cli import main

    sys.argv = ["auditor", *sys.argv[1:]]
    main()
