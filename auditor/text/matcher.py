"""Every content detector of a run, made once from the district's configuration.

The detectors of DS 3 (speech), DS 6 (student information), DS 7 (links) and DS 8
(commercial purposes) register their patterns in one :class:`~auditor.text.scan.PatternIndex`
as they are made; the matcher then compiles its RE2 set, and nothing changes after: a
text's candidates, and so every answer, are the same on a run's first page as on its last.
Rules read it from ``RuleContext.text``; :meth:`TextMatcher.page` gives the view of it that
:func:`auditor.rules.catalog.evaluate` hands them, which scans each post of a page once
for all of them.

Each text's four answers together make a :class:`~auditor.text.verdict.TextVerdict`; a page
view can be given verdicts already known (the judged-post cache, keyed by the text's hash
under the matcher's :attr:`TextMatcher.version`) and then reads no detector for those texts.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from functools import cached_property
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING

from auditor import __version__
from auditor.config import DistrictConfig, RulesConfig
from auditor.errors import ConfigError
from auditor.text.commercial import CommercialDetector, CommercialFinding
from auditor.text.confidential import ConfidentialityDetector, Disclosure
from auditor.text.digest import text_hash
from auditor.text.links import Domains, LinkFinder
from auditor.text.scan import PatternIndex, Scan
from auditor.text.sentences import shipped_model
from auditor.text.speech import SpeechDetector, SpeechFinding
from auditor.text.verdict import TextVerdict

if TYPE_CHECKING:
    from auditor.text.classifier import Classifier

PRIME_BATCH = 256  # posts of a page the classifier scores in one batch

# Installed packages whose code or data a verdict depends on (the profanity model, RE2,
# phone number metadata, the public suffix list).
VERDICT_PACKAGES = ("alt-profanity-check", "google-re2", "phonenumbers", "publicsuffixlist")


class TextMatcher:
    """The content detectors for one district's rules, their patterns in one compiled RE2
    index. Immutable once made: :meth:`page` returns a new view, and the detectors keep
    only what a fresh computation would give again (compiled patterns, each text's
    candidates)."""

    def __init__(self, rules: RulesConfig, district: DistrictConfig) -> None:
        index = PatternIndex()
        self._model_folder = _model_folder(rules)
        model = _learned_model(self._model_folder)
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
        self._classifier = model
        self._page: Scan | None = None
        self._config = (rules, district)
        self._verdicts: dict[str, TextVerdict] = {}  # a page's texts, by text
        self.computed: dict[str, TextVerdict] = {}
        """A page view's verdicts judged now (not known before), by text hash."""

    @property
    def domains(self) -> Domains:
        """The public suffix list the link detector reads registered domains with."""
        return self._domains

    @cached_property
    def version(self) -> str:
        """The version of every verdict this matcher gives (:func:`verdicts_version`)."""
        return verdicts_version(*self._config)

    def page(
        self, texts: Iterable[str], known: Mapping[str, TextVerdict] | None = None
    ) -> TextMatcher:
        """This matcher for one page whose posts are ``texts``. Texts whose hash is in
        ``known`` are answered from there, unread; the others are scanned now, one after
        another while RE2's automaton is in the processor's cache, and judged by every
        detector once: their verdicts are in the view's :attr:`computed`, by hash."""
        known = known or {}
        view = copy.copy(self)
        view._verdicts = {}
        view.computed = {}
        fresh: dict[str, str] = {}  # text -> hash, in page order
        for text in texts:
            if text in view._verdicts or text in fresh:
                continue
            digest = text_hash(text)
            if digest in known:
                view._verdicts[text] = known[digest]
            else:
                fresh[text] = digest
        view._page = Scan(self._index, fresh)
        unread = list(fresh.items())
        for at in range(0, len(unread), PRIME_BATCH):
            batch = unread[at : at + PRIME_BATCH]
            if self._classifier is not None:  # every detector asks it about every post
                self._classifier.prime([text for text, _ in batch if text.strip()])
            for text, digest in batch:
                view._verdicts[text] = view.computed[digest] = view.verdict(text)
        return view

    def verdict(self, text: str) -> TextVerdict:
        """All four detectors' answers for ``text``."""
        if text in self._verdicts:
            return self._verdicts[text]
        scan = self._scan()
        return TextVerdict(
            speech=self._speech.check(text, scan),
            disclosures=tuple(self._confidential.find(text, scan)),
            commercial=tuple(self._commercial.find(text, scan)),
            urls=tuple(self._links.find(text, scan)),
        )

    def speech(self, text: str) -> SpeechFinding | None:
        """DS 3: the first problem of ``text``, or None when it reads as respectful."""
        if text in self._verdicts:
            return self._verdicts[text].speech
        return self._speech.check(text, self._scan())

    def disclosures(self, text: str) -> list[Disclosure]:
        """DS 6: the student information in ``text``."""
        if text in self._verdicts:
            return list(self._verdicts[text].disclosures)
        return self._confidential.find(text, self._scan())

    def commercial(self, text: str) -> list[CommercialFinding]:
        """DS 8: one finding per commercial, political or religious purpose of ``text``."""
        if text in self._verdicts:
            return list(self._verdicts[text].commercial)
        return self._commercial.find(text, self._scan())

    def urls(self, text: str | None) -> Iterator[str]:
        """DS 7: the URLs and payment handles written in ``text``."""
        if text is not None and text in self._verdicts:
            return iter(self._verdicts[text].urls)
        return self._links.find(text, self._scan())

    def _scan(self) -> Scan:
        """The page's scan; outside a page, a new one for one detector's look at a text."""
        return self._page if self._page is not None else Scan(self._index)


