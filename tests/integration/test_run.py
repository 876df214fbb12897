"""``auditor run`` end to end on SQLite and PostgreSQL: outputs, exit codes, isolation,
the run lock, and a run killed mid-way."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from contextlib import closing
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from auditor.cli import app
from auditor.connectors.registry import available_connectors
from auditor.db.engine import SCHEMA_HEAD, alembic_config, make_engine, upgrade
from auditor.db.models import Base, Lock, PageAudit, Run
from auditor.rules import catalog

SLOW_RUN = Path(__file__).with_name("slow_run.py")
ROOT = Path(__file__).resolve().parents[2]


def invoke(*args: str):
    return CliRunner().invoke(app, list(args))


def statuses_of(page: dict) -> dict[str, str]:
    """Every rule's status on a findings.json page (passing rules are listed by id)."""
    listed = {r["rule"]: r["status"] for r in page["results"]}
    return (
        listed
        | dict.fromkeys(page["passing"], "pass")
        | dict.fromkeys(page["not_applicable"], "not-applicable")
        | dict.fromkeys(page["resolved"], "pass or not-applicable")
        | dict.fromkeys(page["manual"], "manual")
    )


def run_cli(config: Path, out: Path, *extra: str):
    return invoke("run", "--config", str(config), "--output", str(out), *extra)


def test_migrations_match_models(db_url: str) -> None:
    engine = make_engine(db_url)
    before, head = upgrade(engine)
    assert before is None and head
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), Base.metadata) == []
    assert upgrade(engine) == (head, head)


