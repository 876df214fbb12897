"""``auditor schedule``: a long-running APScheduler (3.x) process that runs the audit and
sends the digests on the ``[schedule]`` cron strings, in the district's time zone.

* Ticks missed while the process was down are caught up once on start (the database
  knows when the last run started and whether its digests went out), never several times;
  ticks missed while it was up but stalled are coalesced by APScheduler.
* One audit at a time: within the process (``max_instances=1``) and across processes and
  hosts (the run lock in the database; a tick that finds it taken is logged and skipped).
* SIGTERM/SIGINT stop it cleanly: no new jobs start, an audit in flight is cancelled (the
  runner marks the run ``interrupted`` and releases the lock), digests in flight finish.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from auditor import crontab
from auditor.config import Config
from auditor.db.models import Delivery, Run
from auditor.errors import AuditorError, ConfigError, RunLockedError
from auditor.jobs import audit_report_alert, purge_old_runs
from auditor.rulebook import prepare_database

if TYPE_CHECKING:
    from auditor.email.deliver import DeliveryOutcome

log = logging.getLogger(__name__)

# A mail job's sender (digests, overdue lists): (engine, config, run view) -> outcomes.
Sender = Callable[..., "list[DeliveryOutcome]"]

MISFIRE_GRACE = timedelta(hours=12)
FINISHED = ("complete", "incomplete")
_TICK = timedelta(microseconds=1)


def cron(expression: str, config: Config) -> CronTrigger:
    """A cron trigger in the district's time zone."""
    return crontab.trigger(expression, config.district.tz)


def last_missed(
    trigger: BaseTrigger, since: datetime | None, now: datetime, grace: timedelta
) -> datetime | None:
    """The latest time ``trigger`` fired after ``since`` and up to ``now``, if it is within
    ``grace`` of ``now``: several missed fire times make one catch-up, older ones none."""
    if since is None:
        return None
    fire = trigger.get_next_fire_time(None, max(since, now - grace) + _TICK)
    latest = None
    while fire is not None and fire <= now:
        latest = fire
        fire = trigger.get_next_fire_time(fire, fire + _TICK)
    return latest


@dataclass(frozen=True)
class CatchUp:
    """What to run once on start because its time passed while the scheduler was down."""

    audit: bool
    digest: bool


def plan_catch_up(
    engine: Engine,
    audit: BaseTrigger | None,
    digest: BaseTrigger | None,
    now: datetime,
    grace: timedelta = MISFIRE_GRACE,
) -> CatchUp:
    """Compare the schedule with the database: an audit tick after the newest run's start
    was missed; a digest tick after the newest finished run ended, with no digest sent for
    it (or after a missed audit tick, whose run will need its digest too), was missed."""
    with Session(engine) as session:
        last_start = session.scalar(select(func.max(Run.started_at)))
        finished = session.execute(
            select(Run.id, Run.finished_at)
            .where(Run.status.in_(FINISHED))
            .order_by(Run.id.desc())
            .limit(1)
        ).first()
        digested = finished is not None and bool(
            session.scalar(
                select(func.count())
                .select_from(Delivery)
                .where(Delivery.run_id == finished.id, Delivery.kind == "digest")
            )
        )
    missed_audit = last_missed(audit, last_start, now, grace) if audit else None
    missed_digest = None
    if digest is not None:
        if missed_audit is not None:
            missed_digest = last_missed(digest, missed_audit, now, grace)
        elif finished is not None and not digested:
            missed_digest = last_missed(digest, finished.finished_at, now, grace)
    return CatchUp(audit=missed_audit is not None, digest=missed_digest is not None)


