"""DS 8: no posts for private gain, politics, advertising, proselytizing or solicitation."""

from __future__ import annotations

from auditor.results import Evidence, RuleResult, Severity
from auditor.rules.base import Rule, RuleContext
from auditor.rules.posts import (
    NO_POSTS,
    author_is_staff,
    author_role,
    authors,
    post_evidence,
    sentence_with,
    shown_sentence,
    text_matcher,
)
from auditor.snapshot import PageSnapshot
from auditor.text.commercial import FIRST_PERSON_RE, LABELS, CommercialFinding


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
        kinds: set[str] = set()
        for post in snapshot.posts:
            findings = text.commercial(post.text)
            if not findings:
                continue
            author = by_id.get(post.author_id or "")
            staff = author_is_staff(author, snapshot, ctx)
            role = author_role(author, staff, snapshot, ctx)
            categories: dict[str, CommercialFinding] = {}
            for finding in findings:
                # Private gain is an employee's; a student or parent selling is commercial,
                # and an employee's ad in their own voice is their gain.
                category = finding.category
                if category == "financial-gain" and not staff:
                    category = "commercial"
                elif category == "commercial" and staff and FIRST_PERSON_RE.search(post.text):
                    category = "financial-gain"
                categories.setdefault(category, finding)
            if "financial-gain" in categories:  # an employee's own offer is part of the gain
                categories.pop("commercial", None)
            for category, finding in categories.items():
                kinds.add(LABELS[category])
                evidence.append(
                    post_evidence(
                        post,
                        f"{LABELS[category]}: {_described(finding, post.text)}",
                        role=role,
                        decided_by="classifier"
                        if finding.decided_by == "classifier"
                        else "pattern",
                        score=finding.score,
                    )
                )
        if evidence:
            return self.failed(
                f"{len({e.ref for e in evidence})} post(s) are {' / '.join(sorted(kinds))}.",
                evidence,
            )
        return self.passed(
            f"None of the {len(snapshot.posts)} post(s) is commercial, political, religious "
            "or a solicitation."
        )


def _described(finding: CommercialFinding, text: str) -> str:
    """Evidence text: the phrase that matched, if one did, and the sentence it is in."""
    if finding.phrase:
        sentence = shown_sentence(sentence_with(text, finding.phrase))
        return f'"{finding.phrase}" in {sentence}'
    return shown_sentence(finding.sentence or text)
