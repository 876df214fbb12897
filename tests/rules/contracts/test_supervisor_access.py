"""DS2.supervisor-access runs the rule contract."""

from auditor.testkit.rules import OWNER, STUDENT, SUPERVISOR, RuleContract


class TestSupervisorAccessContract(RuleContract):
    rule_id = "DS2.supervisor-access"
    passing = {"members": [OWNER, SUPERVISOR, STUDENT]}
    failing = {"members": [OWNER, STUDENT]}
    missing = {"members": None}
