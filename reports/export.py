"""Machine-readable outputs of a run: ``findings.json`` and ``findings.csv``."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

from reports.view import RunView

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
    "status",
    "severity",
    "message",
    "evidence",
]


def findings(view: RunView) -> dict[str, Any]:
    """The ``findings.json`` document (contract: DESIGN.md)."""
    return {
        "run": {
            "id": view.id,
            "district": view.district,
            "started_at": view.started_at.isoformat(),
            "finished_at": view.finished_at.isoformat() if view.finished_at else None,
            "status": view.status,
        },
        "pages": [
            {
                "id": p.id,
                "name": p.name,
                "school": p.school,
                "platform": p.platform,
                "url": p.url,
                "owner": p.owner,
                "supervisor": p.supervisor,
                "status": p.status,
                "error": p.error,
                "results": [
                    {
                        "rule": r.rule,
                        "status": r.status,
                        "severity": r.severity,
                        "message": r.message,
                        "evidence": r.evidence,
                    }
                    for r in p.results
                ],
            }
            for p in view.pages
        ],
    }


def write_json(view: RunView, path: Path) -> None:
    """Write ``findings.json``."""
    path.write_text(json.dumps(findings(view), indent=2, ensure_ascii=False) + "\n", "utf-8")


def evidence_text(evidence: list[dict[str, Any]]) -> str:
    """Evidence as one line of text for spreadsheets."""
    parts = []
    for e in evidence:
        text = f"{e.get('kind')}: {e.get('value')}"
        if e.get("note"):
            text += f" ({e['note']})"
        parts.append(text)
    return "; ".join(parts)


def spreadsheet_safe(value: object) -> object:
    """Neutralise cells a spreadsheet would run as a formula (platform text is untrusted)."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def write_csv(view: RunView, path: Path) -> None:
    """Write ``findings.csv``: one row per result, one row for each page that errored."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, CSV_COLUMNS)
        writer.writeheader()
        for p in view.pages:
            base = {
                "run_id": view.id,
                "page_id": p.id,
                "page_name": p.name,
                "school": p.school,
                "platform": p.platform,
                "owner": p.owner,
                "supervisor": p.supervisor,
                "page_status": p.status,
                "page_error": p.error or "",
            }
            rows = [base] if not p.results else []
            rows += [
                base
                | {
                    "rule": r.rule,
                    "status": r.status,
                    "severity": r.severity,
                    "message": r.message,
                    "evidence": evidence_text(r.evidence),
                }
                for r in p.results
            ]
            for row in rows:
                writer.writerow({k: spreadsheet_safe(v) for k, v in row.items()})
