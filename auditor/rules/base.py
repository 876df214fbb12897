"""The base class of every rule: its metadata and helpers that build results.

Like a Prowler check, each rule is one class carrying its id, title, policy clause
(quoted), default severity, rationale and platform-neutral remediation (each platform's
own steps are declared by its connector), and yields exactly one result per page.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar

from auditor.config import DistrictConfig, PageConfig, RulesConfig
from auditor.people import People
from auditor.policy import CLAUSES
from auditor.results import Evidence, RuleResult, Severity, Status
from auditor.rules.dismissals import Dismissal
from auditor.snapshot import PageSnapshot

if TYPE_CHECKING:
    from auditor.text.matcher import TextMatcher
    from auditor.text.verdict import TextVerdict


@dataclass(frozen=True)
class RuleContext:
    """What a rule may know besides the snapshot: the registered page and district."""

    page: PageConfig
    district: DistrictConfig
    rules: RulesConfig
    people: People
    now: datetime
    # The content detectors, made once per run (None: made from ``rules`` and ``district``
    # where a rule needs them); the page's view of them while the catalog evaluates a page.
    text: TextMatcher | None = None
    # The page's posts IT dismissed as not a violation of a rule (auditor dismiss); the
    # catalog drops their evidence while their text is unchanged.
    dismissals: tuple[Dismissal, ...] = ()
    # Verdicts on the page's texts judged in earlier runs (the judged-post cache), by text
    # hash, under ``text.version``: the catalog does not judge those texts again.
    known: Mapping[str, TextVerdict] | None = None


class Rule(ABC):
    """One policy check. Subclasses set the metadata and implement :meth:`check`."""

    id: ClassVar[str]
    title: ClassVar[str]
    clause: ClassVar[str]  # key of auditor.policy.CLAUSES
    severity: ClassVar[Severity]
    rationale: ClassVar[str]
    remediation: ClassVar[str]  # platform-neutral steps; connectors add their platform's own
    reads: ClassVar[tuple[str, ...]] = ()
    """Snapshot fields where a pass means "nothing wrong was found": where a connector cut
    one short (``limits``), the pass becomes a warning naming the cut, and what was read by
    design (``coverage``) is said."""

    @property
    def clause_text(self) -> str:
        return CLAUSES[self.clause]

    @abstractmethod
    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        """Evaluate the rule on one page."""

    def valid_until(self, snapshot: PageSnapshot, ctx: RuleContext) -> datetime | None:
        """The earliest instant after ``ctx.now`` at which :meth:`check` could answer
        otherwise on the same ``snapshot`` and context (None: the clock changes nothing),
        so that a run may re-use the page's results until then. A rule that reads
        ``ctx.now`` overrides this; one that reads it without overriding it makes its
        page's results good for this instant only (the page is evaluated on every run)."""
        return None

    # Result builders -------------------------------------------------------------

    def _result(
        self,
        status: Status,
        message: str,
        evidence: Iterable[Evidence] = (),
        severity: Severity | None = None,
    ) -> RuleResult:
        return RuleResult(
            rule=self.id,
            status=status,
            severity=severity or self.severity,
            message=message,
            evidence=list(evidence),
        )

    def passed(self, message: str, evidence: Iterable[Evidence] = ()) -> RuleResult:
        return self._result(Status.PASS, message, evidence)

    def failed(
        self, message: str, evidence: Iterable[Evidence] = (), severity: Severity | None = None
    ) -> RuleResult:
        return self._result(Status.FAIL, message, evidence, severity)

    def warned(
        self, message: str, evidence: Iterable[Evidence] = (), severity: Severity | None = None
    ) -> RuleResult:
        return self._result(Status.WARN, message, evidence, severity)

    def not_applicable(self, reason: str) -> RuleResult:
        return self._result(Status.NOT_APPLICABLE, reason)

    def manual(self, message: str) -> RuleResult:
        return self._result(Status.MANUAL, message)


def setting(name: str, value: object, note: str | None = None) -> Evidence:
    """Evidence that a page setting has a value."""
    shown = "unknown" if value is None else str(value)
    return Evidence(kind="setting", ref=name, value=shown, note=note)


def member_evidence(member_id: str, label: str, note: str | None = None) -> Evidence:
    """Evidence naming a member."""
    return Evidence(kind="member", ref=member_id, value=label, note=note)
