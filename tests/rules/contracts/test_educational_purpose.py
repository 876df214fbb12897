"""DS2.educational-purpose runs the rule contract (it needs the roster's class list)."""

from pathlib import Path

from auditor.config import PageConfig
from auditor.roster import Roster
from auditor.testkit.rules import OWNER, STUDENT, SUPERVISOR, RuleContract
from tests.rules.helpers import standard_roster

STRANGER = {"id": "x9", "email": "stranger@gmail.com", "role": "member", "name": "Stranger"}


class TestEducationalPurposeContract(RuleContract):
    rule_id = "DS2.educational-purpose"
    passing = {"members": [OWNER, SUPERVISOR, STUDENT]}
    failing = {"members": [OWNER, SUPERVISOR, STUDENT, STRANGER]}
    missing = {"members": None}

    def page(self) -> PageConfig:
        return super().page().model_copy(update={"roster_class": "CHESS-1"})

    def roster(self, tmp_path: Path) -> Roster | None:
        return standard_roster(tmp_path / "roster")
