"""Defect 16 of the hardening issue (outputs and SQLite): student data at rest is readable by
its owner only. Report files, preview emails and a new SQLite database (with its WAL files)
are created 0600 and the folders the auditor creates for them 0700, whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from auditor.db.engine import make_engine, upgrade
from auditor.email.digests import preview, write_preview
from auditor.loading import load_config
from auditor.reports.run_report import write_report
from auditor.reports.view import load_run
from auditor.results import RuleResult, Severity, Status
from tests.reports.report_seed import PageSpec, add_pages, add_run

DAY = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
FAIL = RuleResult(rule="DS2.closed", status=Status.FAIL, severity=Severity.HIGH, message="open")


def mode(path: Path) -> int:
    return stat.S_IMODE(path.lstat().st_mode)


@pytest.fixture(params=[0o022, 0o000], ids=["umask-022", "umask-000"])
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    """A permissive umask for the test (restored afterwards)."""
    previous = os.umask(request.param)
    yield request.param
    os.umask(previous)


def test_report_files_are_0600_and_their_folders_0700(
    umask: int, db_url: str, make_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = load_config(make_config({}, db_url=db_url))
    engine = make_engine(db_url)
    upgrade(engine)
    pages = [PageSpec("a", "A", supervisor="s1@district.org"), PageSpec("b", "B")]
    add_pages(engine, pages, DAY)
    view = load_run(engine, add_run(engine, DAY, {p.id: [FAIL] for p in pages}))
    engine.dispose()
    out = tmp_path / "report"
    out.mkdir(mode=0o755)  # an earlier, readable report folder
    write_report(view, out, config)
    write_report(view, out, config)  # and a report replacing one

    entries = [out, *out.rglob("*")]
    files = [p for p in entries if p.is_file()]
    folders = [p for p in entries if p.is_dir()]
    assert len(files) >= 8 and len(folders) == 3
    assert {str(p.relative_to(out)): mode(p) for p in files} == {
        str(p.relative_to(out)): 0o600 for p in files
    }
    assert {str(p): mode(p) for p in folders} == {str(p): 0o700 for p in folders}
    assert mode(tmp_path / ".report.lock") == 0o600  # writers of the folder take turns on it

    previews = write_preview(preview(view, config), config, tmp_path / "eml" / "run")
    assert len(previews) == 2 and {mode(p) for p in previews} == {0o600}
    assert mode(tmp_path / "eml") == mode(tmp_path / "eml" / "run") == 0o700


def test_a_new_sqlite_database_is_0600_in_a_0700_folder(umask: int, tmp_path: Path) -> None:
    existing = tmp_path / "data"
    existing.mkdir(mode=0o755)
    os.chmod(existing, 0o755)
    path = existing / "new" / "deeper" / "auditor.db"
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    with engine.connect() as conn:  # WAL mode: the -wal and -shm files exist while open
        conn.exec_driver_sql("CREATE TABLE IF NOT EXISTS t (x)")
        wal = [p for p in path.parent.iterdir() if p.name != path.name]
        assert {p.name for p in wal} == {"auditor.db-wal", "auditor.db-shm"}
        assert {p.name: mode(p) for p in wal} == {p.name: 0o600 for p in wal}
    engine.dispose()
    assert mode(path) == 0o600
    assert mode(path.parent) == mode(path.parent.parent) == 0o700
    assert mode(existing) == 0o755  # a folder the auditor did not create keeps its mode


def test_an_existing_database_keeps_its_mode(tmp_path: Path) -> None:
    path = tmp_path / "auditor.db"
    path.touch()
    os.chmod(path, 0o640)
    engine = make_engine(f"sqlite:///{path}")
    upgrade(engine)
    engine.dispose()
    assert mode(path) == 0o640
