"""Reads supervisors' action plans back (``auditor plan import FILE``): the action-plan CSV
attached to each digest, with its planned fix date, the person responsible (``fixed_by``)
and a note (``reason``) filled in. Every bad cell is one ``file:line:column`` line; plans
stored in the database show in the next report and digest.

A row may instead say the finding is not a violation: ``dismiss`` set to ``yes`` and the
why in ``reason``. With the row's ``run_id`` (the run the plan was written from), every
post of that finding is then dismissed (:mod:`auditor.feedback`); a planned row of a run
confirms its posts' findings. Files written before these columns existed still import.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from auditor.errors import ConfigError

REQUIRED = ("page_id", "rule", "planned_fix_date", "fixed_by", "reason")
OPTIONAL = ("run_id", "dismiss")
MAX_PERSON = 320  # the responsible person's column in the database
YES = ("yes", "y", "true", "1", "x")
NO = ("", "no", "n", "false", "0")


@dataclass(frozen=True)
class PlanDecision:
    """A row's word on its finding in its run: dismissed (not a violation) or, when it was
    planned, confirmed; ``line`` and ``run_column`` place errors found later."""

    line: int
    run_column: int
    run_id: int
    page_id: str
    rule_id: str
    dismissed: bool
    reason: str


@dataclass(frozen=True)
class PlanFile:
    """What an action-plan CSV says: plans to store, and decisions on findings."""

    plans: list[dict[str, Any]]
    decisions: list[PlanDecision]


def read_plans(path: Path, page_ids: set[str], rule_ids: set[str]) -> PlanFile:
    """The plans in ``path`` (rows whose plan columns are all empty are skipped), ready for
    ``save_plans``, and the rows' decisions; raise ConfigError listing every bad cell as
    ``file:line:column``."""
    name = path.name
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise ConfigError(f"{path}: file not found") from None
    with handle:
        reader = csv.DictReader(handle)
        columns = list(reader.fieldnames or [])
        missing = [c for c in REQUIRED if c not in columns]
        if missing:
            raise ConfigError([f"{name}:1:1: missing column {c!r}" for c in missing])
        where = {c: columns.index(c) + 1 for c in (*REQUIRED, *OPTIONAL) if c in columns}
        plans: list[dict[str, Any]] = []
        decisions: list[PlanDecision] = []
        errors: list[str] = []
        first_line: dict[tuple[str, str], int] = {}
        for row in reader:
            line = reader.line_num

            def bad(column: str, message: str, line: int = line) -> None:
                at = where.get(column, len(columns) + 1)
                errors.append(f"{name}:{line}:{at}: column {column}: {message}")

            if None in row:
                errors.append(f"{name}:{line}:{len(columns) + 1}: more cells than the header")
                continue
            cells = {c: (row.get(c) or "").strip() for c in (*REQUIRED, *OPTIONAL)}
            dismiss = cells["dismiss"].lower()
            if not (cells["planned_fix_date"] or cells["fixed_by"] or cells["reason"] or dismiss):
                continue
            before = len(errors)
            if cells["page_id"] not in page_ids:
                bad("page_id", f"no registered page has id {cells['page_id']!r}")
            if cells["rule"] not in rule_ids:
                bad("rule", f"no rule has id {cells['rule']!r}")
            planned = _day(cells["planned_fix_date"])
            if cells["planned_fix_date"] and planned is None:
                bad("planned_fix_date", f"{cells['planned_fix_date']!r} is not a date (YYYY-MM-DD)")
            if len(cells["fixed_by"]) > MAX_PERSON:
                bad("fixed_by", f"longer than {MAX_PERSON} characters")
            dismissed = dismiss in YES
            if dismiss not in YES + NO:
                bad("dismiss", f"{cells['dismiss']!r}: write yes (not a violation) or leave empty")
            run_id = cells["run_id"]
            if run_id and not run_id.isdigit():
                bad("run_id", f"{run_id!r} is not a run id (a whole number)")
            if dismissed and not run_id:
                bad("run_id", "a dismissed row needs the run id it was written from")
            if dismissed and not cells["reason"]:
                bad("reason", "say why the finding is not a violation")
            key = (cells["page_id"], cells["rule"])
            if key in first_line:
                bad("rule", f"this page and rule were already planned on line {first_line[key]}")
            first_line.setdefault(key, line)
            if len(errors) > before:
                continue
            if run_id:
                decisions.append(
                    PlanDecision(
                        *(line, where["run_id"], int(run_id), cells["page_id"], cells["rule"]),
                        dismissed=dismissed,
                        reason=cells["reason"],
                    )
                )
            if dismissed:
                continue  # not a violation: nothing to plan
            plans.append(
                {
                    "page_id": cells["page_id"],
                    "rule_id": cells["rule"],
                    "planned_fix_on": planned,
                    "responsible": cells["fixed_by"] or None,
                    "note": cells["reason"] or None,
                }
            )
    if errors:
        raise ConfigError(errors)
    return PlanFile(plans, decisions)


def _day(text: str) -> date | None:
    """``text`` as an ISO date, or None when it is empty or not one."""
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None
