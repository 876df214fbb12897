"""DS2.closed runs the rule contract."""

from auditor.testkit.rules import RuleContract


class TestClosedContract(RuleContract):
    rule_id = "DS2.closed"
    passing = {"settings": {"visibility": "secret"}}
    failing = {"settings": {"visibility": "public"}}
    missing = {"settings": {}}
