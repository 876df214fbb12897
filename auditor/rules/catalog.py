"""The rule catalog: every rule, in report order, and how a page is evaluated."""

from __future__ import annotations

import logging
from dataclasses import replace

from auditor.config import RulesConfig
from auditor.results import RuleResult, Status
from auditor.rules.approval import Approval
from auditor.rules.base import Rule, RuleContext
from auditor.rules.commercial import NoCommercialContent
from auditor.rules.confidentiality import Confidentiality
from auditor.rules.links import NoPersonalLinks
from auditor.rules.manual import Misrepresentation
from auditor.rules.membership import StaffAdmins, SupervisorAccess
from auditor.rules.monitoring import Monitoring
from auditor.rules.parents import ParentAccess
from auditor.rules.posts import text_matcher
from auditor.rules.purpose import EducationalPurpose
from auditor.rules.speech import RespectfulSpeech
from auditor.rules.structure import Closed, GroupNotFriends, InviteOnly, Moderated
from auditor.snapshot import PageSnapshot

log = logging.getLogger(__name__)

RULES: tuple[Rule, ...] = (
    Approval(),
    Closed(),
    Moderated(),
    GroupNotFriends(),
    InviteOnly(),
    ParentAccess(),
    EducationalPurpose(),
    SupervisorAccess(),
    Monitoring(),
    StaffAdmins(),
    RespectfulSpeech(),
    Confidentiality(),
    NoPersonalLinks(),
    NoCommercialContent(),
    Misrepresentation(),
)
_BY_ID = {rule.id: rule for rule in RULES}


def rule_ids() -> list[str]:
    """Every rule id, in catalog order."""
    return list(_BY_ID)


def get(rule_id: str) -> Rule:
    """The rule with this id (KeyError if unknown)."""
    return _BY_ID[rule_id]


def enabled_rules(config: RulesConfig) -> list[Rule]:
    """Rules not switched off in ``[rules.overrides]``."""
    overrides = config.overrides
    return [r for r in RULES if overrides.get(r.id) is None or overrides[r.id].enabled]


def evaluate(snapshot: PageSnapshot, ctx: RuleContext) -> list[RuleResult]:
    """One result per enabled rule; a rule that crashes yields ``error``, not a lost page."""
    page = text_matcher(ctx).page(post.text for post in snapshot.posts or [])
    ctx = replace(ctx, text=page)  # the rules share one scan of each post
    return [_evaluate_rule(rule, snapshot, ctx) for rule in enabled_rules(ctx.rules)]


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
    return result