class AuditScheduler:
    """The audit and digest jobs on an asyncio APScheduler, with catch-up and clean stop."""

    def __init__(
        self,
        config: Config,
        engine: Engine,
        audit_trigger: BaseTrigger | None = None,
        digest_trigger: BaseTrigger | None = None,
        misfire_grace: timedelta = MISFIRE_GRACE,
    ) -> None:
        """Triggers default to ``[schedule]``; the digest job needs ``[email] from``."""
        self.config = config
        self.engine = engine
        sched = config.schedule
        self.audit_trigger = audit_trigger or (cron(sched.audit, config) if sched.audit else None)
        self.digest_trigger = digest_trigger or (
            cron(sched.digest, config) if sched.digest else None
        )
        if self.digest_trigger is not None and config.email.from_ is None:
            log.warning("digest job disabled: [email] from is not set in %s", config.source)
            self.digest_trigger = None
        self.escalation_trigger = (
            cron(sched.escalation, config)
            if sched.escalation
            and config.email.from_ is not None
            and any(school.escalate_to for school in config.schools.values())
            else None
        )
        if self.audit_trigger is None and self.digest_trigger is None:
            raise ConfigError(f"{config.source}: schedule: neither audit nor digest is scheduled")
        self.misfire_grace = misfire_grace
        self.scheduler = AsyncIOScheduler(
            timezone=config.district.tz,
            job_defaults={
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": int(misfire_grace.total_seconds()),
            },
        )
        self._jobs: set[asyncio.Task[object]] = set()
        self._audits: set[asyncio.Task[object]] = set()
        self._stop: asyncio.Event | None = None

    async def serve(self, handle_signals: bool = True) -> None:
        """Run until :meth:`stop` (or SIGTERM/SIGINT when ``handle_signals``)."""
        loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        if handle_signals:
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, self.stop, sig.name)
        prepare_database(self.engine, self.config.rules)
        now = datetime.now(UTC)
        catch_up = plan_catch_up(
            self.engine, self.audit_trigger, self.digest_trigger, now, self.misfire_grace
        )
        if self.audit_trigger is not None:
            self.scheduler.add_job(self.audit_job, self.audit_trigger, id="audit", name="audit")
        if self.digest_trigger is not None:
            self.scheduler.add_job(self.digest_job, self.digest_trigger, id="digest", name="digest")
        if self.escalation_trigger is not None:
            self.scheduler.add_job(
                self.escalation_job, self.escalation_trigger, id="escalation", name="escalation"
            )
        if catch_up.audit or catch_up.digest:
            due = [
                name for name, on in (("audit", catch_up.audit), ("digest", catch_up.digest)) if on
            ]
            log.info("catching up on start: %s (missed while down)", " then ".join(due))
            self.scheduler.add_job(self._catch_up, "date", args=[catch_up], id="catch-up")
        self.scheduler.start()
        for job in self.scheduler.get_jobs():
            log.info("scheduled %s: next at %s", job.name, job.next_run_time)
        try:
            await self._stop.wait()
        finally:
            await self._shutdown()

    def stop(self, reason: str = "stop requested") -> None:
        """Ask :meth:`serve` to stop (call it from the scheduler's event loop)."""
        if self._stop is None or self._stop.is_set():
            return
        log.warning(
            "scheduler stopping (%s): %d audit(s) to interrupt, %d job(s) to finish",
            reason,
            len(self._audits),
            len(self._jobs - self._audits),
        )
        self._stop.set()

    async def _shutdown(self) -> None:
        """Start nothing new, cancel audits in flight, let other jobs finish, then stop."""
        if self.scheduler.running:
            self.scheduler.pause()
        for task in self._audits:
            task.cancel()
        await asyncio.gather(*self._jobs, return_exceptions=True)
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # let APScheduler's shutdown callback run on this loop
        log.info("scheduler stopped")

    def _stopping(self) -> bool:
        """Whether a stop was asked."""
        return self._stop is not None and self._stop.is_set()

    async def _catch_up(self, catch_up: CatchUp) -> None:
        """The one-off job for ticks missed while down: the audit first, then its digest."""
        if catch_up.audit:
            await self.audit_job()
        if catch_up.digest and not self._stopping():
            await self.digest_job()

    async def audit_job(self) -> int | None:
        """One scheduled audit: run, report, urgent alerts; the run id, or None if skipped
        (also when it starts once a stop was asked: APScheduler may start a job it handed
        out just before, after the audits in flight were cancelled)."""
        if self._stopping():
            log.info("scheduled audit not started: the scheduler is stopping")
            return None
        task = asyncio.current_task()
        assert task is not None
        self._jobs.add(task)
        self._audits.add(task)
        try:
            return await self._audit()
        finally:
            self._jobs.discard(task)
            self._audits.discard(task)

    async def _audit(self) -> int | None:
        """Run the audit under the lock and log its outcome; errors are logged, not raised."""
        pages = list(self.config.pages)
        log.info("scheduled audit starting: %d page(s)", len(pages))
        output = self.config.reports.output_dir
        try:
            job = await audit_report_alert(self.config, self.engine, pages, output, "schedule")
        except RunLockedError as exc:
            log.warning("scheduled audit skipped: %s", exc)
            return None
        except asyncio.CancelledError:
            log.warning("scheduled audit interrupted: the scheduler is stopping")
            return None
        except Exception:
            log.exception("scheduled audit failed")
            return None
        summary = job.summary
        try:
            await asyncio.to_thread(purge_old_runs, self.config, self.engine)
        except Exception:
            log.exception("retention: old runs could not be purged")
        log.info(
            "scheduled audit finished: run %s %s: %d page(s), %d with failures, %d not audited",
            summary.run_id,
            summary.status,
            summary.pages,
            len(summary.failing),
            len(summary.errors),
        )
        return summary.run_id

    async def digest_job(self) -> None:
        """Send the digests of the newest finished run (the delivery log prevents repeats)."""
        from auditor.email.digests import send_digests

        await self._mail_job("digests", send_digests)

    async def escalation_job(self) -> None:
        """Send each school's weekly overdue list ([schools] escalate_to) of the newest
        finished run."""
        from auditor.email.escalation import send_escalations

        await self._mail_job("overdue lists", send_escalations)

    async def _mail_job(self, what: str, send: Sender) -> None:
        """Run one mail job in a worker thread, tracked so that a stop waits for it (none
        starts once a stop was asked)."""
        if self._stopping():
            log.info("scheduled %s not started: the scheduler is stopping", what)
            return
        task = asyncio.current_task()
        assert task is not None
        self._jobs.add(task)
        try:
            await asyncio.to_thread(self._send, what, send)
        finally:
            self._jobs.discard(task)

    def _send(self, what: str, send: Sender) -> None:
        """Send the newest finished run's ``what`` (digests or overdue lists) with ``send``
        and log the counts (in a worker thread)."""
        from auditor.email.digests import digest_run

        try:
            view = digest_run(self.engine, None)
            outcomes = send(self.engine, self.config, view)
        except AuditorError as exc:
            log.warning("scheduled %s skipped: %s", what, exc)
            return
        except Exception:
            log.exception("scheduled %s failed", what)
            return
        counts = {s: sum(o.status == s for o in outcomes) for s in ("sent", "skipped", "failed")}
        report = log.error if counts["failed"] else log.info
        report(
            "%s for run %s: %d sent, %d already sent, %d failed",
            what,
            view.id,
            counts["sent"],
            counts["skipped"],
            counts["failed"],
        )
