"""``auditor corpus export``: people's word on post findings as labelled examples in the
format of ``tests/corpus/README.md``, for retraining the content rules.

A dismissal is a negative for its rule; a confirmation (``auditor confirm``, or a planned
row of an action-plan CSV naming its run) a positive. Each example carries a label for its
own rule only: the others were not judged. Its text is the sentence the finding's evidence
quotes, as stored (masked: the database never holds a post's full text), so no student
data is written.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any, TextIO

from sqlalchemy import Engine

from auditor.db.feedback import CONFIRMED, all_feedback
from auditor.db.models import PostFeedback
from auditor.rules.evidence import mask_text
from auditor.text.commercial import LABELS as COMMERCIAL_LABELS
from auditor.text.confidential import LABELS as DISCLOSURE_LABELS

ROLES = ("staff", "student", "parent")
_QUOTED = re.compile(r'"(.+)"$', re.S)  # the sentence evidence quotes, at its end

# The corpus label key of each rule, and its negative value.
NEGATIVE: dict[str, Any] = {"DS3": False, "DS6": [], "DS7": None, "DS8": []}
CATEGORY_LABELS = {"DS6": DISCLOSURE_LABELS, "DS8": COMMERCIAL_LABELS}


@dataclass
class ExportCount:
    """What an export wrote, and what it left out (with why)."""

    negatives: int = 0
    positives: int = 0
    left_out: int = 0  # confirmed findings whose category the evidence does not name


def export(engine: Engine, out: TextIO, student_domains: Iterable[str]) -> ExportCount:
    """Write every dismissal and confirmation as one JSON line to ``out``."""
    count = ExportCount()
    domains = frozenset(student_domains)
    for example in _examples(all_feedback(engine), domains, count):
        out.write(json.dumps(example, ensure_ascii=False) + "\n")
    return count


def _examples(
    rows: Iterable[PostFeedback], domains: frozenset[str], count: ExportCount
) -> Iterator[dict[str, Any]]:
    """The corpus example of each row whose rule the corpus labels."""
    for row in rows:
        key = row.rule_id.split(".", 1)[0]
        if key not in NEGATIVE:
            continue
        if row.decision == CONFIRMED:
            label = _positive(key, row.excerpt)
            if label is None:
                count.left_out += 1
                continue
            count.positives += 1
        else:
            label = NEGATIVE[key]
            count.negatives += 1
        yield {
            "id": f"feedback-{row.id}",
            "author_role": row.author_role if row.author_role in ROLES else None,
            "text": mask_text(_words(row.excerpt), domains),
            "links": [],
            "labels": {key: label},
            "note": mask_text(
                f"{row.decision} by {row.decided_by} on {row.decided_at.date().isoformat()} "
                f"(run {row.run_id}, page {row.page_id}, post {row.post_id}): {row.reason}",
                domains,
            ),
        }


def _words(excerpt: str) -> str:
    """The post's own words an evidence excerpt quotes (``profanity: s••• in "this practice
    was s•••"`` gives the sentence), else the whole excerpt."""
    quoted = _QUOTED.search(excerpt)
    return quoted.group(1) if quoted else excerpt


def _positive(key: str, excerpt: str) -> Any:
    """The positive label of a confirmed finding of rule ``key``, read from its evidence:
    True for DS3, the sorted categories named for DS6 and DS8 (None if none is named)."""
    if key == "DS3":
        return True
    labels = CATEGORY_LABELS.get(key)
    if labels is None:
        return None
    found = sorted(
        category
        for category, label in labels.items()
        if re.search(rf"(?:^|; ){re.escape(label)}\b", excerpt)
    )
    return found or None
