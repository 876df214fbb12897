"""A run holds a window of pages, not the district: each connector's pages start as its
slots free (at most its slots plus ``PAGES_AHEAD`` unfinished), and their stored inputs
are read a chunk of ``INPUTS_CHUNK`` pages at a time, before the chunk's pages start."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import pytest

from auditor import runner
from auditor.connectors.base import ConnectorSettings
from auditor.db import reuse
from auditor.db.engine import make_engine
from auditor.loading import load_config
from auditor.runner import Runner


def test_pages_start_as_slots_free_with_their_inputs_read_a_chunk_at_a_time(
    make_config: Callable[..., Path], db_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = load_config(make_config({f"p{i:02d}": {} for i in range(12)}, db_url=db_url))
    monkeypatch.setattr(runner, "PAGES_AHEAD", 1)
    monkeypatch.setattr(runner, "INPUTS_CHUNK", 5)
    monkeypatch.setattr(ConnectorSettings, "pages_in_flight", property(lambda self: 2))
    chunks: list[list[str]] = []
    load = reuse.load

    def read(engine: Any, run_id: int, pages: Collection[str]) -> dict[str, reuse.Reusable]:
        chunks.append(sorted(pages))
        return load(engine, run_id, pages)

    monkeypatch.setattr(reuse, "load", read)
    alive: list[int] = []  # tasks when a page starts: the run's, the feeder, its pages
    audit_page = Runner._audit_page

    async def counted(self: Runner, *args: Any) -> Any:
        alive.append(len(asyncio.all_tasks()))
        return await audit_page(self, *args)

    monkeypatch.setattr(Runner, "_audit_page", counted)
    engine = make_engine(config.database.url)
    first = asyncio.run(Runner(config, engine).run(config.pages))
    second = asyncio.run(Runner(config, engine).run(config.pages))
    assert (first.pages, first.reused, second.pages, second.reused) == (12, 0, 12, 12)
    ids = [f"p{i:02d}" for i in range(12)]
    assert chunks == [ids[:5], ids[5:10], ids[10:]] * 2
    assert len(alive) == 24 and max(alive) <= 2 + 2 + 1  # not 2 + 12
