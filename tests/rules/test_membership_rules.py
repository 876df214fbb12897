"""DS2.parent-access, DS2.educational-purpose and DS2.staff-admins with a roster."""

from __future__ import annotations

from pathlib import Path

import pytest

from auditor.results import RuleResult, Severity, Status
from auditor.roster import Roster
from auditor.rules import catalog
from auditor.rules.base import RuleContext
from auditor.snapshot import PageSnapshot
from tests.rules.helpers import BOSS, OWNER, STUDENT, ctx, snap, standard_roster

PARENT = {"id": "g", "email": "mom@example.com", "role": "member"}


@pytest.fixture
def roster(tmp_path: Path) -> Roster:
    return standard_roster(tmp_path)


def check(rule_id: str, snapshot: PageSnapshot, context: RuleContext) -> RuleResult:
    return catalog.get(rule_id).check(snapshot, context)


def test_parent_access_passes_fails_and_not_applicable(roster: Roster) -> None:
    rule = "DS2.parent-access"
    ok = check(rule, snap(members=[OWNER, BOSS, STUDENT, PARENT]), ctx(roster))
    assert ok.status == Status.PASS and "1 guardian" in ok.message
    banned = check(rule, snap(members=[OWNER, STUDENT, {**PARENT, "state": "banned"}]), ctx(roster))
    assert banned.status == Status.FAIL and banned.severity == Severity.HIGH
    assert banned.evidence[0].ref == "g" and "parent of" in (banned.evidence[0].note or "")
    closed = snap(members=[OWNER, STUDENT], settings={"external_members_allowed": False})
    result = check(rule, closed, ctx(roster))
    assert result.status == Status.FAIL and "cannot admit guardians" in result.message
    assert check(rule, snap(), ctx(None)).status == Status.NOT_APPLICABLE
    no_students = check(rule, snap(members=[OWNER, BOSS]), ctx(roster))
    assert no_students.status == Status.NOT_APPLICABLE


def test_parent_access_matches_members_by_platform_id(roster: Roster) -> None:
    members = [
        {"id": "901", "role": "member"},  # student s2 on Discord
        {"id": "555", "role": "member", "state": "banned"},
    ]
    ok = check("DS2.parent-access", snap(platform="discord", members=members), ctx(roster))
    assert ok.status == Status.PASS
    banned_guardian = {"id": "902", "role": "member", "state": "banned"}  # g1, parent of s1
    members = [{**STUDENT}, banned_guardian]
    bad = check("DS2.parent-access", snap(platform="discord", members=members), ctx(roster))
    assert bad.status == Status.FAIL and bad.evidence[0].ref == "902"


def test_educational_purpose(roster: Roster) -> None:
    rule = "DS2.educational-purpose"
    members = [OWNER, BOSS, STUDENT, PARENT, {"id": "t", "email": "coach@district.org"}]
    ok = check(rule, snap(members=members), ctx(roster, roster_class="C1"))
    assert ok.status == Status.PASS
    outsider = {"id": "z", "email": "stranger@gmail.com", "name": "Zed"}
    other_student = {"id": "s3", "email": "other@students.district.org"}
    bad = check(
        rule, snap(members=[*members, outsider, other_student]), ctx(roster, roster_class="C1")
    )
    assert bad.status == Status.FAIL
    notes = {e.ref: e.note for e in bad.evidence}
    assert notes == {
        "z": "not on the roster and not district staff",
        "s3": "a student not on this page's roster",
    }
    assert "Zed <stranger@gmail.com>" in [e.value for e in bad.evidence]
    invited = {**outsider, "state": "invited"}  # only active members count
    assert check(
        rule, snap(members=[*members, invited]), ctx(roster, roster_class="C1")
    ).status == (Status.PASS)
    assert check(rule, snap(), ctx(roster)).status == Status.NOT_APPLICABLE
    assert check(rule, snap(members=None), ctx(roster, roster_class="C1")).status == (
        Status.NOT_APPLICABLE
    )


def test_educational_purpose_warns_on_unidentified_members(roster: Roster) -> None:
    unknown = {"id": "777", "name": "gamer", "role": "member"}
    result = check(
        "DS2.educational-purpose",
        snap(platform="discord", members=[OWNER, BOSS, unknown]),
        ctx(roster, roster_class="C1"),
    )
    assert result.status == Status.WARN and result.evidence[0].ref == "777"
    # without a roster a students list still tells students apart; others may be guardians
    no_roster = check(
        "DS2.educational-purpose",
        snap(members=[OWNER, BOSS, STUDENT, PARENT]),
        ctx(None, students=["kid@students.district.org"]),
    )
    assert no_roster.status == Status.WARN and [e.ref for e in no_roster.evidence] == ["g"]


def test_staff_admins_uses_roster_roles(roster: Roster) -> None:
    parent_admin = {**PARENT, "role": "manager"}
    result = check("DS2.staff-admins", snap(members=[OWNER, BOSS, parent_admin]), ctx(roster))
    assert result.status == Status.FAIL and "a parent or guardian" in (
        result.evidence[0].note or ""
    )
    discord_teacher = {"id": "900", "role": "moderator"}  # t2, known only by userIds
    ok = check(
        "DS2.staff-admins",
        snap(platform="discord", members=[OWNER, discord_teacher]),
        ctx(roster),
    )
    assert ok.status == Status.PASS
    without = check(
        "DS2.staff-admins", snap(platform="discord", members=[OWNER, discord_teacher]), ctx(None)
    )
    assert without.status == Status.WARN
