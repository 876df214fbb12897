"""DS2.group-not-friends runs the rule contract."""

from auditor.testkit.rules import RuleContract


class TestGroupNotFriendsContract(RuleContract):
    rule_id = "DS2.group-not-friends"
    passing = {"kind": "group"}
    failing = {"kind": "profile"}
    missing = {"kind": None}
