"""Machine-readable outputs of a run: the records of ``findings.json``, ``findings.jsonl``
and ``findings.csv`` and the action-plan columns (the files and each supervisor's action
plan written by ``reports.findings_files``), and the unregistered groups as CSV. They
carry the same facts as the HTML report, including first-seen dates and trends. Each is a
new private file (see ``reports.files``); no bidi control reaches a CSV cell, and
findings.json keeps them as ``\\uXXXX`` escapes (the exact text, and nothing that
reorders a line in an editor)."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO

from auditor.reports.environment import BIDI_CONTROLS, strip_bidi
from auditor.reports.files import create_text
from auditor.reports.view import PageView, ResultView, RunView, Trend

CSV_COLUMNS = [
    "run_id",
    "page_id",
    "page_name",
    "school",
    "platform",
    "owner",
    "supervisor",
    "page_status",
    "page_error",
    "rule",
    "title",
    "clause",
    "status",
    "severity",
    "message",
    "evidence",
    "first_seen",
    "first_seen_run",
    "days_open",
    "trend",
]

ACTION_PLAN_COLUMNS = [
    "run_id",
    "page_id",
    "page_name",
    "school",
    "platform",
    "owner",
    "rule",
    "title",
    "status",
    "severity",
    "message",
    "evidence",
    "first_seen",
    "days_open",
    "trend",
    "how_to_fix",
    "due_by",
    "reason",
    "planned_fix_date",
    "fixed_by",
    "dismiss",  # "yes": not a violation (the why in reason); read back by auditor plan import
]

DISCOVERED_COLUMNS = ["run_id", "platform", "connector", "external_id", "name", "url", "found_at"]
_ESCAPED_BIDI = {ord(c): f"\\u{ord(c):04x}" for c in BIDI_CONTROLS}  # JSON escapes
_BIDI_FOUND = re.compile("[" + "".join(BIDI_CONTROLS) + "]")


def iso(value: datetime | None) -> str | None:
    """A date or time as ISO 8601 text, None for none."""
    return value.isoformat() if value else None


# Results listed as rule ids only in findings.json and left out of findings.csv: the bulk
# of a large run, and nothing to act on (a pass or not-applicable that failed in the
# previous audit is listed as ``resolved``). findings.jsonl has every result in full.
BRIEF_STATUSES = {"pass": "passing", "not-applicable": "not_applicable"}
RESOLVED = "resolved"
# A page's fields left out when unknown (no platform name or link; from this run).
OPTIONAL = {"platform_name", "url", "from_run"}
JSONL_LIMIT = 5_000_000  # bytes; above, findings.jsonl is kept gzipped only
_COMPACT = (",", ":")
# ``json.dumps`` with these options makes an encoder per call: a report encodes one per result.
_ENCODER = json.JSONEncoder(separators=_COMPACT, ensure_ascii=False)
# What a spreadsheet cell starting with runs as a formula (or hides one behind).
_FORMULA_STARTS = frozenset("=+-@\t\r")


def result_record(r: ResultView) -> dict[str, Any]:
    """One result in ``findings.json`` (contract fields first, then the additions; an
    addition that is empty or unknown is left out)."""
    record = {
        "rule": r.rule,
        "status": r.status,
        "severity": r.severity,
        "message": r.message,
        "evidence": r.evidence,
    }
    additions = {
        "title": r.title,
        "clause": r.clause,
        "first_seen": iso(r.first_seen),
        "first_seen_run": r.first_seen_run,
        "days_open": r.days_open,
        "trend": r.trend,
    }
    return record | {k: v for k, v in additions.items() if v not in (None, "")}


def brief(r: ResultView) -> str | None:
    """Where findings.json lists ``r`` by rule id only (``passing``, ``not_applicable``,
    ``resolved``), or None when it is listed in full."""
    key = BRIEF_STATUSES.get(r.status)
    if key is None:
        return None
    return RESOLVED if r.trend == Trend.RESOLVED else key if r.trend is None else None


def page_record(
    p: PageView, complete: bool = False, checks: dict[str, str] | None = None
) -> dict[str, Any]:
    """One page in ``findings.json``: results that need attention, are manual or waived in
    full; passing and not-applicable ones as rule ids (``passing``, ``not_applicable``, and
    ``resolved`` for those that failed in the previous audit); with ``checks``, a manual
    check whose words are the same on every page so far by id (``manual``), its words kept
    once in ``checks``. ``complete``: every result in full (``findings.jsonl``)."""
    results: list[dict[str, Any]] = []
    keys = (*BRIEF_STATUSES.values(), RESOLVED, *(["manual"] if checks is not None else []))
    listed: dict[str, list[str]] = {key: [] for key in keys}
    for r in p.results:
        key = None if complete else brief(r)
        if checks is not None and r.status == "manual" and not r.evidence:
            key = "manual" if checks.setdefault(r.rule, r.message) == r.message else None
        if key is None:
            results.append(result_record(r))
        else:
            listed[key].append(r.rule)
    from_run = p.from_run
    record = {
        "id": p.id,
        "name": p.name,
        "platform": p.platform,
        "owner": p.owner,
        "supervisor": p.supervisor,
        "status": p.status,
        "error": p.error,
        "school": p.school,
        "platform_name": p.platform_name,
        "url": p.url,
        "worst": p.worst,
        "report": p.href,
        "from_run": {"id": from_run.id, "started_at": iso(from_run.started_at)}
        if from_run
        else None,
        "results": results,
    }
    full = record if complete else record | listed
    return {k: v for k, v in full.items() if v is not None or k not in OPTIONAL}


def run_record(view: RunView) -> dict[str, Any]:
    """The run's header in findings.json."""
    return {
        "id": view.id,
        "started_at": iso(view.started_at),
        "finished_at": iso(view.finished_at),
        "status": view.status,
        "district": view.district,
        "previous_run_id": view.previous_run.id if view.previous_run else None,
    }


