"""Helpers shared by the rules that read posts (DS 3, DS 6, DS 7, DS 8)."""

from __future__ import annotations

from auditor.people import member_email
from auditor.results import Evidence
from auditor.rules.base import RuleContext
from auditor.snapshot import Member, PageSnapshot, Post
from auditor.text.matcher import TextMatcher

NO_POSTS = "The platform did not return the page's posts."


def post_evidence(post: Post, value: str, note: str | None = None) -> Evidence:
    """Evidence pointing at one post (by id, never quoting the whole post)."""
    return Evidence(kind="post", ref=post.id, value=value, note=note)


def authors(snapshot: PageSnapshot) -> dict[str, Member]:
    """Members by id, to find who wrote a post."""
    return {m.id: m for m in snapshot.members or []}


def author_is_staff(author: Member | None, snapshot: PageSnapshot, ctx: RuleContext) -> bool:
    """Whether a post's author is the owner, the supervisor or district staff."""
    return author is not None and ctx.people.is_page_staff(author, ctx.page, snapshot.platform)


def author_note(author: Member | None, staff: bool) -> str:
    """Who wrote a post, for evidence: staff are named, others only by their kind."""
    if author is None:
        return "author unknown"
    if staff:
        return f"by staff: {author.name or member_email(author) or author.id}"
    return f"by member {author.id}"


def text_matcher(ctx: RuleContext) -> TextMatcher:
    """The content detectors of the run; for a context made without them, detectors made
    now for its rules and district (a quarter of a second each time: make them once a run)."""
    return ctx.text if ctx.text is not None else TextMatcher(ctx.rules, ctx.district)
