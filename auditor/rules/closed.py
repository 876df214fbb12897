"""DS 2 "closed": only members read the group's posts."""

from __future__ import annotations

from auditor.results import RuleResult, Severity
from auditor.rules.base import Rule, RuleContext, setting
from auditor.snapshot import PageSnapshot


class Closed(Rule):
    id = "DS2.closed"
    title = "Group is closed to non-members"
    clause = "DS 2 closed and moderated"
    severity = Severity.HIGH
    rationale = "A public group shows students' names and posts to anyone on the internet."
    remediation = "Change the group's privacy so that only members can read posts."

    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        visibility = snapshot.settings.visibility
        evidence = [setting("visibility", visibility)]
        if visibility is None:
            return self.not_applicable(
                snapshot.why_missing("visibility", "The platform did not report visibility.")
            )
        if visibility == "public":
            return self.failed("Anyone can read this group's posts; it must be closed.", evidence)
        return self.passed(f"Only members read posts (visibility: {visibility}).", evidence)
