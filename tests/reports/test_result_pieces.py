"""A result's findings.json object and findings.csv cells: made once per text for results
without evidence (shared by the thousands of pages where a rule passes the same way), and
always what they would be if made for that result alone."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from auditor.reports.pieces import _made_pieces, _plain_pieces, _result_pieces
from auditor.reports.view import NO_EVIDENCE, NOT_LOADED, EvidenceNotLoadedError, ResultView

RLO = "\u202e"


def result(message: str, evidence: Any = None, **more: str) -> ResultView:
    """A result of rule DS2.closed with ``message`` and ``evidence`` (none: as a run's
    results are read, ``NO_EVIDENCE``)."""
    return ResultView(
        "DS2.closed",
        more.get("status", "pass"),
        more.get("severity", "low"),
        message,
        NO_EVIDENCE if evidence is None else evidence,
        more.get("title", "Closed group"),
        more.get("clause", "DS2"),
    )


@pytest.mark.parametrize(
    "message",
    ["The group is closed.", f'=HYPERLINK("x") {RLO}evil', 'quote " and, comma', ""],
)
def test_a_result_without_evidence_gets_the_pieces_made_for_it_alone(message: str) -> None:
    r = result(message)
    assert _result_pieces(r) == _made_pieces(r)
    record, cells = _result_pieces(r)
    parsed = json.loads(record + "}")
    assert parsed["message"] == message and parsed["evidence"] == []
    assert next(csv.reader(io.StringIO(cells)))[5].lstrip("'") == message.replace(RLO, "")


def test_results_differing_in_any_shown_field_get_their_own_pieces() -> None:
    base = result("Closed.")
    others = [
        result("Closed!"),
        result("Closed.", status="not_applicable"),
        result("Closed.", severity="high"),
        result("Closed.", title="Closed"),
        result("Closed.", clause="DS3"),
    ]
    pieces = {_result_pieces(r) for r in [base, *others]}
    assert len(pieces) == 1 + len(others)


def test_the_same_text_is_made_once_and_evidence_is_never_shared() -> None:
    _plain_pieces.cache_clear()
    for _ in range(3):
        _result_pieces(result("Once."))
    assert _plain_pieces.cache_info().misses == 1 and _plain_pieces.cache_info().hits == 2
    with_evidence = result("Once.", [{"kind": "setting", "ref": "visibility", "value": "public"}])
    record, cells = _result_pieces(with_evidence)
    assert '"value":"public"' in record and "setting visibility: public" in cells
    assert _plain_pieces.cache_info().misses == 1, "a result with evidence is made for itself"


def test_evidence_not_read_is_refused_rather_than_shown_as_none() -> None:
    with pytest.raises(EvidenceNotLoadedError):
        _result_pieces(result("Not read.", NOT_LOADED))
