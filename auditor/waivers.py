"""Waivers: approved exceptions that turn a matching ``fail`` into ``waived``."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta, tzinfo

from auditor.config import WaiverConfig
from auditor.results import Evidence, RuleResult, Status


def apply_waivers(
    page_id: str, results: Iterable[RuleResult], waivers: Iterable[WaiverConfig], today: date
) -> list[RuleResult]:
    """Return ``results`` with waivers of this page applied; expired ones are noted."""
    by_rule = {w.rule: w for w in waivers if w.page == page_id}
    out = []
    for result in results:
        waiver = by_rule.get(result.rule)
        if waiver is None or result.status not in (Status.FAIL, Status.WARN):
            out.append(result)
            continue
        note = Evidence(
            kind="waiver",
            ref=waiver.rule,
            value=waiver.reason,
            note=f"approved by {waiver.approved_by}"
            + (f", expires {waiver.expires}" if waiver.expires else ", no expiry"),
        )
        if waiver.expires is not None and waiver.expires < today:
            out.append(
                result.model_copy(
                    update={
                        "message": f"{result.message} (A waiver for this expired on "
                        f"{waiver.expires}.)",
                        "evidence": [*result.evidence, note],
                    }
                )
            )
            continue
        out.append(
            result.model_copy(
                update={
                    "status": Status.WAIVED,
                    "message": f"Waived by {waiver.approved_by}: {waiver.reason}. "
                    f"Finding: {result.message}",
                    "evidence": [*result.evidence, note],
                }
            )
        )
    return out


def waivers_valid_until(
    page_id: str, waivers: Iterable[WaiverConfig], now: datetime, tz: tzinfo
) -> datetime | None:
    """The first instant a waiver of this page that holds today expires (the start of
    the day after its last, in the district's time zone ``tz``): results waived by it
    change then. None when no such waiver has an end."""
    today = now.astimezone(tz).date()
    ends = [
        datetime.combine(w.expires + timedelta(days=1), time(), tz)
        for w in waivers
        if w.page == page_id and w.expires is not None and w.expires >= today
    ]
    return min(ends, default=None)
