"""The audit job that the command line and the scheduler both run: audit the pages and
store the results, then write the run's report and send its urgent alerts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import Engine

from auditor.config import Config, PageConfig
from auditor.db import judged, store, sync
from auditor.email.alerts import alert_after_run
from auditor.errors import AuditorError
from auditor.reports.outline import RunOutline, open_run
from auditor.reports.run_report import write_report
from auditor.runner import ProgressFn, Runner, RunSummary

log = logging.getLogger(__name__)


@dataclass
class AuditJob:
    """What one audit left: the run's summary, and its report (or why there is none)."""

    summary: RunSummary
    report: Path | None
    report_error: str | None = None


async def audit_report_alert(
    config: Config,
    engine: Engine,
    pages: Sequence[PageConfig],
    output: Path,
    trigger: str,
    now: datetime | None = None,
    on_page: ProgressFn | None = None,
    full: bool = False,
) -> AuditJob:
    """Audit ``pages`` under the run lock (``full``: fetching every page in full), then
    report and alert (off the event loop). A report that cannot be written is logged and
    said in the result; alerts still go."""
    runner = Runner(config, engine, now=now, full=full)
    summary = await runner.run(pages, trigger=trigger, on_page=on_page)
    return await asyncio.to_thread(_report_and_alert, config, engine, summary, output)


def _report_and_alert(
    config: Config, engine: Engine, summary: RunSummary, output: Path
) -> AuditJob:
    """Read the run's outline once (a line per page; the pages read in full a batch at a
    time, their evidence a few pages at a time, as each output needs them), write its report
    from it, then send its urgent alerts from the same outline (best effort: never
    raises)."""
    job = AuditJob(summary, None)
    view: RunOutline | None = None
    try:
        view = open_run(engine, summary.run_id)
        job.report = write_report(view, output, config)
        log.info("run %s: report written to %s", summary.run_id, job.report)
    except AuditorError as exc:  # a folder or file the user can fix: said in one line
        log.error("run %s: the report could not be written: %s", summary.run_id, exc)
        job.report_error = f"{type(exc).__name__}: {exc}"
    except Exception as exc:
        log.exception("run %s: the report could not be written", summary.run_id)
        job.report_error = f"{type(exc).__name__}: {exc}"
    alert_after_run(engine, config, summary.run_id, view=view)
    return job


def purge_old_runs(
    config: Config, engine: Engine, now: datetime | None = None, dry_run: bool = False
) -> tuple[int, int]:
    """Apply ``[retention] keep_runs_days``: ``(runs, results)`` whose evidence was (or, with
    ``dry_run``, would be) removed."""
    before = (now or datetime.now(UTC)) - timedelta(days=config.retention.keep_runs_days)
    runs, results = store.purge(engine, before, dry_run=dry_run)
    if not dry_run:  # the judged-post cache: verdicts on texts not seen within the window
        judged.purge_unseen(engine, before)
    if runs and not dry_run:
        log.info("retention: evidence of %d run(s) (%d results) removed", runs, results)
    dropped = sync.drop_unregistered(engine, (p.id for p in config.pages), dry_run=dry_run)
    if dropped and not dry_run:
        log.info("retention: sync state of %d page(s) no longer registered removed", dropped)
    return runs, results