def verdicts_version(rules: RulesConfig, district: DistrictConfig) -> str:
    """The version of every verdict a :class:`TextMatcher` made from ``rules`` and ``district``
    gives, made without one: a digest of what can change a verdict
    (this package's version and its text detectors' code, the versions of the packages
    they use, the ``[rules]`` and ``[district]`` settings and the classifier's
    thresholds in use, defaults included, and the data files in
    ``auditor/data``, and the files of the classifier in use, wherever it is). Verdicts
    judged under another version are not reused."""
    digest = hashlib.sha256(f"page-auditor {__version__}\n".encode())
    for name in VERDICT_PACKAGES:
        try:
            digest.update(f"{name} {metadata.version(name)}\n".encode())
        except metadata.PackageNotFoundError:
            digest.update(f"{name} absent\n".encode())
    digest.update(rules.model_dump_json().encode())
    for rule in ("DS3", "DS6", "DS8"):  # the defaults in use too, not only those set
        digest.update(f"threshold {rule} {rules.classifier.threshold_of(rule)}\n".encode())
    digest.update(district.model_dump_json(exclude={"as_of"}).encode())
    for folder in (resources.files("auditor") / "data", resources.files("auditor.text")):
        for item in sorted(folder.iterdir(), key=lambda f: f.name):
            if item.is_file() and not item.name.endswith(".pyc"):
                digest.update(f"{folder.name}/{item.name}\n".encode())
                digest.update(item.read_bytes())
    model_folder = _model_folder(rules)
    if model_folder is not None:
        if not model_folder.is_dir():
            raise ConfigError(f"[rules.classifier] path: {model_folder}: no such model folder")
        for item in sorted(model_folder.iterdir(), key=lambda f: f.name):
            if item.is_file():
                digest.update(f"model/{item.name}\n".encode())
                digest.update(item.read_bytes())
    return digest.hexdigest()[:32]


def _model_folder(rules: RulesConfig) -> Path | None:
    """The folder of the configured classifier (the shipped one by default), None when
    the classifier is off."""
    settings = rules.classifier
    if not settings.enabled:
        return None
    return Path(settings.path or shipped_model()).resolve()


def _learned_model(folder: Path | None) -> Classifier | None:
    """The classifier in ``folder`` (read once per process and folder), None for none; a
    folder that cannot be read is a :class:`ConfigError` naming it."""
    if folder is None:
        return None
    from auditor.text import classifier  # numpy and the tokenizer: only once texts are judged

    try:
        return classifier.load(folder)
    except ValueError as exc:
        raise ConfigError(f"[rules.classifier] path: {exc}") from None
