"""Writes a run's findings files and action plans as streams from its pages' pieces
(``reports.pieces``), a part of the report at a time: ``findings.jsonl`` (gzipped when
large), ``findings.json`` and ``findings.csv`` whole or, for a large run, split like its
detail files (an index in the two files, each part's records and rows in
``findings/<part>``), and each supervisor's ``action-plans/<supervisor>.csv``. Nothing is
held but the open files and the manual checks seen so far."""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Iterable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO

from auditor.reports.environment import file_stem
from auditor.reports.export import (
    ACTION_PLAN_COLUMNS,
    CSV_COLUMNS,
    JSONL_LIMIT,
    discovered_records,
    dumps,
    listed,
    run_record,
    summary,
)
from auditor.reports.files import append_text, create_text
from auditor.reports.outline import PageLine, RunOutline
from auditor.reports.pieces import (
    Pieces,
    csv_cells,
    csv_rows,
    plan_cells,
    plan_rows,
    quiet_cells,
    record,
)
from auditor.reports.view import PageView, RunView

FINDINGS_DIR = "findings"
JSON_BODY = "findings.json.pages"  # findings.json's pages, until its head is known


class FindingsWriter:
    """The findings files of one report folder, written part by part (:meth:`add`) and
    finished on leaving the ``with`` block. ``parts``: each split part's file stem, title
    and pages ("findings/001-school"), or None to write findings.json and .csv whole.
    findings.json's pages (or page index) are written to a scratch file of the folder
    first: its head, the run's summary, is known once every page was added."""

    def __init__(
        self,
        run: RunOutline,
        out: Path,
        parts: Sequence[tuple[str, str, Sequence[PageLine]]] | None,
    ) -> None:
        self.run = run
        self.view = run.view
        self.out = out
        self.parts = parts
        self.checks: dict[str, str] = {}  # manual checks: rule -> the words shown once
        self._files: list[IO[str]] = []
        self._first = True  # no page written to findings.json (or its index) yet

    def __enter__(self) -> FindingsWriter:
        self.jsonl = self._open("findings.jsonl")
        self.json = self._open(JSON_BODY)
        self.csv = self._open("findings.csv")
        self.csv.write(_csv_header())
        return self

    def _head(self) -> str:
        """findings.json up to its pages (or page index): the run, its summary (every page
        added) and, when split, its parts."""
        head = (
            f'{{"run":{dumps(run_record(self.view))},"summary":{dumps(summary(self.run.totals))},'
        )
        if self.parts is None:
            return head + '"pages":['
        listed_parts = [
            {"file": f"{stem}.json", "csv": f"{stem}.csv", "title": title}
            | {"pages": len(pages), "need_attention": sum(p.needs_attention for p in pages)}
            for stem, title, pages in self.parts
        ]
        return head + f'"parts":{dumps(listed_parts)},"page_index":['

    def add(
        self, pages: Sequence[PageView], pieces: Sequence[Pieces], part: tuple[str, str] | None
    ) -> None:
        """Write ``pages`` (with their ``pieces``): part ``(stem, title)`` of a split run,
        or the next pages of a whole one."""
        view = self.view
        for page, made in zip(pages, pieces, strict=True):
            self.jsonl.write(record(view, page, made, complete=True) + "\n")
        if part is None:
            for page, made in zip(pages, pieces, strict=True):
                self.json.write(self._sep() + record(view, page, made, self.checks))
                self.csv.write(csv_rows(view, page, made))
            return
        stem, title = part
        with self._part_file(f"{stem}.json") as handle:
            handle.write(f'{{"run_id":{view.id},"title":{dumps(title)},"pages":[')
            for i, (page, made) in enumerate(zip(pages, pieces, strict=True)):
                handle.write(("\n" if i == 0 else ",\n") + record(view, page, made, self.checks))
            handle.write("\n]}\n")
        with self._part_file(f"{stem}.csv") as handle:
            handle.write(_csv_header())
            for page, made in zip(pages, pieces, strict=True):
                handle.write(csv_rows(view, page, made))
        for page, made in zip(pages, pieces, strict=True):
            self.json.write(self._index_sep() + dumps(_index_entry(page, f"{stem}.json")))
            self.csv.write(_index_row(view, page, made, stem))

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        try:
            if kind is None:
                key = '\n],"manual_checks":'
                self.json.write(f"{key}{dumps(self.checks)},")
                self.json.write(f'"discovered_groups":{dumps(discovered_records(self.view))}}}\n')
        finally:
            for handle in self._files:
                handle.close()
        if kind is None:
            self._finish_json()
            pack_jsonl(self.out / "findings.jsonl")

    def _finish_json(self) -> None:
        """findings.json: its head, then the pages written to the scratch file (removed)."""
        body = self.out / JSON_BODY
        with create_text(self.out / "findings.json") as target:
            target.write(self._head())
            target.flush()
            with body.open("rb") as source:
                shutil.copyfileobj(source, target.buffer)
        body.unlink()

    def _open(self, name: str) -> IO[str]:
        """A new private file of the folder, closed with the writer."""
        handle = create_text(self.out / name)
        self._files.append(handle)
        return handle

    def _part_file(self, name: str) -> IO[str]:
        """A part's new private file."""
        return create_text(self.out / name)

    def _sep(self) -> str:
        """What goes before the next page of findings.json."""
        sep, self._first = ("\n" if self._first else ",\n"), False
        return sep

    def _index_sep(self) -> str:
        """What goes before the next entry of a split findings.json's page index."""
        sep, self._first = ("" if self._first else ",\n"), False
        return sep


