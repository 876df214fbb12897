"""Contract tests every rule runs, in one line, as every connector runs the connector kit.

Subclass :class:`RuleContract` in the rule's test file, name the rule and give three
snapshots (as keyword overrides of a standard one): one it passes, one it fails, and one
without the data it needs. The inherited tests check that the rule is installed through
the ``page_auditor.rules`` entry-point group, that its metadata is complete, that it can
pass and fail, that missing data gives ``not-applicable`` with a reason, and that no
student's phone number or email reaches its evidence unmasked::

    class TestClosedContract(RuleContract):
        rule_id = "DS2.closed"
        passing = {"settings": {"visibility": "secret"}}
        failing = {"settings": {"visibility": "public"}}
        missing = {"settings": {}}
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any, ClassVar

import pytest

from auditor.config import DistrictConfig, PageConfig, RulesConfig
from auditor.people import People
from auditor.policy import CLAUSES
from auditor.results import RuleResult, Severity, Status
from auditor.roster import Roster
from auditor.rules import catalog
from auditor.rules.base import Rule, RuleContext
from auditor.snapshot import PageSnapshot

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
DISTRICT = DistrictConfig(
    name="Test District",
    web_domains=["district.org"],
    staff_email_domains=["district.org"],
    student_email_domains=["students.district.org"],
    timezone="America/New_York",
)
OWNER = {"id": "o", "email": "owner@district.org", "role": "owner", "name": "Olive Owner"}
SUPERVISOR = {"id": "b", "email": "boss@district.org", "role": "member", "name": "Bo Boss"}
STUDENT = {"id": "s1", "email": "kid@students.district.org", "role": "member", "name": "Kit"}
STUDENT_PHONE = "203-555-0147"
STUDENT_EMAIL = "ava.ramos@students.district.org"
LEAKS = (
    f"Ava's cell is {STUDENT_PHONE}, email her at {STUDENT_EMAIL} (born 2009-03-14). "
    f"Form: https://forms.example.com/f?student={STUDENT_EMAIL}&phone=2035550147"
)


class RuleContract:
    """Base class of a rule's contract tests; subclasses name the rule and its cases."""

    rule_id: ClassVar[str]
    passing: ClassVar[dict[str, Any]]
    """Snapshot fields (over :meth:`snapshot`'s standard ones) with which the rule passes."""
    failing: ClassVar[dict[str, Any]]
    """Snapshot fields with which the rule fails."""
    missing: ClassVar[dict[str, Any] | None]
    """Snapshot fields without the data the rule needs (None: it needs no platform data,
    as for a rule that reads only the page register, and is never not-applicable)."""
    expected_without_data: ClassVar[frozenset[Status]] = frozenset(
        {Status.PASS, Status.FAIL, Status.WARN, Status.MANUAL}
    )
    """With ``missing = None``: the statuses the rule may give a snapshot with no data."""

    def page(self) -> PageConfig:
        """The registered page the rule is checked for (approved by its supervisor)."""
        return PageConfig(
            id="club",
            connector="c",
            external_id="x",
            name="Chess Club",
            owner=OWNER["email"],
            supervisor=SUPERVISOR["email"],
            approved_by=SUPERVISOR["email"],
            approved_on=date(2026, 8, 1),
        )

    def roster(self, tmp_path: Path) -> Roster | None:
        """The district's roster for the checks (none by default: email domains decide)."""
        return None

    def context(self, tmp_path: Path) -> RuleContext:
        """The rule context: a test district, :meth:`page` and :meth:`roster`."""
        return RuleContext(
            page=self.page(),
            district=DISTRICT,
            rules=RulesConfig(),
            people=People(DISTRICT, self.roster(tmp_path)),
            now=NOW,
        )

    def snapshot(self, **fields: Any) -> PageSnapshot:
        """A closed, moderated, invite-only group with owner, supervisor and a student."""
        data: dict[str, Any] = {
            "platform": "test-platform",
            "external_id": "x",
            "kind": "group",
            "settings": {"visibility": "secret", "join_policy": "invite", "post_moderation": "all"},
            "members": [OWNER, SUPERVISOR, STUDENT],
            "posts": [],
        }
        return PageSnapshot.model_validate(data | fields)

    @property
    def rule(self) -> Rule:
        return catalog.get(self.rule_id)

    def evaluate(self, tmp_path: Path, **fields: Any) -> RuleResult:
        """The rule's result as an audit gives it (through the catalog: overrides, masking)."""
        ctx = self.context(tmp_path)
        results = catalog.evaluate(self.snapshot(**fields), ctx)
        return next(r for r in results if r.rule == self.rule_id)

    # --- the contract --------------------------------------------------------------

    def test_installed_through_the_entry_point(self) -> None:
        assert self.rule_id in catalog.rule_ids(), f"{self.rule_id} is not installed"

    def test_metadata_is_complete(self) -> None:
        rule = self.rule
        assert rule.title.strip(), "title"
        assert rule.clause in CLAUSES, f"clause {rule.clause!r} is not quoted from the policy"
        assert rule.clause_text.strip()
        assert isinstance(rule.severity, Severity)
        assert rule.rationale.strip(), "rationale"
        assert rule.remediation.strip(), "remediation"

    def test_can_pass(self, tmp_path: Path) -> None:
        result = self.evaluate(tmp_path, **self.passing)
        assert result.status == Status.PASS, result.message
        assert result.message.strip()

    def test_can_fail(self, tmp_path: Path) -> None:
        result = self.evaluate(tmp_path, **self.failing)
        assert result.status == Status.FAIL, result.message
        assert result.message.strip()

    def test_missing_data_is_not_applicable_with_a_reason(self, tmp_path: Path) -> None:
        if self.missing is None:
            bare = PageSnapshot(platform="test-platform", external_id="x")
            result = next(
                r for r in catalog.evaluate(bare, self.context(tmp_path)) if r.rule == self.rule_id
            )
            assert result.status in self.expected_without_data, result.message
            return
        result = self.evaluate(tmp_path, **self.missing)
        assert result.status == Status.NOT_APPLICABLE, result.message
        assert len(result.message.strip()) > 10, "say why the data is missing"

    @pytest.mark.parametrize("case", ["passing", "failing"])
    def test_no_student_contact_reaches_evidence(self, case: str, tmp_path: Path) -> None:
        fields = dict(getattr(self, case))
        base = self.snapshot(**fields)
        leaky_post = {"id": "leak", "author_id": "o", "text": LEAKS, "links": []}
        fields["posts"] = [*(p.model_dump() for p in base.posts or []), leaky_post]
        fields["links"] = [*base.links, f"https://forms.example.com/f?student={STUDENT_EMAIL}"]
        fields["description"] = LEAKS
        result = self.evaluate(tmp_path, **fields)
        shown = " ".join(f"{e.value} {e.note or ''}" for e in result.evidence)
        for secret in (STUDENT_PHONE, "2035550147", STUDENT_EMAIL):
            assert secret not in shown, f"{secret} unmasked in evidence: {shown}"
