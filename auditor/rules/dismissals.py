"""People's word on findings, applied by the catalog to every result: a post that IT
dismissed as not a violation of a rule is not reported for that rule again, until its text
changes. Post evidence carries its text's hash so that the change can be seen.

The runner loads a page's dismissals from the database and hands them over in
``RuleContext.dismissals``; nothing here reads the store.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from auditor.results import Evidence, RuleResult, Status

POST = "post"  # the evidence kind that names one post by id


@dataclass(frozen=True)
class Dismissal:
    """One post dismissed as not a violation of one rule, by whom and when, and the hash of
    the post's text it was dismissed for."""

    rule: str
    post_id: str
    text_hash: str
    by: str
    at: datetime
    reason: str = ""


def with_text_hashes(result: RuleResult, hashes: Mapping[str, str]) -> RuleResult:
    """The result, each post evidence item naming a post of the page carrying the hash of
    that post's text (``hashes``: post id -> text hash)."""
    evidence = [
        e.model_copy(update={"text_hash": hashes[e.ref]})
        if e.kind == POST and e.ref in hashes and e.text_hash is None
        else e
        for e in result.evidence
    ]
    if evidence == result.evidence:
        return result
    return result.model_copy(update={"evidence": evidence})


def apply_dismissals(result: RuleResult, dismissals: Sequence[Dismissal]) -> RuleResult:
    """The result without the post evidence people dismissed for its rule (while the post's
    text is unchanged; an edited post's evidence says it was dismissed before). A failure
    or warning left with no evidence passes, saying who dismissed what and when; one with
    evidence left says how many were dismissed."""
    mine = {d.post_id: d for d in dismissals if d.rule == result.rule}
    if not mine or result.status not in (Status.FAIL, Status.WARN):
        return result
    kept: list[Evidence] = []
    by_post: dict[str, Dismissal] = {}  # a post may carry several items (DS 6, DS 8)
    for item in result.evidence:
        said = mine.get(item.ref or "") if item.kind == POST else None
        if said is None:
            kept.append(item)
        elif item.text_hash == said.text_hash:
            by_post[said.post_id] = said
        else:  # edited since: judged afresh, and the reader told why it is back
            edited = f"dismissed by {_who([said])}, but the post was edited since"
            note = f"{item.note}; {edited}" if item.note else edited
            kept.append(item.model_copy(update={"note": note}))
    if not by_post:
        return result if kept == result.evidence else result.model_copy(update={"evidence": kept})
    dropped = list(by_post.values())
    who = _who(dropped)
    if kept:
        message = (
            f"{result.message.rstrip()} Of these, {len(dropped)} {_were(dropped)} dismissed "
            f"as not a violation by {who} and {_are(dropped)} not listed."
        )
        return result.model_copy(update={"message": message, "evidence": kept})
    message = f"{len(dropped)} post(s) dismissed as not a violation by {who}; nothing else found."
    return result.model_copy(update={"status": Status.PASS, "message": message, "evidence": []})


def _who(dropped: Sequence[Dismissal]) -> str:
    """``ana on 2026-12-01`` for each distinct person and day, in order."""
    seen = dict.fromkeys(f"{d.by} on {d.at.date().isoformat()}" for d in dropped)
    return "; ".join(seen)


def _were(dropped: Sequence[Dismissal]) -> str:
    """The verb agreeing with how many were dropped."""
    return "was" if len(dropped) == 1 else "were"


def _are(dropped: Sequence[Dismissal]) -> str:
    """The verb agreeing with how many were dropped."""
    return "is" if len(dropped) == 1 else "are"
