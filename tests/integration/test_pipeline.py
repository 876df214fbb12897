"""The one audit job that the command line and the scheduler run: discovery uses the run's
own connectors and lists beside the pages, and page writes leave the event loop free."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

import auditor.loading
import auditor.runner
from auditor.connectors.base import DiscoveredGroup
from auditor.connectors.file import FileConnector
from auditor.connectors.registry import available_connectors
from auditor.db import store
from auditor.db.engine import make_engine
from auditor.jobs import audit_report_alert
from auditor.loading import load_config
from auditor.reports.view import load_run


class CountingConnector(FileConnector):
    """A file connector that counts how often it is opened and lists one extra group."""

    type = "counting"
    opened: int = 0

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        type(self).opened += 1

    async def discover(self) -> AsyncIterator[DiscoveredGroup]:
        yield DiscoveredGroup(external_id="unregistered-club", name="Unregistered club")


@pytest.fixture
def counting(monkeypatch: pytest.MonkeyPatch) -> type[CountingConnector]:
    registry = {**available_connectors(), "counting": CountingConnector}
    monkeypatch.setattr(auditor.runner, "available_connectors", lambda: registry)
    monkeypatch.setattr(auditor.loading, "available_connectors", lambda: registry)
    monkeypatch.setattr(CountingConnector, "opened", 0)
    return CountingConnector


def test_discovery_reuses_the_run_connectors(
    make_config, counting: type[CountingConnector], tmp_path: Path
) -> None:
    path = make_config({"chess": {}, "robotics": {}})
    path.write_text(path.read_text().replace('type = "file"', 'type = "counting"'))
    config = load_config(path)
    engine = make_engine(config.database.url)
    job = asyncio.run(audit_report_alert(config, engine, config.pages, tmp_path / "out", "cli"))
    assert counting.opened == 1  # one instance served both pages and discovery
    assert [g.external_id for g in load_run(engine, job.summary.run_id).discovered] == [
        "unregistered-club"
    ]
    assert job.report is not None and job.report.is_file()


class ListingFirst(FileConnector):
    """A file connector whose pages wait until its discovery has begun listing."""

    type = "listing-first"
    listing: asyncio.Event

    async def discover(self) -> AsyncIterator[DiscoveredGroup]:
        type(self).listing.set()
        yield DiscoveredGroup(external_id="unregistered-club", name="Unregistered club")

    async def fetch_page(self, ref: Any) -> Any:
        await type(self).listing.wait()
        return await super().fetch_page(ref)


def test_discovery_lists_beside_the_pages_and_is_stored_after_them(
    make_config, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    registry = {**available_connectors(), "listing-first": ListingFirst}
    monkeypatch.setattr(auditor.runner, "available_connectors", lambda: registry)
    monkeypatch.setattr(auditor.loading, "available_connectors", lambda: registry)
    path = make_config({"chess": {}, "robotics": {}})
    path.write_text(path.read_text().replace('type = "file"', 'type = "listing-first"'))
    config = load_config(path)
    engine = make_engine(config.database.url)

    async def audit() -> Any:
        ListingFirst.listing = asyncio.Event()
        job = audit_report_alert(config, engine, config.pages, tmp_path / "out", "cli")
        return await asyncio.wait_for(job, timeout=30)  # listed after the pages: never ends

    job = asyncio.run(audit())
    assert job.summary.pages == 2 and job.summary.errors == []
    assert [g.external_id for g in load_run(engine, job.summary.run_id).discovered] == [
        "unregistered-club"
    ]


def test_page_writes_run_off_the_event_loop(
    make_config, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    config = load_config(make_config({"chess": {}, "robotics": {}}))
    engine = make_engine(config.database.url)
    threads: list[str] = []
    stored: list[str] = []
    record = store.record_pages

    def spy(engine, run_id, records, *args: object, **kwargs: object) -> None:
        threads.append(threading.current_thread().name)
        stored.extend(r.page_id for r in records)
        record(engine, run_id, records, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "record_pages", spy)
    asyncio.run(audit_report_alert(config, engine, config.pages, tmp_path / "out", "cli"))
    assert sorted(stored) == ["chess", "robotics"]
    assert threading.main_thread().name not in threads
