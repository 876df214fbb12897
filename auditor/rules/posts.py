"""Helpers shared by the rules that read posts (DS 3, DS 6, DS 7, DS 8)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

from auditor.people import member_email
from auditor.results import Evidence
from auditor.rules.base import RuleContext
from auditor.snapshot import Member, PageSnapshot, Post
from auditor.text.mask import mask
from auditor.text.matcher import TextMatcher
from auditor.text.sentences import sentences

NO_POSTS = "The platform did not return the page's posts."
MAX_SENTENCE = 200  # characters of a triggering sentence shown in evidence
_ROLES = {"staff": "staff", "student": "student", "guardian": "parent"}
# What a sentence shown in evidence never shows: email addresses, and runs of digits (phone
# numbers, ids, dates, scores) ...
_ALWAYS_HIDDEN = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+|(?<![•\d])\d(?:[\d\s().,/:+-]*\d)?")
# ... and for student information (DS 6), names: capitalised words after the first.
_NAME = re.compile(r"(?<=\S\s)[A-Z][a-z]+(?:['’]s)?")


def post_evidence(
    post: Post,
    value: str,
    note: str | None = None,
    *,
    role: str | None = None,
    decided_by: Literal["pattern", "classifier"] | None = None,
    score: float | None = None,
) -> Evidence:
    """Evidence pointing at one post (by id, never quoting the whole post), with its date,
    its author's role and what decided the finding."""
    return Evidence(
        kind="post",
        ref=post.id,
        value=value,
        note=note,
        at=post.created_at,
        role=role,
        url=post.url,
        decided_by=decided_by,
        score=None if score is None else round(score, 3),
    )


def authors(snapshot: PageSnapshot) -> dict[str, Member]:
    """Members by id, to find who wrote a post."""
    return {m.id: m for m in snapshot.members or []}


def author_is_staff(author: Member | None, snapshot: PageSnapshot, ctx: RuleContext) -> bool:
    """Whether a post's author is the owner, the supervisor or district staff."""
    return author is not None and ctx.people.is_page_staff(author, ctx.page, snapshot.platform)


def author_role(
    author: Member | None, staff: bool, snapshot: PageSnapshot, ctx: RuleContext
) -> str:
    """The role of a post's author for evidence: staff, student, parent, member (someone the
    district does not know) or unknown (no author)."""
    if author is None:
        return "unknown"
    if staff:
        return "staff"
    return _ROLES.get(ctx.people.kind_of(author, snapshot.platform), "member")


def author_note(author: Member | None, staff: bool) -> str:
    """Who wrote a post, for evidence: staff are named, others only by their kind."""
    if author is None:
        return "author unknown"
    if staff:
        return f"by staff: {author.name or member_email(author) or author.id}"
    return f"by member {author.id}"


def sentence_with(text: str, found: str) -> str:
    """The sentence of ``text`` that holds ``found`` (the first; the whole text if none)."""
    for sentence in sentences(text):
        if found and found in sentence:
            return sentence
    return text.strip()


def shown_as_written(sentence: str) -> bool:
    """Whether evidence would show ``sentence`` unchanged (no email address or number for
    :func:`shown_sentence` to mask; names aside, which only DS 6 masks)."""
    return _ALWAYS_HIDDEN.search(sentence) is None


def shown_sentence(sentence: str, hidden: Iterable[str] = (), names: bool = False) -> str:
    """A sentence as evidence shows it, quoted: ``hidden`` values, email addresses and
    numbers masked, and with ``names`` (student information) capitalised words after the
    first too; cut at :data:`MAX_SENTENCE` characters."""
    for value in sorted({v for v in hidden if v.strip()}, key=len, reverse=True):
        sentence = sentence.replace(value, mask(value))
    sentence = _ALWAYS_HIDDEN.sub(lambda m: mask(m.group()), sentence)
    if names:
        sentence = _NAME.sub(lambda m: mask(m.group()), sentence)
    if len(sentence) > MAX_SENTENCE:
        sentence = sentence[: MAX_SENTENCE - 1] + "…"
    return f'"{sentence}"'


def text_matcher(ctx: RuleContext) -> TextMatcher:
    """The content detectors of the run; for a context made without them, detectors made
    now for its rules and district (a quarter of a second each time: make them once a run)."""
    return ctx.text if ctx.text is not None else TextMatcher(ctx.rules, ctx.district)
