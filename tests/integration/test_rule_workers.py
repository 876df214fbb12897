"""Rules evaluated in a worker process give the same stored findings as rules evaluated in
the run's own thread (waivers, student data, content findings alike); the unchanged second
run, evaluated again (``--full``) through the cache the worker filled, stores the same
results, evaluating here the pages whose posts were judged before; a page the worker
cannot evaluate is that page's error; ``[audit] rule_workers`` decides the pool."""

from __future__ import annotations

import json
from collections.abc import Callable
from concurrent.futures import Future
from concurrent.futures.process import BrokenProcessPool
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, select
from typer.testing import CliRunner

from auditor.cli import app
from auditor.db.models import PageAudit, Result, results_holder
from auditor.evaluation import PageEvaluator, WorkerPool
from auditor.loading import load_config
from auditor.runner import AUTO_WORKER_PAGES, Runner
from auditor.runner import log as runner_log

CORPUS = Path(__file__).parents[1] / "corpus" / "posts.jsonl"
WAIVER = """
[[waivers]]
page = "p1"
rule = "DS6.confidentiality"
reason = "parent asked"
approved_by = "boss@district.org"
"""


def corpus_posts(start: int, count: int) -> list[dict[str, Any]]:
    """``count`` corpus posts from ``start``, as snapshot posts."""
    lines = CORPUS.read_text(encoding="utf-8").splitlines()[start : start + count]
    texts = [json.loads(line)["text"] for line in lines]
    return [{"id": f"p{i}", "author_id": "o", "text": t} for i, t in enumerate(texts)]


CLEAN = [f"Practice moved to {hour}pm, bring water." for hour in range(1, 11)]
# Student data in a post keeps its verdict out of the judged-post cache, so on the second
# run these (and the corpus's own) leave more than LOCAL_UNJUDGED of a page to judge again,
# whatever the content rules find in the corpus posts.
PRIVATE = [f"Call Liam's mom at 203-555-01{n:02d} after practice." for n in range(10)]


def pages() -> dict[str, dict | str]:
    """Three pages of corpus posts (so content findings, student data and clean posts) and
    student phone numbers, and one of clean posts only (all judged before on the second
    run)."""
    private = [{"id": f"s{i}", "author_id": "o", "text": t} for i, t in enumerate(PRIVATE)]
    found: dict[str, dict | str] = {
        f"p{n}": {"posts": corpus_posts(60 * n, 60) + private} for n in range(3)
    }
    found["clean"] = {
        "posts": [{"id": f"c{i}", "author_id": "o", "text": t} for i, t in enumerate(CLEAN)]
    }
    return found


def stored(url: str) -> dict[tuple[int, str], list[tuple[Any, ...]]]:
    """Each run's page results as stored (a shared audit's read through its holder)."""
    engine = create_engine(url)
    query = (
        select(
            PageAudit.run_id,
            PageAudit.page_id,
            PageAudit.status,
            Result.rule_id,
            Result.status,
            Result.message,
            Result.evidence,
        )
        .join(Result, Result.page_audit_id == results_holder(PageAudit), isouter=True)
        .order_by(PageAudit.run_id, PageAudit.page_id, Result.id)
    )
    found: dict[tuple[int, str], list[tuple[Any, ...]]] = {}
    with engine.connect() as conn:
        for run_id, page_id, *row in conn.execute(query):
            found.setdefault((run_id, page_id), []).append(tuple(row))
    engine.dispose()
    return found


def audit_twice(
    make_config: Callable[..., Path], tmp_path: Path, workers: int, here: list[str] | None = None
) -> dict:
    """Two runs over the same pages with ``rule_workers = workers``, the second with
    ``--full`` (evaluated again through the judged-post cache, not re-used whole); their
    stored results. ``here`` collects, per run, the pages evaluated in the run's own
    process."""
    folder = tmp_path / f"w{workers}"
    folder.mkdir()
    url = f"sqlite:///{folder / 'auditor.db'}"
    extra = f"{WAIVER}\n[audit]\nrule_workers = {workers}\n"
    config = make_config(pages(), db_url=url, extra=extra)
    for run in (1, 2):
        if here is not None:
            here.append(f"run {run}")
        out = folder / f"out{run}"
        full = ["--full"] if run == 2 else []
        result = CliRunner().invoke(app, ["run", "-c", str(config), "--output", str(out), *full])
        assert result.exit_code == 1, result.output  # content rules fail on the corpus
    return stored(url)


