"""DS 2 "parents shall be permitted": no guardian of a student member is shut out."""

from __future__ import annotations

from auditor.results import Evidence, RuleResult, Severity
from auditor.roster import RosterUser
from auditor.rules.base import Rule, RuleContext, member_evidence, setting
from auditor.rules.members import NO_MEMBERS, label
from auditor.snapshot import Member, PageSnapshot

NO_ROSTER = "No student roster is set up in the auditor, so students' guardians are not known."
SEEKING = ("active", "invited")


class ParentAccess(Rule):
    id = "DS2.parent-access"
    title = "Parents of student members may join"
    clause = "DS 2 parents"
    severity = Severity.HIGH
    reads = ("members",)
    rationale = (
        "Parents are entitled to see any site their child was invited to; a banned guardian, "
        "or a group that cannot admit guardians at all, hides the conversation from them."
    )
    remediation = (
        "Lift the ban on the guardian and invite them; if the group only admits district "
        "accounts, allow guests or give guardians another way to follow it."
    )

    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        if ctx.people.roster is None:
            return self.not_applicable(NO_ROSTER)
        if snapshot.members is None:
            return self.not_applicable(snapshot.why_missing("members", NO_MEMBERS))
        platform = snapshot.platform
        students = [
            (m, u)
            for m in snapshot.members
            if m.state in SEEKING
            for u in ctx.people.roster_users(m, platform)
            if u.kind == "student"
        ]
        if not students:
            return self.not_applicable("No student on the roster is a member or invited.")
        evidence: list[Evidence] = []
        guardians = 0
        for member, student in students:
            for guardian in ctx.people.guardians_of(student):
                guardians += 1
                for gm in _members_who_are(snapshot.members, guardian, ctx, platform):
                    if gm.state == "banned":
                        evidence.append(
                            member_evidence(
                                gm.id,
                                guardian.label(),
                                f"banned; {guardian.role} of {label(member)}",
                            )
                        )
        closed = snapshot.settings.external_members_allowed is False
        if closed:
            evidence.append(
                setting(
                    "external_members_allowed",
                    False,
                    "only district accounts can join, so guardians cannot",
                )
            )
        if evidence:
            problems = len(evidence) - closed
            parts = [f"{problems} guardian(s) of student members are banned"] if problems else []
            if closed:
                parts.append("the group cannot admit guardians (no outside accounts)")
            return self.failed("Parents are shut out: " + "; ".join(parts) + ".", evidence)
        return self.passed(
            f"{len(students)} student member(s); none of their {guardians} guardian(s) on the "
            "roster is banned."
        )


def _members_who_are(
    members: list[Member], user: RosterUser, ctx: RuleContext, platform: str
) -> list[Member]:
    return [m for m in members if ctx.people.is_user(m, user, platform)]
