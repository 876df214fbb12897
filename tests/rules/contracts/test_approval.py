"""DS1.approval runs the rule contract."""

from datetime import UTC, datetime

from auditor.testkit.rules import RuleContract


class TestApprovalContract(RuleContract):
    rule_id = "DS1.approval"
    passing = {"created_at": datetime(2026, 9, 1, tzinfo=UTC)}
    failing = {"created_at": datetime(2026, 7, 1, tzinfo=UTC)}  # before the approval
    missing = None  # reads the page register; created_at only refines it