def test_a_database_at_the_newest_revision_opens_without_alembic(db_url: str) -> None:
    """SCHEMA_HEAD is the newest migration; a command opening a database already there
    loads neither alembic nor the migration scripts (a tenth of a second of its start)."""
    assert ScriptDirectory.from_config(alembic_config()).get_current_head() == SCHEMA_HEAD
    upgrade(make_engine(db_url))
    code = (
        "import sys; from auditor.db.engine import make_engine, upgrade; "
        f"print(upgrade(make_engine({db_url!r})), 'alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == [f"('{SCHEMA_HEAD}',", f"'{SCHEMA_HEAD}')", "False"]


def test_a_command_leaves_the_sqlite_file_whole(tmp_path: Path) -> None:
    """The console command closes its connections at exit (the heap frozen for the exit
    leaves nothing to the garbage collector): SQLite writes its log back into the file,
    so a copy of the file alone is the whole database."""
    auditor = [sys.executable, "-c", "from auditor.cli import main; main()"]
    subprocess.run([*auditor, "init", str(tmp_path)], check=True, capture_output=True)
    config = tmp_path / "config.toml"
    done = subprocess.run(
        [*auditor, "db", "upgrade", "--config", str(config)],
        check=True,
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert "revision" in done.stdout
    assert not (tmp_path / "auditor.db-wal").exists(), "the log was written back"
    copy = tmp_path / "copy.db"
    shutil.copy(tmp_path / "auditor.db", copy)
    with closing(sqlite3.connect(copy)) as conn:
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert {"alembic_version", "page_audits"} <= tables


def test_clean_run_exits_0_and_writes_findings(
    db_url: str, make_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = make_config({"a": {}, "b": {}}, db_url=db_url)
    result = run_cli(config, tmp_path / "out")
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "out" / "findings.json").read_text())
    assert data["run"]["status"] == "complete" and data["run"]["finished_at"]
    assert [p["id"] for p in data["pages"]] == ["a", "b"]
    page = data["pages"][0]
    assert page["status"] == "audited" and page["error"] is None
    statuses = statuses_of(page)
    assert sorted(statuses) == sorted(catalog.rule_ids())
    assert statuses["DS2.closed"] == "pass" and statuses["DS9.misrepresentation"] == "manual"
    assert "DS2.closed" in page["passing"] and "DS2.closed" not in {
        r["rule"] for r in page["results"]
    }  # passing rules by id only; findings.jsonl has them in full, one page a line
    lines = (tmp_path / "out" / "findings.jsonl").read_text().splitlines()
    full = [json.loads(line) for line in lines]
    assert [p["id"] for p in full] == ["a", "b"] and {p["run_id"] for p in full} == {1}
    assert {r["rule"]: r["status"] for r in full[0]["results"]} == statuses
    assert (tmp_path / "out" / "index.html").read_text().startswith("<!DOCTYPE html>")
    rows = list(csv.DictReader((tmp_path / "out" / "findings.csv").open()))
    # the results to look at (here each page's manual check), no row per passing rule
    assert [(r["page_id"], r["rule"], r["status"]) for r in rows] == [
        ("a", "DS9.misrepresentation", "manual"),
        ("b", "DS9.misrepresentation", "manual"),
    ]


def test_failures_exit_1_and_broken_page_exit_3_without_stopping_the_run(
    db_url: str, make_config: Callable[..., Path], tmp_path: Path
) -> None:
    public = {
        "settings": {"visibility": "public", "join_policy": "invite", "post_moderation": "all"}
    }
    config = make_config({"ok": {}, "public": public}, db_url=db_url)
    result = run_cli(config, tmp_path / "r1")
    assert result.exit_code == 1, result.output
    assert "DS2.closed" in result.output

    config = make_config({"ok": {}, "public": public, "broken": "{oops"}, db_url=db_url)
    result = run_cli(config, tmp_path / "r2")
    assert result.exit_code == 3, result.output
    data = json.loads((tmp_path / "r2" / "findings.json").read_text())
    pages = {p["id"]: p for p in data["pages"]}
    assert data["run"]["status"] == "incomplete"
    assert pages["broken"]["status"] == "error" and pages["broken"]["results"] == []
    assert pages["broken"]["error"].startswith("file connector 'files': ext-broken.json: not valid")
    assert pages["public"]["status"] == "audited" and pages["ok"]["status"] == "audited"
    assert "Could not be audited" in (tmp_path / "r2" / "index.html").read_text()


def test_page_option_and_unknown_page(make_config: Callable[..., Path], tmp_path: Path) -> None:
    config = make_config({"a": {}, "b": {}})
    result = run_cli(config, tmp_path / "out", "--page", "b")
    assert result.exit_code == 0
    data = json.loads((tmp_path / "out" / "findings.json").read_text())
    assert [p["id"] for p in data["pages"]] == ["b"]
    result = run_cli(config, tmp_path / "twice", "--page", "b", "--page", "a", "--page", "b")
    assert result.exit_code == 0, result.output
    data = json.loads((tmp_path / "twice" / "findings.json").read_text())
    assert sorted(p["id"] for p in data["pages"]) == ["a", "b"], "a page given twice, once"
    result = run_cli(config, tmp_path / "out", "--page", "zzz")
    assert result.exit_code == 2 and "--page zzz: no page with that id" in result.output


def test_config_error_exits_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "config.toml"
    bad.write_text("[district]\nnmae = 'x'\n")
    result = run_cli(bad, tmp_path / "out")
    assert result.exit_code == 2
    assert result.output.strip() == f"error: {bad}: district.nmae: unknown key"


def test_history_kept_and_report_rerenders_a_past_run(
    db_url: str, make_config: Callable[..., Path], tmp_path: Path
) -> None:
    config = make_config({"a": {}}, db_url=db_url)
    assert run_cli(config, tmp_path / "r1").exit_code == 0
    config = make_config({"a": {"kind": "profile"}}, db_url=db_url)
    assert run_cli(config, tmp_path / "r2").exit_code == 1
    result = invoke(
        "report", "--config", str(config), "--run", "1", "--output", str(tmp_path / "old")
    )
    assert result.exit_code == 0, result.output
    old = json.loads((tmp_path / "old" / "findings.json").read_text())
    assert old["run"]["id"] == 1
    assert "fail" not in {r["status"] for r in old["pages"][0]["results"]}
    result = invoke(
        "report", "--config", str(config), "--run", "99", "--output", str(tmp_path / "x")
    )
    assert result.exit_code == 2 and "no run with id 99" in result.output


def test_db_upgrade_command(db_url: str, make_config: Callable[..., Path]) -> None:
    config = make_config({}, db_url=db_url)
    first = invoke("db", "upgrade", "--config", str(config))
    assert first.exit_code == 0 and "upgraded from empty" in first.output
    again = invoke("db", "upgrade", "--config", str(config))
    assert again.exit_code == 0 and "already at revision" in again.output


def test_unreachable_database_is_one_line(make_config: Callable[..., Path], tmp_path: Path) -> None:
    config = make_config({"a": {}}, db_url="postgresql+psycopg://u:sekret@127.0.0.1:1/none")
    result = run_cli(config, tmp_path / "out")
    assert result.exit_code == 2
    assert "cannot open database" in result.output and "sekret" not in result.output
    assert "Traceback" not in result.output


def _slow_config(make_config: Callable[..., Path], db_url: str, n: int, delay: float) -> Path:
    config = make_config({f"p{i}": {} for i in range(n)}, db_url=db_url)
    text = config.read_text().replace(
        'type = "file"', f'type = "slow"\ndelay_s = {delay}\nmax_concurrency = 1'
    )
    slow = config.with_name("slow.toml")
    slow.write_text(text)
    return slow


def _start_slow(config: Path, out: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, str(SLOW_RUN), "run", "--config", str(config), "--output", str(out)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


def _wait_for(predicate: Callable[[], bool], timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.1)


def _audits(engine, run_id: int) -> int:
    """Pages recorded for a run so far (0 while the schema is still being created)."""
    try:
        with Session(engine) as s:
            return len(list(s.scalars(select(PageAudit.id).where(PageAudit.run_id == run_id))))
    except DBAPIError:
        return 0


def test_killed_run_keeps_finished_pages_and_earlier_runs(
    db_url: str, make_config: Callable[..., Path], tmp_path: Path
) -> None:
    fast = make_config({f"p{i}": {} for i in range(5)}, db_url=db_url)
    assert run_cli(fast, tmp_path / "first").exit_code == 0
    engine = make_engine(db_url)

    # Twelve pages, 0.7 s each: the kill lands seconds before the last one, however slow
    # the machine (with five, a loaded machine could finish them all first).
    pages = 12
    proc = _start_slow(_slow_config(make_config, db_url, pages, 0.7), tmp_path / "killed")
    try:
        _wait_for(lambda: _audits(engine, 2) >= 2)
        # A second audit on the same database refuses to overlap (exit code 4).
        locked = run_cli(fast, tmp_path / "second")
        assert locked.exit_code == 4, locked.output
        assert "another audit is running on this database (run 2" in locked.output
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait(10)
    finished = _audits(engine, 2)
    assert 2 <= finished < pages

    result = run_cli(fast, tmp_path / "after")
    assert result.exit_code == 0, result.output
    with Session(engine) as s:
        runs = {r.id: r.status for r in s.scalars(select(Run))}
        assert s.scalar(select(Lock)) is None
    assert runs == {1: "complete", 2: "interrupted", 3: "complete"}
    assert _audits(engine, 1) == 5 and _audits(engine, 2) == finished


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupted_run_marks_itself(
    stop: signal.Signals, make_config: Callable[..., Path], tmp_path: Path
) -> None:
    db_url = f"sqlite:///{tmp_path / 'auditor.db'}"
    proc = _start_slow(_slow_config(make_config, db_url, 8, 0.7), tmp_path / "out")
    engine = make_engine(db_url)
    _wait_for(lambda: _audits(engine, 1) >= 1)
    os.kill(proc.pid, stop)
    output = proc.communicate(timeout=20)[0].decode()
    assert proc.returncode == 130, output
    with Session(engine) as s:
        run = s.get(Run, 1)
        assert run is not None and run.status == "interrupted" and run.finished_at
        assert s.scalar(select(Lock)) is None
        audits = list(s.scalars(select(PageAudit).where(PageAudit.run_id == 1)))
        # Pages that finished keep their results; the one in flight is marked, none is lost.
        done = [a for a in audits if a.status == "audited"]
        stopped = [a for a in audits if a.status == "error"]
        assert done and all(a.results for a in done)
        assert len(stopped) == 1 and stopped[0].error and "stopped" in stopped[0].error


@pytest.mark.parametrize("fmt", ["plain", "json"])
def test_log_formats(fmt: str, make_config: Callable[..., Path], tmp_path: Path) -> None:
    config = make_config({"a": {}, "bad": "[]"})
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "auditor",
            "run",
            "--config",
            str(config),
            "--output",
            str(tmp_path / "o"),
            "--log-format",
            fmt,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=60,
    )
    assert proc.returncode == 3
    lines = [x for x in proc.stderr.splitlines() if "could not be audited" in x]
    assert len(lines) == 1
    if fmt == "json":
        entry = json.loads(lines[0])
        assert entry["level"] == "warning" and "page bad could not be audited" in entry["message"]
    else:
        assert "WARNING auditor.runner: page bad could not be audited" in lines[0]


def test_demo_runs_and_every_structural_rule_fails_somewhere(tmp_path: Path) -> None:
    result = invoke("demo", "--output", str(tmp_path / "demo"))
    assert result.exit_code == 3, result.output  # one sample page is broken on purpose
    data = json.loads((tmp_path / "demo" / "findings.json").read_text())
    assert len(data["pages"]) >= 12
    platforms = {cls.platform for cls in available_connectors().values() if cls.platform}
    assert platforms <= {p["platform"] for p in data["pages"]}, "a page of every platform"
    statuses: dict[str, set[str]] = {}
    for page in data["pages"]:
        for rule, status in statuses_of(page).items():
            statuses.setdefault(rule, set()).add(status)
    for rule in (
        "DS1.approval",
        "DS2.closed",
        "DS2.moderated",
        "DS2.group-not-friends",
        "DS2.invite-only",
        "DS2.supervisor-access",
        "DS2.monitoring",
        "DS2.staff-admins",
    ):
        assert {"pass", "fail"} <= statuses[rule], rule
    assert statuses["DS9.misrepresentation"] == {"manual"}
    assert "waived" in statuses["DS2.supervisor-access"]
