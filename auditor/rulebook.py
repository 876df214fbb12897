"""The metadata of every rule as a run uses it: the catalog's text, the severities after
``[rules.overrides]``, and each installed connector's fix steps for its platform."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Engine

from auditor.config import RulesConfig
from auditor.connectors.base import Connector
from auditor.connectors.registry import platform_remediation
from auditor.db import store
from auditor.db.engine import upgrade
from auditor.results import RuleInfo
from auditor.rules import catalog


def rule_metadata(
    rules: RulesConfig, used: Iterable[type[Connector]] | None = None
) -> dict[str, RuleInfo]:
    """RuleInfo by rule id, in catalog order, with the fix steps of the platforms the
    connectors ``used`` read (of every installed connector when None)."""
    steps = platform_remediation(used)
    infos = {}
    for rule in catalog.all_rules():
        override = rules.overrides.get(rule.id)
        infos[rule.id] = RuleInfo(
            id=rule.id,
            title=rule.title,
            clause=rule.clause,
            clause_text=rule.clause_text,
            severity=(override.severity if override and override.severity else rule.severity),
            rationale=rule.rationale,
            remediation=rules.fill_in(rule.remediation),
            steps={
                platform: rules.fill_in(by_rule[rule.id])
                for platform, by_rule in steps.items()
                if rule.id in by_rule
            },
        )
    return infos


def prepare_database(engine: Engine, rules: RulesConfig) -> tuple[str | None, str]:
    """Migrate the schema to the newest revision, and give runs recorded before runs kept
    their rule metadata today's; ``(revision before, revision after)``."""
    revisions = upgrade(engine)
    store.backfill_rules(engine, lambda: rule_metadata(rules))
    return revisions
