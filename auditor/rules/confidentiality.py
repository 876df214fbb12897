"""DS 6: posts do not disclose student information; evidence is always masked."""

from __future__ import annotations

from auditor.results import Evidence, RuleResult, Severity
from auditor.rules.base import Rule, RuleContext
from auditor.rules.posts import NO_POSTS, post_evidence, text_matcher
from auditor.snapshot import PageSnapshot
from auditor.text.confidential import LABELS
from auditor.text.mask import masked


class Confidentiality(Rule):
    id = "DS6.confidentiality"
    title = "Posts keep student information confidential"
    clause = "DS 6"
    severity = Severity.HIGH
    reads = ("posts",)
    rationale = (
        "Student phone numbers, addresses, ids, birth dates, grades, health, IEP/504 and "
        "discipline details are protected records (FERPA); a group post spreads them to "
        "every member and beyond."
    )
    remediation = (
        "Delete the post (and any copies), tell the supervisor, and share such details "
        "only through the district's student information system or in person."
    )

    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        if snapshot.posts is None:
            return self.not_applicable(snapshot.why_missing("posts", NO_POSTS))
        text = text_matcher(ctx)
        evidence: list[Evidence] = []
        for post in snapshot.posts:
            for item in text.disclosures(post.text):
                evidence.append(post_evidence(post, masked(LABELS[item.category], item.value)))
        if evidence:
            kinds = sorted({e.value.split(" (")[0] for e in evidence})
            return self.failed(
                f"{len({e.ref for e in evidence})} post(s) disclose student information: "
                f"{', '.join(kinds)}.",
                evidence,
            )
        return self.passed(
            f"None of the {len(snapshot.posts)} post(s) discloses student information."
        )
