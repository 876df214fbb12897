"""``auditor schedule``: APScheduler driven with short intervals and real clocks: one run
per tick, missed ticks coalesced (while stalled and while down), no overlapping audits
(two schedulers on one database), and a clean stop on SIGTERM."""

from __future__ import annotations

import asyncio
import itertools
import logging
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, func, select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from auditor.config import Config
from auditor.connectors.file import FileConnector
from auditor.db.engine import make_engine, upgrade
from auditor.db.models import Delivery, Lock, Run
from auditor.loading import load_config
from auditor.scheduler import AuditScheduler, cron, last_missed, plan_catch_up

from .conftest import District, Mailbox, email_section

SLOW_RUN = Path(__file__).parents[1] / "integration" / "slow_run.py"
ROOT = Path(__file__).parents[2]


def setup(district: District) -> tuple[Config, Engine]:
    config = load_config(district.config)
    engine = make_engine(config.database.url)
    upgrade(engine)
    return config, engine


def runs(engine: Engine) -> list[Run]:
    with Session(engine) as session:
        return list(session.scalars(select(Run).order_by(Run.id)))


async def wait_for(predicate: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not reached in time"
        await asyncio.sleep(0.05)


def hourly_at(moment: datetime, config: Config) -> str:
    """A cron string firing every hour at ``moment``'s minute (district time)."""
    return f"{moment.astimezone(config.district.tz).minute} * * * *"


def add_old_run(engine: Engine, hours_ago: float) -> None:
    started = datetime.now(UTC) - timedelta(hours=hours_ago)
    with Session(engine) as session:
        session.add(
            Run(started_at=started, finished_at=started + timedelta(minutes=1), status="complete")
        )
        session.commit()


async def test_one_run_per_tick(make_district: Callable[..., District]) -> None:
    config, engine = setup(make_district())
    scheduler = AuditScheduler(config, engine, audit_trigger=IntervalTrigger(seconds=0.4))
    executed: list[JobExecutionEvent] = []
    scheduler.scheduler.add_listener(executed.append, EVENT_JOB_EXECUTED)
    serving = asyncio.create_task(scheduler.serve(handle_signals=False))

    await wait_for(lambda: len(executed) >= 3)
    scheduler.stop()
    await serving

    done = [r for r in runs(engine) if r.status == "complete"]
    assert len(done) >= 3
    assert sorted(e.retval for e in executed if e.retval) == [r.id for r in done]
    assert {r.trigger for r in done} == {"schedule"}
    assert (config.reports.output_dir / "index.html").is_file()


async def test_a_job_handed_out_as_the_scheduler_stops_does_not_start(
    make_district: Callable[..., District],
) -> None:
    """APScheduler may start a job it handed out just before a stop, after the audits in
    flight were cancelled: it must not start an audit that would outlive the scheduler."""
    config, engine = setup(make_district())
    scheduler = AuditScheduler(config, engine, audit_trigger=IntervalTrigger(hours=1))
    serving = asyncio.create_task(scheduler.serve(handle_signals=False))
    await asyncio.sleep(0.1)
    scheduler.stop()
    await serving
    assert await scheduler.audit_job() is None
    assert runs(engine) == [], "no audit started once the stop was asked"


async def test_ticks_missed_while_stalled_are_coalesced_into_one_run(
    make_district: Callable[..., District],
) -> None:
    config, engine = setup(make_district())
    scheduler = AuditScheduler(config, engine, audit_trigger=IntervalTrigger(seconds=0.2))
    runs_seen: list[int] = []

    def on_executed(event: JobExecutionEvent) -> None:
        runs_seen.append(len(runs(engine)))
        if len(runs_seen) == 1:  # block the event loop for ten ticks
            asyncio.get_running_loop().call_soon(time.sleep, 2.0)

    scheduler.scheduler.add_listener(on_executed, EVENT_JOB_EXECUTED)
    serving = asyncio.create_task(scheduler.serve(handle_signals=False))
    await wait_for(lambda: len(runs_seen) >= 2)
    scheduler.stop()
    await serving

    # without coalescing, the job would run once per missed tick before reporting back
    assert runs_seen[:2] == [1, 2]


async def test_missed_while_down_runs_once_on_start_then_sends_its_digests(
    smtp: Mailbox, make_district: Callable[..., District]
) -> None:
    now = datetime.now(UTC)
    district = make_district(email_section(smtp.port))
    config, engine = setup(district)
    add_old_run(engine, hours_ago=5)  # five hourly audit ticks and digest ticks missed
    config.schedule.audit = hourly_at(now - timedelta(minutes=5), config)
    config.schedule.digest = hourly_at(now - timedelta(minutes=2), config)
    scheduler = AuditScheduler(config, engine)
    serving = asyncio.create_task(scheduler.serve(handle_signals=False))

    await wait_for(lambda: len(smtp.messages) >= 3)
    await asyncio.sleep(0.5)
    scheduler.stop()
    await serving

    assert [(r.status, r.trigger) for r in runs(engine)] == [
        ("complete", "cli"),
        ("complete", "schedule"),
    ]
    assert sorted(m["To"] for m in smtp.messages) == [
        "ada@district.org",
        "bo@district.org",
        "it@district.org",
    ]
    with Session(engine) as session:
        digested = set(session.scalars(select(Delivery.run_id)))
    assert digested == {2}


def test_catch_up_plan(make_district: Callable[..., District]) -> None:
    config, engine = setup(make_district())
    now = datetime(2026, 11, 25, 12, 0, tzinfo=UTC)
    nightly = cron("0 2 * * *", config)  # 07:00 UTC
    morning = cron("0 6 * * *", config)  # 11:00 UTC
    grace = timedelta(hours=12)

    assert plan_catch_up(engine, nightly, morning, now, grace).audit is False  # no run yet
    assert last_missed(nightly, now - timedelta(days=3), now, grace) == datetime(
        2026, 11, 25, 7, 0, tzinfo=UTC
    )  # three missed nights: one catch-up
    assert last_missed(nightly, now - timedelta(days=3), now, timedelta(hours=2)) is None
    assert last_missed(nightly, now - timedelta(hours=1), now, grace) is None
    with Session(engine) as session:
        run = Run(
            started_at=datetime(2026, 11, 25, 7, 0, tzinfo=UTC),
            finished_at=datetime(2026, 11, 25, 7, 5, tzinfo=UTC),
            status="complete",
        )
        session.add(run)
        session.commit()
        run_id = run.id
    plan = plan_catch_up(engine, nightly, morning, now, grace)
    assert (plan.audit, plan.digest) == (False, True)  # the audit ran, its digest did not
    with Session(engine) as session:
        session.add(Delivery(run_id=run_id, kind="digest", recipient="a@b.org", status="sent"))
        session.commit()
    plan = plan_catch_up(engine, nightly, morning, now, grace)
    assert (plan.audit, plan.digest) == (False, False)


async def test_two_schedulers_on_one_database_never_overlap(
    db_url: str,
    make_district: Callable[..., District],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    fetch = FileConnector.fetch_page

    async def slow_fetch(self, ref):  # type: ignore[no-untyped-def]
        await asyncio.sleep(0.5)
        return await fetch(self, ref)

    monkeypatch.setattr(FileConnector, "fetch_page", slow_fetch)
    caplog.set_level(logging.INFO)
    config, engine = setup(make_district(db_url=db_url))
    schedulers = [
        AuditScheduler(config, make_engine(db_url), audit_trigger=IntervalTrigger(seconds=0.2))
        for _ in range(2)
    ]
    serving = [asyncio.create_task(s.serve(handle_signals=False)) for s in schedulers]

    await wait_for(lambda: sum(r.status == "complete" for r in runs(engine)) >= 3, timeout=30)
    for scheduler in schedulers:
        scheduler.stop()
    await asyncio.gather(*serving)

    done = sorted((r for r in runs(engine) if r.finished_at), key=lambda r: r.started_at)
    for before, after in itertools.pairwise(done):
        assert before.finished_at is not None and after.started_at >= before.finished_at
    assert "scheduled audit skipped: another audit is running on this database" in caplog.text
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Lock)) == 0


