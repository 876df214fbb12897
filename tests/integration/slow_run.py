"""Runs the ``auditor`` CLI with an extra ``slow`` connector, for kill and lock tests.

The ``slow`` connector reads snapshots like ``file`` but waits ``delay_s`` per page, so a
test can stop the process while a run is in flight. Usage: ``python slow_run.py ARGS``.
"""

from __future__ import annotations

import asyncio
import sys

import auditor.connectors.registry
import auditor.loading
import auditor.runner
from auditor.connectors.base import PageRef
from auditor.connectors.file import FileConnector, FileSettings
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


def _with_slow() -> dict:
    return {**auditor.connectors.registry.available_connectors(), "slow": SlowConnector}


if __name__ == "__main__":
    registry = _with_slow()
    auditor.connectors.registry.available_connectors = lambda: registry  # type: ignore[assignment]
    auditor.runner.available_connectors = lambda: registry  # type: ignore[assignment]
    auditor.loading.available_connectors = lambda: registry  # type: ignore[assignment]
    from auditor.cli import main

    sys.argv = ["auditor", *sys.argv[1:]]
    main()
