"""DS 2 membership rules: the supervisor has access, and only staff administer."""

from __future__ import annotations

from auditor.results import RuleResult, Severity
from auditor.rules.base import Rule, RuleContext, member_evidence
from auditor.snapshot import ADMIN_ROLES, Member, PageSnapshot

NO_MEMBERS = "The platform did not return the member list."


def label(member: Member) -> str:
    """How a member is named in evidence: name and email where known."""
    if member.name and member.email:
        return f"{member.name} <{member.email}>"
    return member.name or member.email or member.id


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
        matches = [m for m in snapshot.members if ctx.people.is_person(m, supervisor)]
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


class StaffAdmins(Rule):
    id = "DS2.staff-admins"
    title = "Only district staff administer the group"
    clause = "DS 2 professional boundaries"
    severity = Severity.HIGH
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