def summary(view: RunView) -> dict[str, Any]:
    """The run's counts in findings.json."""
    return {
        "pages": len(view.pages),
        "audited": len(view.audited),
        "with_failures": len(view.failing_pages),
        "not_audited": len(view.errored),
        "failing_by_rule": dict(sorted(view.count_by("rule").items())),
        "failing_by_severity": dict(sorted(view.count_by("severity").items())),
        "changes": {
            "new": len(view.changes(Trend.NEW)),
            "resolved": len(view.changes(Trend.RESOLVED)),
            "still_failing": len(view.changes(Trend.STILL)),
        },
    }


def discovered_records(view: RunView) -> list[dict[str, Any]]:
    """The unregistered groups in findings.json."""
    return [
        {
            "platform": g.platform,
            "connector": g.connector,
            "external_id": g.external_id,
            "name": g.name,
            "url": g.url,
            "found_at": iso(g.found_at),
        }
        for g in view.discovered
    ]


def findings(view: RunView) -> dict[str, Any]:
    """The ``findings.json`` document (reference: README.md, "Outputs"), whole: for tests
    and small runs; :func:`write_json` streams the same document page by page."""
    checks: dict[str, str] = {}
    pages = [page_record(p, checks=checks) for p in view.pages]
    return {
        "run": run_record(view),
        "summary": summary(view),
        "pages": pages,
        "manual_checks": checks,
        "discovered_groups": discovered_records(view),
    }


def dumps(value: Any) -> str:
    """Compact JSON with bidi controls kept as escapes (they occur only in strings; the
    scan for them is cheap, the escaping rarely needed)."""
    text = _ENCODER.encode(value)
    if text.isascii() or not _BIDI_FOUND.search(text):
        return text
    return text.translate(_ESCAPED_BIDI)


def evidence_text(evidence: list[dict[str, Any]]) -> str:
    """Evidence as one line of text for spreadsheets."""
    parts = []
    for e in evidence:
        text = f"{e.get('kind')}"
        if e.get("ref"):
            text += f" {e['ref']}"
        text += f": {e.get('value')}"
        if e.get("note"):
            text += f" ({e['note']})"
        parts.append(text)
    return "; ".join(parts)


def spreadsheet_safe(value: object) -> object:
    """Neutralise cells a spreadsheet would run as a formula (platform text is untrusted),
    after removing bidi controls (which could also hide a leading ``=``)."""
    if not isinstance(value, str):
        return value
    text = strip_bidi(value)
    return "'" + text if text[:1] in _FORMULA_STARTS else text


def _write_rows(path: Path, columns: list[str], rows: Iterable[dict[str, Any]]) -> None:
    """Write a CSV file of ``rows`` (formula-safe cells) to a new private file."""
    with create_text(path) as handle:
        _csv_rows(handle, columns, rows)


def _csv_rows(handle: TextIO, columns: list[str], rows: Iterable[dict[str, Any]]) -> None:
    """Write the header and ``rows`` (formula-safe cells) as CSV to ``handle``."""
    writer = csv.DictWriter(handle, columns)
    writer.writeheader()
    for row in rows:
        writer.writerow({k: spreadsheet_safe(v) for k, v in row.items()})


def listed(p: PageView) -> list[ResultView]:
    """The page's results findings.csv lists (all but plain passes and not-applicable)."""
    return [r for r in p.results if brief(r) not in BRIEF_STATUSES.values()]


def quiet_page(p: PageView) -> dict[str, Any]:
    """The one row of a page with nothing to list: how many of its rules pass."""
    if not p.results:
        return {}
    passing = sum(r.status == "pass" for r in p.results)
    return {"status": "pass", "message": f"{passing} of {len(p.results)} rules pass"}


def write_discovered_csv(view: RunView, path: Path) -> None:
    """The unregistered groups found during the run."""
    _write_rows(
        path,
        DISCOVERED_COLUMNS,
        (
            {
                "run_id": view.id,
                "platform": g.platform,
                "connector": g.connector,
                "external_id": g.external_id,
                "name": g.name,
                "url": g.url or "",
                "found_at": iso(g.found_at),
            }
            for g in view.discovered
        ),
    )
