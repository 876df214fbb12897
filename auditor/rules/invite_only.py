"""DS 2 "join only after the employee invites them": no open or request-to-join groups
and no join link that anyone can use forever."""

from __future__ import annotations

from datetime import datetime

from auditor.results import Evidence, RuleResult, Severity
from auditor.rules.base import Rule, RuleContext, setting
from auditor.snapshot import InviteLink, PageSnapshot


class InviteOnly(Rule):
    id = "DS2.invite-only"
    title = "People join only by the employee's invitation"
    clause = "DS 2 invitation"
    severity = Severity.HIGH
    reads = ("settings",)
    rationale = (
        "Open joining or a shareable link that never expires lets anyone who has the link "
        "into a group with students."
    )
    remediation = "Require an invitation from the employee to join and remove open join links."

    def valid_until(self, snapshot: PageSnapshot, ctx: RuleContext) -> datetime | None:
        """The next join link to expire stops counting then."""
        ends = [
            link.expires_at
            for link in snapshot.settings.invite_links or []
            if link.expires_at is not None and link.expires_at > ctx.now
        ]
        return min(ends, default=None)

    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        policy = snapshot.settings.join_policy
        links = snapshot.settings.invite_links
        if policy is None and links is None:
            return self.not_applicable(
                snapshot.why_missing(
                    "join_policy", "The platform did not report how people join the group."
                )
            )
        problems: list[str] = []
        evidence: list[Evidence] = [setting("join_policy", policy)]
        if policy == "open":
            problems.append("anyone can join without an invitation")
        elif policy == "request":
            problems.append("anyone can ask to join, not only people the employee invited")
        for link in links or []:
            issue = _link_problem(link, ctx)
            if issue:
                evidence.append(
                    Evidence(kind="link", ref="invite_link", value=link.url, note=issue)
                )
        bad_links = len(evidence) - 1
        if bad_links:
            problems.append(f"{bad_links} join link(s) never expire or allow unlimited uses")
        if problems:
            return self.failed("Not invite-only: " + "; ".join(problems) + ".", evidence)
        if policy is None:
            return self.passed(
                "All join links expire and are limited in uses (the join setting itself is "
                "unknown).",
                evidence,
            )
        return self.passed("Only invited people can join.", evidence)


def _link_problem(link: InviteLink, ctx: RuleContext) -> str | None:
    """Why an active invite link breaks invite-only, or None if it is harmless."""
    if link.expires_at is not None and link.expires_at <= ctx.now:
        return None  # already expired
    if link.max_uses and link.uses is not None and link.uses >= link.max_uses:
        return None  # used up
    issues = []
    if link.expires_at is None:
        issues.append("never expires")
    if not link.max_uses:
        issues.append("unlimited uses")
    return " and ".join(issues) or None
