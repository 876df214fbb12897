"""Defect 12 of the hardening issue: a run's report folder is switched in whole. A render
that crashes, or a process killed with SIGKILL mid-render, leaves the previous report
exactly as it was (never a front page linking to files of another run), and symlinks inside
the output folder are never written through or emptied."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine

from auditor.db.engine import make_engine, upgrade
from auditor.email.digests import preview, write_preview
from auditor.errors import AuditorError
from auditor.loading import load_config
from auditor.reports import files, run_report
from auditor.reports.run_report import write_report
from auditor.reports.view import load_run
from auditor.results import RuleResult, Severity, Status
from auditor.rulebook import prepare_database
from tests.reports.report_seed import PageSpec, add_pages, add_run

ROOT = Path(__file__).resolve().parents[2]
DAY = datetime(2026, 11, 2, 2, 0, tzinfo=UTC)
FAIL = RuleResult(rule="DS2.closed", status=Status.FAIL, severity=Severity.HIGH, message="open")
# Run 1 covers schools A and B, run 2 schools B and C, each page failing: the two reports
# differ in their detail files, digests and action plans, so a mix of them shows.
RUN1 = [PageSpec(f"a{i}", f"A {i}", "A", supervisor="s1@district.org") for i in range(3)] + [
    PageSpec(f"b{i}", f"B {i}", "B", supervisor="s2@district.org") for i in range(3)
]
RUN2 = [PageSpec(f"b{i}", f"B {i}", "B", supervisor="s2@district.org") for i in range(3)] + [
    PageSpec(f"c{i}", f"C {i}", "C", supervisor="s3@district.org") for i in range(3)
]
INLINE_LIMIT, PAGES_PER_FILE = 2, 2  # three pages a school: four detail files per run
SLOW_STEPS = ("render_part", "generate_html", "iter_digests", "ActionPlans")

# ``auditor report`` with small detail files and a pause before each rendering step; each
# step is appended to the progress file (argv[1]) as it starts, so a test can kill it there.
SLOW_REPORT = f"""
import sys, time
from pathlib import Path
import auditor.reports.run_report as rr
progress = Path(sys.argv.pop(1))
rr.INLINE_LIMIT, rr.PAGES_PER_FILE = {INLINE_LIMIT}, {PAGES_PER_FILE}
def slow(name):
    step = getattr(rr, name)
    def run(*args, **kwargs):
        with progress.open("a") as log:
            log.write(name + "\\n")
        time.sleep(0.15)
        return step(*args, **kwargs)
    return run
for name in {SLOW_STEPS!r}:
    setattr(rr, name, slow(name))
from auditor.cli import app
app(prog_name="auditor")
"""


@dataclass
class TwoRuns:
    """Two seeded runs, their config, and each one's complete report as rendered alone."""

    config_path: Path
    engine: Engine
    ids: tuple[int, int]
    expected: dict[int, dict[str, bytes]]  # run id -> file path -> content

    def write(self, run_id: int, out: Path) -> Path:
        """Render ``run_id`` into ``out`` in this process."""
        return write_report(load_run(self.engine, run_id), out, load_config(self.config_path))


