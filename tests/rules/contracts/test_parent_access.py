"""DS2.parent-access runs the rule contract (it needs the roster: who is whose guardian)."""

from pathlib import Path

from auditor.roster import Roster
from auditor.testkit.rules import OWNER, STUDENT, SUPERVISOR, RuleContract
from tests.rules.helpers import standard_roster

MOM = {"id": "g1", "email": "mom@example.com", "role": "member"}


class TestParentAccessContract(RuleContract):
    rule_id = "DS2.parent-access"
    passing = {"members": [OWNER, SUPERVISOR, STUDENT, MOM]}
    failing = {"members": [OWNER, SUPERVISOR, STUDENT, MOM | {"state": "banned"}]}
    missing = {"members": None}

    def roster(self, tmp_path: Path) -> Roster | None:
        return standard_roster(tmp_path / "roster")
