"""DS2.monitoring runs the rule contract."""

from auditor.testkit.rules import NOW, RuleContract

RECENT = {"last_moderator_action_at": NOW.isoformat()}
OLD = {"last_moderator_action_at": "2026-01-05T12:00:00+00:00"}


class TestMonitoringContract(RuleContract):
    rule_id = "DS2.monitoring"
    passing = {"moderation": RECENT}
    failing = {"moderation": OLD}
    missing = {"moderation": None, "posts": None}