def tree(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (relative path -> bytes); symlinks are refused."""
    found = {}
    for path in sorted(folder.rglob("*")):
        assert not path.is_symlink(), path
        if path.is_file():
            found[str(path.relative_to(folder))] = path.read_bytes()
    return found


def leftovers(folder: Path) -> list[str]:
    """Staging folders of ``folder`` left beside it (its lock file is not one)."""
    return sorted(
        p.name
        for p in folder.parent.iterdir()
        if p.name.startswith(f".{folder.name}.") and p.name != f".{folder.name}.lock"
    )


@pytest.fixture
def small_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """Detail files of two pages, as the slow subprocess uses."""
    monkeypatch.setattr(run_report, "INLINE_LIMIT", INLINE_LIMIT)
    monkeypatch.setattr(run_report, "PAGES_PER_FILE", PAGES_PER_FILE)


@pytest.fixture
def two_runs(
    db_url: str, make_config: Callable[..., Path], tmp_path: Path, small_parts: None
) -> Iterator[TwoRuns]:
    """Runs 1 and 2 seeded on SQLite and PostgreSQL, and their reference reports."""
    config_path = make_config({}, db_url=db_url)
    engine = make_engine(db_url)
    upgrade(engine)
    add_pages(engine, {p.id: p for p in RUN1 + RUN2}.values(), DAY)
    ids = (
        add_run(engine, DAY, {p.id: [FAIL] for p in RUN1}),
        add_run(engine, DAY.replace(day=3), {p.id: [FAIL] for p in RUN2}),
    )
    prepare_database(engine, load_config(config_path).rules)  # as `auditor report` does
    runs = TwoRuns(config_path, engine, ids, {})
    for run_id in ids:
        runs.write(run_id, tmp_path / "refs" / str(run_id))
        runs.expected[run_id] = tree(tmp_path / "refs" / str(run_id))
    assert runs.expected[ids[0]].keys() != runs.expected[ids[1]].keys()
    assert len([f for f in runs.expected[ids[0]] if f.startswith("details/")]) == 4
    yield runs
    engine.dispose()


def explode(*args: object, **kwargs: object) -> None:
    raise RuntimeError("renderer crashed")


@pytest.mark.parametrize(
    "step", ["render_part", "generate_html", "FindingsWriter", "iter_digests", "ActionPlans"]
)
def test_a_render_that_crashes_leaves_the_previous_report_intact(
    two_runs: TwoRuns, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, step: str
) -> None:
    out = tmp_path / "report"
    first, second = two_runs.ids
    two_runs.write(first, out)
    monkeypatch.setattr(run_report, step, explode)
    with pytest.raises(RuntimeError, match="renderer crashed"):
        two_runs.write(second, out)
    assert tree(out) == two_runs.expected[first]
    assert leftovers(out) == []
    monkeypatch.undo()
    monkeypatch.setattr(run_report, "INLINE_LIMIT", INLINE_LIMIT)
    monkeypatch.setattr(run_report, "PAGES_PER_FILE", PAGES_PER_FILE)
    two_runs.write(second, out)
    assert tree(out) == two_runs.expected[second]


def start_slow_report(runs: TwoRuns, run_id: int, out: Path, progress: Path) -> subprocess.Popen:
    """``auditor report`` of ``run_id`` into ``out`` in a subprocess, slowed down."""
    progress.write_text("")
    args = ["report", "--config", str(runs.config_path), "--run", str(run_id), "-o", str(out)]
    return subprocess.Popen(
        [sys.executable, "-c", SLOW_REPORT, str(progress), *args],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def steps_started(progress: Path) -> int:
    return len(progress.read_text().splitlines())


def test_a_report_killed_mid_render_is_the_old_or_the_new_one_never_a_mix(
    two_runs: TwoRuns, tmp_path: Path
) -> None:
    out, progress = tmp_path / "report", tmp_path / "progress"
    first, second = two_runs.ids
    two_runs.write(first, out)
    current = first
    seen_old_after_kill = 0
    # Rendering takes eight slowed steps (four detail files, the front page, the digests and
    # two action plans); kill during the first, two middle ones and the last.
    for kill_at in (1, 3, 6, 8):
        target = second if current == first else first
        proc = start_slow_report(two_runs, target, out, progress)
        deadline = time.monotonic() + 60
        while steps_started(progress) < kill_at and proc.poll() is None:
            assert time.monotonic() < deadline, "the render did not progress"
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
        proc.wait(10)
        shown = tree(out)
        assert shown in (two_runs.expected[current], two_runs.expected[target]), (
            f"killed at step {kill_at}: a mix of runs {current} and {target}: {sorted(shown)}"
        )
        if shown == two_runs.expected[current]:
            seen_old_after_kill += 1
        current = first if shown == two_runs.expected[first] else second
    assert seen_old_after_kill >= 3  # the kills landed mid-render
    # A completed render replaces the report and clears what the killed ones left beside it.
    proc = start_slow_report(two_runs, second, out, progress)
    assert proc.wait(60) == 0, proc.stderr.read().decode() if proc.stderr else ""
    assert tree(out) == two_runs.expected[second]
    assert leftovers(out) == []


def test_without_an_atomic_exchange_the_old_report_is_moved_aside_then_replaced(
    two_runs: TwoRuns, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    swaps: list[tuple[Path, Path]] = []

    def unsupported(a: Path, b: Path) -> bool:  # as on macOS, or a file system without it
        swaps.append((a, b))
        return False

    monkeypatch.setattr(files, "_exchange", unsupported)
    out = tmp_path / "report"
    two_runs.write(two_runs.ids[0], out)
    two_runs.write(two_runs.ids[1], out)
    assert [b for _, b in swaps] == [out]  # the first write had nothing to replace
    assert tree(out) == two_runs.expected[two_runs.ids[1]]
    assert leftovers(out) == []


def test_a_symlinked_findings_csv_is_replaced_not_written_through(
    two_runs: TwoRuns, tmp_path: Path
) -> None:
    out = tmp_path / "report"
    first, second = two_runs.ids
    two_runs.write(first, out)
    victim = tmp_path / "victim.csv"
    victim.write_text("precious\n")
    (out / "findings.csv").unlink()
    (out / "findings.csv").symlink_to(victim)
    two_runs.write(second, out)
    assert victim.read_text() == "precious\n"
    assert tree(out) == two_runs.expected[second]


def test_a_symlinked_digests_folder_is_not_emptied(two_runs: TwoRuns, tmp_path: Path) -> None:
    out = tmp_path / "report"
    first, second = two_runs.ids
    two_runs.write(first, out)
    victim = tmp_path / "victim"
    victim.mkdir()
    for name in ("keep.html", "keep.txt"):
        (victim / name).write_text(name)
    for folder in ("digests", "action-plans"):
        for old in (out / folder).iterdir():
            old.unlink()
        (out / folder).rmdir()
        (out / folder).symlink_to(victim, target_is_directory=True)
    two_runs.write(second, out)
    assert sorted(p.name for p in victim.iterdir()) == ["keep.html", "keep.txt"]
    assert tree(out) == two_runs.expected[second]


def test_a_symlinked_report_folder_is_written_where_it_points(
    two_runs: TwoRuns, tmp_path: Path
) -> None:
    real, link = tmp_path / "served" / "audit", tmp_path / "report"
    real.parent.mkdir()
    two_runs.write(two_runs.ids[0], real)
    link.symlink_to(real, target_is_directory=True)
    index = two_runs.write(two_runs.ids[1], link)
    assert link.is_symlink() and index == link / "index.html"
    assert tree(real) == two_runs.expected[two_runs.ids[1]]
    assert leftovers(real) == []


def test_a_folder_holding_other_files_is_not_replaced(two_runs: TwoRuns, tmp_path: Path) -> None:
    out = tmp_path / "report"
    two_runs.write(two_runs.ids[0], out)
    (out / "notes.txt").write_text("mine")
    before = tree(out)
    with pytest.raises(AuditorError, match=r"notes\.txt"):
        two_runs.write(two_runs.ids[1], out)
    assert tree(out) == before
    assert leftovers(out) == []


def test_a_mounted_report_folder_is_refused_before_rendering(
    two_runs: TwoRuns, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "report"
    two_runs.write(two_runs.ids[0], out)
    monkeypatch.setattr(os.path, "ismount", lambda path: Path(path) == out)
    monkeypatch.setattr(run_report, "generate_html", explode)  # never reached
    with pytest.raises(AuditorError, match="a mount point cannot be replaced by a rename"):
        two_runs.write(two_runs.ids[1], out)
    assert tree(out) == two_runs.expected[two_runs.ids[0]]


def test_preview_files_replace_symlinks_instead_of_writing_through(
    two_runs: TwoRuns, tmp_path: Path
) -> None:
    config = load_config(two_runs.config_path)
    mails = preview(load_run(two_runs.engine, two_runs.ids[0]), config)
    folder = tmp_path / "eml"
    folder.mkdir()
    victim = tmp_path / "victim.eml"
    victim.write_text("precious")
    planted = folder / "digest-s1@district.org.eml"
    planted.symlink_to(victim)
    paths = write_preview(mails, config, folder)
    assert planted in paths and not planted.is_symlink()
    assert victim.read_text() == "precious"
    assert b"s1@district.org" in planted.read_bytes()
    assert sorted(os.listdir(folder)) == sorted(p.name for p in paths)
