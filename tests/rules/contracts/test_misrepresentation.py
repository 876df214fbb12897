"""DS9.misrepresentation runs the rule contract: a checklist item for a person, so it never
passes or fails by itself."""

import pytest

from auditor.results import Status
from auditor.testkit.rules import RuleContract


class TestMisrepresentationContract(RuleContract):
    rule_id = "DS9.misrepresentation"
    passing = {}
    failing = {}
    missing = None
    expected_without_data = frozenset({Status.MANUAL})

    @pytest.mark.parametrize("case", ["passing", "failing"])
    def test_never_decides_by_itself(self, case: str, tmp_path) -> None:
        assert self.evaluate(tmp_path, **getattr(self, case)).status == Status.MANUAL

    def test_can_pass(self, tmp_path) -> None:
        """A manual check never passes on its own: a person decides (see above)."""
        self.test_never_decides_by_itself("passing", tmp_path)

    def test_can_fail(self, tmp_path) -> None:
        """A manual check never fails on its own: a person decides (see above)."""
        self.test_never_decides_by_itself("failing", tmp_path)
