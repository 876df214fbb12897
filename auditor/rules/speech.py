"""DS 3: posts use respectful speech (no harassment, abuse, threats, slurs or profanity)."""

from __future__ import annotations

from auditor.results import Evidence, RuleResult, Severity
from auditor.rules.base import Rule, RuleContext
from auditor.rules.posts import (
    NO_POSTS,
    author_is_staff,
    author_note,
    author_role,
    authors,
    post_evidence,
    sentence_with,
    shown_sentence,
    text_matcher,
)
from auditor.snapshot import PageSnapshot
from auditor.text.mask import mask
from auditor.text.speech import SpeechFinding

_KIND_LABELS = {
    "slur": "slur",
    "profanity": "profanity",
    "abusive": "abusive or harassing language",
    "threat": "threatening language",
    "offensive": "offensive language",
    "disrespectful": "disrespectful",
}


class RespectfulSpeech(Rule):
    id = "DS3.respectful-speech"
    title = "Posts use respectful speech"
    clause = "DS 3"
    severity = Severity.MEDIUM
    reads = ("posts",)
    rationale = (
        "Harassing, abusive, threatening, discriminatory or profane posts on a district "
        "page harm students and speak for the school; from staff they breach DS 3 directly."
    )
    remediation = (
        "Remove the post, talk with its author, and turn on post approval so that such "
        "posts are held before members see them."
    )

    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        if snapshot.posts is None:
            return self.not_applicable(snapshot.why_missing("posts", NO_POSTS))
        text = text_matcher(ctx)
        by_id = authors(snapshot)
        evidence: list[Evidence] = []
        staff_posts = 0
        for post in snapshot.posts:
            finding = text.speech(post.text)
            if finding is None:
                continue
            author = by_id.get(post.author_id or "")
            staff = author_is_staff(author, snapshot, ctx)
            staff_posts += staff
            evidence.append(
                post_evidence(
                    post,
                    _described(finding, post.text),
                    author_note(author, staff),
                    role=author_role(author, staff, snapshot, ctx),
                    decided_by="classifier" if finding.decided_by == "classifier" else "pattern",
                    score=finding.score,
                )
            )
        if evidence:
            by_staff = f", {staff_posts} of them by staff" if staff_posts else ""
            return self.failed(
                f"{len(evidence)} post(s) are not respectful{by_staff}.",
                evidence,
                severity=Severity.HIGH if staff_posts else Severity.MEDIUM,
            )
        return self.passed(f"None of the {len(snapshot.posts)} post(s) is disrespectful.")


def _described(finding: SpeechFinding, text: str) -> str:
    """Evidence text: the kind of problem, the term masked, and the sentence it is in."""
    label = _KIND_LABELS[finding.kind]
    if finding.matched:
        sentence = sentence_with(text, finding.matched)
        return f"{label}: {mask(finding.matched)} in {shown_sentence(sentence, [finding.matched])}"
    return f"{label}: {shown_sentence(finding.sentence or text)}"
