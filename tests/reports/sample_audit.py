"""The sample district audited into a temporary SQLite database, with its report: what
the report tests' ``sample`` fixture holds. A module of its own (not the conftest), so that
test modules import it by a name no other folder's module has."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from auditor.config import Config
from auditor.db.engine import make_engine, upgrade
from auditor.loading import load_config
from auditor.reports.run_report import write_report
from auditor.reports.view import RunView, load_run
from auditor.runner import Runner
from auditor.sample import SAMPLE_AS_OF, SAMPLE_CONFIG


@dataclass
class SampleRun:
    """The sample district after one audit: config, engine, loaded view, report folder."""

    config: Config
    engine: Engine
    run_id: int
    out: Path

    def view(self) -> RunView:
        return load_run(self.engine, self.run_id)


def audit_sample(tmp: Path, base_url: str | None = None) -> SampleRun:
    """Audit the bundled sample district as of SAMPLE_AS_OF and write its report."""
    config = load_config(SAMPLE_CONFIG)
    config.database.url = f"sqlite:///{tmp / 'sample.db'}"
    config.reports.base_url = base_url
    engine = make_engine(config.database.url)
    upgrade(engine)
    audit = Runner(config, engine, now=SAMPLE_AS_OF).run(config.pages)
    # In a thread of its own: the browser fixture's Playwright keeps an event loop running
    # in this one for the module, and asyncio.run refuses to start beside it.
    with ThreadPoolExecutor(max_workers=1) as worker:
        summary = worker.submit(asyncio.run, audit).result()
    out = tmp / "report"
    write_report(load_run(engine, summary.run_id), out, config)
    return SampleRun(config, engine, summary.run_id, out)
