"""The rule catalog: every installed rule, in policy order, and how a page is evaluated.

Rules are plugins found through the ``page_auditor.rules`` entry-point group, the built-in
ones included (see pyproject.toml), as connectors are. They are listed in the order of
the policy clauses they check (``auditor.policy.CLAUSES``), then by id.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from functools import cache
from importlib.metadata import entry_points
from typing import Any, NamedTuple

from auditor.config import RulesConfig
from auditor.policy import CLAUSES
from auditor.results import Evidence, RuleResult, Status
from auditor.rules.base import Rule, RuleContext
from auditor.rules.dates import trusted, trusted_until
from auditor.rules.dismissals import POST, apply_dismissals, with_text_hashes
from auditor.rules.evidence import mask_result
from auditor.rules.posts import text_matcher
from auditor.snapshot import PageSnapshot
from auditor.text.digest import text_hash
from auditor.text.verdict import TextVerdict

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


class PageTooLarge(ValueError):
    """A page holds more text than ``[rules] max_page_text_mb``: it is not evaluated."""


def evaluate(snapshot: PageSnapshot, ctx: RuleContext) -> list[RuleResult]:
    """One result per enabled rule; a rule that crashes yields ``error``, not a lost page.
    The work one page may cost is bounded: its text (PageTooLarge) and its time (rules not
    reached by ``max_evaluation_s`` are errors saying so)."""
    return evaluate_page(snapshot, ctx)[0]


class PageEvaluation(NamedTuple):
    """A page's results, the verdicts on its texts judged now (not found in
    ``ctx.known``, by text hash, for the judged-post cache), and the earliest instant the
    results could change with the same input (None: the clock changes nothing)."""

    results: list[RuleResult]
    computed: Mapping[str, TextVerdict]
    valid_until: datetime | None


def evaluate_page(snapshot: PageSnapshot, ctx: RuleContext) -> PageEvaluation:
    """:func:`evaluate`, with its judged verdicts and how long its results hold: until
    the earliest instant a rule that read the clock declares (:meth:`Rule.valid_until`;
    a rule that read it and declares nothing, or a rule that could not be evaluated, holds
    for this instant only), or a date dropped as not yet true would be kept."""
    limits = ctx.rules
    size = sum(len(post.text) for post in snapshot.posts or [])
    if size > limits.max_page_text_mb * 1_000_000:
        raise PageTooLarge(
            f"the page's posts hold {size / 1_000_000:.1f} million characters, over the "
            f"limit of {limits.max_page_text_mb:g} million ([rules] max_page_text_mb)"
        )
    deadline = time.monotonic() + limits.max_evaluation_s
    bounds = [trusted_until(snapshot, ctx.now)]
    snapshot = trusted(snapshot, ctx.now)
    page = text_matcher(ctx).page((post.text for post in snapshot.posts or []), ctx.known)
    ctx = replace(ctx, text=page)  # the rules share one scan of each post
    watched = _Watched(**{f.name: getattr(ctx, f.name) for f in fields(RuleContext)})
    results = []
    for rule in enabled_rules(limits):
        if time.monotonic() > deadline:
            results.append(_timed_out(rule, limits.max_evaluation_s))
        else:
            result, bound = _evaluate_rule(rule, snapshot, ctx, watched)
            results.append(result)
            bounds.append(bound)
    if any(result.status == Status.ERROR for result in results):
        bounds.append(ctx.now)  # a crash or a timeout is not an answer to keep
    hashes = _post_hashes(snapshot, results)
    results = [with_text_hashes(result, hashes) for result in results]
    results = [apply_dismissals(result, ctx.dismissals) for result in results]
    results = [_capped(result, limits.max_evidence) for result in results]
    if snapshot.limits or snapshot.coverage:
        by_id = {rule.id: rule for rule in all_rules()}
        results = [_within(result, by_id[result.rule], snapshot) for result in results]
    if snapshot.source:  # not read from the platform: every result says what it rests on
        results = [_sourced(result, snapshot.source) for result in results]
    valid_until = min((b for b in bounds if b is not None), default=None)
    return PageEvaluation(results, page.computed, valid_until)


def _post_hashes(snapshot: PageSnapshot, results: list[RuleResult]) -> dict[str, str]:
    """The text hash of each post that post evidence of ``results`` names, by post id."""
    named = {e.ref for r in results for e in r.evidence if e.kind == POST}
    return {p.id: text_hash(p.text) for p in snapshot.posts or [] if p.id in named}


def _within(result: RuleResult, rule: Rule, snapshot: PageSnapshot) -> RuleResult:
    """A result that says no more than was seen: a pass over a field the connector cut
    short becomes a warning naming the cut; a pass over part of a field by design (a
    look-back window) says which part."""
    if result.status != Status.PASS:
        return result
    cut = [snapshot.limits[f] for f in rule.reads if f in snapshot.limits]
    if cut:
        message = f"{result.message.rstrip()} But not everything was read: {'; '.join(cut)}."
        return result.model_copy(update={"status": Status.WARN, "message": message})
    scope = [snapshot.coverage[f] for f in rule.reads if f in snapshot.coverage]
    if scope:
        message = f"{result.message.rstrip()} (Read: {'; '.join(scope)}.)"
        return result.model_copy(update={"message": message})
    return result


def _timed_out(rule: Rule, seconds: float) -> RuleResult:
    """The result of a rule the page's time ran out before."""
    return RuleResult(
        rule=rule.id,
        status=Status.ERROR,
        severity=rule.severity,
        message=f"Not evaluated: the page's rules took longer than {seconds:g} s "
        "([rules] max_evaluation_s).",
    )


