"""DS2.moderated runs the rule contract."""

from auditor.testkit.rules import RuleContract


class TestModeratedContract(RuleContract):
    rule_id = "DS2.moderated"
    passing = {"settings": {"post_moderation": "all"}}
    failing = {"settings": {"post_moderation": "none"}}
    missing = {"settings": {}}
