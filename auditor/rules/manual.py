"""Rules only a person can judge; they appear as a checklist in the report."""

from __future__ import annotations

from auditor.results import RuleResult, Severity
from auditor.rules.base import Rule, RuleContext
from auditor.snapshot import PageSnapshot


class Misrepresentation(Rule):
    id = "DS9.misrepresentation"
    title = "Personal views are not presented as the district's"
    clause = "DS 9"
    severity = Severity.MEDIUM
    rationale = "Whether a post speaks for the district is a judgement no pattern can make."
    remediation = (
        "Edit or remove posts that present personal opinions as the position of the "
        "school or district; add 'views are my own' where personal views are shared."
    )

    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        return self.manual(
            "Read recent posts and the page description: do they present the employee's "
            "personal views as the school's or district's?"
        )
