"""The vocabulary of audit results: statuses, severities, evidence and rule metadata."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Status(StrEnum):
    """Outcome of one rule on one page (contract: findings.json)."""

    PASS = "pass"
    FAIL = "fail"
    WARN = "warn"
    WAIVED = "waived"
    NOT_APPLICABLE = "not-applicable"
    MANUAL = "manual"
    ERROR = "error"


class Severity(StrEnum):
    """How urgent a failing result is."""

    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.LOW: 1, Severity.MEDIUM: 2, Severity.HIGH: 3}

# Order in which results are listed: what needs attention first.
STATUS_ORDER: dict[Status, int] = {
    Status.FAIL: 0,
    Status.ERROR: 1,
    Status.WARN: 2,
    Status.MANUAL: 3,
    Status.WAIVED: 4,
    Status.NOT_APPLICABLE: 5,
    Status.PASS: 6,
}


class Evidence(BaseModel):
    """One thing that shows why a result is what it is: a member, post, link or setting."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kind: str  # "member", "post", "link", "setting", "page", "approval", ...
    ref: str | None = None  # member id / post id / setting name
    value: str  # what was found (masked when it is student data)
    note: str | None = None
    # For a post: when it was written, its author's role (staff, student, parent, member),
    # a link to it where the platform gives one, and what decided the finding (a precise
    # pattern, or the classifier with its score between 0 and 1).
    at: datetime | None = None
    role: str | None = None
    url: str | None = None
    decided_by: Literal["pattern", "classifier"] | None = None
    score: float | None = None
    # For a post: the digest of its text as judged (auditor.text.digest.text_hash), so that a
    # dismissal of this finding lapses when the post is edited.
    text_hash: str | None = None


class RuleResult(BaseModel):
    """One rule's verdict on one page."""

    model_config = ConfigDict(extra="forbid")

    rule: str
    status: Status
    severity: Severity
    message: str
    evidence: list[Evidence] = []


class RuleInfo(BaseModel):
    """A rule's metadata as one run used it: stored with the run, so that a report of an
    old run shows the titles, severities and fix steps of its day, not today's."""

    model_config = ConfigDict(frozen=True)

    id: str
    title: str
    clause: str
    clause_text: str
    severity: Severity  # after any [rules.overrides] of that run
    rationale: str
    remediation: str  # platform-neutral steps
    steps: dict[str, str] = {}  # platform -> that platform's own steps

    def remediation_for(self, platform: str) -> str:
        """How to fix a failure of this rule on ``platform``."""
        return self.steps.get(platform, self.remediation)
