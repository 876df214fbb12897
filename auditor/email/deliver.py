"""Sends a batch of emails for one run: each claimed in the delivery log, retried with
exponential backoff (tenacity) while the failure is transient, and recorded. A refused
address fails alone; an unreachable server fails the rest of the batch (retried next time)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import Engine
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_exponential,
)

from auditor.config import Config
from auditor.email import ledger
from auditor.email.compose import Outgoing, compose
from auditor.email.smtp import (
    SmtpSession,
    SmtpUnavailable,
    credentials,
    describe,
    is_transient,
    sender,
)

log = logging.getLogger(__name__)

SKIPPED = "skipped"


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently one email is retried: waits of ``first_wait_s``,
    doubling up to ``max_wait_s``, for at most ``attempts`` tries."""

    attempts: int = 4
    first_wait_s: float = 2.0
    max_wait_s: float = 60.0


@dataclass(frozen=True)
class DeliveryOutcome:
    """What happened to one email: sent, skipped (already sent or being sent) or failed."""

    kind: str
    recipient: str
    status: str
    message_id: str | None = None
    attempts: int = 0
    error: str | None = None


def deliver(
    engine: Engine,
    config: Config,
    run_id: int,
    mails: Sequence[Outgoing],
    force: bool = False,
    policy: RetryPolicy | None = None,
) -> list[DeliveryOutcome]:
    """Send ``mails`` for ``run_id`` through ``[email]``; return one outcome per email."""
    with Postman(engine, config, run_id, force, policy) as postman:
        return postman.deliver(mails)


class Postman:
    """One SMTP session for several batches of one run (e.g. digests, then the IT summary
    that reports on them)."""

    def __init__(
        self,
        engine: Engine,
        config: Config,
        run_id: int,
        force: bool = False,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.force = force
        self._batch = _Batch(engine, run_id, sender(config), policy or RetryPolicy())
        self._session = SmtpSession(config.email, credentials(config))

    def __enter__(self) -> Postman:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._session.close()

    def deliver(self, mails: Sequence[Outgoing]) -> list[DeliveryOutcome]:
        """Send each of ``mails``; one outcome per email."""
        return [self._batch.send(self._session, mail, self.force) for mail in mails]


@dataclass
class _Batch:
    """State shared by the emails of one batch: once the server is unreachable after all
    retries, the remaining emails are recorded as failed without waiting again."""

    engine: Engine
    run_id: int
    from_addr: str
    policy: RetryPolicy
    unavailable: str | None = None

    def send(self, session: SmtpSession, mail: Outgoing, force: bool) -> DeliveryOutcome:
        """Claim, compose, send with retries and record one email."""
        claim = ledger.claim(self.engine, self.run_id, mail.kind, mail.recipient, force)
        if claim.delivery_id is None:
            return _skipped(mail, claim)
        claimed = claim.delivery_id
        if claim.abandoned:
            log.warning(
                "run %s: %s to %s was left 'sending' %s by a send that did not finish; "
                "it may have been delivered; sending it again",
                self.run_id,
                mail.kind,
                mail.recipient,
                f"since {_utc_minute(claim.since)}" if claim.since else "(since an unknown time)",
            )
        if self.unavailable is not None:
            return self._failed(claimed, mail, None, 0, self.unavailable)
        msg = compose(mail, self.from_addr)
        message_id = str(msg["Message-ID"])
        tries = 0
        try:
            for attempt in _retrying(self.policy, mail):
                with attempt:
                    tries = attempt.retry_state.attempt_number
                    session.send(msg)
        except SmtpUnavailable as exc:
            self.unavailable = f"not sent: {exc}"
            return self._failed(claimed, mail, message_id, tries, str(exc))
        except Exception as exc:
            return self._failed(claimed, mail, message_id, tries, describe(exc))
        ledger.record(self.engine, claimed, ledger.SENT, message_id, tries)
        log.info("run %s: %s sent to %s %s", self.run_id, mail.kind, mail.recipient, message_id)
        return DeliveryOutcome(mail.kind, mail.recipient, ledger.SENT, message_id, tries)

    def _failed(
        self, claimed: int, mail: Outgoing, message_id: str | None, tries: int, error: str
    ) -> DeliveryOutcome:
        """Record and log a failed email."""
        ledger.record(self.engine, claimed, ledger.FAILED, message_id, tries, error)
        log.error(
            "run %s: %s to %s failed after %d attempt(s): %s",
            self.run_id,
            mail.kind,
            mail.recipient,
            tries,
            error,
        )
        return DeliveryOutcome(mail.kind, mail.recipient, ledger.FAILED, message_id, tries, error)


def _retrying(policy: RetryPolicy, mail: Outgoing) -> Retrying:
    """Tenacity retry loop: transient failures only, exponential waits, each one logged."""

    def before_sleep(state: RetryCallState) -> None:
        exc = state.outcome.exception() if state.outcome else None
        wait = state.next_action.sleep if state.next_action else 0.0
        log.warning(
            "%s to %s: attempt %d failed (%s); retrying in %.1f s",
            mail.kind,
            mail.recipient,
            state.attempt_number,
            describe(exc) if exc else "?",
            wait,
        )

    return Retrying(
        stop=stop_after_attempt(policy.attempts),
        wait=wait_exponential(multiplier=policy.first_wait_s, max=policy.max_wait_s),
        retry=retry_if_exception(is_transient),
        before_sleep=before_sleep,
        reraise=True,
    )


def _skipped(mail: Outgoing, claim: ledger.Claim) -> DeliveryOutcome:
    """The outcome of an email the delivery log says not to send now, and why."""
    if claim.status == ledger.SENT:
        reason = "already sent (use --force to send again)"
    elif claim.since is None:
        reason = "being sent by another process"
    else:
        retry_at = claim.since + ledger.STALE_AFTER
        reason = (
            f"being sent by another process since {_utc_minute(claim.since)}; if that "
            f"process stopped, a send after {_utc_minute(retry_at)} sends it again"
        )
    return DeliveryOutcome(mail.kind, mail.recipient, SKIPPED, error=reason)


def _utc_minute(value: datetime) -> str:
    """A time in log lines and outcomes: ``2026-11-20 14:05 UTC``."""
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M} UTC"
