"""DS 2 "supervisor shall be permitted access": the supervisor is an active member."""

from __future__ import annotations

from auditor.results import RuleResult, Severity
from auditor.rules.base import Rule, RuleContext, member_evidence
from auditor.rules.members import NO_MEMBERS, label
from auditor.snapshot import PageSnapshot


class SupervisorAccess(Rule):
    id = "DS2.supervisor-access"
    title = "The supervisor has access"
    clause = "DS 2 supervisor access"
    severity = Severity.MEDIUM
    rationale = "A supervisor who cannot see the group cannot oversee it."
    remediation = "Add the supervisor to the group as a member (any role)."

    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        if snapshot.members is None:
            return self.not_applicable(snapshot.why_missing("members", NO_MEMBERS))
        supervisor = ctx.page.supervisor
        matches = [
            m for m in snapshot.members if ctx.people.is_person(m, supervisor, snapshot.platform)
        ]
        active = [m for m in matches if m.state == "active"]
        if active:
            m = active[0]
            return self.passed(
                f"The supervisor ({supervisor}) is a member ({m.role}).",
                [member_evidence(m.id, label(m), m.role)],
            )
        if matches:
            m = matches[0]
            return self.failed(
                f"The supervisor ({supervisor}) is {m.state}, not an active member.",
                [member_evidence(m.id, label(m), m.state)],
            )
        return self.failed(f"The supervisor ({supervisor}) is not a member of the group.")
