"""DS 2 professional boundaries: only district staff own, manage or moderate the group."""

from __future__ import annotations

from auditor.results import RuleResult, Severity
from auditor.rules.base import Rule, RuleContext, member_evidence
from auditor.rules.members import NO_MEMBERS, label
from auditor.snapshot import ADMIN_ROLES, PageSnapshot


class StaffAdmins(Rule):
    id = "DS2.staff-admins"
    title = "Only district staff administer the group"
    clause = "DS 2 professional boundaries"
    severity = Severity.HIGH
    reads = ("members",)
    rationale = (
        "An owner, manager or moderator who is not staff (a student, parent or outsider) can "
        "change settings, admit people and read everything."
    )
    remediation = (
        "Remove the administrator role from everyone who is not district staff; keep the "
        "employee and the supervisor as owners."
    )

    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        if snapshot.members is None:
            return self.not_applicable(snapshot.why_missing("members", NO_MEMBERS))
        admins = [m for m in snapshot.members if m.role in ADMIN_ROLES and m.state == "active"]
        if not admins:
            return self.failed("The group has no active owner or moderator.")
        outsiders = []
        unknown = []
        for m in admins:
            if ctx.people.is_page_staff(m, ctx.page, snapshot.platform):
                continue
            kind = ctx.people.kind_of(m, snapshot.platform)  # roster role first, then domain
            (unknown if kind == "unknown" and not m.email else outsiders).append((m, kind))
        if outsiders:
            evidence = [
                member_evidence(m.id, label(m), f"{m.role}; {_kind_note(kind)}")
                for m, kind in outsiders + unknown
            ]
            return self.failed(
                f"{len(outsiders)} administrator(s) are not district staff.", evidence
            )
        if unknown:
            evidence = [
                member_evidence(m.id, label(m), f"{m.role}; no email to identify them")
                for m, _ in unknown
            ]
            return self.warned(
                f"{len(unknown)} administrator(s) could not be identified as staff.",
                evidence,
                severity=Severity.MEDIUM,
            )
        return self.passed(f"All {len(admins)} administrator(s) are district staff.")


def _kind_note(kind: str) -> str:
    return {"student": "a student", "guardian": "a parent or guardian"}.get(
        kind, "not district staff"
    )
