"""Where a post's sentences end: the pieces the classifier scores and the detectors quote.

Sentences end at line breaks and at ".!?" before a space, but not after a title ("Dr.
Lane", "Mrs. Cho", "Sra. Ortiz").
"""

from __future__ import annotations

import re
from importlib import resources
from pathlib import Path

SENTENCE_SPLIT_RE = re.compile(
    r"(?<=[.!?])(?<!\b[DM]r\.)(?<!\bMrs\.)(?<!\bMs\.)(?<!\bSr\.)(?<!\bSra\.)\s+|\n+"
)


def sentences(text: str) -> list[str]:
    """The sentences of ``text`` (lines and ``.!?`` endings), blank ones left out."""
    return [s for s in (p.strip() for p in SENTENCE_SPLIT_RE.split(text)) if s]


def shipped_model() -> Path:
    """The folder of the classifier model that ships with the package (here, not with the
    classifier, so that finding it loads neither numpy nor the model's tokenizer)."""
    return Path(str(resources.files("auditor") / "data" / "classifier"))
