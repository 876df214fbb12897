"""DS2.invite-only runs the rule contract."""

from auditor.testkit.rules import RuleContract


class TestInviteOnlyContract(RuleContract):
    rule_id = "DS2.invite-only"
    passing = {"settings": {"join_policy": "invite", "invite_links": []}}
    failing = {"settings": {"join_policy": "open"}}
    missing = {"settings": {}}
