"""DS 2 monitoring: the employee keeps watching the group."""

from __future__ import annotations

from datetime import datetime, timedelta

from auditor.results import Evidence, RuleResult, Severity
from auditor.rules.base import Rule, RuleContext, member_evidence, setting
from auditor.rules.members import label
from auditor.snapshot import ADMIN_ROLES, Member, PageSnapshot


class Monitoring(Rule):
    id = "DS2.monitoring"
    title = "The group is monitored regularly"
    clause = "DS 2 monitoring"
    severity = Severity.MEDIUM
    rationale = "Reports and join requests left for weeks mean nobody is watching the group."
    remediation = (
        "The employee reviews the group within the district's monitoring limit: answers "
        "join requests, handles reported posts, and posts or moderates."
    )

    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        if snapshot.source_as_of is not None and snapshot.source_renew_days is not None:
            return self._renewed(snapshot, ctx)
        max_days = ctx.rules.monitoring_max_days
        cutoff = ctx.now - timedelta(days=max_days)
        activity = _activity(snapshot)
        requests = _requests(snapshot)
        pending_reports = snapshot.moderation.pending_reports if snapshot.moderation else None
        if not activity and snapshot.moderation is None and snapshot.posts is None:
            return self.not_applicable(
                snapshot.why_missing(
                    "moderation", "The platform reports neither moderator activity nor posts."
                )
            )
        problems: list[str] = []
        evidence: list[Evidence] = []
        last = max(activity) if activity else None
        evidence.append(setting("last_moderator_activity", last.date() if last else None))
        if last is None:
            untrusted = snapshot.unavailable.get("last_moderator_action_at")
            problems.append(
                f"no moderator activity is recorded ({untrusted})"
                if untrusted
                else "no moderator activity is recorded"
            )
        elif last < cutoff:
            days = (ctx.now - last).days
            problems.append(
                f"the last moderator activity was on {last.date()}, more than {days} days ago"
            )
        stale = [m for m in requests if m.joined_at is not None and m.joined_at < cutoff]
        for m in stale:
            days = (ctx.now - m.joined_at).days if m.joined_at else 0
            evidence.append(member_evidence(m.id, label(m), f"join request waiting {days} days"))
        if stale:
            problems.append(f"{len(stale)} join request(s) waiting more than {max_days} days")
        if pending_reports:
            evidence.append(setting("pending_reports", pending_reports))
        if problems:
            return self.failed(
                "Not monitored: " + "; ".join(problems) + ".",
                evidence,
            )
        if pending_reports:
            return self.warned(
                f"{pending_reports} reported post(s) wait for a moderator.",
                evidence,
                severity=Severity.LOW,
            )
        return self.passed(
            f"A moderator was active on {last.date() if last else '?'} (within {max_days} days).",
            evidence,
        )

    def valid_until(self, snapshot: PageSnapshot, ctx: RuleContext) -> datetime | None:
        """The next instant a day count in the result grows or an activity, join request
        or review crosses the monitoring limit."""
        if snapshot.source_as_of is not None and snapshot.source_renew_days is not None:
            return _next_day(snapshot.source_as_of, ctx.now)
        limit = timedelta(days=ctx.rules.monitoring_max_days)
        dated = [max(activity)] if (activity := _activity(snapshot)) else []
        dated += [m.joined_at for m in _requests(snapshot) if m.joined_at is not None]
        # within the limit: until it is crossed; past it: the day count said grows daily
        ends = [d + limit if d + limit >= ctx.now else _next_day(d, ctx.now) for d in dated]
        return min(ends, default=None)

    def _renewed(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        """A page known only from a person's statement (an attestation) is monitored while
        that statement is renewed in time: its age is judged, not platform activity."""
        assert snapshot.source_as_of is not None and snapshot.source_renew_days is not None
        age = (ctx.now - snapshot.source_as_of).days
        limit = snapshot.source_renew_days
        source = snapshot.source or "a statement about the group"
        evidence = [setting("reviewed_on", snapshot.source_as_of.date())]
        if age > limit:
            return self.failed(
                f"The group was last reviewed {age} days ago ({source}); a review is due at "
                f"least every {limit} days.",
                evidence,
            )
        return self.passed(
            f"The group's admin reviewed it {age} days ago ({source}); due again within "
            f"{limit - age} days.",
            evidence,
        )


def _activity(snapshot: PageSnapshot) -> list[datetime]:
    """When moderators were active: the last moderation action and the admins' posts."""
    admin_ids = {m.id for m in snapshot.members or [] if m.role in ADMIN_ROLES}
    activity: list[datetime] = []
    if snapshot.moderation and snapshot.moderation.last_moderator_action_at:
        activity.append(snapshot.moderation.last_moderator_action_at)
    activity += [
        p.created_at
        for p in snapshot.posts or []
        if p.created_at is not None and p.author_id in admin_ids
    ]
    return activity


def _requests(snapshot: PageSnapshot) -> list[Member]:
    """The members waiting for their join request to be answered."""
    return [m for m in snapshot.members or [] if m.state == "requested"]


def _next_day(since: datetime, now: datetime) -> datetime:
    """The next instant after ``now`` at which the whole days since ``since`` grow."""
    return since + timedelta(days=(now - since).days + 1)
