"""Reads the page register kept as a spreadsheet (``[registry] pages_csv``).

Districts keep their approval register in a spreadsheet; its columns are the keys of
``[[pages]]``. ``students`` holds ids separated by ``;``. Each bad row is reported with
file, line and column.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from auditor.config import PageConfig
from auditor.errors import ConfigError

LIST_COLUMNS = {"students"}


def read_pages_csv(path: Path) -> list[PageConfig]:
    """Parse ``path`` into pages; raise ConfigError listing every bad row."""
    name = path.name
    try:
        handle = path.open(encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise ConfigError(f"{path}: registry.pages_csv: file not found") from None
    with handle:
        reader = csv.DictReader(handle)
        columns = reader.fieldnames or []
        known = set(PageConfig.model_fields)
        unknown = [c for c in columns if c not in known]
        missing = [c for c in ("id", "connector", "external_id", "name") if c not in columns]
        header_errors = [f"{name}:1: unknown column {c!r}" for c in unknown]
        header_errors += [f"{name}:1: missing column {c!r}" for c in missing]
        if header_errors:
            raise ConfigError(header_errors)
        pages: list[PageConfig] = []
        errors: list[str] = []
        for row in reader:
            line = reader.line_num
            if None in row:
                errors.append(f"{name}:{line}: more cells than the header has columns")
                continue
            if not any((v or "").strip() for v in row.values()):
                continue
            try:
                pages.append(PageConfig.model_validate(_clean(row)))
            except ValidationError as exc:
                for err in exc.errors(include_url=False):
                    column = str(err["loc"][0]) if err["loc"] else "(row)"
                    errors.append(f"{name}:{line}: column {column}: {err['msg']}")
    if errors:
        raise ConfigError(errors)
    return pages


def _clean(row: dict[str, Any]) -> dict[str, Any]:
    """Drop empty cells (they mean 'not given') and split list columns."""
    out: dict[str, Any] = {}
    for key, value in row.items():
        text = (value or "").strip()
        if not text:
            continue
        if key in LIST_COLUMNS:
            out[key] = [part.strip() for part in text.split(";") if part.strip()]
        else:
            out[key] = text
    return out