def _capped(result: RuleResult, limit: int) -> RuleResult:
    """The result with at most ``limit`` evidence items, then one saying how many more."""
    if len(result.evidence) <= limit:
        return result
    more = len(result.evidence) - limit
    rest = Evidence(kind="more", value=f"and {more} more", note="not listed")
    return result.model_copy(update={"evidence": [*result.evidence[:limit], rest]})


def _sourced(result: RuleResult, source: str) -> RuleResult:
    """The result, its message saying the data came from ``source`` (an attestation)."""
    if source in result.message:
        return result
    message = f"{result.message.rstrip()} (Based on the {source}.)"
    return result.model_copy(update={"message": message})


@dataclass(frozen=True)
class _Watched(RuleContext):
    """A rule's context that notes whether the rule read the clock (``now``)."""

    clock_read: list[bool] = field(default_factory=list)

    def __getattribute__(self, name: str) -> Any:
        if name == "now":
            object.__getattribute__(self, "clock_read").append(True)
        return object.__getattribute__(self, name)


def _bound(
    rule: Rule, snapshot: PageSnapshot, ctx: RuleContext, clock_read: bool
) -> datetime | None:
    """Until when ``rule``'s result holds (see :func:`evaluate_page`)."""
    if type(rule).valid_until is not Rule.valid_until:
        return rule.valid_until(snapshot, ctx)
    return ctx.now if clock_read else None


def _evaluate_rule(
    rule: Rule, snapshot: PageSnapshot, ctx: RuleContext, watched: _Watched
) -> tuple[RuleResult, datetime | None]:
    """One rule's result, graded by any severity override, and until when it holds
    (``watched``: ``ctx`` noting whether the rule reads the clock)."""
    watched.clock_read.clear()
    try:
        result = rule.check(snapshot, watched)
        try:
            bound = _bound(rule, snapshot, ctx, bool(watched.clock_read))
        except Exception:  # its result stands, good for this instant only
            log.exception("rule %s: valid_until failed on page %s", rule.id, ctx.page.id)
            bound = ctx.now
    except Exception as exc:  # one buggy rule must not hide the others' results
        log.exception("rule %s failed on page %s", rule.id, ctx.page.id)
        result = RuleResult(
            rule=rule.id,
            status=Status.ERROR,
            severity=rule.severity,
            message=f"The rule could not be evaluated ({type(exc).__name__}: {exc}).",
        )
        bound = ctx.now
    override = ctx.rules.overrides.get(rule.id)
    if override and override.severity and result.severity == rule.severity:
        result.severity = override.severity  # results graded on their own keep theirs
    return mask_result(result, frozenset(ctx.district.student_email_domains)), bound