def _csv_header() -> str:
    """findings.csv's header line."""
    return ",".join(CSV_COLUMNS) + "\r\n"


def _index_entry(p: PageView, file: str) -> dict[str, object]:
    """A page in a split findings.json's ``page_index``: who, its state, where its results
    are."""
    return {
        "id": p.id,
        "name": p.name,
        "school": p.school,
        "supervisor": p.supervisor,
        "status": p.status,
        "worst": p.worst,
        "open": len(p.attention),
        "findings": file,
    }


def _index_row(view: RunView, page: PageView, pieces: Pieces, stem: str) -> str:
    """A page's one row in a split findings.csv: its most urgent status and how many rows
    its part's file lists (or how many rules pass)."""
    shown = len(listed(page))
    base = f"{view.id},{pieces.csv_page},"
    if not shown:
        return base + quiet_cells(page) + "\r\n"
    message = f"{shown} result(s) listed in {stem}.csv"
    cells = [""] * (len(CSV_COLUMNS) - 9)  # rule to trend
    cells[3], cells[5] = page.worst, message  # status, message
    return base + csv_cells(cells) + "\r\n"


def pack_jsonl(path: Path) -> Path:
    """``findings.jsonl`` as it stays: gzipped to ``findings.jsonl.gz`` above
    ``JSONL_LIMIT`` bytes (and the plain file removed); the path kept. Level 6, gzip's
    own default: 9 takes a third longer (0.37 against 0.28 s for 28 MB) for 2% less."""
    if path.stat().st_size <= JSONL_LIMIT:
        return path
    packed = path.with_name(path.name + ".gz")
    with (
        path.open("rb") as source,
        create_text(packed) as target,
        gzip.GzipFile(
            filename=path.name, fileobj=target.buffer, mode="wb", mtime=0, compresslevel=6
        ) as out,
    ):
        shutil.copyfileobj(source, out)
    path.unlink()
    return packed


class ActionPlans:
    """Each supervisor's action plan in ``folder`` (``<supervisor>.csv``): every file made
    with its header at once, then each part's rows appended to its pages' supervisors'."""

    def __init__(self, view: RunView, folder: Path, supervisors: Iterable[str]) -> None:
        self.view = view
        self.paths = {s: folder / f"{file_stem(s)}.csv" for s in sorted(set(supervisors))}
        for path in self.paths.values():
            with create_text(path) as handle:
                handle.write(",".join(ACTION_PLAN_COLUMNS) + "\r\n")

    def add(self, pages: Sequence[PageView], pieces: Sequence[Pieces]) -> None:
        """Append the rows of ``pages`` (with their ``pieces``), in page order."""
        rows: dict[str, list[str]] = {}
        for page, made in zip(pages, pieces, strict=True):
            text = plan_rows(self.view.id, page, (made.plan_page, made.plans))
            if text:
                rows.setdefault(page.supervisor, []).append(text)
        for supervisor, texts in rows.items():
            with append_text(self.paths[supervisor]) as handle:
                handle.write("".join(texts))


def action_plan_csv(pages: Iterable[PageView], run_id: int | None = None) -> str:
    """A supervisor's action plan as CSV text (the digest email's attachment): the rows
    :class:`ActionPlans` writes, made from the pages' results."""
    header = ",".join(ACTION_PLAN_COLUMNS) + "\r\n"
    return header + "".join(plan_rows(run_id, p, plan_cells(p)) for p in pages)
