"""DS 7: the page and its posts link only to district sites and allowed domains."""

from __future__ import annotations

from collections.abc import Iterator

from auditor.results import Evidence, RuleResult, Severity
from auditor.rules.base import Rule, RuleContext
from auditor.rules.posts import (
    NO_POSTS,
    author_is_staff,
    author_role,
    authors,
    post_evidence,
    text_matcher,
)
from auditor.snapshot import PageSnapshot, Post
from auditor.text.links import LinkPolicy, LinkVerdict
from auditor.text.matcher import TextMatcher


class NoPersonalLinks(Rule):
    id = "DS7.no-personal-links"
    title = "No links to personal or non-district sites"
    clause = "DS 7"
    severity = Severity.MEDIUM
    reads = ("posts", "links", "description")
    rationale = (
        "A link from a district page to an employee's personal profile, payment handle or an "
        "outside site carries students off the supervised page; personal social media links "
        "are the most serious."
    )
    remediation = (
        "Remove the link, or ask IT to add the site to the district's allowed sites if the "
        "district sponsors it."
    )

    def check(self, snapshot: PageSnapshot, ctx: RuleContext) -> RuleResult:
        text = text_matcher(ctx)
        policy = LinkPolicy(
            text.domains,
            district_domains=tuple(ctx.district.web_domains),
            allowed_domains=tuple(ctx.rules.allowed_domains),
            extra_social=tuple(ctx.rules.personal_social_domains),
            own_url=snapshot.url,
        )
        evidence: list[Evidence] = []
        by_id = authors(snapshot)
        personal = 0
        seen: set[tuple[str, str]] = set()
        for where, url, post in _links(snapshot, text):
            if (where, url) in seen:
                continue
            seen.add((where, url))
            verdict = policy.classify(url)
            if verdict.kind in ("district", "allowed"):
                continue
            personal += verdict.kind == "personal-social"
            if post is None:
                evidence.append(Evidence(kind="link", ref=where, value=url, note=_note(verdict)))
                continue
            author = by_id.get(post.author_id or "")
            role = author_role(author, author_is_staff(author, snapshot, ctx), snapshot, ctx)
            found = post_evidence(post, url, _note(verdict), role=role, decided_by="pattern")
            evidence.append(found.model_copy(update={"kind": "link"}))
        if evidence:
            return self.failed(
                f"{len(evidence)} link(s) leave the district's sites"
                + (f", {personal} to personal social media" if personal else "")
                + ".",
                evidence,
                severity=Severity.HIGH if personal else Severity.MEDIUM,
            )
        if snapshot.posts is None:
            return self.not_applicable(
                snapshot.why_missing("posts", NO_POSTS)
                + " The page's own links and description point only to district or allowed "
                "sites."
            )
        return self.passed("Every link points to a district site or an allowed domain.")


def _links(snapshot: PageSnapshot, text: TextMatcher) -> Iterator[tuple[str, str, Post | None]]:
    """``(where, url, post)`` for each link of the page, its description and its posts."""
    for url in snapshot.links:
        yield "page links", url, None
    for url in text.urls(snapshot.description):
        yield "description", url, None
    for post in snapshot.posts or []:
        for url in post.links:
            yield post.id, url, post
        for url in text.urls(post.text):
            yield post.id, url, post


def _note(verdict: LinkVerdict) -> str:
    if verdict.kind == "personal-social":
        return f"personal social media ({verdict.domain})"
    return f"not a district or allowed site ({verdict.domain})"
