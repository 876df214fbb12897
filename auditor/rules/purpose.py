"""DS 2 "educational purposes": only the page's students, their guardians, the owner, the
supervisor and district staff are members.
"""

from __future__ import annotations

from auditor.results import Evidence, RuleResult, Severity
from auditor.roster import RosterUser
from auditor.rules.base import Rule, RuleContext, member_evidence
from auditor.rules.members import NO_MEMBERS, label
from auditor.snapshot import Member, PageSnapshot

NO_STUDENTS = (
    "The page register names no class or students for this page, so who belongs cannot be told."
)


class EducationalPurpose(Rule):
    id = "DS2.educational-purpose"
    title = "Only students, guardians and staff are members"
    clause = "DS 2 educational purposes"
    severity = Severity.MEDIUM
    reads = ("members",)
    rationale = (
        "Access is for the club's educational purpose: students of other teams, former "
        "members and outsiders should not read its conversations."
    )
    remediation = (
        "Remove members who are not on the page's roster, a guardian of one, or staff; or "
        "add them to the roster if they belong."
    )

    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        if snapshot.members is None:
            return self.not_applicable(snapshot.why_missing("members", NO_MEMBERS))
        students = ctx.people.page_students(ctx.page)
        if students is None:
            return self.not_applicable(NO_STUDENTS)
        platform = snapshot.platform
        guardians = [g for s in students for g in ctx.people.guardians_of(s)]
        outsiders: list[Evidence] = []
        unknown: list[Evidence] = []
        active = [m for m in snapshot.members if m.state == "active"]
        for m in active:
            if ctx.people.is_page_staff(m, ctx.page, platform) or _is_any(
                m, students + guardians, ctx, platform
            ):
                continue
            kind = ctx.people.kind_of(m, platform)
            if kind == "unknown" and (ctx.people.roster is None or not _identifiable(m)):
                why = "not identified: no roster match" if ctx.people.roster else "no roster"
                unknown.append(member_evidence(m.id, label(m), f"{why}; may be a guardian"))
                continue
            outsiders.append(member_evidence(m.id, label(m), _outsider_note(kind)))
        if outsiders:
            return self.failed(
                f"{len(outsiders)} active member(s) are not the page's students, their "
                "guardians or staff.",
                outsiders + unknown,
            )
        if unknown:
            return self.warned(
                f"{len(unknown)} member(s) could not be identified as the page's students, "
                "their guardians or staff.",
                unknown,
                severity=Severity.LOW,
            )
        return self.passed(
            f"All {len(active)} active member(s) are the page's students, their guardians or staff."
        )


def _is_any(member: Member, users: list[RosterUser], ctx: RuleContext, platform: str) -> bool:
    return any(ctx.people.is_user(member, u, platform) for u in users)


def _identifiable(member: Member) -> bool:
    """A member with an email can be looked up; one without may just lack a platform id."""
    return bool(member.email or "@" in member.id)


def _outsider_note(kind: str) -> str:
    return {
        "student": "a student not on this page's roster",
        "guardian": "a guardian of no student on this page",
        "unknown": "not on the roster and not district staff",
    }.get(kind, "not on this page's roster")