def test_a_worker_process_stores_the_findings_the_runs_own_thread_does(
    make_config: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    in_thread = audit_twice(make_config, tmp_path, 0)
    here: list[str] = []
    evaluate = PageEvaluator.evaluate
    monkeypatch.setattr(
        PageEvaluator,
        "evaluate",
        lambda self, page, *args: here.append(page.id) or evaluate(self, page, *args),
    )
    version = WorkerPool.version  # the workers ready as soon as started (not racing them)
    monkeypatch.setattr(WorkerPool, "version", lambda self: wait(version(self)))
    in_worker = audit_twice(make_config, tmp_path, 1, here)
    assert in_worker == in_thread
    assert len(in_worker) == 8  # 4 pages x 2 runs
    first, second = here[1 : here.index("run 2")], here[here.index("run 2") + 1 :]
    # run 1: the page that started the workers (whichever was fetched first: pages are
    # fetched at once) was evaluated here, the others by them; run 2: the pages whose posts
    # were (nearly) all judged before here, and the first with more posts holding student
    # data (never cached) started the workers, which did the rest
    assert len(first) == 1
    assert "clean" in second and len(second) < 4
    statuses = {row[2] for rows in in_worker.values() for row in rows}
    assert {"fail", "waived"} <= statuses  # content findings, and a waiver applied
    for page in ("p0", "p1", "p2", "clean"):  # the second run (through the cache) stores the same
        assert in_worker[(1, page)] == in_worker[(2, page)]


def wait(future: Future[str]) -> Future[str]:
    """``future``, once done."""
    future.result()
    return future


def test_a_page_the_worker_cannot_evaluate_is_that_pages_error(
    make_config: Callable[..., Path], tmp_path: Path
) -> None:
    long_post = [{"id": "x", "author_id": "o", "text": "Practice moved. " * 200}]
    config = make_config(
        {"big": {"posts": long_post}, "small": {}},
        extra="[rules]\nmax_page_text_mb = 0.001\n\n[audit]\nrule_workers = 1\n",
    )
    result = CliRunner().invoke(app, ["run", "-c", str(config), "--output", str(tmp_path / "o")])
    assert result.exit_code == 3, result.output  # a page not audited
    found = stored(f"sqlite:///{tmp_path / 'auditor.db'}")
    assert found[(1, "big")] == [("error", None, None, None, None)]
    assert found[(1, "small")][0][0] == "audited" and len(found[(1, "small")]) > 5
    assert "the rules could not run" in result.output and "max_page_text_mb" in result.output


@pytest.mark.parametrize(
    ("configured", "pages", "cpus", "workers"),
    [
        (None, AUTO_WORKER_PAGES - 1, 2, 0),  # a small run: no start-up cost
        (None, AUTO_WORKER_PAGES, 2, 1),
        (None, AUTO_WORKER_PAGES, 1, 0),  # one processor: a worker only adds copying
        (0, 10_000, 2, 0),
        (3, 1, 1, 3),
    ],
)
def test_rule_workers_follow_the_setting_else_the_run_size(
    configured: int | None,
    pages: int,
    cpus: int,
    workers: int,
    make_config: Callable[..., Path],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    extra = "" if configured is None else f"[audit]\nrule_workers = {configured}\n"
    config = load_config(make_config({"a": {}}, extra=extra))
    monkeypatch.setattr("os.cpu_count", lambda: cpus)
    assert Runner(config, engine=None).rule_workers(pages) == workers  # type: ignore[arg-type]


def test_a_worker_that_dies_leaves_the_rest_of_the_run_to_the_runs_own_process(
    make_config: Callable[..., Path],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    in_thread = audit_twice(make_config, tmp_path, 0)
    sent: list[str] = []
    warned: list[str] = []
    warning = runner_log.warning
    monkeypatch.setattr(
        runner_log, "warning", lambda msg, *a: warned.append(msg) or warning(msg, *a)
    )

    def dead(self: WorkerPool, page: Any, *args: Any) -> Future[Any]:
        """The pool of a worker that was killed: every page sent to it fails at once."""
        sent.append(page.id)
        failed: Future[Any] = Future()
        failed.set_exception(BrokenProcessPool("a child process terminated abruptly"))
        return failed

    monkeypatch.setattr(WorkerPool, "evaluate", dead)
    version = WorkerPool.version
    monkeypatch.setattr(WorkerPool, "version", lambda self: wait(version(self)))
    after_crash = audit_twice(make_config, tmp_path, 1)
    assert sent  # pages were sent to the dead worker, and each was evaluated here instead
    assert after_crash == in_thread  # every page audited, with the same results
    stopped = [m for m in warned if m.startswith("the rules' worker process stopped")]
    assert len(stopped) == 2  # said once a run, however many pages were in flight


def test_with_rule_workers_an_unchanged_run_re_uses_every_page(
    make_config: Callable[..., Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'auditor.db'}"
    config = make_config(
        pages(),
        db_url=url,
        extra=f"{WAIVER}\n[audit]\nrule_workers = 1\n",
        as_of=datetime.now(UTC),  # both runs judge at one instant: no day boundary between
    )
    run = ["run", "-c", str(config), "--output"]
    assert CliRunner().invoke(app, [*run, str(tmp_path / "out1")]).exit_code == 1
    judged: list[str] = []
    for cls in (PageEvaluator, WorkerPool):
        original = cls.evaluate
        monkeypatch.setattr(
            cls,
            "evaluate",
            lambda self, page, *a, _o=original: judged.append(page.id) or _o(self, page, *a),
        )
    assert CliRunner().invoke(app, [*run, str(tmp_path / "out2")]).exit_code == 1
    assert judged == []  # nothing evaluated, here or in a worker
    found = stored(url)
    for page in ("p0", "p1", "p2", "clean"):
        assert found[(2, page)] == found[(1, page)]  # the same findings, read through run 1's
