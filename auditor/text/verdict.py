"""What the content detectors said about one text, all four answers together: the unit the
judged-post cache stores (as JSON) and gives back.

The finding types are frozen dataclasses; they are turned into JSON and back generically,
over their fields, so a field added to a finding is stored and restored without a change
here. No pickle: a row of the cache is plain JSON data.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any, TypeVar

from auditor.text.commercial import CommercialFinding
from auditor.text.confidential import Disclosure
from auditor.text.speech import SpeechFinding

F = TypeVar("F")


@dataclass(frozen=True)
class TextVerdict:
    """The answers of DS 3 (speech), DS 6 (disclosures), DS 8 (commercial) and DS 7 (the
    URLs written) for one text."""

    speech: SpeechFinding | None
    disclosures: tuple[Disclosure, ...]
    commercial: tuple[CommercialFinding, ...]
    urls: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The verdict as JSON data (dicts, lists, strings, numbers)."""
        return {
            "speech": asdict(self.speech) if self.speech is not None else None,
            "disclosures": [asdict(d) for d in self.disclosures],
            "commercial": [asdict(c) for c in self.commercial],
            "urls": list(self.urls),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> TextVerdict:
        """The verdict :meth:`to_json` gave (KeyError or TypeError if ``data`` is not one)."""
        speech = data["speech"]
        return cls(
            speech=_finding(SpeechFinding, speech) if speech is not None else None,
            disclosures=tuple(_finding(Disclosure, d) for d in data["disclosures"]),
            commercial=tuple(_finding(CommercialFinding, c) for c in data["commercial"]),
            urls=tuple(data["urls"]),
        )


def _finding(kind: type[F], data: dict[str, Any]) -> F:
    """A finding of dataclass ``kind`` rebuilt from its fields (lists back to tuples: a
    frozen finding holds tuples, JSON only lists)."""
    values = {f.name: data[f.name] for f in fields(kind)}  # type: ignore[arg-type]
    return kind(**{k: tuple(v) if isinstance(v, list) else v for k, v in values.items()})
