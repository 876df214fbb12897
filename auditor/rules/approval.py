"""DS 1: the supervisor approved the page before it was set up."""

from __future__ import annotations

from datetime import datetime, time

from auditor.results import Evidence, RuleResult, Severity
from auditor.rules.base import Rule, RuleContext
from auditor.snapshot import PageSnapshot


class Approval(Rule):
    id = "DS1.approval"
    title = "Supervisor approved the page before it was set up"
    clause = "DS 1"
    severity = Severity.HIGH
    rationale = "Pages set up without approval are invisible to the district and unmanaged."
    remediation = (
        "The supervisor reviews the page and records in the page register who approved it "
        "and when; a page set up before approval is re-approved after review "
        "of its settings and members."
    )

    def valid_until(self, snapshot: PageSnapshot, ctx: RuleContext) -> datetime | None:
        """An approval dated in the future stops failing when its day starts (the
        district's time zone)."""
        approved_on = ctx.page.approved_on
        day_start = datetime.combine(approved_on, time(), ctx.district.tz) if approved_on else None
        return day_start if day_start is not None and day_start > ctx.now else None

    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        page = ctx.page
        if not page.approved_by or not page.approved_on:
            missing = [
                words
                for k, words in (("approved_by", "who approved it"), ("approved_on", "when"))
                if not getattr(page, k)
            ]
            return self.failed(
                "No supervisor approval is recorded for this page (the page register does not "
                "say " + " or ".join(missing) + ").",
                [Evidence(kind="approval", ref="register", value="no approval recorded")],
            )
        evidence = [
            Evidence(
                kind="approval",
                ref="register",
                value=f"approved by {page.approved_by} on {page.approved_on.isoformat()}",
            )
        ]
        if page.approved_by == page.owner:
            return self.failed(
                "The owner approved their own page; approval must come from the supervisor.",
                evidence,
            )
        today = ctx.now.astimezone(ctx.district.tz).date()
        if page.approved_on > today:
            return self.failed(
                f"The recorded approval date {page.approved_on} is in the future.", evidence
            )
        if snapshot.created_at is None:
            why = snapshot.why_missing(
                "created_at", "the platform does not report when the group was created"
            )
            return self.passed(
                f"Approved by {page.approved_by} on {page.approved_on}; {why}, so the order "
                "was not checked.",
                evidence,
            )
        created = snapshot.created_at.astimezone(ctx.district.tz).date()
        evidence.append(Evidence(kind="setting", ref="created_at", value=created.isoformat()))
        if created < page.approved_on:
            return self.failed(
                f"The group was created on {created}, before approval on {page.approved_on}.",
                evidence,
            )
        return self.passed(
            f"Approved by {page.approved_by} on {page.approved_on}, before the group was "
            f"created on {created}.",
            evidence,
        )