def _running(engine: Engine) -> bool:
    try:
        return any(r.status == "running" for r in runs(engine))
    except DBAPIError:  # the subprocess may still be creating the schema
        return False


def test_sigterm_interrupts_the_run_releases_the_lock_and_exits_0(
    make_district: Callable[..., District],
) -> None:
    now = datetime.now(UTC)
    district = make_district()
    config, engine = setup(district)
    add_old_run(engine, hours_ago=2)
    schedule = f'\n[schedule]\naudit = "{hourly_at(now - timedelta(minutes=5), config)}"\n'
    text = district.config.read_text().replace('type = "file"', 'type = "slow"\ndelay_s = 30')
    district.config.write_text(text + schedule)
    proc = subprocess.Popen(
        [sys.executable, str(SLOW_RUN), "schedule", "--config", str(district.config)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not _running(engine):
            assert proc.poll() is None, proc.communicate()[0].decode()
            assert time.monotonic() < deadline, "the catch-up audit did not start"
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
        output = proc.communicate(timeout=20)[0].decode()
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, output
    assert "scheduler stopping (SIGTERM): 1 audit(s) to interrupt" in output
    assert "run 2 finished: interrupted" in output
    assert "scheduler stopped" in output
    last = runs(engine)[-1]
    assert (last.id, last.status, last.trigger) == (2, "interrupted", "schedule")
    assert last.finished_at is not None
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Lock)) == 0
