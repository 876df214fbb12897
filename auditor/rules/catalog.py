"""The rule catalog: every installed rule, in policy order, and how a page is evaluated.

Rules are plugins found through the ``page_auditor.rules`` entry-point group, the built-in
ones included (see pyproject.toml), as connectors are. They are listed in the order of
the policy clauses they check (``auditor.policy.CLAUSES``), then by id.
"""

from __future__ import annotations

import logging
from functools import cache
from importlib.metadata import entry_points

from auditor.config import RulesConfig
from auditor.policy import CLAUSES
from auditor.results import RuleResult, Status
from auditor.rules.base import Rule, RuleContext
from auditor.rules.evidence import mask_result
from auditor.snapshot import PageSnapshot
from auditor.text.scan import one_page

ENTRY_POINT_GROUP = "page_auditor.rules"
log = logging.getLogger(__name__)


@cache
def all_rules() -> tuple[Rule, ...]:
    """One instance of every installed rule; a plugin that fails to load is logged and
    skipped, so one broken third-party rule never stops an audit."""
    found: dict[str, Rule] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        try:
            cls = ep.load()
            if not (isinstance(cls, type) and issubclass(cls, Rule)):
                raise TypeError("not a Rule subclass")
            rule = cls()
            if rule.clause not in CLAUSES:
                raise ValueError(f"clause {rule.clause!r} is not a clause of the policy")
        except Exception as exc:
            log.warning("rule plugin %r could not be loaded: %s", ep.name, exc)
            continue
        if rule.id in found:
            log.warning("rule plugin %r: a rule with id %r is already installed", ep.name, rule.id)
            continue
        found[rule.id] = rule
    order = {clause: i for i, clause in enumerate(CLAUSES)}
    return tuple(sorted(found.values(), key=lambda r: (order[r.clause], r.id)))


def rule_ids() -> list[str]:
    """Every rule id, in catalog order."""
    return [rule.id for rule in all_rules()]


def get(rule_id: str) -> Rule:
    """The rule with this id (KeyError if unknown)."""
    for rule in all_rules():
        if rule.id == rule_id:
            return rule
    raise KeyError(rule_id)


def enabled_rules(config: RulesConfig) -> list[Rule]:
    """Rules not switched off in ``[rules.overrides]``."""
    overrides = config.overrides
    return [r for r in all_rules() if overrides.get(r.id) is None or overrides[r.id].enabled]


def evaluate(snapshot: PageSnapshot, ctx: RuleContext) -> list[RuleResult]:
    """One result per enabled rule; a rule that crashes yields ``error``, not a lost page."""
    with one_page(post.text for post in snapshot.posts or []):  # one scan of each post
        results = [_evaluate_rule(rule, snapshot, ctx) for rule in enabled_rules(ctx.rules)]
    if snapshot.source:  # not read from the platform: every result says what it rests on
        results = [_sourced(result, snapshot.source) for result in results]
    return results


def _sourced(result: RuleResult, source: str) -> RuleResult:
    """The result, its message saying the data came from ``source`` (an attestation)."""
    if source in result.message:
        return result
    message = f"{result.message.rstrip()} (Based on the {source}.)"
    return result.model_copy(update={"message": message})


def _evaluate_rule(rule: Rule, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
    """One rule's result, graded by any severity override."""
    try:
        result = rule.check(snapshot, ctx)
    except Exception as exc:  # one buggy rule must not hide the others' results
        log.exception("rule %s failed on page %s", rule.id, ctx.page.id)
        result = RuleResult(
            rule=rule.id,
            status=Status.ERROR,
            severity=rule.severity,
            message=f"The rule could not be evaluated ({type(exc).__name__}: {exc}).",
        )
    override = ctx.rules.overrides.get(rule.id)
    if override and override.severity and result.severity == rule.severity:
        result.severity = override.severity  # results graded on their own keep theirs
    return mask_result(result, frozenset(ctx.district.student_email_domains))
