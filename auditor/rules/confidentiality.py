"""DS 6: posts do not disclose student information; evidence is always masked."""

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
from auditor.text.confidential import LABELS, Disclosure
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
        by_id = authors(snapshot)
        evidence: list[Evidence] = []
        kinds: set[str] = set()
        for post in snapshot.posts:
            found = text.disclosures(post.text)
            if not found:
                continue
            author = by_id.get(post.author_id or "")
            staff = author_is_staff(author, snapshot, ctx)
            if staff:  # a staff member's own phone or email ("my cell") is not a student's
                found = [item for item in found if not item.own]
                if not found:
                    continue
            role = author_role(author, staff, snapshot, ctx)
            values = [item.value for item in found]
            for item in found:
                kinds.add(LABELS[item.category])
                evidence.append(
                    post_evidence(
                        post,
                        _described(item, post.text, values),
                        role=role,
                        decided_by="classifier" if item.decided_by == "classifier" else "pattern",
                        score=item.score,
                    )
                )
        if evidence:
            return self.failed(
                f"{len({e.ref for e in evidence})} post(s) disclose student information: "
                f"{', '.join(sorted(kinds))}.",
                evidence,
            )
        return self.passed(
            f"None of the {len(snapshot.posts)} post(s) discloses student information."
        )


def _described(item: Disclosure, text: str, values: list[str]) -> str:
    """Evidence text: the kind of information, its value masked, and the sentence it is in
    with every value found in the post, numbers and names masked."""
    label = LABELS[item.category]
    if item.value:
        sentence = shown_sentence(sentence_with(text, item.value), values, names=True)
        return f"{masked(label, item.value)} in {sentence}"
    return f"{label} in {shown_sentence(item.sentence or text, values, names=True)}"
