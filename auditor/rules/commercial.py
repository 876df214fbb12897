"""DS 8: no posts for private gain, politics, advertising, proselytizing or solicitation."""

from __future__ import annotations

from auditor.results import Evidence, RuleResult, Severity
from auditor.rules.base import Rule, RuleContext
from auditor.rules.posts import NO_POSTS, author_is_staff, authors, post_evidence, text_matcher
from auditor.snapshot import PageSnapshot
from auditor.text.commercial import LABELS


class NoCommercialContent(Rule):
    id = "DS8.no-commercial-content"
    title = "No commercial, political or religious posts"
    clause = "DS 8"
    severity = Severity.MEDIUM
    reads = ("posts",)
    rationale = (
        "A district page speaks for the school: using it to sell, campaign, advertise, "
        "proselytize or ask for money for private causes breaches DS 8. The club's own "
        "sanctioned fundraisers and fees are allowed."
    )
    remediation = (
        "Remove the post and remind the page's members that only the club's own district- "
        "approved activities may be promoted."
    )

    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        if snapshot.posts is None:
            return self.not_applicable(snapshot.why_missing("posts", NO_POSTS))
        text = text_matcher(ctx)
        by_id = authors(snapshot)
        evidence: list[Evidence] = []
        for post in snapshot.posts:
            findings = text.commercial(post.text)
            if not findings:
                continue
            staff = author_is_staff(by_id.get(post.author_id or ""), snapshot, ctx)
            categories: dict[str, str] = {}
            for finding in findings:
                # Private gain is an employee's; a student or parent selling is commercial.
                category = finding.category
                if category == "financial-gain" and not staff:
                    category = "commercial"
                categories.setdefault(category, finding.phrase)
            if "financial-gain" in categories:  # an employee's own offer is part of the gain
                categories.pop("commercial", None)
            for category, phrase in categories.items():
                evidence.append(post_evidence(post, f'{LABELS[category]}: "{phrase}"'))
        if evidence:
            kinds = sorted({e.value.split(":")[0] for e in evidence})
            return self.failed(
                f"{len({e.ref for e in evidence})} post(s) are {' / '.join(kinds)}.", evidence
            )
        return self.passed(
            f"None of the {len(snapshot.posts)} post(s) is commercial, political, religious "
            "or a solicitation."
        )
