"""Every content detector of a run, made once from the district's configuration.

The detectors of DS 3 (speech), DS 6 (student information), DS 7 (links) and DS 8
(commercial purposes) register their patterns in one :class:`~auditor.text.scan.PatternIndex`
as they are made; the matcher then compiles its RE2 set, and nothing changes after: a
text's candidates, and so every answer, are the same on a run's first page as on its last.
Rules read it from ``RuleContext.text``; :meth:`TextMatcher.page` gives the view of it that
:func:`auditor.rules.catalog.evaluate` hands them, which scans each post of a page once
for all of them.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from pathlib import Path

from auditor.config import DistrictConfig, RulesConfig
from auditor.errors import ConfigError
from auditor.text import classifier as learned
from auditor.text.commercial import CommercialDetector, CommercialFinding
from auditor.text.confidential import ConfidentialityDetector, Disclosure
from auditor.text.links import Domains, LinkFinder
from auditor.text.scan import PatternIndex, Scan
from auditor.text.speech import SpeechDetector, SpeechFinding


class TextMatcher:
    """The content detectors for one district's rules, their patterns in one compiled RE2
    index. Immutable once made: :meth:`page` returns a new view, and the detectors keep
    only what a fresh computation would give again (compiled patterns, each text's
    candidates)."""

    def __init__(self, rules: RulesConfig, district: DistrictConfig) -> None:
        index = PatternIndex()
        model = _classifier(rules)
        settings = rules.classifier
        self._speech = SpeechDetector(
            index,
            rules.speech_terms,
            rules.speech_allowed,
            model,
            settings.threshold_of("DS3"),
        )
        self._confidential = ConfidentialityDetector(
            index,
            district.staff_email_domains,
            rules.student_id_pattern,
            classifier=model,
            threshold=settings.threshold_of("DS6"),
        )
        self._commercial = CommercialDetector(
            index, rules.commercial_phrases, model, settings.threshold_of("DS8")
        )
        self._domains = Domains()
        self._links = LinkFinder(index, self._domains)
        index.compile()  # frozen: nothing registers after this
        self._index = index
        self._page: Scan | None = None

    @property
    def domains(self) -> Domains:
        """The public suffix list the link detector reads registered domains with."""
        return self._domains

    def page(self, texts: Iterable[str]) -> TextMatcher:
        """This matcher for one page whose posts are ``texts``: they are scanned now, one
        after another while RE2's automaton is in the processor's cache, and every detector
        reading them shares that scan (the page's other texts are scanned once too)."""
        view = copy.copy(self)
        view._page = Scan(self._index, texts)
        return view

    def speech(self, text: str) -> SpeechFinding | None:
        """DS 3: the first problem of ``text``, or None when it reads as respectful."""
        return self._speech.check(text, self._scan())

    def disclosures(self, text: str) -> list[Disclosure]:
        """DS 6: the student information in ``text``."""
        return self._confidential.find(text, self._scan())

    def commercial(self, text: str) -> list[CommercialFinding]:
        """DS 8: one finding per commercial, political or religious purpose of ``text``."""
        return self._commercial.find(text, self._scan())

    def urls(self, text: str | None) -> Iterator[str]:
        """DS 7: the URLs and payment handles written in ``text``."""
        return self._links.find(text, self._scan())

    def _scan(self) -> Scan:
        """The page's scan; outside a page, a new one for one detector's look at a text."""
        return self._page if self._page is not None else Scan(self._index)


def _classifier(rules: RulesConfig) -> learned.Classifier | None:
    """The configured classifier (read once per process and folder), None when it is off; a
    folder that cannot be read is a :class:`ConfigError` naming it."""
    settings = rules.classifier
    if not settings.enabled:
        return None
    folder = settings.path or learned.shipped_model()
    try:
        return learned.load(Path(folder).resolve())
    except ValueError as exc:
        raise ConfigError(f"[rules.classifier] path: {exc}") from None
