"""DS 2 "members, not friends": a group, not a personal profile or public page."""

from __future__ import annotations

from auditor.results import RuleResult, Severity
from auditor.rules.base import Rule, RuleContext, setting
from auditor.snapshot import PageSnapshot


class GroupNotFriends(Rule):
    id = "DS2.group-not-friends"
    title = "A group with members, not a profile with friends"
    clause = "DS 2 members, not friends"
    severity = Severity.HIGH
    rationale = (
        "Friending students from a personal or public account crosses professional "
        "boundaries and exposes personal posts."
    )
    remediation = (
        "Create a group on the platform (not a personal profile or public page), invite "
        "the members there and retire the profile or page."
    )

    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        kind = snapshot.kind
        evidence = [setting("kind", kind)]
        if kind is None:
            return self.not_applicable(
                snapshot.why_missing("kind", "The platform did not say what kind of page this is.")
            )
        if kind == "profile":
            return self.failed(
                "This is a personal profile: members are friends or followers, not group members.",
                evidence,
            )
        if kind == "page":
            return self.failed(
                "This is a public page with followers, not a group with invited members.",
                evidence,
            )
        return self.passed("Members belong to a group.", evidence)
