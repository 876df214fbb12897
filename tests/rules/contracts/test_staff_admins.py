"""DS2.staff-admins runs the rule contract."""

from auditor.testkit.rules import OWNER, STUDENT, SUPERVISOR, RuleContract


class TestStaffAdminsContract(RuleContract):
    rule_id = "DS2.staff-admins"
    passing = {"members": [OWNER, SUPERVISOR, STUDENT]}
    failing = {"members": [OWNER, SUPERVISOR, STUDENT | {"role": "moderator"}]}
    missing = {"members": None}
