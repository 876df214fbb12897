"""When the stored inputs of one chunk of pages cannot be read, only that chunk's pages
are evaluated in full, and the warning says so for that chunk."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from pathlib import Path
from typing import Any

import pytest

from auditor import runner
from auditor.db import reuse
from auditor.db.engine import make_engine
from auditor.loading import load_config
from auditor.runner import Runner


def test_unreadable_inputs_of_one_chunk_evaluate_that_chunk_only(
    make_config: Callable[..., Path],
    db_url: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    config = load_config(make_config({f"p{i:02d}": {} for i in range(12)}, db_url=db_url))
    monkeypatch.setattr(runner, "INPUTS_CHUNK", 5)
    engine = make_engine(config.database.url)
    asyncio.run(Runner(config, engine).run(config.pages))
    load = reuse.load

    def read(engine: Any, run_id: int, pages: Collection[str]) -> dict[str, reuse.Reusable]:
        if "p05" in pages:
            raise OSError("disk gone")
        return load(engine, run_id, pages)

    monkeypatch.setattr(reuse, "load", read)
    caplog.set_level(logging.WARNING, logger="auditor.runner")
    second = asyncio.run(Runner(config, engine).run(config.pages))
    assert (second.pages, second.reused) == (12, 7)
    said = [r.getMessage() for r in caplog.records if "stored page inputs" in r.getMessage()]
    assert said == [
        "stored page inputs of 5 page(s) could not be read (disk gone): those pages are "
        "evaluated in full"
    ]
