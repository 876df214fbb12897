"""Evidence in words, for the people who act on it: the digest and the run report show the
same facts (a post's date, its author's role, a link to it, and what flagged it)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from auditor.reports.environment import day, safe_url

# Evidence kinds as people name them; a setting is named by the setting itself.
EVIDENCE_LABELS = {
    "member": "Member",
    "post": "Post",
    "link": "Link",
    "approval": "Approval",
    "waiver": "Waiver",
    "page": "Page",
    "more": "More",
}
# What decided a content finding, in words.
DECIDED = {
    "pattern": "matched a known word, phrase or pattern",
    "classifier": "flagged by the language model",
}


@dataclass(frozen=True)
class EvidenceLine:
    """One piece of evidence in words: what it is, what was found, when and by whom it was
    written (posts), what flagged it, and a safe link (to the link found, or to the post)."""

    label: str
    value: str
    note: str | None
    href: str | None
    about: str | None = None  # "student, 2026-11-18"
    decided: str | None = None  # "flagged by the language model (score 0.93)"
    post_href: str | None = None  # the post on its platform


def evidence_lines(evidence: list[Mapping[str, Any]], tz: str = "UTC") -> list[EvidenceLine]:
    """A result's evidence for people: members by name and email, masked post excerpts
    with their date, author role and link, links, and settings by their name in words."""
    lines = []
    for e in evidence:
        kind, value = str(e.get("kind", "")), str(e.get("value", ""))
        if kind == "setting":
            label = str(e.get("ref") or "setting").replace("_", " ").capitalize()
            value = {"True": "yes", "False": "no", "None": "not known"}.get(value, value)
        else:
            label = EVIDENCE_LABELS.get(kind, kind.capitalize())
        lines.append(
            EvidenceLine(
                label=label,
                value=value,
                note=e.get("note"),
                href=safe_url(value) if kind == "link" else None,
                about=_about(e, tz),
                decided=_decided(e),
                post_href=safe_url(e.get("url")),
            )
        )
    return lines


def _about(e: Mapping[str, Any], tz: str) -> str | None:
    """``"by a student, 2026-11-18"``: the author's role and the day written, as known."""
    parts = []
    if e.get("role"):
        parts.append(f"by {_article(str(e['role']))}")
    written = _datetime(e.get("at"))
    if written is not None:
        parts.append(f"written {day(written, tz)}")
    return ", ".join(parts) or None


def _decided(e: Mapping[str, Any]) -> str | None:
    """What flagged a content finding, with the model's score where it decided."""
    how = DECIDED.get(str(e.get("decided_by") or ""))
    if how is None:
        return None
    score = e.get("score")
    if e.get("decided_by") == "classifier" and isinstance(score, int | float):
        return f"{how} (score {score:.2f} of 1)"
    return how


def _article(role: str) -> str:
    """``"a student"``, ``"an unknown member"``, ``"staff"``: a role readable after "by"."""
    if role == "staff":
        return "staff"
    return f"{'an' if role[:1].lower() in 'aeiou' else 'a'} {role}"


def _datetime(value: object) -> datetime | None:
    """An evidence date as stored (ISO text in the database, a datetime in memory)."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return None
    return None
